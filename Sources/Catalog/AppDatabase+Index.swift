import Domain
import Foundation
internal import GRDB
import HookWire

extension AppDatabase {
    static func registerIndexMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3_hook_index") { db in
            // Append-only history; the primary key makes a redelivered event a no-op.
            try db.execute(
                sql: """
                    CREATE TABLE hook_events (
                        event_id TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        path_name TEXT NOT NULL,
                        occurred_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        node TEXT,
                        payload TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX hook_events_path_time ON hook_events(path_name, occurred_at);
                    CREATE INDEX hook_events_received ON hook_events(received_at);
                    CREATE TABLE path_status (
                        path_name TEXT PRIMARY KEY NOT NULL,
                        available BOOLEAN NOT NULL DEFAULT 0,
                        available_at INTEGER,
                        online BOOLEAN NOT NULL DEFAULT 0,
                        online_at INTEGER,
                        source_type TEXT,
                        source_id TEXT
                    ) WITHOUT ROWID;
                    CREATE TABLE path_readers (
                        path_name TEXT NOT NULL,
                        reader_id TEXT NOT NULL,
                        reader_type TEXT,
                        active BOOLEAN NOT NULL,
                        changed_at INTEGER NOT NULL,
                        PRIMARY KEY (path_name, reader_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE segments (
                        id INTEGER PRIMARY KEY,
                        path_name TEXT NOT NULL,
                        file_path TEXT,
                        start INTEGER NOT NULL,
                        duration REAL,
                        size INTEGER,
                        state TEXT NOT NULL CHECK (state IN ('recording', 'complete', 'deleted')),
                        updated_at INTEGER NOT NULL,
                        UNIQUE (path_name, start)
                    );
                    -- Covers range counts: a time-range query reads only this index.
                    CREATE INDEX segments_path_range ON segments(path_name, start, duration, state);
                    """)
        }
    }

    /// The event history as a rowid table: rows are appended in arrival order and the random event ids live only
    /// in their (small) unique index, so an insert writes about a third of what the `WITHOUT ROWID` table keyed
    /// by event id did (measured: 5 µs against 18 µs per event).
    static func registerHistoryMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5_hook_events_rowid") { db in
            try db.execute(
                sql: """
                    CREATE TABLE hook_events_v5 (
                        id INTEGER PRIMARY KEY,
                        event_id TEXT NOT NULL UNIQUE,
                        type TEXT NOT NULL,
                        path_name TEXT NOT NULL,
                        occurred_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        node TEXT,
                        payload TEXT NOT NULL
                    );
                    INSERT INTO hook_events_v5 (event_id, type, path_name, occurred_at, received_at, node, payload)
                        SELECT event_id, type, path_name, occurred_at, received_at, node, payload FROM hook_events ORDER BY received_at;
                    DROP TABLE hook_events;
                    ALTER TABLE hook_events_v5 RENAME TO hook_events;
                    CREATE INDEX hook_events_path_time ON hook_events(path_name, occurred_at);
                    CREATE INDEX hook_events_received ON hook_events(received_at);
                    """)
        }
    }

    // MARK: - Ingest

    /// Indexes a batch in one transaction. Idempotent (by event id; a segment by path and start) and
    /// order-tolerant (a state only moves to an event at least as recent as the one that set it).
    /// The webhook outbox rows of the events go into the same transaction; `sessionGap` (µs) tells recording
    /// sessions apart for them.
    public func ingest(_ events: [IngestEvent], receivedAt: Int64 = Date().micros, sessionGap: Int64 = 1_000_000) async throws -> IngestResult {
        try await ingest(groups: [events], receivedAt: receivedAt, sessionGap: sessionGap)[0]
    }

    /// Indexes several requests' batches in one transaction (group commit), with a result for each: all are
    /// stored, or none is.
    public func ingest(groups: [[IngestEvent]], receivedAt: Int64 = Date().micros, sessionGap: Int64 = 1_000_000) async throws -> [IngestResult] {
        try await writer.write { db in try Self.ingest(groups, db, receivedAt: receivedAt, sessionGap: sessionGap) }
    }

    /// Group commit on the writer's own queue, without a task per transaction: `next` hands over the waiting
    /// requests' events and takes their results (or the error that rolled them back), until it returns nil.
    public func drainIngest(sessionGap: Int64, _ next: @escaping @Sendable (Result<[IngestResult], any Error>?) -> [[IngestEvent]]?) {
        writer.asyncWriteWithoutTransaction { db in
            var groups = next(nil)
            while let current = groups {
                groups = next(
                    Result {
                        var results: [IngestResult] = []
                        try db.inTransaction {
                            results = try Self.ingest(current, db, receivedAt: Date().micros, sessionGap: sessionGap)
                            return .commit
                        }
                        return results
                    })
            }
        }
    }

    private static func ingest(_ groups: [[IngestEvent]], _ db: Database, receivedAt: Int64, sessionGap: Int64) throws -> [IngestResult] {
        let subscribers = try Self.subscribers(db)
        return try groups.map { events in
            var result = IngestResult()
            for e in events {
                try db.cachedStatement(
                    sql:
                        "INSERT OR IGNORE INTO hook_events (event_id, type, path_name, occurred_at, received_at, node, payload) VALUES (?, ?, ?, ?, ?, ?, ?)"
                ).execute(arguments: [e.eventID, e.type.rawValue, e.path, e.occurredAt, receivedAt, e.node, e.payload])
                guard db.changesCount > 0 else {
                    result.duplicates += 1
                    result.duplicatesByType[e.type, default: 0] += 1
                    continue
                }
                result.accepted += 1
                result.acceptedIDs.append(e.eventID)
                // Worked out even with no subscriber, so the open-session marks stay right for later ones.
                let outgoing = try webhookEvents(for: e, db, sessionGap: sessionGap)
                try apply(e, db, now: receivedAt)
                guard !subscribers.isEmpty, !outgoing.isEmpty else { continue }
                let source = try sourceOf(path: e.path, db)
                for w in outgoing {
                    result.webhooks += try enqueue(
                        id: w.id, type: w.type, at: w.at, path: e.path, source: source, data: w.data, to: subscribers, db, now: receivedAt)
                }
            }
            return result
        }
    }

    private static func apply(_ e: IngestEvent, _ db: Database, now: Int64) throws {
        switch e.type {
        case .available, .unavailable:
            let on = e.type == .available
            try db.cachedStatement(
                sql: """
                    INSERT INTO path_status (path_name, available, available_at, source_type, source_id) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (path_name) DO UPDATE SET available = excluded.available, available_at = excluded.available_at,
                        source_type = CASE WHEN excluded.available THEN excluded.source_type ELSE source_type END,
                        source_id = CASE WHEN excluded.available THEN excluded.source_id ELSE source_id END
                    WHERE available_at IS NULL OR available_at <= excluded.available_at
                    """
            ).execute(arguments: [e.path, on, e.occurredAt, e.sourceType, e.sourceID])
            if !on {
                // Readers end with the stream.
                try db.cachedStatement(sql: "UPDATE path_readers SET active = 0, changed_at = ? WHERE path_name = ? AND active AND changed_at <= ?")
                    .execute(arguments: [e.occurredAt, e.path, e.occurredAt])
            }
        case .online, .offline:
            try db.cachedStatement(
                sql: """
                    INSERT INTO path_status (path_name, online, online_at) VALUES (?, ?, ?)
                    ON CONFLICT (path_name) DO UPDATE SET online = excluded.online, online_at = excluded.online_at
                    WHERE online_at IS NULL OR online_at <= excluded.online_at
                    """
            ).execute(arguments: [e.path, e.type == .online, e.occurredAt])
        case .read, .unread:
            // A read older than the stream's last coming up or going down is already over (PathStatusModel).
            try db.cachedStatement(
                sql: """
                    INSERT INTO path_readers (path_name, reader_id, reader_type, active, changed_at)
                    VALUES (?1, ?2, ?3, ?4 AND NOT EXISTS (SELECT 1 FROM path_status WHERE path_name = ?1 AND available_at > ?5), ?5)
                    ON CONFLICT (path_name, reader_id) DO UPDATE SET active = excluded.active, changed_at = excluded.changed_at,
                        reader_type = coalesce(excluded.reader_type, reader_type)
                    WHERE changed_at <= excluded.changed_at
                    """
            ).execute(arguments: [e.path, e.readerID, e.readerType, e.type == .read, e.occurredAt])
        case .segmentCreate, .segmentComplete:
            guard let s = e.segment else { return }
            let complete = e.type == .segmentComplete
            let before = try liveSpan(db, path: e.path, start: s.start)
            // The row as the upsert left it, for the sessions: no second read.
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        INSERT INTO segments (path_name, file_path, start, duration, size, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (path_name, start) DO UPDATE SET
                            file_path = coalesce(excluded.file_path, file_path),
                            duration = coalesce(excluded.duration, duration),
                            size = max(coalesce(excluded.size, 0), coalesce(size, 0)),
                            state = CASE WHEN state = 'deleted' THEN 'deleted' WHEN excluded.state = 'complete' OR state = 'complete' THEN 'complete' ELSE 'recording' END,
                            updated_at = excluded.updated_at
                        RETURNING duration, state
                        """), arguments: [e.path, s.filePath, s.start, s.duration, s.size, complete ? "complete" : "recording", now])
            try sessionsMoved(db, path: e.path, from: before, to: row.flatMap { SegmentSpan(start: s.start, duration: $0[0], state: $0[1]) })
        default:
            break
        }
    }

    // MARK: - Reads

    public func pathState(_ path: String) async throws -> PathState {
        try await pathStates([path])[path] ?? .idle(path)
    }

    /// Indexed state of many paths with two queries.
    public func pathStates(_ paths: [String]) async throws -> [String: PathState] {
        guard !paths.isEmpty else { return [:] }
        return try await writer.read { db in
            let marks = paths.map { _ in "?" }.joined(separator: ",")
            var out: [String: PathState] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM path_status WHERE path_name IN (\(marks))", arguments: StatementArguments(paths)) {
                let path: String = row["path_name"]
                out[path] = PathState(
                    pathName: path, available: row["available"], availableSince: row["available_at"], online: row["online"],
                    onlineSince: row["online_at"], sourceType: row["source_type"], sourceID: row["source_id"], readers: [:]
                )
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT path_name, reader_id, reader_type FROM path_readers WHERE active AND path_name IN (\(marks))",
                arguments: StatementArguments(paths))
            {
                let path: String = row["path_name"]
                out[path, default: .idle(path)].readers[row["reader_id"]] = row["reader_type"] ?? ""
            }
            return out
        }
    }

    /// Segments by time range (a segment counts if it overlaps `[from, to)`), oldest first.
    public func segments(_ query: SegmentQuery) async throws -> Page<Segment> {
        try await writer.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let path = query.path {
                conditions.append("path_name = ?")
                arguments.append(path)
            }
            if !query.includeDeleted { conditions.append("state <> 'deleted'") }
            if let to = query.to {
                conditions.append("start < ?")
                arguments.append(to)
            }
            if let from = query.from {
                conditions.append("start >= ? AND (duration IS NULL OR start + CAST(duration * 1000000 AS INTEGER) > ?)")
                arguments += [try Self.lowerBound(db, path: query.path, from: from), from]
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM segments \(whereClause)", arguments: StatementArguments(arguments)) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM segments \(whereClause) ORDER BY path_name, start LIMIT ? OFFSET ?",
                arguments: StatementArguments(arguments + [query.pageSize, (query.page - 1) * query.pageSize])
            )
            return Page(items: rows.map(Self.segment), total: total)
        }
    }

    /// Where a range scan for segments overlapping `from` can start. A path's segments follow each other, so only
    /// the last couple that started before `from` can reach into it; across all paths, segments are at most a day.
    static func lowerBound(_ db: Database, path: String?, from: Int64) throws -> Int64 {
        guard let path else { return from - 86_400_000_000 }
        let before = try Int64.fetchAll(
            db, sql: "SELECT start FROM segments WHERE path_name = ? AND start < ? ORDER BY start DESC LIMIT 2", arguments: [path, from]
        )
        return before.last ?? from
    }

    /// Every live segment of a path in a range, for merging into sessions.
    public func allSegments(path: String, from: Int64? = nil, to: Int64? = nil) async throws -> [Segment] {
        try await writer.read { db in
            var sql = "SELECT * FROM segments WHERE path_name = ? AND state <> 'deleted'"
            var arguments: [any DatabaseValueConvertible] = [path]
            if let to {
                sql += " AND start < ?"
                arguments.append(to)
            }
            if let from {
                sql += " AND start >= ? AND (duration IS NULL OR start + CAST(duration * 1000000 AS INTEGER) > ?)"
                arguments += [try Self.lowerBound(db, path: path, from: from), from]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY start", arguments: StatementArguments(arguments)).map(Self.segment)
        }
    }

    /// True while a segment of the path is open (created, not yet complete).
    public func isRecording(path: String) async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM segments WHERE path_name = ? AND state = 'recording')", arguments: [path])
                ?? false
        }
    }

    public func history(path: String, limit: Int, before: Int64? = nil) async throws -> [HistoryEvent] {
        try await writer.read { db in
            var sql = "SELECT * FROM hook_events WHERE path_name = ?"
            var arguments: [any DatabaseValueConvertible] = [path]
            if let before {
                sql += " AND occurred_at < ?"
                arguments.append(before)
            }
            sql += " ORDER BY occurred_at DESC LIMIT ?"
            arguments.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                HistoryEvent(
                    eventID: row["event_id"], type: row["type"], pathName: row["path_name"], occurredAt: row["occurred_at"], node: row["node"],
                    payload: row["payload"])
            }
        }
    }

    public func segmentBatch(after cursor: SegmentCursor?, paths: [String]?, from: Int64?, to: Int64?, limit: Int) async throws -> [Segment] {
        if let paths, paths.isEmpty { return [] }
        return try await writer.read { db in
            var conditions = ["state <> 'deleted'"]
            var arguments: [any DatabaseValueConvertible] = []
            if let cursor {
                conditions.append("(path_name, start) > (?, ?)")
                arguments += [cursor.path, cursor.start]
            }
            if let paths {
                conditions.append("path_name IN (\(paths.map { _ in "?" }.joined(separator: ",")))")
                arguments += paths
            }
            if let to {
                conditions.append("start < ?")
                arguments.append(to)
            }
            if let from {
                conditions.append("(duration IS NULL OR start + CAST(duration * 1000000 AS INTEGER) > ?)")
                arguments.append(from)
            }
            // Columns read by position: a lookup by name costs more than the rest of the row at millions of rows.
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, path_name, file_path, start, duration, size, state FROM segments
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY path_name, start LIMIT ?
                    """,
                arguments: StatementArguments(arguments + [limit]))
            var out: [Segment] = []
            out.reserveCapacity(limit)
            while let row = try cursor.next() {
                out.append(
                    Segment(
                        id: row[0], pathName: row[1], filePath: row[2], start: row[3], duration: row[4], size: row[5],
                        state: SegmentState(rawValue: row[6]) ?? .complete))
            }
            return out
        }
    }

    static func segment(_ row: Row) -> Segment {
        Segment(
            id: row["id"], pathName: row["path_name"], filePath: row["file_path"], start: row["start"], duration: row["duration"],
            size: row["size"], state: SegmentState(rawValue: row["state"]) ?? .complete
        )
    }
}

