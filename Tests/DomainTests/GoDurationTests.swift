import HookWire
import Testing

@Suite("Go durations (config, MediaMTX's API and hook variables; shared with mtx-hook)")
struct GoDurationTests {
    @Test(arguments: [
        ("0", 0.0), ("300ms", 0.3), ("1.5h", 5400), ("1m30s", 90), ("2h45m", 9900), ("-2s", -2), ("+2s", 2), ("1µs", 1e-6),
        ("1μs", 1e-6), ("1us", 1e-6), ("10ns", 1e-8), (".5s", 0.5), ("1.s", 1), ("1m0.5s", 60.5),
    ])
    func goSyntaxIsRead(text: String, seconds: Double) throws {
        let parsed = try #require(GoDuration.seconds(text))
        #expect(abs(parsed - seconds) < 1e-12)
        #expect(GoDuration.parse(text) == .nanoseconds(Int64((seconds * 1e9).rounded())))
    }

    /// What Go's time.ParseDuration refuses: a bare number (but 0), a unit alone, an unknown unit, a missing unit,
    /// two signs, and more than 2^63 nanoseconds.
    @Test(arguments: ["", "1", "s", ".s", "1x", "1h2", "--1s", "1 s", "s1", "9999999999h", "1e3s", "-"])
    func otherTextIsRefused(text: String) {
        #expect(GoDuration.seconds(text) == nil)
        #expect(GoDuration.parse(text) == nil)
    }
}
