import Domain
import Foundation
internal import GRDB

/// Recording sessions kept in the index as segments come and go, so that a day of many sources is a few rows per
/// source rather than tens of thousands of segments merged at query time. A session is what `mergeSessions` makes of
/// the path's live segments with the stored gap: every write of a segment moves the sessions it touches (`added`,
/// `removed`), a bulk insert or a new gap rebuilds them (`rebuildSessions`). A path's segments follow each other
/// (MediaMTX writes one at a time), which is what lets a removal look only at its two neighbours.
extension AppDatabase {
    static func registerSessionMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12_recording_sessions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE recording_sessions (
                        path_name TEXT NOT NULL,
                        start INTEGER NOT NULL,
                        stop INTEGER NOT NULL,
                        segment_count INTEGER NOT NULL,
                        open_count INTEGER NOT NULL,
                        PRIMARY KEY (path_name, start)
                    ) WITHOUT ROWID;
                    CREATE TABLE recording_session_gap (id INTEGER PRIMARY KEY CHECK (id = 1), gap INTEGER NOT NULL);
                    INSERT INTO recording_session_gap (id, gap) VALUES (1, 1000000);
                    -- Online and offline events of a path, newest first, without reading its segment and reader events.
                    CREATE INDEX hook_events_online ON hook_events (path_name, occurred_at) WHERE type IN ('online', 'offline');
                    """)
            try rebuildSessions(db, paths: nil)
        }
    }

    // MARK: - Reads

    public func recordingSessions(paths: [String], from: Int64, to: Int64) async throws -> [String: [RecordingSession]] {
        try await writer.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT start, stop, segment_count, open_count FROM recording_sessions
                    WHERE path_name = ?1 AND start >= coalesce((SELECT max(start) FROM recording_sessions WHERE path_name = ?1 AND start <= ?2), ?2)
                        AND start < ?3 AND (stop > ?2 OR open_count > 0)
                    ORDER BY start
                    """)
            var out: [String: [RecordingSession]] = [:]
            for path in Set(paths) {
                let rows = try Row.fetchCursor(statement, arguments: [path, from, to])
                var sessions: [RecordingSession] = []
                while let row = try rows.next() {
                    sessions.append(RecordingSession(start: row[0], end: row[1], segmentCount: row[2], open: (row[3] as Int) > 0))
                }
                if !sessions.isEmpty { out[path] = sessions }
            }
            return out
        }
    }

    public func onlineHistory(paths: [String], from: Int64, to: Int64) async throws -> [String: OnlineHistory] {
        try await writer.read { db in
            let before = try db.cachedStatement(
                sql: """
                    SELECT type FROM hook_events WHERE path_name = ? AND type IN ('online', 'offline') AND occurred_at < ?
                    ORDER BY occurred_at DESC LIMIT 1
                    """)
            let within = try db.cachedStatement(
                sql: """
                    SELECT type, occurred_at FROM hook_events WHERE path_name = ? AND type IN ('online', 'offline')
                        AND occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at
                    """)
            var out: [String: OnlineHistory] = [:]
            for path in Set(paths) {
                let first = try String.fetchOne(before, arguments: [path, from]).map { $0 == "online" }
                let changes = try Row.fetchAll(within, arguments: [path, from, to]).map { row in
                    OnlineHistory.Change(at: row[1], online: (row[0] as String) == "online")
                }
                if first != nil || !changes.isEmpty { out[path] = OnlineHistory(before: first, changes: changes) }
            }
            return out
        }
    }

    /// Sets the gap (µs) that separates sessions; when it differs from the stored one, every session is rebuilt with
    /// it. Returns true when it rebuilt them.
    @discardableResult
    public func prepareSessions(gap: Int64) async throws -> Bool {
        try await writer.write { db in
            guard try Int64.fetchOne(db, sql: "SELECT gap FROM recording_session_gap") != gap else { return false }
            try db.execute(sql: "UPDATE recording_session_gap SET gap = ?", arguments: [gap])
            try Self.rebuildSessions(db, paths: nil)
            return true
        }
    }

    // MARK: - Upkeep

    /// A live segment as far as its sessions go: where it starts and ends (an open one ends at its start), and
    /// whether it is still being recorded.
    struct SegmentSpan {
        var start: Int64
        var end: Int64
        var recording: Bool

        /// nil for a deleted segment: it is in no session.
        init?(start: Int64, duration: Double?, state: String) {
            guard state != "deleted" else { return nil }
            self.start = start
            end = Segment.end(start: start, duration: duration)
            recording = state == "recording"
        }
    }

    /// The live segment at (path, start), nil when there is none or it is deleted.
    static func liveSpan(_ db: Database, path: String, start: Int64) throws -> SegmentSpan? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT duration, state FROM segments WHERE path_name = ? AND start = ?"), arguments: [path, start])
            .flatMap { SegmentSpan(start: start, duration: $0[0], state: $0[1]) }
    }

    /// Moves the path's sessions from what the segment at (path, start) was (`before`) to what it is now.
    static func segmentChanged(_ db: Database, path: String, start: Int64, before: SegmentSpan?) throws {
        try sessionsMoved(db, path: path, from: before, to: try liveSpan(db, path: path, start: start))
    }

    /// Moves the path's sessions from what a segment was (`before`, nil: not live) to what it is (`after`).
    static func sessionsMoved(_ db: Database, path: String, from before: SegmentSpan?, to after: SegmentSpan?) throws {
        switch (before, after) {
        case (nil, nil):
            return
        case (let b?, nil):
            try removed(db, path: path, b)
        case (nil, let a?):
            try added(db, path: path, a, segments: 1, open: a.recording ? 1 : 0)
        case (let b?, let a?):
            if a.end >= b.end {
                try added(db, path: path, a, segments: 0, open: (a.recording ? 1 : 0) - (b.recording ? 1 : 0))
            } else {
                try removed(db, path: path, b)
                try added(db, path: path, a, segments: 1, open: a.recording ? 1 : 0)
            }
        }
    }

    static func gap(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT gap FROM recording_session_gap")) ?? 1_000_000
    }

    /// A segment joins every session within the gap of it (none: it starts one), and they become one.
    static func added(_ db: Database, path: String, _ s: SegmentSpan, segments: Int, open: Int) throws {
        let gap = try gap(db)
        let touching = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT start, stop, segment_count, open_count FROM recording_sessions
                    WHERE path_name = ?1 AND start >= coalesce((SELECT max(start) FROM recording_sessions WHERE path_name = ?1 AND start <= ?2), ?2)
                        AND start <= ?3 AND stop >= ?4
                    ORDER BY start
                    """), arguments: [path, s.start, s.end + gap, s.start - gap])
        var lo = s.start
        var hi = s.end
        var count = segments
        var opened = open
        for row in touching {
            lo = min(lo, row[0])
            hi = max(hi, row[1])
            count += row[2] as Int
            opened += row[3] as Int
        }
        if touching.count == 1, lo == touching[0][0] as Int64 {
            try db.cachedStatement(sql: "UPDATE recording_sessions SET stop = ?, segment_count = ?, open_count = ? WHERE path_name = ? AND start = ?")
                .execute(arguments: [hi, count, opened, path, lo])
            return
        }
        for row in touching {
            try db.cachedStatement(sql: "DELETE FROM recording_sessions WHERE path_name = ? AND start = ?").execute(arguments: [
                path, row[0] as Int64,
            ])
        }
        try db.cachedStatement(sql: "INSERT INTO recording_sessions (path_name, start, stop, segment_count, open_count) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [path, lo, hi, count, opened])
    }

    /// A segment leaves its session: the session goes, shortens at either end, or splits where the segment was the
    /// only bridge between its neighbours. The segment itself is no longer live, or is looked past.
    static func removed(_ db: Database, path: String, _ s: SegmentSpan) throws {
        guard
            let session = try Row.fetchOne(
                db.cachedStatement(
                    sql:
                        "SELECT start, stop, segment_count, open_count FROM recording_sessions WHERE path_name = ? AND start <= ? ORDER BY start DESC LIMIT 1"
                ),
                arguments: [path, s.start])
        else { return }
        let (start, stop, count, opened): (Int64, Int64, Int, Int) = (session[0], session[1], session[2], session[3])
        guard stop >= s.start else { return }
        let closing = s.recording ? 1 : 0
        let update = "UPDATE recording_sessions SET start = ?, stop = ?, segment_count = ?, open_count = ? WHERE path_name = ? AND start = ?"
        if count <= 1 {
            try db.cachedStatement(sql: "DELETE FROM recording_sessions WHERE path_name = ? AND start = ?").execute(arguments: [path, start])
            return
        }
        var previousEnd: Int64?
        if s.start > start,
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT start, duration FROM segments WHERE path_name = ? AND start < ? AND start >= ? AND state <> 'deleted'
                        ORDER BY start DESC LIMIT 1
                        """), arguments: [path, s.start, start])
        {
            previousEnd = Segment.end(start: row[0], duration: row[1])
        }
        let nextStart = try Int64.fetchOne(
            db.cachedStatement(
                sql: "SELECT start FROM segments WHERE path_name = ? AND start > ? AND start <= ? AND state <> 'deleted' ORDER BY start LIMIT 1"),
            arguments: [path, s.start, stop])
        switch (previousEnd, nextStart) {
        case (nil, nil):
            try db.cachedStatement(sql: "DELETE FROM recording_sessions WHERE path_name = ? AND start = ?").execute(arguments: [path, start])
        case (nil, let next?):
            try db.cachedStatement(sql: update).execute(arguments: [next, stop, count - 1, opened - closing, path, start])
        case (let end?, nil):
            try db.cachedStatement(sql: update).execute(arguments: [start, end, count - 1, opened - closing, path, start])
        case (let end?, let next?) where next - end <= (try gap(db)):
            try db.cachedStatement(sql: update).execute(arguments: [start, stop, count - 1, opened - closing, path, start])
        case (let end?, let next?):
            let first = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT count(*), coalesce(sum(state = 'recording'), 0) FROM segments
                        WHERE path_name = ? AND start >= ? AND start < ? AND state <> 'deleted'
                        """), arguments: [path, start, s.start])!
            let (firstCount, firstOpen): (Int, Int) = (first[0], first[1])
            try db.cachedStatement(sql: update).execute(arguments: [start, end, firstCount, firstOpen, path, start])
            try db.cachedStatement(sql: "INSERT INTO recording_sessions (path_name, start, stop, segment_count, open_count) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [path, next, stop, count - 1 - firstCount, opened - closing - firstOpen])
        }
    }

    /// The sessions of `paths` (nil: every path) made anew from their live segments, in one pass over the segment
    /// index: a segment starts a session when it starts more than the gap after every earlier segment of the path ended.
    static func rebuildSessions(_ db: Database, paths: [String]?) throws {
        var filter = ""
        var arguments: [any DatabaseValueConvertible] = []
        if let paths {
            guard !paths.isEmpty else { return }
            filter = "AND path_name IN (\(paths.map { _ in "?" }.joined(separator: ",")))"
            arguments = paths
        }
        try db.execute(sql: "DELETE FROM recording_sessions WHERE 1 \(filter)", arguments: StatementArguments(arguments))
        try db.execute(
            sql: """
                INSERT INTO recording_sessions (path_name, start, stop, segment_count, open_count)
                SELECT path_name, min(start), max(e), count(*), sum(state = 'recording') FROM (
                    SELECT path_name, start, e, state, sum(fresh) OVER (PARTITION BY path_name ORDER BY start ROWS UNBOUNDED PRECEDING) AS session
                    FROM (
                        SELECT path_name, start, e, state,
                            CASE WHEN start - max(e) OVER (PARTITION BY path_name ORDER BY start ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                                <= (SELECT gap FROM recording_session_gap) THEN 0 ELSE 1 END AS fresh
                        FROM (
                            SELECT path_name, start, start + CAST(round(coalesce(duration, 0) * 1000000) AS INTEGER) AS e, state
                            FROM segments WHERE state <> 'deleted' \(filter)
                        )
                    )
                )
                GROUP BY path_name, session
                """, arguments: StatementArguments(arguments))
    }
}
