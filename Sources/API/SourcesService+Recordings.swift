import Catalog
import Foundation
import MediaMTX

/// Recording state and recorded spans. For now answered by MediaMTX (recordings API and playback `/list`).
extension SourcesService {
    public struct RecordStatus: Sendable {
        var recordEnabled: Bool
        var recording: Bool
        var recordPath: String
        var recordFormat: String
        var segmentDuration: String
    }

    /// `recording` is true while MediaMTX records the path and a stream is live on it.
    public func recordStatus(_ source: MediaSource) async throws -> RecordStatus {
        var status = RecordStatus(
            recordEnabled: source.recordEnabled, recording: false,
            recordPath: settings.recordPath, recordFormat: settings.recordFormat, segmentDuration: settings.segmentDuration
        )
        guard source.enabled else { return status }
        do {
            let conf = try await mediamtx.getPathConfig(source.pathName)
            status.recordPath = conf.recordPath ?? status.recordPath
            status.recordFormat = conf.recordFormat ?? status.recordFormat
            status.segmentDuration = conf.recordSegmentDuration ?? status.segmentDuration
            status.recording = conf.record == true ? try await mediamtx.isPathReady(source.pathName) : false
        } catch MediaMTXError.notFound {
            status.recording = false
        }
        return status
    }

    /// Recorded segments (their start times), oldest first.
    public func recordFiles(_ source: MediaSource) async throws -> [Date] {
        try await mediamtx.getRecordings(source.pathName).segments.compactMap { RFC3339.parse($0.start) }.sorted()
    }

    /// Spans of contiguous recording, as MediaMTX's playback server merges them.
    public func recordSpans(_ source: MediaSource, from: Date? = nil, to: Date? = nil) async throws -> [(start: Date, duration: Double)] {
        try await mediamtx.playbackList(path: source.pathName, start: from, end: to).compactMap { entry in
            RFC3339.parse(entry.start).map { ($0, entry.duration) }
        }
    }

    /// `{playback_address}/get?path=…&start=…&duration=…&format=…` (MediaMTX's playback API).
    public func playbackURL(_ source: MediaSource, start: Date, duration: Double, format: String) -> String {
        MediaMTXClient.playbackURL(base: settings.playbackAddress, path: source.pathName, start: start, duration: duration, format: format)
    }
}
