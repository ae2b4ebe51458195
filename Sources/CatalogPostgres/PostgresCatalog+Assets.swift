import Catalog
import Domain
import Foundation
import PostgresNIO

extension PostgresCatalog {
    /// The SQLite schema's `v2_media_assets`: the same tables, columns, checks and keys; uuid ids, int8 microsecond
    /// times.
    static let assetMigrations: [(name: String, statements: [String])] = [
        (
            "v3_media_assets",
            [
                // RESTRICT: deleting a source that assets point at fails (23503), as in SQLite.
                """
                CREATE TABLE media_assets (
                    id uuid PRIMARY KEY,
                    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
                    type text NOT NULL CHECK (char_length(type) BETWEEN 1 AND 20),
                    source_type text NOT NULL CHECK (source_type IN ('live', 'vod')),
                    source_id uuid REFERENCES media_sources (id) ON DELETE RESTRICT,
                    path text,
                    description text,
                    clip_start bigint,
                    clip_duration double precision,
                    clip_format text,
                    created_at bigint NOT NULL,
                    updated_at bigint NOT NULL,
                    CHECK (type <> 'stream' OR (source_id IS NOT NULL AND path IS NOT NULL))
                )
                """,
                // The list, newest first.
                "CREATE INDEX media_assets_created_at ON media_assets (created_at DESC, id DESC)",
                // The foreign key's check on deleting a source, `assetsUsing` (oldest first) and the source filter.
                "CREATE INDEX media_assets_source_id ON media_assets (source_id, created_at, id)",
                // Tags, one row each. `created_at` repeats the asset's so that a tag-filtered, newest-first page is
                // read in order from one index instead of looking up and sorting every match.
                """
                CREATE TABLE media_asset_tags (
                    asset_id uuid NOT NULL REFERENCES media_assets (id) ON DELETE CASCADE,
                    tag text NOT NULL,
                    position integer NOT NULL,
                    created_at bigint NOT NULL,
                    PRIMARY KEY (asset_id, tag)
                )
                """,
                "CREATE INDEX media_asset_tags_tag ON media_asset_tags (tag, created_at DESC, asset_id DESC)",
            ]
        )
    ]
}

extension PostgresCatalog: AssetStore {
    /// The columns of `media_assets a`, then its tags in their order (or none).
    static func assetColumns(tags: Bool) -> String {
        """
        a.id, a.name, a.type, a.source_type, a.source_id, a.path, a.description, a.clip_start, a.clip_duration, a.clip_format,
        a.created_at, a.updated_at,
        \(tags ? "ARRAY(SELECT g.tag FROM media_asset_tags g WHERE g.asset_id = a.id ORDER BY g.position)" : "ARRAY[]::text[]")
        """
    }

    typealias AssetColumns = (UUID, String, String, String, UUID?, String?, String?, Int64?, Double?, String?, Int64, Int64, [String])

    func fetchAssets(_ query: PostgresQuery) async throws -> [MediaAsset] {
        var out: [MediaAsset] = []
        for try await c in try await client.query(query, logger: logger).decode(AssetColumns.self) {
            out.append(
                MediaAsset(
                    id: c.0, name: c.1, type: c.2, sourceType: MediaAsset.SourceType(rawValue: c.3) ?? .live, sourceID: c.4, path: c.5, tags: c.12,
                    description: c.6, clipStart: c.7.map(Date.init(micros:)), clipDuration: c.8, clipFormat: c.9, createdAt: Date(micros: c.10),
                    updatedAt: Date(micros: c.11)))
        }
        return out
    }

    // MARK: - Writes

    public func insertAsset(_ asset: MediaAsset, withNewSource source: MediaSource?, announcing events: [ServiceEvent]) async throws {
        do {
            try await client.withTransaction(logger: logger) { connection in
                if let source { try await insertSourceRow(source, on: connection) }
                try await insertRows([asset], on: connection)
                try await enqueue(events, on: connection)
            }
        } catch
            where PostgresCatalogError.sqlState(error) == "23505" && source != nil
            && PostgresCatalogError.psql(error)?.serverInfo?[.constraintName] == "media_sources_path_name_key"
        {
            throw CatalogError.pathNameTaken(source?.pathName ?? "")
        } catch  where PostgresCatalogError.sqlState(error) == "23503" {
            throw CatalogError.notFound
        }
    }

    public func insertAssets(_ assets: [MediaAsset]) async throws {
        guard !assets.isEmpty else { return }
        try await client.withTransaction(logger: logger) { connection in
            // 12 binds an asset: 1,000 assets a statement stays well below the protocol's 65,535 binds.
            var start = assets.startIndex
            while start < assets.endIndex {
                let end = min(start + 1000, assets.endIndex)
                try await insertRows(assets[start..<end], on: connection)
                start = end
            }
        }
    }

