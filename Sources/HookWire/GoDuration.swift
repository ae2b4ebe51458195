/// Go's `time.Duration` syntax (`300ms`, `1.5h`, `1m30s`, `-2s`, `0`), as MediaMTX writes durations in its config,
/// API and hook environment, and as our config takes them. Shared by the server, the simulator and `mtx-hook` (no
/// Foundation: `mtx-hook` links nothing else).
public enum GoDuration {
    /// Seconds, or nil when `text` is not a Go duration (or does not fit Go's 64-bit nanoseconds).
    public static func seconds(_ text: String) -> Double? {
        if text == "0" { return 0 }
        var rest = Substring(text)
        var sign = 1.0
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.name) }) else { return nil }
            rest = rest.dropFirst(unit.name.count)
            total += value * unit.seconds
        }
        guard total * 1e9 < 9.2e18 else { return nil }
        return sign * total
    }

    public static func parse(_ text: String) -> Duration? {
        seconds(text).map { .nanoseconds(Int64(($0 * 1e9).rounded())) }
    }

    /// Longest names first, so `ms` is not read as `m`.
    static let units: [(name: String, seconds: Double)] = [
        ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
    ]
}
