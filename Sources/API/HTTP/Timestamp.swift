import Foundation
import MediaMTX

/// Times in API answers: RFC 3339, UTC, always with microseconds.
enum Timestamp {
    static func format(_ date: Date) -> String { RFC3339.format(date, fixedFraction: true) }
    /// Catalogue times (µs since 1970).
    static func format(micros: Int64) -> String { format(Date(micros: micros)) }
}
