import Domain
import Foundation
internal import GRDB

// MARK: - Record mapping (stays inside Catalog)

/// The `media_assets` row; tags live in `media_asset_tags` (indexed by tag).
struct AssetRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "media_assets"
    var asset: MediaAsset

    init(_ asset: MediaAsset) { self.asset = asset }

    init(row: Row) throws {
        guard let id = UUID(uuidString: row["id"]) else { throw CatalogError.notFound }
        let sourceID: String? = row["source_id"]
        asset = MediaAsset(
            id: id, name: row["name"], type: row["type"], sourceType: MediaAsset.SourceType(rawValue: row["source_type"]) ?? .live,
            sourceID: sourceID.flatMap(UUID.init(uuidString:)), path: row["path"], tags: [], description: row["description"],
            clipStart: row["clip_start"], clipDuration: row["clip_duration"], clipFormat: row["clip_format"],
            createdAt: row["created_at"], updatedAt: row["updated_at"]
        )
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = asset.id.uuidString.lowercased()
        container["name"] = asset.name
        container["type"] = asset.type
        container["source_type"] = asset.sourceType.rawValue
        container["source_id"] = asset.sourceID?.uuidString.lowercased()
        container["path"] = asset.path
        container["description"] = asset.description
        container["clip_start"] = asset.clipStart
        container["clip_duration"] = asset.clipDuration
        container["clip_format"] = asset.clipFormat
        container["created_at"] = asset.createdAt
        container["updated_at"] = asset.updatedAt
    }
}

