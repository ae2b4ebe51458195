import Foundation

/// `?from=&to=` with paging, of a listing of recorded segments.
struct SegmentsQuery {
    var from: Date?
    var to: Date?
    var page: Int
    var pageSize: Int

    init(_ q: QueryInput) throws {
        (page, pageSize) = try q.paging(defaultSize: 100, maxSize: 1000)
        from = try SourceValidation.time(q, "from")
        to = try SourceValidation.time(q, "to")
    }
}

/// `?start=` (RFC 3339 or unix seconds, required), `duration` (seconds) and `format` (fmp4, the default, or mp4)
/// of a playback.
struct PlaybackQuery {
    var start: Date
    var duration: Double?
    var format: String

    init(_ q: QueryInput) throws {
        guard let start = try SourceValidation.time(q, "start") else { throw APIError.missingField("start") }
        self.start = start
        duration = try SourceValidation.seconds(q, "duration")
        format = try q.oneOf("format", ["fmp4", "mp4"]) ?? "fmp4"
    }
}