    /// The assets' rows (one statement) and their tags (one more).
    func insertRows(_ assets: ArraySlice<MediaAsset>, on connection: PostgresConnection) async throws {
        var bindings = PostgresBindings()
        var rows: [String] = []
        for a in assets {
            let first = bindings.count + 1
            bindings.append(a.id)
            bindings.append(a.name)
            bindings.append(a.type)
            bindings.append(a.sourceType.rawValue)
            bindings.append(a.sourceID)
            bindings.append(a.path)
            bindings.append(a.description)
            bindings.append(a.clipStart?.micros)
            bindings.append(a.clipDuration)
            bindings.append(a.clipFormat)
            bindings.append(a.createdAt.micros)
            bindings.append(a.updatedAt.micros)
            rows.append("(" + (first...bindings.count).map { "$\($0)" }.joined(separator: ", ") + ")")
        }
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO media_assets (id, name, type, source_type, source_id, path, description, clip_start, clip_duration, clip_format,
                        created_at, updated_at)
                    VALUES \(rows.joined(separator: ", "))
                    """, binds: bindings), logger: logger)
        try await insertTags(of: assets, on: connection)
    }

    func insertTags(of assets: some Collection<MediaAsset>, on connection: PostgresConnection) async throws {
        var ids: [UUID] = []
        var tags: [String] = []
        var positions: [Int32] = []
        var times: [Int64] = []
        for asset in assets {
            for (position, tag) in asset.tags.enumerated() {
                ids.append(asset.id)
                tags.append(tag)
                positions.append(Int32(position))
                times.append(asset.createdAt.micros)
            }
        }
        guard !ids.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO media_asset_tags (asset_id, tag, position, created_at)
            SELECT * FROM unnest(\(ids)::uuid[], \(tags)::text[], \(positions)::int4[], \(times)::int8[])
            """, logger: logger)
    }

    public func updateAsset(_ a: MediaAsset) async throws {
        let found: Bool
        do {
            found = try await client.withTransaction(logger: logger) { connection in
                let updated = try await connection.query(
                    """
                    UPDATE media_assets SET name = \(a.name), type = \(a.type), source_type = \(a.sourceType.rawValue), source_id = \(a.sourceID),
                        path = \(a.path), description = \(a.description), clip_start = \(a.clipStart?.micros), clip_duration = \(a.clipDuration),
                        clip_format = \(a.clipFormat), created_at = \(a.createdAt.micros), updated_at = \(a.updatedAt.micros)
                    WHERE id = \(a.id) RETURNING id
                    """, logger: logger
                ).collect()
                guard !updated.isEmpty else { return false }
                try await connection.query("DELETE FROM media_asset_tags WHERE asset_id = \(a.id)", logger: logger)
                try await insertTags(of: [a], on: connection)
                return true
            }
        } catch  where PostgresCatalogError.sqlState(error) == "23503" {
            throw CatalogError.notFound
        }
        if !found { throw CatalogError.notFound }
    }

    @discardableResult
    public func deleteAsset(id: UUID) async throws -> Bool {
        try await !client.query("DELETE FROM media_assets WHERE id = \(id) RETURNING id", logger: logger).collect().isEmpty
    }

    // MARK: - Reads

    public func asset(id: UUID) async throws -> MediaAsset? {
        try await fetchAssets("SELECT \(unescaped: Self.assetColumns(tags: true)) FROM media_assets a WHERE a.id = \(id)").first
    }

    /// A tag filter walks the index `media_asset_tags(tag, created_at DESC, asset_id DESC)` from its first tag, the
    /// others checked per row, so a page costs its own rows, not what the tag or the catalogue holds.
    public func assets(_ query: AssetQuery) async throws -> Page<MediaAsset> {
        var bindings = PostgresBindings()
        var tags: [String] = []
        for tag in query.tags where !tags.contains(tag) { tags.append(tag) }
        var tagConditions: [String] = []
        var conditions: [String] = []
        if let first = tags.first {
            bindings.append(first)
            tagConditions.append("t.tag = $\(bindings.count)")
            for tag in tags.dropFirst() {
                bindings.append(tag)
                tagConditions.append("EXISTS (SELECT 1 FROM media_asset_tags o WHERE o.asset_id = t.asset_id AND o.tag = $\(bindings.count))")
            }
        }
        if let type = query.type {
            bindings.append(type)
            conditions.append("a.type = $\(bindings.count)")
        }
        if let sourceType = query.sourceType {
            bindings.append(sourceType.rawValue)
            conditions.append("a.source_type = $\(bindings.count)")
        }
        if let sourceID = query.sourceID {
            bindings.append(sourceID)
            conditions.append("a.source_id = $\(bindings.count)")
        }
        if let q = query.nameContains, !q.isEmpty {
            bindings.append("%" + Self.escapeLike(q) + "%")
            conditions.append("a.name ILIKE $\(bindings.count) ESCAPE '\\'")
        }
        let from = tags.isEmpty ? "media_assets a" : "media_asset_tags t JOIN media_assets a ON a.id = t.asset_id"
        let all = tagConditions + conditions
        let filter = all.isEmpty ? "" : "WHERE " + all.joined(separator: " AND ")
        // Filtered by tags alone, the count needs only the tag table.
        let count =
            conditions.isEmpty && !tagConditions.isEmpty
            ? "SELECT count(*) FROM media_asset_tags t WHERE \(tagConditions.joined(separator: " AND "))"
            : "SELECT count(*) FROM \(from) \(filter)"
        let total = try await client.query(PostgresQuery(unsafeSQL: count, binds: bindings), logger: logger).decode(Int.self).reduce(0, +)
        let order = tags.isEmpty ? "a.created_at DESC, a.id DESC" : "t.created_at DESC, t.asset_id DESC"
        bindings.append(query.pageSize)
        bindings.append((query.page - 1) * query.pageSize)
        let items = try await fetchAssets(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.assetColumns(tags: true)) FROM \(from) \(filter) ORDER BY \(order)
                    LIMIT $\(bindings.count - 1) OFFSET $\(bindings.count)
                    """, binds: bindings))
        return Page(items: items, total: total)
    }

    public func assetsUsing(sourceID: UUID, limit: Int) async throws -> (count: Int, first: [MediaAsset]) {
        let count = try await client.query("SELECT count(*) FROM media_assets WHERE source_id = \(sourceID)", logger: logger)
            .decode(Int.self).reduce(0, +)
        let first = try await fetchAssets(
            """
            SELECT \(unescaped: Self.assetColumns(tags: false)) FROM media_assets a WHERE a.source_id = \(sourceID)
            ORDER BY a.created_at, a.id LIMIT \(limit)
            """)
        return (count, first)
    }
}
