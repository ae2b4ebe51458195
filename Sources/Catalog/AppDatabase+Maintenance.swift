import Domain
import Foundation
internal import GRDB

/// What operators need from the store itself: its sizes (metrics), a writability check (readiness) and an online
/// backup.
extension AppDatabase {
    public struct Sizes: Sendable, Equatable {
        public var sources: Int
        /// Segments by state (`recording`, `complete`, `deleted`).
        public var segments: [String: Int]
        /// The database file and its WAL.
        public var databaseBytes: Int64
        /// Webhook deliveries not yet delivered or parked (the outbox backlog).
        public var webhooksPending: Int

        /// Public for the other backends (PostgreSQL) that report their sizes in this shape.
        public init(sources: Int, segments: [String: Int], databaseBytes: Int64, webhooksPending: Int) {
            self.sources = sources
            self.segments = segments
            self.databaseBytes = databaseBytes
            self.webhooksPending = webhooksPending
        }
    }

    public func sizes() async throws -> Sizes {
        let walPath = writer.path + "-wal"
        return try await writer.read { db in
            let segments = Dictionary(
                try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM segments GROUP BY state").map { ($0["state"] as String, $0["n"] as Int) },
                uniquingKeysWith: +
            )
            let pages = try Int64.fetchOne(db, sql: "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()") ?? 0
            let wal = (try? FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int64) ?? nil
            return Sizes(
                sources: try Int.fetchOne(db, sql: "SELECT count(*) FROM media_sources") ?? 0,
                segments: segments, databaseBytes: pages + (wal ?? 0),
                webhooksPending: try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'") ?? 0
            )
        }
    }

    /// Commits a real write (it toggles `PRAGMA user_version`, which nothing else uses), so a full disk, a read-only
    /// file or a lock that never clears fails here.
    public func checkWritable() async throws {
        try await writer.write { db in
            let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
            try db.execute(sql: "PRAGMA user_version = \(version == 1 ? 2 : 1)")
        }
    }

    /// Copies the WAL into the database file and empties it, then closes every connection: what is left on disk is
    /// one complete file (the empty WAL beside it holds nothing).
    public func close() throws {
        try writer.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        try (writer as? DatabasePool)?.close()
    }

    /// Copies the whole database into a new SQLite file at `path` with SQLite's online backup API: consistent
    /// (one snapshot) while the server keeps writing. Refuses to overwrite an existing file.
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw CatalogError.backupExists(path) }
        try Self.makeOwnerOnly(path)
        let destination = try DatabaseQueue(path: path)
        try writer.backup(to: destination)
        try destination.close()
    }
}
