import Catalog
import Domain
import Foundation
import Logging
import MediaMTX
import ServiceLifecycle

/// Sources' retention settings, the storage their recordings take, and the pass that deletes recordings past their
/// source's retention: each expired segment through MediaMTX's `DELETE /v3/recordings/deletesegment` (MediaMTX owns
/// the files), then marked deleted in the index. The pass runs every `recordings.retention_interval` in the server,
/// and once from `mtx-companion retention [--dry-run]`.
public struct RetentionService: Service {
    let database: any CatalogBackend
    /// Finds the source a retention belongs to.
    let sources: SourcesService
    let settings: AppConfig.Recordings
    let logger: Logger
    let metrics: AppMetrics?
    /// Several instances: only the holder of the `retention` lease runs the pass (nil: always).
    let leases: Leases?

    public init(
        database: any CatalogBackend, sources: SourcesService, settings: AppConfig.Recordings, logger: Logger,
        metrics: AppMetrics? = nil, leases: Leases? = nil
    ) {
        self.leases = leases
        self.database = database
        self.sources = sources
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
    }

    // MARK: - Settings and storage

    /// A source's own retention (nil when it follows the default) and the default, in days (0 keeps everything).
    public struct Retention: Sendable {
        var days: Int?
        var defaultDays: Int
        var effectiveDays: Int { days ?? defaultDays }
    }

    /// The source a retention is asked of (not found when there is none).
    public func source(_ id: UUID) async throws -> MediaSource {
        try await sources.get(id)
    }

    public func retention(of source: MediaSource) async throws -> Retention {
        Retention(days: try await database.retentionDays(sourceID: source.id), defaultDays: settings.retentionDays)
    }

    /// Sets the source's own retention; nil makes it follow the default again.
    public func setRetention(of source: MediaSource, days: Int?) async throws {
        try await database.setRetentionDays(sourceID: source.id, days)
    }

    /// What a source's recordings take, and the retention that applies to them.
    public struct Usage: Sendable {
        var source: MediaSource
        var retentionDays: Int
        var segments: Int
        var bytes: Int64
        var seconds: Double
    }

    /// The usage of every source.
    public func storage() async throws -> [Usage] {
        let overrides = try await database.retentionOverrides()
        let used = try await database.storage()
        return try await database.allSources().map { source in
            let s = used[source.pathName]
            return Usage(
                source: source, retentionDays: overrides[source.id] ?? settings.retentionDays, segments: s?.segments ?? 0, bytes: s?.bytes ?? 0,
                seconds: s?.seconds ?? 0)
        }
    }

    // MARK: - Deleting expired recordings

    public struct Deletion: Sendable, Equatable {
        public var pathName: String
        public var start: Int64
        public var size: Int64
    }

    public struct Report: Sendable, Equatable {
        /// Deleted, or what would be with `dryRun`.
        public var segments: [Deletion] = []
        public var bytes: Int64 { segments.reduce(0) { $0 + $1.size } }
        /// Segments MediaMTX refused or could not be asked about; tried again next time.
        public var failed = 0
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if let leases, await !leases.holds(.retention) {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
                continue
            }
            do {
                // Its catalogue writes are refused once another instance has the lease (`LeaseFence`).
                let report = try await LeaseFence.$current.withValue(leases?.fence(.retention)) { try await runOnce() }
                if !report.segments.isEmpty || report.failed > 0 {
                    logger.notice(
                        "retention: expired recordings deleted",
                        metadata: [
                            "segments": "\(report.segments.count)", "bytes_reclaimed": "\(report.bytes)", "failed": "\(report.failed)",
                        ])
                }
            } catch {
                logger.warning("retention pass failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.retentionInterval) }
        }
    }

    /// One pass over every source. A source's own `retention_days` wins over the configured default; 0 keeps all.
    public func runOnce(dryRun: Bool = false, now: Date = Date()) async throws -> Report {
        var report = Report()
        let overrides = try await database.retentionOverrides()
        for source in try await database.allSources() {
            let days = overrides[source.id] ?? settings.retentionDays
            guard days > 0 else { continue }
            let cutoff = now.micros - Int64(days) * 86_400_000_000
            let expired = try await database.expiredSegments(path: source.pathName, endedBefore: cutoff)
            // A source that moved has recordings on each node it was on: each segment is deleted where it was recorded.
            let placements = expired.isEmpty ? [] : try await sources.placements(of: source)
            var clients: [String: MediaMTXClient] = [:]
            for segment in expired {
                let deletion = Deletion(pathName: segment.pathName, start: segment.start, size: segment.size ?? 0)
                if dryRun {
                    report.segments.append(deletion)
                    continue
                }
                let nodeName = placements.node(at: segment.start) ?? source.node
                do {
                    if clients[nodeName] == nil { clients[nodeName] = sources.nodes.client(try await sources.nodes.node(nodeName)) }
                    try await clients[nodeName]!.deleteRecordingSegment(path: segment.pathName, start: RFC3339.format(Date(micros: segment.start)))
                } catch MediaMTXError.rejected(_, let message) where message.contains("no such file or directory") {
                    // Already gone (MediaMTX's own recordDeleteAfter, or a hand): the index catches up.
                } catch MediaMTXError.unavailable(let detail) {
                    // This node's segments wait for the next pass; other nodes' go on.
                    logger.warning(
                        "retention: MediaMTX unavailable, trying again next pass", metadata: ["node": "\(nodeName)", "error": "\(detail)"])
                    report.failed += 1
                    break
                } catch {
                    logger.warning(
                        "retention: MediaMTX refused to delete a segment",
                        metadata: [
                            "path": "\(segment.pathName)", "start": "\(RFC3339.format(Date(micros: segment.start)))", "error": "\(error)",
                        ])
                    report.failed += 1
                    continue
                }
                try await database.markSegmentDeleted(path: segment.pathName, start: segment.start, at: Date().micros)
                report.segments.append(deletion)
            }
        }
        if !dryRun { metrics?.retention(deletedSegments: report.segments.count, bytes: report.bytes) }
        return report
    }
}
