import Domain
import Foundation
internal import GRDB

// MARK: - Schema

extension AppDatabase {
    /// Nodes, each source's node (`default` for the sources of one-node days) and the placement history.
    static func registerNodeMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11_nodes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE nodes (
                        name TEXT PRIMARY KEY NOT NULL,
                        api_address TEXT NOT NULL,
                        playback_address TEXT NOT NULL,
                        rtsp_address TEXT NOT NULL,
                        rtmp_address TEXT NOT NULL,
                        hls_address TEXT NOT NULL,
                        webrtc_address TEXT NOT NULL,
                        srt_address TEXT NOT NULL,
                        labels TEXT NOT NULL DEFAULT '{}',
                        max_paths INTEGER,
                        draining BOOLEAN NOT NULL DEFAULT 0,
                        auth_token TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        health TEXT
                    );
                    ALTER TABLE media_sources ADD COLUMN node TEXT NOT NULL DEFAULT 'default';
                    CREATE INDEX media_sources_node ON media_sources (node);
                    CREATE TABLE source_placements (
                        path_name TEXT NOT NULL,
                        node TEXT NOT NULL,
                        since INTEGER NOT NULL,
                        PRIMARY KEY (path_name, since)
                    );
                    INSERT INTO source_placements (path_name, node, since) SELECT path_name, node, 0 FROM media_sources;
                    """)
        }
    }

    static func placeSource(path: String, node: String, since: Int64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO source_placements (path_name, node, since) VALUES (?, ?, ?)", arguments: [path, node, since])
    }
}

// MARK: - Nodes

extension AppDatabase {
    static func node(_ row: Row) -> MediaNode {
        let labels = (row["labels"] as String?).flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
        let health = (row["health"] as String?).flatMap { try? JSONDecoder().decode(NodeHealth.self, from: Data($0.utf8)) }
        return MediaNode(
            name: row["name"], apiAddress: row["api_address"], playbackAddress: row["playback_address"], rtspAddress: row["rtsp_address"],
            rtmpAddress: row["rtmp_address"], hlsAddress: row["hls_address"], webrtcAddress: row["webrtc_address"],
            srtAddress: row["srt_address"], labels: labels, maxPaths: row["max_paths"], draining: row["draining"], authToken: row["auth_token"],
            createdAt: Date(micros: row["created_at"]), updatedAt: Date(micros: row["updated_at"]), health: health)
    }

    public static func labelsJSON(_ labels: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(labels)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public func nodes() async throws -> [MediaNode] {
        try await writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM nodes ORDER BY name").map(Self.node) }
    }

    public func node(named name: String) async throws -> MediaNode? {
        try await writer.read { db in try Row.fetchOne(db, sql: "SELECT * FROM nodes WHERE name = ?", arguments: [name]).map(Self.node) }
    }

    public func insertNode(_ node: MediaNode) async throws {
        do {
            try await writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO nodes (name, api_address, playback_address, rtsp_address, rtmp_address, hls_address, webrtc_address,
                            srt_address, labels, max_paths, draining, auth_token, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        node.name, node.apiAddress, node.playbackAddress, node.rtspAddress, node.rtmpAddress, node.hlsAddress, node.webrtcAddress,
                        node.srtAddress, Self.labelsJSON(node.labels), node.maxPaths, node.draining, node.authToken, node.createdAt.micros,
                        node.updatedAt.micros,
                    ])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw CatalogError.nameTaken(node.name)
        }
    }

    public func updateNode(_ node: MediaNode) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE nodes SET api_address = ?, playback_address = ?, rtsp_address = ?, rtmp_address = ?, hls_address = ?,
                        webrtc_address = ?, srt_address = ?, labels = ?, max_paths = ?, draining = ?, auth_token = ?, updated_at = ?
                    WHERE name = ?
                    """,
                arguments: [
                    node.apiAddress, node.playbackAddress, node.rtspAddress, node.rtmpAddress, node.hlsAddress, node.webrtcAddress, node.srtAddress,
                    Self.labelsJSON(node.labels), node.maxPaths, node.draining, node.authToken, node.updatedAt.micros, node.name,
                ])
            if db.changesCount == 0 { throw CatalogError.notFound }
        }
    }

    public func deleteNode(named name: String) async throws -> Bool {
        try await writer.write { db in
            let placed = try Int.fetchOne(db, sql: "SELECT count(*) FROM media_sources WHERE node = ?", arguments: [name]) ?? 0
            if placed > 0 { throw CatalogError.nodeHasSources(placed) }
            try db.execute(sql: "DELETE FROM nodes WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    public func saveNodeHealth(_ name: String, _ health: NodeHealth) async throws {
        let json = String(decoding: try JSONEncoder().encode(health), as: UTF8.self)
        try await writer.write { db in try db.execute(sql: "UPDATE nodes SET health = ? WHERE name = ?", arguments: [json, name]) }
    }

    public func sourceCountsByNode() async throws -> [String: Int] {
        try await writer.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT node, count(*) AS n FROM media_sources GROUP BY node") { out[row["node"]] = row["n"] }
            return out
        }
    }

    public func placements(paths: [String]) async throws -> [String: [Placement]] {
        guard !paths.isEmpty else { return [:] }
        return try await writer.read { db in
            var out: [String: [Placement]] = [:]
            for chunk in stride(from: 0, to: paths.count, by: 500).map({ Array(paths[$0..<min($0 + 500, paths.count)]) }) {
                let marks = chunk.map { _ in "?" }.joined(separator: ",")
                for row in try Row.fetchAll(
                    db, sql: "SELECT path_name, node, since FROM source_placements WHERE path_name IN (\(marks)) ORDER BY path_name, since",
                    arguments: StatementArguments(chunk))
                {
                    out[row["path_name"], default: []].append(Placement(node: row["node"], since: row["since"]))
                }
            }
            return out
        }
    }
}
