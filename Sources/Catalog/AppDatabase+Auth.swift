import Domain
import Foundation
internal import GRDB

extension AppDatabase {
    static func registerAuthMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4_users_keys_audit") { db in
            try db.create(table: "users") { t in
                t.column("id", .text).primaryKey()
                t.column("username", .text).notNull().unique().collate(.nocase)
                t.column("role", .text).notNull().check { ["viewer", "operator", "admin"].contains($0) }
                t.column("password_hash", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            // A push source's publish key; made when first needed, replaced by a rotation.
            try db.create(table: "publish_keys") { t in
                t.column("source_id", .text).primaryKey().references("media_sources", onDelete: .cascade)
                t.column("key", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
            try db.create(table: "audit_log") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .datetime).notNull()
                t.column("user_id", .text)
                t.column("username", .text)
                t.column("action", .text).notNull()
                t.column("target_type", .text)
                t.column("target_id", .text)
                t.column("outcome", .text).notNull()
                t.column("status", .integer)
                t.column("ip", .text)
                t.column("detail", .text)
            }
            try db.create(index: "audit_log_at", on: "audit_log", columns: ["at"])
            try db.create(index: "audit_log_target", on: "audit_log", columns: ["target_id", "at"])
        }
    }

    /// Token versions, and secrets taken out of the hook history older versions stored verbatim (registered after
    /// the webhook migrations, in the order they were written).
    static func registerSecurityMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8_user_token_version") { db in
            try db.alter(table: "users") { t in t.add(column: "token_version", .integer).notNull().defaults(to: 0) }
        }
        migrator.registerMigration("v9_redact_hook_queries") { db in
            let rows = try Row.fetchAll(db, sql: #"SELECT id, payload FROM hook_events WHERE payload LIKE '%"query":"%=%'"#)
            let update = try db.makeStatement(sql: "UPDATE hook_events SET payload = ? WHERE id = ?")
            for row in rows {
                let payload: String = row["payload"]
                guard var object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any],
                    let query = object["query"] as? String, Redaction.query(query) != query
                else { continue }
                object["query"] = Redaction.query(query)
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                try update.execute(arguments: [String(decoding: data, as: UTF8.self), row["id"] as Int64])
            }
        }
    }

    // MARK: - Users

    public func addUser(_ user: User) async throws {
        try await writer.write { db in
            do {
                try db.execute(
                    sql: "INSERT INTO users (id, username, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        user.id.uuidString.lowercased(), user.username, user.role.rawValue, user.passwordHash, user.createdAt, user.updatedAt,
                    ]
                )
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw CatalogError.nameTaken(user.username)
            }
        }
    }

    public func user(named name: String) async throws -> User? {
        try await writer.read { db in try Row.fetchOne(db, sql: "SELECT * FROM users WHERE username = ?", arguments: [name]).map(Self.user) }
    }

    public func user(id: UUID) async throws -> User? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id.uuidString.lowercased()]).map(Self.user)
        }
    }

    public func users() async throws -> [User] {
        try await writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY username").map(Self.user) }
    }

    /// Changes a user's password hash and/or role; `CatalogError.notFound` when there is no such user. A new
    /// password ends every token issued before it.
    public func updateUser(named name: String, passwordHash: String? = nil, role: User.Role? = nil) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE users SET password_hash = coalesce(?, password_hash), role = coalesce(?, role), updated_at = ?,
                        token_version = token_version + ? WHERE username = ?
                    """,
                arguments: [passwordHash, role?.rawValue, Date(), passwordHash == nil ? 0 : 1, name]
            )
            guard db.changesCount == 1 else { throw CatalogError.notFound }
        }
    }

    /// Ends every access token of the user issued so far ("log out everywhere").
    public func endSessions(userID: UUID) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE users SET token_version = token_version + 1 WHERE id = ?", arguments: [userID.uuidString.lowercased()])
            guard db.changesCount == 1 else { throw CatalogError.notFound }
        }
    }

    public func removeUser(named name: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM users WHERE username = ?", arguments: [name])
            guard db.changesCount == 1 else { throw CatalogError.notFound }
        }
    }

    static func user(_ row: Row) -> User {
        User(
            id: UUID(uuidString: row["id"]) ?? UUID(), username: row["username"], role: User.Role(rawValue: row["role"]) ?? .viewer,
            passwordHash: row["password_hash"], createdAt: row["created_at"], updatedAt: row["updated_at"], tokenVersion: row["token_version"]
        )
    }

    // MARK: - Publish keys

    /// The push source's publish key, made on first use.
    public func publishKey(sourceID: UUID) async throws -> String {
        try await Self.unknownSourceIsNotFound {
            try await writer.write { db in
                try db.execute(
                    sql: "INSERT OR IGNORE INTO publish_keys (source_id, key, created_at) VALUES (?, ?, ?)",
                    arguments: [sourceID.uuidString.lowercased(), PublishKey.make(), Date()]
                )
                return try String.fetchOne(db, sql: "SELECT key FROM publish_keys WHERE source_id = ?", arguments: [sourceID.uuidString.lowercased()])
                    ?? ""
            }
        }
    }

    /// Publish keys of these (push) sources, making the missing ones (one write, only when some are missing).
    public func publishKeys(sourceIDs: [UUID]) async throws -> [UUID: String] {
        guard !sourceIDs.isEmpty else { return [:] }
        let ids = sourceIDs.map { $0.uuidString.lowercased() }
        @Sendable func read(_ db: Database) throws -> [UUID: String] {
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            let rows = try Row.fetchAll(
                db, sql: "SELECT source_id, key FROM publish_keys WHERE source_id IN (\(marks))", arguments: StatementArguments(ids))
            return Dictionary(uniqueKeysWithValues: rows.compactMap { row in UUID(uuidString: row["source_id"]).map { ($0, row["key"] as String) } })
        }
        let found = try await writer.read(read)
        guard found.count < ids.count else { return found }
        return try await Self.unknownSourceIsNotFound {
            try await writer.write { db in
                for id in ids {
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO publish_keys (source_id, key, created_at) VALUES (?, ?, ?)",
                        arguments: [id, PublishKey.make(), Date()])
                }
                return try read(db)
            }
        }
    }

    /// Replaces the publish key: the old one stops working at once.
    public func rotatePublishKey(sourceID: UUID) async throws -> String {
        try await Self.unknownSourceIsNotFound {
            try await writer.write { db in
                let key = PublishKey.make()
                try db.execute(
                    sql:
                        "INSERT INTO publish_keys (source_id, key, created_at) VALUES (?, ?, ?) ON CONFLICT (source_id) DO UPDATE SET key = excluded.key, created_at = excluded.created_at",
                    arguments: [sourceID.uuidString.lowercased(), key, Date()]
                )
                return key
            }
        }
    }

    /// A key for a source that does not exist: `CatalogError.notFound`, not SQLite's foreign key error.
    static func unknownSourceIsNotFound<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError where error.isForeignKeyViolation {
            throw CatalogError.notFound
        }
    }

    /// What MediaMTX's publish authorisation needs of a path: the source (if we manage the path) and its key.
    public func publishTarget(path: String) async throws -> (source: MediaSource, key: String?)? {
        // Asked before every publish: one cached statement.
        try await writer.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT s.*, k.key AS publish_key FROM media_sources s LEFT JOIN publish_keys k ON k.source_id = s.id WHERE s.path_name = ?
                    """)
            guard let row = try Row.fetchOne(statement, arguments: [path]) else { return nil }
            return (try SourceRow(row: row).source, row["publish_key"])
        }
    }

    // MARK: - Audit log

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO audit_log (at, user_id, username, action, target_type, target_id, outcome, status, ip, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.at, entry.userID?.uuidString.lowercased(), entry.username, entry.action, entry.targetType, entry.targetID,
                    entry.outcome, entry.status, entry.ip, entry.detail,
                ]
            )
        }
    }

    public func audit(_ query: AuditQuery) async throws -> Page<AuditEntry> {
        try await writer.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let v = query.username {
                conditions.append("username = ?")
                _ = arguments.append(contentsOf: [v])
            }
            if let v = query.action {
                conditions.append("action = ?")
                _ = arguments.append(contentsOf: [v])
            }
            if let v = query.targetID {
                conditions.append("target_id = ?")
                _ = arguments.append(contentsOf: [v])
            }
            if let v = query.outcome {
                conditions.append("outcome = ?")
                _ = arguments.append(contentsOf: [v])
            }
            if let v = query.from {
                conditions.append("at >= ?")
                _ = arguments.append(contentsOf: [v])
            }
            if let v = query.to {
                conditions.append("at < ?")
                _ = arguments.append(contentsOf: [v])
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log \(filter)", arguments: arguments) ?? 0
            var pageArguments = arguments
            _ = pageArguments.append(contentsOf: [query.pageSize, (query.page - 1) * query.pageSize])
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM audit_log \(filter) ORDER BY id DESC LIMIT ? OFFSET ?", arguments: pageArguments)
            return Page(
                items: rows.map { row in
                    AuditEntry(
                        id: row["id"], at: row["at"], userID: (row["user_id"] as String?).flatMap(UUID.init(uuidString:)), username: row["username"],
                        action: row["action"], targetType: row["target_type"], targetID: row["target_id"], outcome: row["outcome"],
                        status: row["status"], ip: row["ip"], detail: row["detail"]
                    )
                }, total: total)
        }
    }
}
