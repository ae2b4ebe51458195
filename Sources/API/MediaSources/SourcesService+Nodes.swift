import Catalog
import Domain
import Foundation
import MediaMTX

/// Moving a source to another MediaMTX node, and the node that holds a path's recordings at a time.
extension SourcesService {
    public struct Move: Sendable {
        public var source: MediaSource
        public var from: String
        /// The path was left on a node that could not be reached (failover); the reconciler removes it there once the
        /// node answers again.
        public var leftOnUnreachableNode = false
    }

    /// Adds the path on `target`, saves the new node, then deletes the path on the old node; a failure undoes what was
    /// done before it (the old node refusing the delete puts the row and the target back), so nothing changed.
    /// The row changes before the old path goes, so that a reconciler pass running alongside sees either the old
    /// placement with the old path or the new one: whatever it heals is what the move does anyway.
    /// `oldNodeMayBeDown` (failover): a source whose node does not answer moves all the same.
    public func move(_ id: UUID, to target: String, oldNodeMayBeDown: Bool = false, excluding: Set<String> = []) async throws -> Move {
        let old = try await get(id)
        guard old.node != target else { throw ServiceError(.conflict, .alreadyOnNode(target), field: "node") }
        let targetNode = try await nodes.place(named: target, labels: [:], excluding: excluding)
        return try await move(old, to: targetNode, oldNodeMayBeDown: oldNodeMayBeDown)
    }

    func move(_ old: MediaSource, to targetNode: MediaNode, oldNodeMayBeDown: Bool) async throws -> Move {
        var new = old
        new.node = targetNode.name
        new.updatedAt = Self.now()
        let to = nodes.client(targetNode)
        let from = try await nodes.client(for: old)
        var result = Move(source: new, from: old.node)
        if old.enabled { try await ensurePath(new, on: to) }
        do {
            try await database.updateSource(new)
        } catch {
            logger.error("saving a moved source failed; taking its new path back", metadata: ["path": "\(old.pathName)", "error": "\(error)"])
            if old.enabled { await compensate("deletePath \(new.pathName) on \(new.node)") { try await to.deletePath(new.pathName) } }
            throw error
        }
        guard old.enabled else { return logged(result) }
        do {
            try await deletePathIfPresent(old, on: from)
        } catch MediaMTXError.unavailable(let detail) where oldNodeMayBeDown {
            logger.warning(
                "moved a source off a node that does not answer; its path there is removed when it does",
                metadata: ["path": "\(old.pathName)", "node": "\(old.node)", "error": "\(detail)"])
            result.leftOnUnreachableNode = true
        } catch {
            logger.error("the old node refused to let the moved path go; moving back", metadata: ["path": "\(old.pathName)", "error": "\(error)"])
            var back = old
            back.updatedAt = Self.now()
            await compensate("restore \(old.pathName) to \(old.node)") { try await database.updateSource(back) }
            await compensate("deletePath \(new.pathName) on \(new.node)") { try await to.deletePath(new.pathName) }
            throw error
        }
        return logged(result)
    }

    private func logged(_ move: Move) -> Move {
        logger.notice("source moved", metadata: ["path": "\(move.source.pathName)", "from": "\(move.from)", "to": "\(move.source.node)"])
        return move
    }

    // MARK: - Recordings across nodes

    /// The placements of `source`'s path (one for a source that never moved).
    func placements(of source: MediaSource) async throws -> [Placement] {
        let found = try await database.placements(paths: [source.pathName])[source.pathName] ?? []
        return found.isEmpty ? [Placement(node: source.node, since: 0)] : found
    }

    /// The node whose recordings hold `time` (µs), and until when it held the path (nil: it still does).
    func recordingNode(of source: MediaSource, at time: Int64) async throws -> (node: MediaNode, until: Int64?) {
        let placements = try await placements(of: source).sorted { $0.since < $1.since }
        let name = placements.node(at: time) ?? source.node
        let until = placements.first { $0.since > time }?.since
        return (try await nodes.node(name), until)
    }

    /// The node that held `path` at `time` (µs); nil for a path no source was placed with.
    func recordingNode(path: String, at time: Int64) async throws -> MediaNode? {
        let placements = try await database.placements(paths: [path])[path] ?? []
        guard let name = placements.node(at: time) else { return nil }
        return try await database.node(named: name)
    }
}
