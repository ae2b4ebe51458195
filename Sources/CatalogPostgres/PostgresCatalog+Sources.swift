import Catalog
import Domain
import Foundation
import PostgresNIO

extension PostgresCatalog: SourceStore {
    static let sourceColumns = "id, name, path_name, type, url, protocol, enabled, record_enabled, created_at, updated_at, node"

    typealias SourceColumns = (UUID, String, String, String, String?, String?, Bool, Bool, Int64, Int64, String)

    static func source(_ c: SourceColumns) -> MediaSource {
        MediaSource(
            id: c.0, name: c.1, pathName: c.2, kind: MediaSource.Kind(rawValue: c.3) ?? .pull, url: c.4, protocol: c.5, enabled: c.6,
            recordEnabled: c.7, createdAt: Date(micros: c.8), updatedAt: Date(micros: c.9), node: c.10)
    }

    func fetchSources(_ query: PostgresQuery) async throws -> [MediaSource] {
        let rows = try await client.query(query, logger: logger)
        var out: [MediaSource] = []
        for try await c in rows.decode(SourceColumns.self) { out.append(Self.source(c)) }
        return out
    }

    public func insertSource(_ source: MediaSource, announcing events: [ServiceEvent]) async throws {
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await insertSourceRow(source, on: connection)
                try await enqueue(events, on: connection)
            }
        } catch  where PostgresCatalogError.sqlState(error) == "23505" {
            throw CatalogError.pathNameTaken(source.pathName)
        }
    }

    /// The row and its first placement.
    func insertSourceRow(_ source: MediaSource, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO media_sources (id, name, path_name, type, url, protocol, enabled, record_enabled, created_at, updated_at, node)
            VALUES (\(source.id), \(source.name), \(source.pathName), \(source.kind.rawValue), \(source.url), \(source.protocol),
                \(source.enabled), \(source.recordEnabled), \(source.createdAt.micros), \(source.updatedAt.micros), \(source.node))
            """, logger: logger)
        try await connection.query(
            "INSERT INTO source_placements (path_name, node, since) VALUES (\(source.pathName), \(source.node), 0) ON CONFLICT DO NOTHING",
            logger: logger)
    }

    /// Read by nearly every request about a source: prepared once per connection.
    public func source(id: UUID) async throws -> MediaSource? {
        try await client.execute(SourceByID(id: id), logger: logger).first.map(Self.source)
    }

    struct SourceByID: PostgresPreparedStatement {
        static let sql = "SELECT \(PostgresCatalog.sourceColumns) FROM media_sources WHERE id = $1"
        typealias Row = SourceColumns
        var id: UUID

        func makeBindings() throws -> PostgresBindings {
            var binds = PostgresBindings()
            binds.append(id)
            return binds
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    public func sourceExists(pathName: String) async throws -> Bool {
        try await !client.query("SELECT 1 FROM media_sources WHERE path_name = \(pathName)", logger: logger).collect().isEmpty
    }

    /// A new node is a new placement from `updatedAt` on (written in the same statement).
    public func updateSource(_ source: MediaSource) async throws {
        let updated = try await client.query(
            """
            WITH old AS (SELECT node FROM media_sources WHERE id = \(source.id)),
            changed AS (
                UPDATE media_sources SET name = \(source.name), path_name = \(source.pathName), type = \(source.kind.rawValue),
                    url = \(source.url), protocol = \(source.protocol), enabled = \(source.enabled), record_enabled = \(source.recordEnabled),
                    created_at = \(source.createdAt.micros), updated_at = \(source.updatedAt.micros), node = \(source.node)
                WHERE id = \(source.id) RETURNING id
            ),
            placed AS (
                INSERT INTO source_placements (path_name, node, since)
                SELECT \(source.pathName), \(source.node), \(source.updatedAt.micros) FROM old WHERE old.node <> \(source.node)
                ON CONFLICT (path_name, since) DO UPDATE SET node = excluded.node
            )
            SELECT id FROM changed
            """, logger: logger
        ).collect()
        if updated.isEmpty { throw CatalogError.notFound }
    }

    @discardableResult
    public func deleteSource(id: UUID, announcing events: [ServiceEvent]) async throws -> Bool {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                let deleted = try await connection.query("DELETE FROM media_sources WHERE id = \(id) RETURNING id", logger: logger).collect()
                guard !deleted.isEmpty else { return false }
                try await enqueue(events, on: connection)
                return true
            }
        } catch  where PostgresCatalogError.sqlState(error) == "23503" {
            throw CatalogError.sourceHasAssets
        }
    }

    public func sources(_ query: SourceQuery) async throws -> Page<MediaSource> {
        var conditions: [String] = []
        var bindings = PostgresBindings()
        if let kind = query.kind {
            bindings.append(kind.rawValue)
            conditions.append("type = $\(bindings.count)")
        }
        if let enabled = query.enabled {
            bindings.append(enabled)
            conditions.append("enabled = $\(bindings.count)")
        }
        if let node = query.node {
            bindings.append(node)
            conditions.append("node = $\(bindings.count)")
        }
        if let q = query.nameContains, !q.isEmpty {
            bindings.append("%" + Self.escapeLike(q) + "%")
            conditions.append("name ILIKE $\(bindings.count) ESCAPE '\\'")
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let total = try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM media_sources \(filter)", binds: bindings), logger: logger)
            .decode(Int.self).reduce(0, +)
        bindings.append(query.pageSize)
        bindings.append((query.page - 1) * query.pageSize)
        let items = try await fetchSources(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.sourceColumns) FROM media_sources \(filter) ORDER BY created_at DESC, id
                    LIMIT $\(bindings.count - 1) OFFSET $\(bindings.count)
                    """, binds: bindings))
        return Page(items: items, total: total)
    }

    public func sourceIDs(forPaths paths: [String]) async throws -> [String: UUID] {
        guard !paths.isEmpty else { return [:] }
        var out: [String: UUID] = [:]
        let rows = try await client.query("SELECT id, path_name FROM media_sources WHERE path_name = ANY(\(paths))", logger: logger)
        for try await (id, path) in rows.decode((UUID, String).self) { out[path] = id }
        return out
    }

    public func allSources() async throws -> [MediaSource] {
        try await fetchSources("SELECT \(unescaped: Self.sourceColumns) FROM media_sources ORDER BY created_at, id")
    }

    static func escapeLike(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}