// MARK: - Reconciliation

extension AppDatabase {
    /// What MediaMTX says one path's state is, observed at `at` (µs).
    public struct ObservedPath: Sendable {
        public var path: String
        public var available: Bool
        public var sourceType: String?
        public var sourceID: String?
        public var readers: [String: String]

        public init(path: String, available: Bool, sourceType: String?, sourceID: String?, readers: [String: String]) {
            self.path = path
            self.available = available
            self.sourceType = sourceType
            self.sourceID = sourceID
            self.readers = readers
        }
    }

    /// Brings indexed live state in line with what MediaMTX reports; paths indexed as available that MediaMTX
    /// doesn't list become unavailable. A state set by an event newer than `at` is kept. Returns paths healed.
    public func reconcileStates(_ observed: [ObservedPath], at: Int64) async throws -> [String] {
        try await writer.write { db in
            var healed: [String] = []
            let seen = Dictionary(observed.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            let staleAvailable = try String.fetchAll(
                db, sql: "SELECT path_name FROM path_status WHERE available AND available_at < ?", arguments: [at])
            for path in staleAvailable where seen[path] == nil {
                try db.execute(
                    sql: "UPDATE path_status SET available = 0, online = 0, available_at = ?, online_at = ? WHERE path_name = ?",
                    arguments: [at, at, path])
                try db.execute(
                    sql: "UPDATE path_readers SET active = 0, changed_at = ? WHERE path_name = ? AND active AND changed_at < ?",
                    arguments: [at, path, at])
                healed.append(path)
            }
            for o in observed {
                let row = try Row.fetchOne(db, sql: "SELECT available, available_at FROM path_status WHERE path_name = ?", arguments: [o.path])
                let indexed: Bool = row?["available"] ?? false
                let since: Int64? = row?["available_at"]
                if indexed != o.available, (since ?? Int64.min) < at {
                    try db.execute(
                        sql: """
                            INSERT INTO path_status (path_name, available, available_at, online, online_at, source_type, source_id) VALUES (?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT (path_name) DO UPDATE SET available = excluded.available, available_at = excluded.available_at,
                                online = excluded.online, online_at = excluded.online_at, source_type = excluded.source_type, source_id = excluded.source_id
                            """, arguments: [o.path, o.available, at, o.available, at, o.sourceType, o.sourceID])
                    healed.append(o.path)
                }
                let active = Set(
                    try String.fetchAll(db, sql: "SELECT reader_id FROM path_readers WHERE path_name = ? AND active", arguments: [o.path]))
                if active != Set(o.readers.keys) {
                    try db.execute(
                        sql: "UPDATE path_readers SET active = 0, changed_at = ? WHERE path_name = ? AND active AND changed_at < ?",
                        arguments: [at, o.path, at])
                    for (id, type) in o.readers {
                        try db.execute(
                            sql: """
                                INSERT INTO path_readers (path_name, reader_id, reader_type, active, changed_at) VALUES (?, ?, ?, 1, ?)
                                ON CONFLICT (path_name, reader_id) DO UPDATE SET active = 1, changed_at = excluded.changed_at WHERE changed_at < excluded.changed_at
                                """, arguments: [o.path, id, type, at])
                    }
                    if !healed.contains(o.path) { healed.append(o.path) }
                }
            }
            return healed
        }
    }

    /// Makes a path's indexed segments match the starts MediaMTX lists: adds the ones hooks never reported,
    /// marks deleted the ones MediaMTX no longer has (only those older than `olderThan`, so a segment that
    /// started after the listing is not mistaken for a deleted one). Returns (added, deleted).
    public func reconcileSegments(path: String, starts: [Int64], olderThan: Int64, now: Int64) async throws -> (added: Int, deleted: Int) {
        try await writer.write { db in
            var added = 0
            for start in starts {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO segments (path_name, start, state, updated_at) VALUES (?, ?, 'complete', ?)",
                    arguments: [path, start, now]
                )
                guard db.changesCount > 0 else { continue }
                added += 1
                try Self.segmentChanged(db, path: path, start: start, before: nil)
            }
            let listed = Set(starts)
            var deleted = 0
            for start in try Int64.fetchAll(
                db, sql: "SELECT start FROM segments WHERE path_name = ? AND state <> 'deleted' AND start < ?", arguments: [path, olderThan])
            where !listed.contains(start) {
                let before = try Self.liveSpan(db, path: path, start: start)
                try db.execute(
                    sql: "UPDATE segments SET state = 'deleted', updated_at = ? WHERE path_name = ? AND start = ?", arguments: [now, path, start])
                try Self.segmentChanged(db, path: path, start: start, before: before)
                deleted += 1
            }
            return (added, deleted)
        }
    }

    /// Bulk insert of complete segments in one transaction (imports, benchmarks); existing ones are kept. The paths'
    /// sessions are rebuilt.
    public func insertSegments(_ rows: [(path: String, start: Int64, duration: Double, size: Int64)]) async throws {
        try await writer.write { db in
            let now = Date().micros
            let statement = try db.makeStatement(
                sql: "INSERT OR IGNORE INTO segments (path_name, start, duration, size, state, updated_at) VALUES (?, ?, ?, ?, 'complete', ?)")
            for r in rows { try statement.execute(arguments: [r.path, r.start, r.duration, r.size, now]) }
            try Self.rebuildSessions(db, paths: Array(Set(rows.map(\.path))))
        }
    }

    /// Drops hook events received before `before` (µs) from the history; the state they set stays.
    @discardableResult
    public func pruneHistory(receivedBefore before: Int64) async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM hook_events WHERE received_at < ?", arguments: [before])
            return db.changesCount
        }
    }

    /// Paths that have live (not deleted) segments in the index.
    public func pathsWithSegments() async throws -> [String] {
        try await writer.read { try String.fetchAll($0, sql: "SELECT DISTINCT path_name FROM segments WHERE state <> 'deleted'") }
    }
}
