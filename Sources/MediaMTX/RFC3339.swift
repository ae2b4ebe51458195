import Foundation

/// RFC 3339 timestamps as MediaMTX writes them (`2026-11-25T20:02:47.294696Z`, up to nanoseconds) and reads them.
public enum RFC3339 {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    public static func parse(_ text: String) -> Date? {
        let s = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= s.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                let c = s[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard s.count >= 20, let year = num(0, 4), s[4] == 45, let month = num(5, 2), s[7] == 45, let day = num(8, 2),
            s[10] == 84 || s[10] == 116 || s[10] == 32, let hour = num(11, 2), s[13] == 58, let minute = num(14, 2), s[16] == 58,
            let second = num(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < s.count, s[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < s.count, s[i] >= 48, s[i] <= 57 {
                fraction += Double(s[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < s.count else { return nil }
        var offset = 0
        if s[i] == 90 || s[i] == 122 {
            i += 1
        } else if s[i] == 43 || s[i] == 45 {
            guard let oh = num(i + 1, 2), s.count > i + 3, s[i + 3] == 58, let om = num(i + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (s[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == s.count else { return nil }
        guard day <= daysInMonth(year, month) else { return nil }
        let seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    // Calendar arithmetic without Foundation's Calendar (it is slow on a hot path): Howard Hinnant's algorithms.
    static func daysFromCivil(_ y: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y - 1 : y
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z: Int) -> (year: Int, month: Int, day: Int) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// UTC with microseconds, the precision MediaMTX uses in segment names; trailing zeros of the
    /// fraction are dropped as Go does, unless `fixedFraction` asks for all six digits.
    public static func format(_ date: Date, fixedFraction: Bool = false) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = Int(micros - seconds * 1_000_000)
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let (y, m, d) = civilFromDays(days)
        if (0...9999).contains(y) {
            // Written digit by digit into the string's own storage: this runs twice per row of an export.
            var digits = fraction
            var length = 20
            if fixedFraction {
                length = 27
            } else if fraction != 0 {
                length = 21
                var kept = 6
                while digits % 10 == 0 {
                    digits /= 10
                    kept -= 1
                }
                length += kept
            }
            let fractionDigits = fixedFraction ? 6 : length - 21
            return String(unsafeUninitializedCapacity: length) { buffer in
                func put(_ value: Int, _ at: Int, _ width: Int) {
                    var v = value
                    for i in stride(from: at + width - 1, through: at, by: -1) {
                        buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                        v /= 10
                    }
                }
                put(y, 0, 4)
                buffer[4] = UInt8(ascii: "-")
                put(m, 5, 2)
                buffer[7] = UInt8(ascii: "-")
                put(d, 8, 2)
                buffer[10] = UInt8(ascii: "T")
                put(secondOfDay / 3600, 11, 2)
                buffer[13] = UInt8(ascii: ":")
                put(secondOfDay / 60 % 60, 14, 2)
                buffer[16] = UInt8(ascii: ":")
                put(secondOfDay % 60, 17, 2)
                if fractionDigits > 0 {
                    buffer[19] = UInt8(ascii: ".")
                    put(fixedFraction ? fraction : digits, 20, fractionDigits)
                }
                buffer[length - 1] = UInt8(ascii: "Z")
                return length
            }
        }
        let base = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        var frac = pad(fraction, 6)
        if fixedFraction { return base + "." + frac + "Z" }
        if fraction == 0 { return base + "Z" }
        while frac.hasSuffix("0") { frac.removeLast() }
        return base + "." + frac + "Z"
    }
}
