import Catalog
import Domain
import Foundation
import Logging
import MediaMTX
import ServiceLifecycle

/// Compares the catalogue with each MediaMTX node and heals drift: enabled sources whose path their node lost
/// (API-added paths live in MediaMTX's memory only), paths left on a node a source moved away from, segments hooks
/// never reported or MediaMTX deleted (no hook fires for those), and live status. Asks every node's `/v3/info` every
/// `restartCheck`: a node whose `started` changed is reconciled at once (only its paths), one that has not answered
/// for `mediamtx.node_down_after` is `down` (and with `mediamtx.failover` its pull sources move to other nodes). A full
/// pass over all nodes runs at start and every `interval`. Optionally wires MediaMTX's pathDefaults hooks to mtx-hook.
/// One instance runs it for all nodes (the `reconciler` lease); the nodes are checked at once, not one after another.
public struct Reconciler: Service {
    let sources: SourcesService
    let settings: AppConfig.MediaMTX
    let retentionDays: Int
    let logger: Logger
    let metrics: AppMetrics?
    /// How often each node's `/v3/info` is asked whether it answers and whether it restarted.
    let restartCheck: Duration
    /// Several instances: only the holder of the `reconciler` lease runs it (nil: always, as in one-off commands).
    let leases: Leases?

    var database: any CatalogBackend { sources.database }
    var nodes: MediaNodes { sources.nodes }

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
        self.restartCheck = settings.reconcileInterval > .zero ? min(restartCheck, settings.reconcileInterval) : restartCheck
    }

    public struct Report: Sendable, Equatable, CustomStringConvertible {
        public var pathsReadded: [String] = []
        /// Paths removed from a node their source no longer is on.
        public var pathsRemoved: [String] = []
        public var segmentsAdded = 0
        public var segmentsDeleted = 0
        public var statusHealed: [String] = []
        public var hooksInstalled: [String] = []
        public var eventsPruned = 0
        /// Pull sources moved off `down` nodes (failover), as `path → node`.
        public var failedOver: [String: String] = [:]
        /// Nodes that did not answer during the pass.
        public var unreachable: [String] = []

        public var description: String {
            "paths re-added: \(pathsReadded.count), paths removed: \(pathsRemoved.count), segments added: \(segmentsAdded), "
                + "segments marked deleted: \(segmentsDeleted), status healed: \(statusHealed.count), hooks installed: \(hooksInstalled.count), "
                + "history events pruned: \(eventsPruned), failed over: \(failedOver.count), nodes unreachable: \(unreachable.count)"
        }

        mutating func merge(_ other: Report) {
            pathsReadded += other.pathsReadded
            pathsRemoved += other.pathsRemoved
            hooksInstalled += other.hooksInstalled
            unreachable += other.unreachable
        }
    }

    public func run() async throws {
        var lastStarted: [String: String] = [:]
        var lastFull = ContinuousClock.now - settings.reconcileInterval
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if let leases, await !leases.holds(.reconciler) {
                // Another instance reconciles; when this one takes over, it starts with a full pass.
                lastStarted = [:]
                lastFull = ContinuousClock.now - settings.reconcileInterval
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: min(restartCheck, .seconds(1))) }
                continue
            }
            do {
                // Its catalogue writes are refused once another instance has the lease (`LeaseFence`).
                try await LeaseFence.$current.withValue(leases?.fence(.reconciler)) {
                    let restarted = try await checkNodes(&lastStarted)
                    var report = Report()
                    if ContinuousClock.now - lastFull >= settings.reconcileInterval {
                        report = try await reconcileOnce()
                        lastFull = ContinuousClock.now
                    } else {
                        for node in restarted { report.merge(try await reconcilePaths(on: node)) }
                    }
                    if settings.failover { report.failedOver = try await failOver() }
                    metrics?.heals(report)
                    if report != Report() { logger.notice("reconciled with MediaMTX", metadata: ["report": "\(report)"]) }
                }
            } catch {
                logger.warning("reconcile failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: restartCheck) }
        }
    }

    // MARK: - Node health

    /// Asks every node's `/v3/info` and saves what it saw; returns the nodes that restarted since the last check.
    func checkNodes(_ lastStarted: inout [String: String]) async throws -> [MediaNode] {
        let nodes = try await nodes.all()
        let seen = await withTaskGroup(of: (MediaNode, Info?, String?).self) { group in
            for node in nodes {
                group.addTask {
                    do {
                        return (node, try await self.nodes.client(node).info(), nil)
                    } catch {
                        return (node, nil, "\(error)")
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var restarted: [MediaNode] = []
        let now = Date().micros
        for (node, info, error) in seen {
            var health = node.health ?? NodeHealth(checkedAt: now)
            health.checkedAt = now
            if let info {
                health.reachableAt = now
                if health.unreachableSince != nil { logger.notice("node answers again", metadata: ["node": "\(node.name)"]) }
                health.unreachableSince = nil
                health.error = nil
                health.version = info.version
                if let last = lastStarted[node.name], let started = info.started, started != last {
                    logger.notice("MediaMTX restarted; re-asserting its paths", metadata: ["node": "\(node.name)", "started": "\(started)"])
                    restarted.append(node)
                }
                health.started = info.started
                if let started = info.started { lastStarted[node.name] = started }
            } else {
                if health.unreachableSince == nil {
                    logger.warning("node does not answer", metadata: ["node": "\(node.name)", "error": "\(error ?? "")"])
                    health.unreachableSince = now
                }
                health.error = error
            }
            // Written when something but the check's time changed, and at least every 10 s (the time shows it is checked).
            var unchanged = health
            unchanged.checkedAt = node.health?.checkedAt ?? 0
            if unchanged != node.health || now - (node.health?.checkedAt ?? 0) >= 10_000_000 {
                try await database.saveNodeHealth(node.name, health)
            }
        }
        return restarted
    }

    // MARK: - Passes

    /// One full pass over every node. Each heal is logged and counted in the report.
    public func reconcileOnce() async throws -> Report {
        var report = Report()
        let listedAt = Date().micros
        let nodes = try await nodes.all()
        let all = try await database.allSources()
        // Paths, recordings and live state of each node, asked of all at once.
        let answers = await withTaskGroup(of: (MediaNode, Result<NodeListing, any Error>).self) { group in
            for node in nodes {
                group.addTask {
                    do {
                        return (node, .success(try await self.listing(of: node)))
                    } catch {
                        return (node, .failure(error))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var listings: [String: NodeListing] = [:]
        var firstError: (any Error)?
        for (node, answer) in answers {
            switch answer {
            case .success(let listing): listings[node.name] = listing
            case .failure(let error):
                logger.warning("reconcile: node unreachable", metadata: ["node": "\(node.name)", "error": "\(error)"])
                report.unreachable.append(node.name)
                firstError = firstError ?? error
            }
        }
        // Nothing answered: nothing can be compared (and one-off `reconcile` fails).
        if listings.isEmpty, let firstError { throw firstError }
        for node in nodes {
            guard let listing = listings[node.name] else { continue }
            report.merge(try await heal(paths: listing, on: node, sources: all))
            try await saveLoad(listing, of: node)
        }
        try await reconcileSegments(listings, nodes: nodes, at: listedAt, into: &report)
        try await reconcileStates(listings, sources: all, at: listedAt, into: &report)

        if retentionDays > 0 {
            report.eventsPruned = try await database.pruneHistory(receivedBefore: listedAt - Int64(retentionDays) * 86_400_000_000)
        }
        report.unreachable.sort()
        return report
    }

    /// Only the paths of one node (it restarted): re-adds what it lost.
    func reconcilePaths(on node: MediaNode) async throws -> Report {
        try await heal(paths: try await listing(of: node, withRecordings: false), on: node, sources: try await database.allSources())
    }

    /// What one node has: path configurations, live paths and (for a full pass) recordings.
    struct NodeListing: Sendable {
        var configured: Set<String>
        var live: [Path]
        var recordings: [String: [Int64]]?
    }

    func listing(of node: MediaNode, withRecordings: Bool = true) async throws -> NodeListing {
        let client = nodes.client(node)
        let configured = Set(try await client.listAllPathConfigs().compactMap(\.name))
        let live = try await client.listAllPaths()
        guard withRecordings else { return NodeListing(configured: configured, live: live) }
        // Segments: MediaMTX lists what is on disk; a catch-all path config means it lists every path's recordings.
        var recordings: [String: [Int64]] = [:]
        var page = 0
        while true {
            let result = try await client.listRecordings(page: page, itemsPerPage: 100)
            for recording in result.items {
                recordings[recording.name, default: []] += recording.segments.compactMap { RFC3339.parse($0.start)?.micros }
            }
            page += 1
            if page >= result.pageCount || result.items.isEmpty { break }
        }
        return NodeListing(configured: configured, live: live, recordings: recordings)
    }

    /// Re-adds the paths of the node's enabled sources that it lost, removes the paths of sources placed elsewhere
    /// (left behind by a failover while it was down), and wires its hooks when asked to.
    func heal(paths listing: NodeListing, on node: MediaNode, sources all: [MediaSource]) async throws -> Report {
        var report = Report()
        let client = nodes.client(node)
        if settings.manageHooks { report.hooksInstalled = try await installHooks(client) }
        // Each heal reads its source again first: a move (an operator, a drain, failover) since `all` was read must not
        // be undone by a pass that saw the source where it was.
        for candidate in all where candidate.node == node.name && candidate.enabled && !listing.configured.contains(candidate.pathName) {
            guard let source = try await database.source(id: candidate.id), source.node == node.name, source.enabled else { continue }
            try await sources.ensurePath(source, on: client)
            logger.notice(
                "re-added a path MediaMTX lost", metadata: ["path": "\(source.pathName)", "source": "\(source.id)", "node": "\(node.name)"])
            report.pathsReadded.append(source.pathName)
        }
        for candidate in all where candidate.node != node.name && listing.configured.contains(candidate.pathName) {
            guard let source = try await database.source(id: candidate.id), source.node != node.name else { continue }
            try await sources.deletePathIfPresent(source, on: client)
            logger.notice(
                "removed a path from a node its source left",
                metadata: ["path": "\(source.pathName)", "node": "\(node.name)", "now_on": "\(source.node)"])
            report.pathsRemoved.append(source.pathName)
        }
        return report
    }

    func saveLoad(_ listing: NodeListing, of node: MediaNode) async throws {
        guard var health = try await database.node(named: node.name)?.health else { return }
        health.paths = listing.configured.count
        health.readers = listing.live.reduce(0) { $0 + $1.readers.count }
        // MediaMTX 1.13 renamed bytesReceived/bytesSent to inboundBytes/outboundBytes; either is read.
        health.bytesReceived = listing.live.reduce(0) { $0 + Int64(clamping: $1.inboundBytes ?? $1.bytesReceived ?? 0) }
        health.bytesSent = listing.live.reduce(0) { $0 + Int64(clamping: $1.outboundBytes ?? $1.bytesSent ?? 0) }
        try await database.saveNodeHealth(node.name, health)
    }

    /// A path's recordings may sit on several nodes (it moved): they are compared with what all of those nodes list
    /// together, and only when every one of them answered.
    func reconcileSegments(_ listings: [String: NodeListing], nodes: [MediaNode], at listedAt: Int64, into report: inout Report) async throws {
        var listed: [String: [Int64]] = [:]
        var configured: Set<String> = []
        for listing in listings.values {
            for (path, starts) in listing.recordings ?? [:] { listed[path, default: []] += starts }
            configured.formUnion(listing.configured)
        }
        let catchAll = configured.contains("all_others") || configured.contains { $0.hasPrefix("~") }
        let grace = listedAt - 30_000_000
        let candidates = Set(listed.keys).union(try await database.pathsWithSegments())
            .filter { listed[$0] != nil || catchAll || configured.contains($0) }
        let allAnswered = listings.count == nodes.count
        let placements = allAnswered ? [:] : try await database.placements(paths: Array(candidates))
        for path in candidates.sorted() {
            if !allAnswered {
                // Without a node's listing its segments would look deleted; paths that were never on it are safe.
                let onNodes = Set(placements[path]?.map(\.node) ?? [])
                guard !onNodes.isEmpty, onNodes.allSatisfy({ listings[$0] != nil }) else { continue }
            }
            let (added, deleted) = try await database.reconcileSegments(path: path, starts: listed[path] ?? [], olderThan: grace, now: listedAt)
            if added + deleted > 0 {
                logger.notice("segments reconciled", metadata: ["path": "\(path)", "added": "\(added)", "deleted": "\(deleted)"])
            }
            report.segmentsAdded += added
            report.segmentsDeleted += deleted
        }
    }

    /// Live status from every node that answered; the paths of a node that did not keep their indexed state.
    func reconcileStates(_ listings: [String: NodeListing], sources all: [MediaSource], at listedAt: Int64, into report: inout Report) async throws {
        var observed = listings.values.flatMap(\.live).map { p in
            AppDatabase.ObservedPath(
                path: p.name, available: p.available ?? p.ready, sourceType: p.source?.type, sourceID: p.source?.id,
                readers: Dictionary(p.readers.compactMap { r in r.id.map { ($0, r.type) } }, uniquingKeysWith: { a, _ in a })
            )
        }
        let unanswered = all.filter { listings[$0.node] == nil }.map(\.pathName)
        for (path, state) in try await database.pathStates(unanswered) where state.available {
            observed.append(
                AppDatabase.ObservedPath(
                    path: path, available: true, sourceType: state.sourceType, sourceID: state.sourceID, readers: state.readers))
        }
        report.statusHealed = try await database.reconcileStates(observed, at: listedAt)
        for path in report.statusHealed { logger.notice("status healed", metadata: ["path": "\(path)"]) }
    }

    // MARK: - Failover

    /// Moves the pull sources of `down` nodes to other active nodes, one by one; push sources stay (their encoders
    /// publish to the old node's address) and are logged.
    func failOver() async throws -> [String: String] {
        var moved: [String: String] = [:]
        let down = try await nodes.all().filter { nodes.state(of: $0) == .down }
        for node in down {
            let placed = try await database.sources(SourceQuery(page: 1, pageSize: 100_000, node: node.name)).items
            for source in placed {
                guard source.kind == .pull else {
                    logger.warning("a push source stays on a down node", metadata: ["path": "\(source.pathName)", "node": "\(node.name)"])
                    continue
                }
                do {
                    let target = try await nodes.place(named: nil, labels: [:], excluding: [node.name])
                    let result = try await sources.move(source, to: target, oldNodeMayBeDown: true)
                    moved[source.pathName] = result.source.node
                } catch {
                    logger.warning("failover of a source failed", metadata: ["path": "\(source.pathName)", "error": "\(error)"])
                }
            }
        }
        return moved
    }

    /// Sets every pathDefaults hook we rely on to call mtx-hook (`HookWiring` says which).
    func installHooks(_ mediamtx: MediaMTXClient) async throws -> [String] {
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
