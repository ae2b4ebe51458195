import Domain
import Foundation
internal import GRDB

/// One SQLite file has one server: the lease is always held and there is no other instance to tell anything.
/// Failed logins are kept in the file all the same, so the throttle's rule lives in one place for both backends.
extension AppDatabase: MaintenanceStore, LeaseStore, LoginFailureStore, ChangeFeed {
    static func registerInstanceMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10_login_failures") { db in
            try db.execute(
                sql: """
                    CREATE TABLE login_failures (key TEXT NOT NULL, at INTEGER NOT NULL);
                    CREATE INDEX login_failures_key_at ON login_failures (key, at);
                    """)
        }
    }

    public var backendName: String { "sqlite" }

    public var ingestWriters: Int { 1 }

    public func shutdown() async {
        try? close()
    }

    public func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> Int64? { 1 }

    public func releaseLease(_ name: String, holder: String) async throws {}

    public var reachesOtherInstances: Bool { false }

    public func broadcast(_ message: String) async throws {}

    public func changes() -> AsyncStream<String> {
        AsyncStream { _ in }
    }

    public func loginFailures(keys: [String], since: Int64) async throws -> [String: [Int64]] {
        guard !keys.isEmpty else { return [:] }
        return try await writer.read { db in
            var found: [String: [Int64]] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT key, at FROM login_failures WHERE key IN (\(databaseQuestionMarks(count: keys.count))) AND at >= ? ORDER BY at",
                arguments: StatementArguments(keys) + [since])
            for row in rows { found[row["key"] as String, default: []].append(row["at"]) }
            return found
        }
    }

    public func recordLoginFailure(keys: [String], at: Int64) async throws {
        try await writer.write { db in
            for key in keys { try db.execute(sql: "INSERT INTO login_failures (key, at) VALUES (?, ?)", arguments: [key, at]) }
        }
    }

    public func clearLoginFailures(key: String) async throws {
        try await writer.write { try $0.execute(sql: "DELETE FROM login_failures WHERE key = ?", arguments: [key]) }
    }

    public func pruneLoginFailures(before: Int64) async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM login_failures WHERE at < ?", arguments: [before])
            return db.changesCount
        }
    }
}
