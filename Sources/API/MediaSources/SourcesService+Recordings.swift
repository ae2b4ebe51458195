import Catalog
import Domain
import Foundation
import MediaMTX

/// Recording state, segments, sessions and playback, answered from the index that hook events fill.
extension SourcesService {
    public struct RecordStatus: Sendable {
        var recordEnabled: Bool
        var recording: Bool
        var recordPath: String
        var recordFormat: String
        var segmentDuration: String
    }

    /// `recording` is true while a segment of the path is open (created, not yet complete).
    public func recordStatus(_ source: MediaSource) async throws -> RecordStatus {
        RecordStatus(
            recordEnabled: source.recordEnabled, recording: try await database.isRecording(path: source.pathName),
            recordPath: settings.recordPath, recordFormat: settings.recordFormat, segmentDuration: settings.segmentDuration
        )
    }

    /// Each with the node it was recorded on.
    public func segments(_ source: MediaSource, from: Date?, to: Date?, page: Int, pageSize: Int) async throws -> Page<Segment> {
        var found = try await database.segments(
            SegmentQuery(path: source.pathName, from: from?.micros, to: to?.micros, page: page, pageSize: pageSize))
        let placements = try await placements(of: source)
        for i in found.items.indices { found.items[i].node = placements.node(at: found.items[i].start) }
        return found
    }

    /// Contiguous segments merged into sessions (gap ≤ `hooks.session_gap`), as the index keeps them.
    public func sessions(_ source: MediaSource, from: Date? = nil, to: Date? = nil) async throws -> [RecordingSession] {
        try await database.recordingSessions(paths: [source.pathName], from: from?.micros ?? .min, to: to?.micros ?? .max)[source.pathName] ?? []
    }

    /// The session holding `start`, or nil when no segment covers it.
    public func session(_ source: MediaSource, covering start: Date) async throws -> RecordingSession? {
        let t = start.micros
        let covering = try await database.segments(SegmentQuery(path: source.pathName, from: t, to: t + 1, page: 1, pageSize: 1))
        guard !covering.items.isEmpty else { return nil }
        return try await sessions(source, from: start, to: Date(micros: t + 1)).first { $0.start <= t && (t < $0.end || $0.open) }
    }

    /// A playback of recorded media: MediaMTX's URL for it (without a token) and its length in seconds.
    public struct Playback: Sendable {
        var url: String
        var duration: Double
        /// The node that holds the recording.
        var node: String
    }

    /// Playback from `start`, which must lie in a recorded session; `duration` (seconds) defaults to the rest of
    /// that session.
    public func playback(_ source: MediaSource, start: Date, duration: Double?, format: String) async throws -> Playback {
        guard let session = try await session(source, covering: start) else {
            throw ServiceError(.noRecording, .noSegmentAt, field: "start")
        }
        // An open session grows: ask for an hour, MediaMTX returns what exists.
        var duration = duration ?? (session.open ? 3600 : max(0.000_001, Double(session.end - start.micros) / 1_000_000))
        // The recordings from `start` are on the node that held the path then, and end there when the source moved on.
        let (node, until) = try await recordingNode(of: source, at: start.micros)
        if let until { duration = min(duration, max(0.000_001, Double(until - start.micros) / 1_000_000)) }
        return Playback(
            url: MediaMTXClient.playbackURL(base: node.playbackAddress, path: source.pathName, start: start, duration: duration, format: format),
            duration: duration, node: node.name)
    }

    /// `{playback_address}/get?path=…&start=…&duration=…&format=…` (MediaMTX's playback API) of the node that recorded
    /// `start`.
    public func playbackURL(_ source: MediaSource, start: Date, duration: Double, format: String) async throws -> String {
        let (node, _) = try await recordingNode(of: source, at: start.micros)
        return MediaMTXClient.playbackURL(base: node.playbackAddress, path: source.pathName, start: start, duration: duration, format: format)
    }
}
