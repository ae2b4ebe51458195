import AsyncHTTPClient
import Catalog
import Domain
import Foundation
import Logging
import MediaMTX
import Synchronization

/// The MediaMTX nodes the companion controls, read from the catalogue, and a client for each. Services ask it for the
/// node of a source and for where a new source goes; nothing else builds a `MediaMTXClient`.
public struct MediaNodes: Sendable {
    let database: any CatalogBackend
    let httpClient: HTTPClient
    let settings: AppConfig.MediaMTX
    let logger: Logger
    let observer: (@Sendable (String, String, Duration) -> Void)?
    private let cache = NodeCache()

    public init(
        database: any CatalogBackend, httpClient: HTTPClient, settings: AppConfig.MediaMTX, logger: Logger,
        observer: (@Sendable (String, String, Duration) -> Void)? = nil
    ) {
        self.database = database
        self.httpClient = httpClient
        self.settings = settings
        self.logger = logger
        self.observer = observer
    }

    /// µs after which an unreachable node is `down`.
    var downAfter: Int64 { micros(settings.nodeDownAfter) }

    public func client(_ node: MediaNode) -> MediaMTXClient {
        MediaMTXClient(
            apiAddress: node.apiAddress, playbackAddress: node.playbackAddress, httpClient: httpClient,
            requestTimeout: .init(settings.requestTimeout), logger: logger.with("node", node.name), observer: observer)
    }

    public func all() async throws -> [MediaNode] {
        let nodes = try await database.nodes()
        cache.store(nodes)
        return nodes
    }

    /// The nodes now, or as last read when the catalogue can't be read (readiness still asks MediaMTX then).
    func currentOrLast() async throws -> [MediaNode] {
        do {
            return try await all()
        } catch {
            if let last = cache.fresh(maxAge: .seconds(86_400 * 365)) { return last }
            throw error
        }
    }

    /// The nodes as read at most a second ago: for MediaMTX's auth calls, which come before every read and publish.
    func recent() async throws -> [MediaNode] {
        if let nodes = cache.fresh(maxAge: .seconds(1)) { return nodes }
        return try await all()
    }

    /// `ServiceError.notFound(.node)` when there is no such node.
    public func node(_ name: String) async throws -> MediaNode {
        guard let node = try await database.node(named: name) else { throw ServiceError.notFound(.node) }
        return node
    }

    /// The client of the node a source is on.
    public func client(for source: MediaSource) async throws -> MediaMTXClient {
        client(try await node(source.node))
    }

    public func state(of node: MediaNode) -> MediaNode.State {
        node.state(downAfter: downAfter, now: Date().micros)
    }

    /// Where a new source goes (`NodePlacement`): 400 for an unknown `node` or labels no node carries, 503
    /// `no_node_available` when none of the matching nodes is active with room.
    func place(named: String?, labels: [String: String], excluding: Set<String> = []) async throws -> MediaNode {
        let nodes = try await all()
        // The load is counted only when it can change the answer: several nodes, or a node with a limit.
        let needsLoad = nodes.count > 1 || nodes.contains { $0.maxPaths != nil }
        let load = needsLoad ? try await database.sourceCountsByNode() : [:]
        do {
            return try NodePlacement.choose(
                among: nodes, named: named, labels: labels, load: load, downAfter: downAfter, now: Date().micros, excluding: excluding)
        } catch .unknownNode(let name) {
            throw ServiceError.invalid("node", .unknownNode(name))
        } catch .noNodeWithLabels {
            throw ServiceError.invalid("node_labels", .noNodeWithLabels)
        } catch .noNodeAvailable {
            throw ServiceError(.noNodeAvailable, .noNodeAvailable)
        }
    }

    /// Writes the nodes the config file declares: new ones are added, changed ones updated (an operator's drain is
    /// kept); nodes added through the API are left alone.
    public func declare(_ declared: [MediaNode]) async throws {
        for var node in declared {
            if let existing = try await database.node(named: node.name) {
                guard !existing.sameSettings(as: node) else { continue }
                node.draining = existing.draining
                node.createdAt = existing.createdAt
                node.updatedAt = Date()
                try await database.updateNode(node)
                logger.notice("node updated from the config file", metadata: ["node": "\(node.name)"])
            } else {
                try await database.insertNode(node)
                logger.notice("node added from the config file", metadata: ["node": "\(node.name)"])
            }
        }
        _ = try await all()
    }
}

extension Logger {
    func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = "\(value)"
        return copy
    }
}

/// The last list of nodes read, and when.
final class NodeCache: Sendable {
    private let state = Mutex<(at: ContinuousClock.Instant, nodes: [MediaNode])?>(nil)

    func store(_ nodes: [MediaNode]) {
        state.withLock { $0 = (ContinuousClock.now, nodes) }
    }

    func fresh(maxAge: Duration) -> [MediaNode]? {
        state.withLock { state in
            guard let state, ContinuousClock.now - state.at < maxAge else { return nil }
            return state.nodes
        }
    }
}
