import Catalog
import Domain
import Foundation
import PostgresNIO

extension PostgresCatalog {
    /// Users, publish keys and the audit log: SQLite's `v4_users_keys_audit` with its later `v8_user_token_version`
    /// folded in. User names are unique and looked up ignoring the case of ASCII letters only, as SQLite's NOCASE
    /// does: the column is in the "C" collation, whose `lower()` folds A–Z and nothing else, whatever the database's
    /// locale; a name looked up is folded in "C" too (`lower(name COLLATE "C")`), else the locale's `lower()` would
    /// fold "Ë" to "ë". A publish key goes with its source (ON DELETE CASCADE); the audit log keeps the ids and names
    /// of users since removed (no foreign key).
    static let authMigrations: [(name: String, statements: [String])] = [
        (
            "v4_users_keys_audit",
            [
                """
                CREATE TABLE users (
                    id uuid PRIMARY KEY,
                    username text COLLATE "C" NOT NULL,
                    role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
                    password_hash text NOT NULL,
                    created_at bigint NOT NULL,
                    updated_at bigint NOT NULL,
                    token_version integer NOT NULL DEFAULT 0
                )
                """,
                // Uniqueness, the look-ups by name and the list's order.
                "CREATE UNIQUE INDEX users_username ON users (lower(username))",
                """
                CREATE TABLE publish_keys (
                    source_id uuid PRIMARY KEY REFERENCES media_sources (id) ON DELETE CASCADE,
                    key text NOT NULL,
                    created_at bigint NOT NULL
                )
                """,
                """
                CREATE TABLE audit_log (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    at bigint NOT NULL,
                    user_id uuid,
                    username text,
                    action text NOT NULL,
                    target_type text,
                    target_id text,
                    outcome text NOT NULL,
                    status integer,
                    ip text,
                    detail text
                )
                """,
                // The list is newest (highest id) first; each equality filter has its own index in that order, and
                // the time window one on `at`.
                "CREATE INDEX audit_log_at ON audit_log (at)",
                "CREATE INDEX audit_log_target ON audit_log (target_id, id)",
                "CREATE INDEX audit_log_username ON audit_log (username, id)",
                "CREATE INDEX audit_log_action ON audit_log (action, id)",
                "CREATE INDEX audit_log_outcome ON audit_log (outcome, id)",
            ]
        )
    ]
}

extension PostgresCatalog: AuthStore {
    // MARK: - Users

    static let userColumns = "id, username, role, password_hash, created_at, updated_at, token_version"

    typealias UserColumns = (UUID, String, String, String, Int64, Int64, Int)

    func fetchUsers(_ query: PostgresQuery) async throws -> [User] {
        var out: [User] = []
        for try await c in try await client.query(query, logger: logger).decode(UserColumns.self) {
            out.append(
                User(
                    id: c.0, username: c.1, role: User.Role(rawValue: c.2) ?? .viewer, passwordHash: c.3, createdAt: Date(micros: c.4),
                    updatedAt: Date(micros: c.5), tokenVersion: c.6))
        }
        return out
    }

    /// A new user's token version starts at 0, as in SQLite (the given one is not stored).
    public func addUser(_ user: User) async throws {
        do {
            try await client.query(
                """
                INSERT INTO users (id, username, role, password_hash, created_at, updated_at)
                VALUES (\(user.id), \(user.username), \(user.role.rawValue), \(user.passwordHash), \(user.createdAt.micros), \(user.updatedAt.micros))
                """, logger: logger)
        } catch  where PostgresCatalogError.sqlState(error) == "23505" {
            throw CatalogError.nameTaken(user.username)
        }
    }

    public func user(named name: String) async throws -> User? {
        try await fetchUsers(
            """
            SELECT \(unescaped: Self.userColumns) FROM users WHERE lower(username) = lower(\(name) COLLATE "C")
            """
        ).first
    }

    public func user(id: UUID) async throws -> User? {
        try await fetchUsers("SELECT \(unescaped: Self.userColumns) FROM users WHERE id = \(id)").first
    }

    public func users() async throws -> [User] {
        try await fetchUsers("SELECT \(unescaped: Self.userColumns) FROM users ORDER BY lower(username)")
    }

    public func updateUser(named name: String, passwordHash: String? = nil, role: User.Role? = nil) async throws {
        let updated = try await client.query(
            """
            UPDATE users SET password_hash = coalesce(\(passwordHash), password_hash), role = coalesce(\(role?.rawValue), role),
                updated_at = \(Date().micros), token_version = token_version + \(passwordHash == nil ? 0 : 1)
            WHERE lower(username) = lower(\(name) COLLATE "C") RETURNING id
            """, logger: logger
        ).collect()
        if updated.isEmpty { throw CatalogError.notFound }
    }

    public func endSessions(userID: UUID) async throws {
        let updated = try await client.query("UPDATE users SET token_version = token_version + 1 WHERE id = \(userID) RETURNING id", logger: logger)
            .collect()
        if updated.isEmpty { throw CatalogError.notFound }
    }

    public func removeUser(named name: String) async throws {
        let deleted = try await client.query(
            """
            DELETE FROM users WHERE lower(username) = lower(\(name) COLLATE "C") RETURNING id
            """, logger: logger
        ).collect()
        if deleted.isEmpty { throw CatalogError.notFound }
    }

    // MARK: - Publish keys

