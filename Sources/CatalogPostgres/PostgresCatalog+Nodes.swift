import Catalog
import Domain
import Foundation
import PostgresNIO

extension PostgresCatalog: NodeStore {
    /// As SQLite's `v11_nodes`.
    static let nodeMigrations: [(name: String, statements: [String])] = [
        (
            "v9_nodes",
            [
                """
                CREATE TABLE nodes (
                    name text PRIMARY KEY,
                    api_address text NOT NULL,
                    playback_address text NOT NULL,
                    rtsp_address text NOT NULL,
                    rtmp_address text NOT NULL,
                    hls_address text NOT NULL,
                    webrtc_address text NOT NULL,
                    srt_address text NOT NULL,
                    labels jsonb NOT NULL DEFAULT '{}',
                    max_paths integer,
                    draining boolean NOT NULL DEFAULT false,
                    auth_token text,
                    created_at bigint NOT NULL,
                    updated_at bigint NOT NULL,
                    health jsonb
                )
                """,
                "ALTER TABLE media_sources ADD COLUMN node text NOT NULL DEFAULT 'default'",
                "CREATE INDEX media_sources_node ON media_sources (node)",
                """
                CREATE TABLE source_placements (
                    path_name text NOT NULL,
                    node text NOT NULL,
                    since bigint NOT NULL,
                    PRIMARY KEY (path_name, since)
                )
                """,
                "INSERT INTO source_placements (path_name, node, since) SELECT path_name, node, 0 FROM media_sources",
            ]
        )
    ]

    static let nodeColumns = """
        name, api_address, playback_address, rtsp_address, rtmp_address, hls_address, webrtc_address, srt_address, labels::text,
        max_paths, draining, auth_token, created_at, updated_at, health::text
        """

    func fetchNodes(_ query: PostgresQuery) async throws -> [MediaNode] {
        var out: [MediaNode] = []
        let rows = try await client.query(query, logger: logger)
        for try await row in rows {
            let c = try row.decode(
                (String, String, String, String, String, String, String, String, String, Int?, Bool, String?, Int64, Int64, String?).self)
            out.append(
                MediaNode(
                    name: c.0, apiAddress: c.1, playbackAddress: c.2, rtspAddress: c.3, rtmpAddress: c.4, hlsAddress: c.5, webrtcAddress: c.6,
                    srtAddress: c.7, labels: (try? JSONDecoder().decode([String: String].self, from: Data(c.8.utf8))) ?? [:], maxPaths: c.9,
                    draining: c.10, authToken: c.11, createdAt: Date(micros: c.12), updatedAt: Date(micros: c.13),
                    health: c.14.flatMap { try? JSONDecoder().decode(NodeHealth.self, from: Data($0.utf8)) }))
        }
        return out
    }

    public func nodes() async throws -> [MediaNode] {
        try await fetchNodes("SELECT \(unescaped: Self.nodeColumns) FROM nodes ORDER BY name")
    }

    public func node(named name: String) async throws -> MediaNode? {
        try await fetchNodes("SELECT \(unescaped: Self.nodeColumns) FROM nodes WHERE name = \(name)").first
    }

    public func insertNode(_ node: MediaNode) async throws {
        let labels = AppDatabase.labelsJSON(node.labels)
        do {
            try await client.query(
                """
                INSERT INTO nodes (name, api_address, playback_address, rtsp_address, rtmp_address, hls_address, webrtc_address, srt_address,
                    labels, max_paths, draining, auth_token, created_at, updated_at)
                VALUES (\(node.name), \(node.apiAddress), \(node.playbackAddress), \(node.rtspAddress), \(node.rtmpAddress), \(node.hlsAddress),
                    \(node.webrtcAddress), \(node.srtAddress), \(labels)::jsonb, \(node.maxPaths), \(node.draining), \(node.authToken),
                    \(node.createdAt.micros), \(node.updatedAt.micros))
                """, logger: logger)
        } catch  where PostgresCatalogError.sqlState(error) == "23505" {
            throw CatalogError.nameTaken(node.name)
        }
    }

    public func updateNode(_ node: MediaNode) async throws {
        let labels = AppDatabase.labelsJSON(node.labels)
        let updated = try await client.query(
            """
            UPDATE nodes SET api_address = \(node.apiAddress), playback_address = \(node.playbackAddress), rtsp_address = \(node.rtspAddress),
                rtmp_address = \(node.rtmpAddress), hls_address = \(node.hlsAddress), webrtc_address = \(node.webrtcAddress),
                srt_address = \(node.srtAddress), labels = \(labels)::jsonb, max_paths = \(node.maxPaths), draining = \(node.draining),
                auth_token = \(node.authToken), updated_at = \(node.updatedAt.micros)
            WHERE name = \(node.name) RETURNING name
            """, logger: logger
        ).collect()
        if updated.isEmpty { throw CatalogError.notFound }
    }

    /// The node's row is locked first, so a source placed on it meanwhile (`insertSource` checks nothing) is counted
    /// by the second count of a concurrent delete at worst; the service checks placement against existing nodes.
    public func deleteNode(named name: String) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            let locked = try await connection.query("SELECT name FROM nodes WHERE name = \(name) FOR UPDATE", logger: logger).collect()
            guard !locked.isEmpty else { return false }
            let placed = try await connection.query("SELECT count(*) FROM media_sources WHERE node = \(name)", logger: logger)
                .decode(Int.self).reduce(0, +)
            if placed > 0 { throw CatalogError.nodeHasSources(placed) }
            try await connection.query("DELETE FROM nodes WHERE name = \(name)", logger: logger)
            return true
        }
    }

    public func saveNodeHealth(_ name: String, _ health: NodeHealth) async throws {
        let json = String(decoding: try JSONEncoder().encode(health), as: UTF8.self)
        try await client.query("UPDATE nodes SET health = \(json)::jsonb WHERE name = \(name)", logger: logger)
    }

    public func sourceCountsByNode() async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for try await (node, n) in try await client.query("SELECT node, count(*) FROM media_sources GROUP BY node", logger: logger)
            .decode((String, Int).self)
        {
            out[node] = n
        }
        return out
    }

    public func placements(paths: [String]) async throws -> [String: [Placement]] {
        guard !paths.isEmpty else { return [:] }
        var out: [String: [Placement]] = [:]
        let rows = try await client.query(
            "SELECT path_name, node, since FROM source_placements WHERE path_name = ANY(\(paths)) ORDER BY path_name, since", logger: logger)
        for try await (path, node, since) in rows.decode((String, String, Int64).self) {
            out[path, default: []].append(Placement(node: node, since: since))
        }
        return out
    }
}
