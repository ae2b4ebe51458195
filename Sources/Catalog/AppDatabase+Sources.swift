import Domain
import Foundation
internal import GRDB

// MARK: - Record mapping (stays inside Catalog)

/// The `media_sources` row.
struct SourceRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "media_sources"

    enum Columns {
        static let id = Column("id")
        static let name = Column("name")
        static let pathName = Column("path_name")
        static let kind = Column("type")
        static let enabled = Column("enabled")
        static let createdAt = Column("created_at")
    }

    var source: MediaSource

    init(_ source: MediaSource) { self.source = source }

    init(row: Row) throws {
        guard let id = UUID(uuidString: row["id"]) else { throw CatalogError.notFound }
        source = MediaSource(
            id: id, name: row["name"], pathName: row["path_name"], kind: MediaSource.Kind(rawValue: row["type"]) ?? .pull, url: row["url"],
            protocol: row["protocol"], enabled: row["enabled"], recordEnabled: row["record_enabled"], createdAt: row["created_at"],
            updatedAt: row["updated_at"], node: row["node"])
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = source.id.uuidString.lowercased()
        container["name"] = source.name
        container["path_name"] = source.pathName
        container["type"] = source.kind.rawValue
        container["url"] = source.url
        container["protocol"] = source.protocol
        container["enabled"] = source.enabled
        container["record_enabled"] = source.recordEnabled
        container["created_at"] = source.createdAt
        container["updated_at"] = source.updatedAt
        container["node"] = source.node
    }
}

// MARK: - Sources

extension AppDatabase {
    /// `announcing`: webhook events written in the same transaction.
    public func insertSource(_ source: MediaSource, announcing events: [ServiceEvent] = []) async throws {
        do {
            try await writer.write { db in
                try Self.insertSourceRow(source, db)
                try Self.enqueue(events, db)
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw CatalogError.pathNameTaken(source.pathName)
        }
    }

    /// The row and its first placement.
    static func insertSourceRow(_ source: MediaSource, _ db: Database) throws {
        try SourceRow(source).insert(db)
        try placeSource(path: source.pathName, node: source.node, since: 0, db)
    }

    public func source(id: UUID) async throws -> MediaSource? {
        try await writer.read { try SourceRow.fetchOne($0, key: id.uuidString.lowercased())?.source }
    }

    public func sourceExists(pathName: String) async throws -> Bool {
        try await writer.read { try SourceRow.filter(SourceRow.Columns.pathName == pathName).fetchCount($0) > 0 }
    }

    /// Saves every column of an existing source; throws `notFound` if it is gone. A new node is a new placement from
    /// `updatedAt` on.
    public func updateSource(_ source: MediaSource) async throws {
        try await writer.write { db in
            guard let old = try SourceRow.fetchOne(db, key: source.id.uuidString.lowercased()) else { throw CatalogError.notFound }
            try SourceRow(source).update(db)
            if old.source.node != source.node {
                try Self.placeSource(path: source.pathName, node: source.node, since: source.updatedAt.micros, db)
            }
        }
    }

    /// Returns false if there was no such source. `announcing`: webhook events written in the same transaction
    /// (only when a row was deleted).
    @discardableResult
    public func deleteSource(id: UUID, announcing events: [ServiceEvent] = []) async throws -> Bool {
        do {
            return try await writer.write { db in
                guard try SourceRow.deleteOne(db, key: id.uuidString.lowercased()) else { return false }
                try Self.enqueue(events, db)
                return true
            }
        } catch let error as DatabaseError where error.isForeignKeyViolation {
            throw CatalogError.sourceHasAssets
        }
    }

    /// Newest first.
    public func sources(_ query: SourceQuery) async throws -> Page<MediaSource> {
        try await writer.read { db in
            var request = SourceRow.all()
            if let kind = query.kind { request = request.filter(SourceRow.Columns.kind == kind.rawValue) }
            if let enabled = query.enabled { request = request.filter(SourceRow.Columns.enabled == enabled) }
            if let node = query.node { request = request.filter(Column("node") == node) }
            if let q = query.nameContains, !q.isEmpty {
                request = request.filter(sql: "name LIKE ? ESCAPE '\\'", arguments: ["%" + Self.escapeLike(q) + "%"])
            }
            let total = try request.fetchCount(db)
            let items =
                try request
                .order(SourceRow.Columns.createdAt.desc, SourceRow.Columns.id)
                .limit(query.pageSize, offset: (query.page - 1) * query.pageSize)
                .fetchAll(db)
            return Page(items: items.map(\.source), total: total)
        }
    }

    /// Which source manages each path name (paths no source manages are absent).
    public func sourceIDs(forPaths paths: [String]) async throws -> [String: UUID] {
        guard !paths.isEmpty else { return [:] }
        return try await writer.read { db in
            let marks = paths.map { _ in "?" }.joined(separator: ",")
            var out: [String: UUID] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT id, path_name FROM media_sources WHERE path_name IN (\(marks))", arguments: StatementArguments(paths))
            {
                if let id = UUID(uuidString: row["id"]) { out[row["path_name"]] = id }
            }
            return out
        }
    }

    /// Every source, for reconciliation and status joins.
    public func allSources() async throws -> [MediaSource] {
        try await writer.read { try SourceRow.order(SourceRow.Columns.createdAt).fetchAll($0).map(\.source) }
    }

    static func escapeLike(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}