    func storedPublishKeys(_ ids: [UUID]) async throws -> [UUID: String] {
        var out: [UUID: String] = [:]
        let rows = try await client.query("SELECT source_id, key FROM publish_keys WHERE source_id = ANY(\(ids))", logger: logger)
        for try await (id, key) in rows.decode((UUID, String).self) { out[id] = key }
        return out
    }

    /// Read first (the usual case: it exists); else made with `ON CONFLICT DO NOTHING` and read again, so that two
    /// instances making it at once both return the one that was stored.
    public func publishKey(sourceID: UUID) async throws -> String {
        if let key = try await storedPublishKeys([sourceID])[sourceID] { return key }
        do {
            try await client.query(
                """
                INSERT INTO publish_keys (source_id, key, created_at) VALUES (\(sourceID), \(PublishKey.make()), \(Date().micros))
                ON CONFLICT (source_id) DO NOTHING
                """, logger: logger)
        } catch  where PostgresCatalogError.sqlState(error) == "23503" {
            throw CatalogError.notFound
        }
        guard let key = try await storedPublishKeys([sourceID])[sourceID] else { throw CatalogError.notFound }
        return key
    }

    public func publishKeys(sourceIDs: [UUID]) async throws -> [UUID: String] {
        guard !sourceIDs.isEmpty else { return [:] }
        // In uuid order, so that two instances inserting overlapping sets wait on each other rather than deadlock.
        let ids = Set(sourceIDs).sorted { $0.uuidString < $1.uuidString }
        let found = try await storedPublishKeys(ids)
        let missing = ids.filter { found[$0] == nil }
        guard !missing.isEmpty else { return found }
        do {
            try await client.query(
                """
                INSERT INTO publish_keys (source_id, key, created_at)
                SELECT k.id, k.key, \(Date().micros) FROM unnest(\(missing)::uuid[], \(missing.map { _ in PublishKey.make() })::text[]) AS k (id, key)
                ORDER BY k.id
                ON CONFLICT (source_id) DO NOTHING
                """, logger: logger)
        } catch  where PostgresCatalogError.sqlState(error) == "23503" {
            throw CatalogError.notFound
        }
        return try await storedPublishKeys(ids)
    }

    public func rotatePublishKey(sourceID: UUID) async throws -> String {
        let key = PublishKey.make()
        do {
            try await client.query(
                """
                INSERT INTO publish_keys (source_id, key, created_at) VALUES (\(sourceID), \(key), \(Date().micros))
                ON CONFLICT (source_id) DO UPDATE SET key = excluded.key, created_at = excluded.created_at
                """, logger: logger)
        } catch  where PostgresCatalogError.sqlState(error) == "23503" {
            throw CatalogError.notFound
        }
        return key
    }

    static let joinedSourceColumns = sourceColumns.split(separator: ", ").map { "s." + $0 }.joined(separator: ", ")

    public func publishTarget(path: String) async throws -> (source: MediaSource, key: String?)? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.joinedSourceColumns), k.key
            FROM media_sources s LEFT JOIN publish_keys k ON k.source_id = s.id WHERE s.path_name = \(path)
            """, logger: logger)
        for try await c in rows.decode((UUID, String, String, String, String?, String?, Bool, Bool, Int64, Int64, String, String?).self) {
            return (Self.source((c.0, c.1, c.2, c.3, c.4, c.5, c.6, c.7, c.8, c.9, c.10)), c.11)
        }
        return nil
    }

    // MARK: - Audit log

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await client.query(
            """
            INSERT INTO audit_log (at, user_id, username, action, target_type, target_id, outcome, status, ip, detail)
            VALUES (\(entry.at.micros), \(entry.userID), \(entry.username), \(entry.action), \(entry.targetType), \(entry.targetID), \(entry.outcome),
                \(entry.status), \(entry.ip), \(entry.detail))
            """, logger: logger)
    }

    typealias AuditColumns = (Int64, Int64, UUID?, String?, String, String?, String?, String, Int?, String?, String?)

    public func audit(_ query: AuditQuery) async throws -> Page<AuditEntry> {
        var conditions: [String] = []
        var bindings = PostgresBindings()
        for (column, value) in [("username", query.username), ("action", query.action), ("target_id", query.targetID), ("outcome", query.outcome)] {
            guard let value else { continue }
            bindings.append(value)
            conditions.append("\(column) = $\(bindings.count)")
        }
        if let from = query.from {
            bindings.append(from.micros)
            conditions.append("at >= $\(bindings.count)")
        }
        if let to = query.to {
            bindings.append(to.micros)
            conditions.append("at < $\(bindings.count)")
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let total = try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM audit_log \(filter)", binds: bindings), logger: logger)
            .decode(Int.self).reduce(0, +)
        bindings.append(query.pageSize)
        bindings.append((query.page - 1) * query.pageSize)
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT id, at, user_id, username, action, target_type, target_id, outcome, status, ip, detail FROM audit_log \(filter)
                    ORDER BY id DESC LIMIT $\(bindings.count - 1) OFFSET $\(bindings.count)
                    """, binds: bindings), logger: logger)
        var items: [AuditEntry] = []
        for try await c in rows.decode(AuditColumns.self) {
            items.append(
                AuditEntry(
                    id: c.0, at: Date(micros: c.1), userID: c.2, username: c.3, action: c.4, targetType: c.5, targetID: c.6, outcome: c.7,
                    status: c.8, ip: c.9, detail: c.10))
        }
        return Page(items: items, total: total)
    }
}
