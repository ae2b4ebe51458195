import Domain
import Foundation
internal import GRDB

/// How long recordings are kept: a source's own number of days (none: the configured default), the segments past
/// it, and what each path holds on disk.
extension AppDatabase {
    static func registerRetentionMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6_source_retention") { db in
            try db.execute(
                sql: """
                    CREATE TABLE source_retention (
                        source_id TEXT PRIMARY KEY NOT NULL REFERENCES media_sources(id) ON DELETE CASCADE,
                        days INTEGER NOT NULL CHECK (days >= 0)
                    )
                    """)
        }
    }

    /// The source's own retention in days; nil when it follows the configured default.
    public func retentionDays(sourceID: UUID) async throws -> Int? {
        try await writer.read {
            try Int.fetchOne($0, sql: "SELECT days FROM source_retention WHERE source_id = ?", arguments: [sourceID.uuidString.lowercased()])
        }
    }

    public func setRetentionDays(sourceID: UUID, _ days: Int?) async throws {
        try await writer.write { db in
            if let days {
                try db.execute(
                    sql: "INSERT INTO source_retention (source_id, days) VALUES (?, ?) ON CONFLICT (source_id) DO UPDATE SET days = excluded.days",
                    arguments: [sourceID.uuidString.lowercased(), days])
            } else {
                try db.execute(sql: "DELETE FROM source_retention WHERE source_id = ?", arguments: [sourceID.uuidString.lowercased()])
            }
        }
    }

    /// Every source's own retention.
    public func retentionOverrides() async throws -> [UUID: Int] {
        try await writer.read { db in
            var out: [UUID: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT source_id, days FROM source_retention") {
                if let id = UUID(uuidString: row["source_id"]) { out[id] = row["days"] }
            }
            return out
        }
    }

    /// Complete segments of `path` that ended before `before` (µs), oldest first. A segment still being recorded is
    /// never expired.
    public func expiredSegments(path: String, endedBefore before: Int64) async throws -> [Segment] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM segments WHERE path_name = ? AND start < ? AND state = 'complete'
                        AND start + CAST(round(coalesce(duration, 0) * 1000000) AS INTEGER) < ?
                    ORDER BY start
                    """, arguments: [path, before, before]
            ).map(Self.segment)
        }
    }

    /// Marks a segment deleted (MediaMTX removed its file); the row stays so history and sessions know it existed.
    public func markSegmentDeleted(path: String, start: Int64, at now: Int64) async throws {
        try await writer.write { db in
            let before = try Self.liveSpan(db, path: path, start: start)
            try db.execute(
                sql: "UPDATE segments SET state = 'deleted', updated_at = ? WHERE path_name = ? AND start = ?", arguments: [now, path, start])
            try Self.segmentChanged(db, path: path, start: start, before: before)
        }
    }

    public struct PathStorage: Sendable, Equatable {
        public var pathName: String
        public var segments: Int
        public var bytes: Int64
        public var seconds: Double

        public init(pathName: String, segments: Int, bytes: Int64, seconds: Double) {
            self.pathName = pathName
            self.segments = segments
            self.bytes = bytes
            self.seconds = seconds
        }
    }

    /// What each path's segments (not deleted) hold: count, bytes, recorded seconds.
    public func storage() async throws -> [String: PathStorage] {
        try await writer.read { db in
            var out: [String: PathStorage] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT path_name, count(*) AS n, coalesce(sum(size), 0) AS bytes, coalesce(sum(duration), 0) AS seconds
                    FROM segments WHERE state <> 'deleted' GROUP BY path_name
                    """)
            {
                let path: String = row["path_name"]
                out[path] = PathStorage(pathName: path, segments: row["n"], bytes: row["bytes"], seconds: row["seconds"])
            }
            return out
        }
    }
}
