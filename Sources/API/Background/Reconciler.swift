import Catalog
import Domain
import Foundation
import Logging
import MediaMTX
import ServiceLifecycle

/// Compares the catalogue with MediaMTX and heals drift: enabled sources whose path MediaMTX lost (API-added
/// paths live in MediaMTX's memory only), segments hooks never reported or MediaMTX deleted (no hook fires for
/// those), and live status. Runs at start, every `interval`, and at once when MediaMTX restarted (`/v3/info`
/// `started` changed). Optionally wires MediaMTX's pathDefaults hooks to mtx-hook.
public struct Reconciler: Service {
    let sources: SourcesService
    let settings: AppConfig.MediaMTX
    let retentionDays: Int
    let logger: Logger
    let metrics: AppMetrics?
    /// How often `/v3/info` is asked whether MediaMTX restarted.
    let restartCheck: Duration
    /// Several instances: only the holder of the `reconciler` lease runs it (nil: always, as in one-off commands).
    let leases: Leases?

    var database: any CatalogBackend { sources.database }
    var mediamtx: MediaMTXClient { sources.mediamtx }

    public init(
        sources: SourcesService, settings: AppConfig.MediaMTX, retentionDays: Int = 30, logger: Logger, metrics: AppMetrics? = nil,
        restartCheck: Duration = .seconds(5), leases: Leases? = nil
    ) {
        self.sources = sources
        self.leases = leases
        self.metrics = metrics
        self.settings = settings
        self.retentionDays = retentionDays
        self.logger = logger
        self.restartCheck = min(restartCheck, settings.reconcileInterval)
    }

    public struct Report: Sendable, Equatable, CustomStringConvertible {
        public var pathsReadded: [String] = []
        public var segmentsAdded = 0
        public var segmentsDeleted = 0
        public var statusHealed: [String] = []
        public var hooksInstalled: [String] = []
        public var eventsPruned = 0

        public var description: String {
            "paths re-added: \(pathsReadded.count), segments added: \(segmentsAdded), segments marked deleted: \(segmentsDeleted), "
                + "status healed: \(statusHealed.count), hooks installed: \(hooksInstalled.count), history events pruned: \(eventsPruned)"
        }
    }

    public func run() async throws {
        var lastStarted: String?
        var lastFull = ContinuousClock.now - settings.reconcileInterval
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if let leases, await !leases.holds(.reconciler) {
                // Another instance reconciles; when this one takes over, it starts with a full pass.
                lastStarted = nil
                lastFull = ContinuousClock.now - settings.reconcileInterval
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: min(restartCheck, .seconds(1))) }
                continue
            }
            do {
                let started = try await mediamtx.info().started
                let restarted = lastStarted != nil && started != lastStarted
                if restarted { logger.notice("MediaMTX restarted; re-asserting paths", metadata: ["started": "\(started ?? "")"]) }
                if restarted || ContinuousClock.now - lastFull >= settings.reconcileInterval {
                    // Its catalogue writes are refused once another instance has the lease (`LeaseFence`).
                    let report = try await LeaseFence.$current.withValue(leases?.fence(.reconciler)) { try await reconcileOnce() }
                    metrics?.heals(report)
                    lastFull = ContinuousClock.now
                    if report != Report() { logger.notice("reconciled with MediaMTX", metadata: ["report": "\(report)"]) }
                }
                lastStarted = started
            } catch {
                logger.warning("reconcile failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: restartCheck) }
        }
    }

    /// One full pass. Each heal is logged and counted in the report.
    public func reconcileOnce() async throws -> Report {
        var report = Report()
        let listedAt = Date().micros
        let configs = try await mediamtx.listAllPathConfigs()
        let configured = Set(configs.compactMap(\.name))

        if settings.manageHooks { report.hooksInstalled = try await installHooks() }

        for source in try await database.allSources() where source.enabled && !configured.contains(source.pathName) {
            try await sources.ensurePath(source)
            logger.notice("re-added a path MediaMTX lost", metadata: ["path": "\(source.pathName)", "source": "\(source.id)"])
            report.pathsReadded.append(source.pathName)
        }

        // Segments: MediaMTX lists what is on disk; a catch-all path config means it lists every path's recordings.
        var listed: [String: [Int64]] = [:]
        var page = 0
        while true {
            let result = try await mediamtx.listRecordings(page: page, itemsPerPage: 100)
            for recording in result.items {
                listed[recording.name, default: []] += recording.segments.compactMap { RFC3339.parse($0.start)?.micros }
            }
            page += 1
            if page >= result.pageCount || result.items.isEmpty { break }
        }
        let catchAll = configured.contains("all_others") || configured.contains { $0.hasPrefix("~") }
        let grace = listedAt - 30_000_000
        for path in Set(listed.keys).union(try await database.pathsWithSegments()) where listed[path] != nil || catchAll || configured.contains(path)
        {
            let (added, deleted) = try await database.reconcileSegments(path: path, starts: listed[path] ?? [], olderThan: grace, now: listedAt)
            if added + deleted > 0 {
                logger.notice("segments reconciled", metadata: ["path": "\(path)", "added": "\(added)", "deleted": "\(deleted)"])
            }
            report.segmentsAdded += added
            report.segmentsDeleted += deleted
        }

        // Live status.
        let observed = try await mediamtx.listAllPaths().map { p in
            AppDatabase.ObservedPath(
                path: p.name, available: p.available ?? p.ready, sourceType: p.source?.type, sourceID: p.source?.id,
                readers: Dictionary(p.readers.compactMap { r in r.id.map { ($0, r.type) } }, uniquingKeysWith: { a, _ in a })
            )
        }
        report.statusHealed = try await database.reconcileStates(observed, at: listedAt)
        for path in report.statusHealed { logger.notice("status healed", metadata: ["path": "\(path)"]) }

        if retentionDays > 0 {
            report.eventsPruned = try await database.pruneHistory(receivedBefore: listedAt - Int64(retentionDays) * 86_400_000_000)
        }
        return report
    }

    /// Sets every pathDefaults hook we rely on to call mtx-hook (`HookWiring` says which).
    func installHooks() async throws -> [String] {
        let missing = HookWiring.missing(command: settings.hookCommand, current: try await mediamtx.getPathDefaultHooks())
        var patch = HookCommands()
        for hook in missing { patch[keyPath: hook.key] = hook.command }
        let changed = missing.map(\.name)
        if !changed.isEmpty {
            try await mediamtx.patchPathDefaultHooks(patch)
            logger.notice("MediaMTX pathDefaults hooks now call mtx-hook", metadata: ["hooks": "\(changed.joined(separator: ","))"])
        }
        return changed
    }
}
