import Foundation

/// MediaMTX's `recordPath` (`./recordings/%path/%Y-%m-%d_%H-%M-%S-%f`): where segments are, and how a segment's
/// start time is read back from its file name, exactly as MediaMTX names files.
public struct RecordPathPattern: Sendable {
    enum Token: Sendable, Equatable {
        case literal(String)
        case path, year, month, day, hour, minute, second, micro, zone, epoch
    }

    public let pattern: String
    /// The directory every segment lies under: the pattern's components before the first with a `%`.
    public let root: String
    let tokens: [Token]
    let timeZone: TimeZone

    public init(_ recordPath: String, timeZone: TimeZone = TimeZone(identifier: "UTC")!) {
        pattern = Self.normalize(recordPath)
        root = pattern.split(separator: "/", omittingEmptySubsequences: false).prefix { !$0.contains("%") }.joined(separator: "/")
        self.timeZone = timeZone
        var tokens: [Token] = []
        var literal = ""
        var rest = Substring(pattern)
        let directives: [(String, Token)] = [
            ("%path", .path), ("%Y", .year), ("%m", .month), ("%d", .day), ("%H", .hour), ("%M", .minute),
            ("%S", .second), ("%f", .micro), ("%z", .zone), ("%s", .epoch),
        ]
        while !rest.isEmpty {
            if let (text, token) = directives.first(where: { rest.hasPrefix($0.0) }) {
                if !literal.isEmpty {
                    tokens.append(.literal(literal))
                    literal = ""
                }
                tokens.append(token)
                rest = rest.dropFirst(text.count)
            } else {
                literal.append(rest.removeFirst())
            }
        }
        if !literal.isEmpty { tokens.append(.literal(literal)) }
        self.tokens = tokens
    }

    public enum Failure: Error, Equatable {
        /// Outside the record root, or with a `..` component.
        case outsideRoot
        /// Does not follow the pattern (or has no .mp4/.ts extension).
        case notASegmentName
    }

    /// The path name and start (µs since 1970) a segment file stands for.
    public func parse(_ filePath: String) throws(Failure) -> (path: String, start: Int64) {
        let file = Self.normalize(filePath)
        guard !file.split(separator: "/").contains(".."), root.isEmpty || file.hasPrefix(root + "/") else { throw .outsideRoot }
        let stem: Substring
        if file.hasSuffix(".mp4") {
            stem = file.dropLast(4)
        } else if file.hasSuffix(".ts") {
            stem = file.dropLast(3)
        } else {
            throw .notASegmentName
        }
        var fields = Fields()
        guard match(tokens[...], Array(stem.utf8)[...], &fields), let start = fields.start(in: timeZone) else { throw .notASegmentName }
        return (fields.path ?? "", start)
    }

    struct Fields {
        var path: String?
        var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, micro = 0
        var zoneOffset: Int?
        var epoch: Int64?

        func start(in zone: TimeZone) -> Int64? {
            if let epoch { return epoch * 1_000_000 + Int64(micro) }
            guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
            if let offset = zoneOffset ?? (zone.identifier == "UTC" || zone.identifier == "GMT" ? 0 : nil) {
                // Fixed offset: plain arithmetic (days from the civil date), no Calendar on the ingest path.
                let y = month <= 2 ? year - 1 : year
                let era = (y >= 0 ? y : y - 399) / 400
                let yoe = y - era * 400
                let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
                let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
                let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)
                return seconds * 1_000_000 + Int64(micro)
            }
            var components = DateComponents()
            (components.year, components.month, components.day) = (year, month, day)
            (components.hour, components.minute, components.second) = (hour, minute, second)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zoneOffset.flatMap { TimeZone(secondsFromGMT: $0) } ?? zone
            guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61,
                let date = calendar.date(from: components)
            else { return nil }
            return Int64(date.timeIntervalSince1970) * 1_000_000 + Int64(micro)
        }
    }

    /// Matches tokens against bytes; `%path` takes as much as it can and gives back until the rest matches.
    private func match(_ tokens: ArraySlice<Token>, _ s: ArraySlice<UInt8>, _ fields: inout Fields) -> Bool {
        guard let token = tokens.first else { return s.isEmpty }
        let rest = tokens.dropFirst()
        func digits(_ n: Int) -> (Int, ArraySlice<UInt8>)? {
            guard s.count >= n else { return nil }
            var v = 0
            for b in s.prefix(n) {
                guard b >= 48, b <= 57 else { return nil }
                v = v * 10 + Int(b - 48)
            }
            return (v, s.dropFirst(n))
        }
        func fixed(_ n: Int, _ set: (inout Fields, Int) -> Void) -> Bool {
            guard let (v, remainder) = digits(n) else { return false }
            var copy = fields
            set(&copy, v)
            guard match(rest, remainder, &copy) else { return false }
            fields = copy
            return true
        }
        switch token {
        case .literal(let text):
            let bytes = Array(text.utf8)
            guard s.starts(with: bytes) else { return false }
            return match(rest, s.dropFirst(bytes.count), &fields)
        case .path:
            var end = s.endIndex
            while end > s.startIndex {
                var copy = fields
                copy.path = String(decoding: s[s.startIndex..<end], as: UTF8.self)
                if match(rest, s[end...], &copy) {
                    fields = copy
                    return true
                }
                end -= 1
            }
            return false
        case .year: return fixed(4) { $0.year = $1 }
        case .month: return fixed(2) { $0.month = $1 }
        case .day: return fixed(2) { $0.day = $1 }
        case .hour: return fixed(2) { $0.hour = $1 }
        case .minute: return fixed(2) { $0.minute = $1 }
        case .second: return fixed(2) { $0.second = $1 }
        case .micro: return fixed(6) { $0.micro = $1 }
        case .epoch:
            let count = s.prefix { $0 >= 48 && $0 <= 57 }.count
            guard count > 0, let v = Int64(String(decoding: s.prefix(count), as: UTF8.self)) else { return false }
            var copy = fields
            copy.epoch = v
            guard match(rest, s.dropFirst(count), &copy) else { return false }
            fields = copy
            return true
        case .zone:
            if s.first == UInt8(ascii: "Z") {
                var copy = fields
                copy.zoneOffset = 0
                guard match(rest, s.dropFirst(), &copy) else { return false }
                fields = copy
                return true
            }
            guard let sign = s.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return false }
            let body = s.dropFirst()
            guard body.count >= 4 else { return false }
            let colon = body.dropFirst(2).first == UInt8(ascii: ":")
            let digitsOnly = colon ? Array(body.prefix(2)) + Array(body.dropFirst(3).prefix(2)) : Array(body.prefix(4))
            guard digitsOnly.count == 4, digitsOnly.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return false }
            let hh = Int(digitsOnly[0] - 48) * 10 + Int(digitsOnly[1] - 48)
            let mm = Int(digitsOnly[2] - 48) * 10 + Int(digitsOnly[3] - 48)
            var copy = fields
            copy.zoneOffset = (hh * 3600 + mm * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
            guard match(rest, body.dropFirst(colon ? 5 : 4), &copy) else { return false }
            fields = copy
            return true
        }
    }

    static func normalize(_ path: String) -> String {
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        while p.contains("//") { p = p.replacingOccurrences(of: "//", with: "/") }
        return p
    }
}