extension AppDatabase {
    static func registerAssetMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2_media_assets") { db in
            // WITHOUT ROWID: lookups by id (from the tag index) are one B-tree search instead of two.
            try db.create(table: "media_assets", options: [.withoutRowID]) { t in
                t.column("id", .text).primaryKey()
                t.column("name", .text).notNull().check { length($0) >= 1 && length($0) <= 255 }
                t.column("type", .text).notNull().check { length($0) >= 1 && length($0) <= 20 }
                t.column("source_type", .text).notNull().check { ["live", "vod"].contains($0) }
                t.column("source_id", .text).references("media_sources", onDelete: .restrict)
                t.column("path", .text)
                t.column("description", .text)
                t.column("clip_start", .datetime)
                t.column("clip_duration", .double)
                t.column("clip_format", .text)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                // A stream asset always points at a source (design §3.1).
                t.check(sql: "type <> 'stream' OR (source_id IS NOT NULL AND path IS NOT NULL)")
            }
            try db.create(index: "media_assets_source_id", on: "media_assets", columns: ["source_id"])
            try db.create(index: "media_assets_created_at", on: "media_assets", columns: ["created_at", "id"])
            // Tags, one row each. `created_at` repeats the asset's (it never changes) so that a tag-filtered,
            // newest-first page is read in order from one index instead of looking up every match.
            try db.create(table: "media_asset_tags") { t in
                t.column("asset_id", .text).notNull().references("media_assets", onDelete: .cascade)
                t.column("tag", .text).notNull()
                t.column("position", .integer).notNull()
                t.column("created_at", .datetime).notNull()
                t.primaryKey(["asset_id", "tag"])
            }
            try db.create(index: "media_asset_tags_tag", on: "media_asset_tags", columns: ["tag", "created_at", "asset_id"])
        }
    }

    // MARK: - Writes

    /// Inserts a new source (when given), the asset and the webhook events `announcing` them in one transaction:
    /// all or none.
    public func insertAsset(_ asset: MediaAsset, withNewSource source: MediaSource? = nil, announcing events: [ServiceEvent] = []) async throws {
        do {
            try await writer.write { db in
                if let source { try Self.insertSourceRow(source, db) }
                try AssetRow(asset).insert(db)
                try Self.saveTags(asset, db)
                try Self.enqueue(events, db)
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE && source != nil {
            throw CatalogError.pathNameTaken(source!.pathName)
        } catch let error as DatabaseError where error.isForeignKeyViolation {
            throw CatalogError.notFound
        }
    }

    /// Bulk insert in one transaction (seeding, imports).
    public func insertAssets(_ assets: [MediaAsset]) async throws {
        try await writer.write { db in
            for asset in assets {
                try AssetRow(asset).insert(db)
                try Self.saveTags(asset, db)
            }
        }
    }

    public func updateAsset(_ asset: MediaAsset) async throws {
        do {
            try await writer.write { db in
                guard try AssetRow.exists(db, key: asset.id.uuidString.lowercased()) else { throw CatalogError.notFound }
                try AssetRow(asset).update(db)
                try db.execute(sql: "DELETE FROM media_asset_tags WHERE asset_id = ?", arguments: [asset.id.uuidString.lowercased()])
                try Self.saveTags(asset, db)
            }
        } catch let error as DatabaseError where error.isForeignKeyViolation {
            throw CatalogError.notFound
        }
    }

    @discardableResult
    public func deleteAsset(id: UUID) async throws -> Bool {
        try await writer.write { try AssetRow.deleteOne($0, key: id.uuidString.lowercased()) }
    }

    private static func saveTags(_ asset: MediaAsset, _ db: Database) throws {
        for (position, tag) in asset.tags.enumerated() {
            try db.execute(
                sql: "INSERT INTO media_asset_tags (asset_id, tag, position, created_at) VALUES (?, ?, ?, ?)",
                arguments: [asset.id.uuidString.lowercased(), tag, position, asset.createdAt]
            )
        }
    }

    // MARK: - Reads

    public func asset(id: UUID) async throws -> MediaAsset? {
        try await writer.read { db in
            guard let row = try AssetRow.fetchOne(db, key: id.uuidString.lowercased()) else { return nil }
            return try Self.withTags([row.asset], db).first
        }
    }

    /// Newest first; `tags` must all be present. A tag filter walks the index `media_asset_tags(tag, created_at)`
    /// newest first, so a page costs its own rows, not what the tag or the catalogue holds.
    public func assets(_ query: AssetQuery) async throws -> Page<MediaAsset> {
        try await writer.read { db in
            var from = "media_assets a"
            var tagConditions: [String] = []
            var tagArguments: [any DatabaseValueConvertible] = []
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            var tags: [String] = []
            for tag in query.tags where !tags.contains(tag) { tags.append(tag) }
            if let first = tags.first {
                from = "media_asset_tags t JOIN media_assets a ON a.id = t.asset_id"
                tagConditions.append("t.tag = ?")
                tagArguments.append(first)
                for tag in tags.dropFirst() {
                    tagConditions.append("EXISTS (SELECT 1 FROM media_asset_tags o WHERE o.asset_id = t.asset_id AND o.tag = ?)")
                    tagArguments.append(tag)
                }
            }
            if let type = query.type {
                conditions.append("a.type = ?")
                arguments.append(type)
            }
            if let sourceType = query.sourceType {
                conditions.append("a.source_type = ?")
                arguments.append(sourceType.rawValue)
            }
            if let sourceID = query.sourceID {
                conditions.append("a.source_id = ?")
                arguments.append(sourceID.uuidString.lowercased())
            }
            if let q = query.nameContains, !q.isEmpty {
                conditions.append("a.name LIKE ? ESCAPE '\\'")
                arguments.append("%" + Self.escapeLike(q) + "%")
            }
            let all = tagConditions + conditions
            let whereClause = all.isEmpty ? "" : "WHERE " + all.joined(separator: " AND ")
            arguments = tagArguments + arguments
            // Filtered by tags alone, the count needs only the tag index.
            let total =
                conditions.isEmpty && !tagConditions.isEmpty
                ? try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM media_asset_tags t WHERE \(tagConditions.joined(separator: " AND "))",
                    arguments: StatementArguments(arguments)) ?? 0
                : try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(from) \(whereClause)", arguments: StatementArguments(arguments)) ?? 0
            let order = tagConditions.isEmpty ? "a.created_at DESC, a.id DESC" : "t.created_at DESC, t.asset_id DESC"
            let rows = try AssetRow.fetchAll(
                db,
                sql: "SELECT a.* FROM \(from) \(whereClause) ORDER BY \(order) LIMIT ? OFFSET ?",
                arguments: StatementArguments(arguments + [query.pageSize, (query.page - 1) * query.pageSize])
            )
            return Page(items: try Self.withTags(rows.map(\.asset), db), total: total)
        }
    }

    /// How many assets point at a source, and the first few of them (for the 409 on delete).
    public func assetsUsing(sourceID: UUID, limit: Int = 10) async throws -> (count: Int, first: [MediaAsset]) {
        try await writer.read { db in
            let id = sourceID.uuidString.lowercased()
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM media_assets WHERE source_id = ?", arguments: [id]) ?? 0
            let rows = try AssetRow.fetchAll(
                db, sql: "SELECT * FROM media_assets WHERE source_id = ? ORDER BY created_at LIMIT ?", arguments: [id, limit])
            return (count, rows.map(\.asset))
        }
    }

    private static func withTags(_ assets: [MediaAsset], _ db: Database) throws -> [MediaAsset] {
        guard !assets.isEmpty else { return [] }
        let ids = assets.map { $0.id.uuidString.lowercased() }
        let marks = ids.map { _ in "?" }.joined(separator: ",")
        var tags: [String: [String]] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT asset_id, tag FROM media_asset_tags WHERE asset_id IN (\(marks)) ORDER BY position", arguments: StatementArguments(ids))
        {
            tags[row["asset_id"], default: []].append(row["tag"])
        }
        return assets.map { asset in
            var asset = asset
            asset.tags = tags[asset.id.uuidString.lowercased()] ?? []
            return asset
        }
    }
}
