import Catalog
import Domain
import Foundation
import Logging

/// The MediaMTX nodes as admins manage them: declare, change, delete (only without sources), drain.
struct NodesService: Sendable {
    let nodes: MediaNodes
    let sources: SourcesService
    let logger: Logger

    var database: any CatalogBackend { nodes.database }

    /// Each node with the number of sources placed on it.
    func list() async throws -> [(node: MediaNode, sources: Int)] {
        let counts = try await database.sourceCountsByNode()
        return try await nodes.all().map { ($0, counts[$0.name] ?? 0) }
    }

    func get(_ name: String) async throws -> (node: MediaNode, sources: Int) {
        let node = try await nodes.node(name)
        return (node, try await database.sourceCountsByNode()[name] ?? 0)
    }

    /// A new node; without an `auth_token` one is made (returned once, in the answer).
    func create(_ node: MediaNode) async throws -> MediaNode {
        var node = node
        if node.authToken == nil { node.authToken = Self.makeToken() }
        do {
            try await database.insertNode(node)
        } catch CatalogError.nameTaken(let name) {
            throw ServiceError(.conflict, .nodeExists(name), field: "name")
        }
        logger.notice("node added", metadata: ["node": "\(node.name)", "api": "\(node.apiAddress)"])
        return node
    }

    func update(_ node: MediaNode) async throws -> MediaNode {
        try await database.updateNode(node)
        return node
    }

    func delete(_ name: String) async throws {
        guard try await database.deleteNode(named: name) else { throw ServiceError.notFound(.node) }
        logger.notice("node deleted", metadata: ["node": "\(name)"])
    }

    struct DrainReport: Sendable {
        var moved: [(source: MediaSource, to: String)] = []
        /// Push sources (their encoders' URL would change) and sources no node could take.
        var stayed: [(source: MediaSource, reason: String)] = []
    }

    /// Refuses new placements on the node and moves its pull sources to other active nodes, one by one (each a
    /// move with rollback). Push sources stay and are reported: moving them changes their encoders' URL.
    func drain(_ name: String) async throws -> DrainReport {
        var node = try await nodes.node(name)
        if !node.draining {
            node.draining = true
            node.updatedAt = Date()
            try await database.updateNode(node)
            logger.notice("node draining", metadata: ["node": "\(name)"])
        }
        var report = DrainReport()
        let placed = try await database.sources(SourceQuery(page: 1, pageSize: 100_000, node: name)).items
        for source in placed {
            guard source.kind == .pull else {
                report.stayed.append((source, "push"))
                continue
            }
            do {
                let target = try await nodes.place(named: nil, labels: [:], excluding: [name])
                let moved = try await sources.move(source, to: target, oldNodeMayBeDown: nodes.state(of: node) == .down)
                report.moved.append((moved.source, target.name))
            } catch let error as ServiceError where error.kind == .noNodeAvailable {
                report.stayed.append((source, "no_node_available"))
            } catch {
                logger.warning("drain: moving a source failed", metadata: ["path": "\(source.pathName)", "error": "\(error)"])
                report.stayed.append((source, "move_failed"))
            }
        }
        return report
    }

    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
