import Foundation

/// The catalogue's time unit: whole microseconds since 1970 (MediaMTX names segments to the microsecond).
extension Date {
    /// Microseconds since 1970.
    public var micros: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
    public init(micros: Int64) { self.init(timeIntervalSince1970: Double(micros) / 1_000_000) }
}
