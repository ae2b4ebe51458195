import Foundation
import GRDB

extension AppDatabase {
    static func registerIndexMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3_hook_index") { db in
            // Append-only history; the primary key makes a redelivered event a no-op.
            try db.execute(sql: """
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
                """)
        }
    }

    // MARK: - Ingest

    /// Indexes a batch in one transaction. Idempotent (by event id; a segment by path and start) and
    /// order-tolerant (a state only moves to an event at least as recent as the one that set it).
    public func ingest(_ events: [IngestEvent], receivedAt: Int64 = Date().micros) async throws -> IngestResult {
        try await writer.write { db in
            var result = IngestResult(accepted: 0, duplicates: 0, paths: [])
            var paths = Set<String>()
            for e in events {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO hook_events (event_id, type, path_name, occurred_at, received_at, node, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [e.eventID, e.type, e.path, e.occurredAt, receivedAt, e.node, e.payload]
                )
                guard db.changesCount > 0 else {
                    result.duplicates += 1
                    continue
                }
                result.accepted += 1
                paths.insert(e.path)
                try Self.apply(e, db, now: receivedAt)
            }
            result.paths = paths.sorted()
            return result
        }
    }

    private static func apply(_ e: IngestEvent, _ db: Database, now: Int64) throws {
        switch e.type {
        case "available", "unavailable":
            let on = e.type == "available"
            try db.execute(sql: """
                INSERT INTO path_status (path_name, available, available_at, source_type, source_id) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (path_name) DO UPDATE SET available = excluded.available, available_at = excluded.available_at,
                    source_type = CASE WHEN excluded.available THEN excluded.source_type ELSE source_type END,
                    source_id = CASE WHEN excluded.available THEN excluded.source_id ELSE source_id END
                WHERE available_at IS NULL OR available_at <= excluded.available_at
                """, arguments: [e.path, on, e.occurredAt, e.sourceType, e.sourceID])
            if !on {
                // Readers end with the stream.
                try db.execute(
                    sql: "UPDATE path_readers SET active = 0, changed_at = ? WHERE path_name = ? AND active AND changed_at <= ?",
                    arguments: [e.occurredAt, e.path, e.occurredAt]
                )
            }
        case "online", "offline":
            try db.execute(sql: """
                INSERT INTO path_status (path_name, online, online_at) VALUES (?, ?, ?)
                ON CONFLICT (path_name) DO UPDATE SET online = excluded.online, online_at = excluded.online_at
                WHERE online_at IS NULL OR online_at <= excluded.online_at
                """, arguments: [e.path, e.type == "online", e.occurredAt])
        case "read", "unread":
            try db.execute(sql: """
                INSERT INTO path_readers (path_name, reader_id, reader_type, active, changed_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (path_name, reader_id) DO UPDATE SET active = excluded.active, changed_at = excluded.changed_at,
                    reader_type = coalesce(excluded.reader_type, reader_type)
                WHERE changed_at <= excluded.changed_at
                """, arguments: [e.path, e.readerID, e.readerType, e.type == "read", e.occurredAt])
        case "segment-create", "segment-complete":
            guard let s = e.segment else { return }
            let complete = e.type == "segment-complete"
            try db.execute(sql: """
                INSERT INTO segments (path_name, file_path, start, duration, size, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (path_name, start) DO UPDATE SET
                    file_path = coalesce(excluded.file_path, file_path),
                    duration = coalesce(excluded.duration, duration),
                    size = max(coalesce(excluded.size, 0), coalesce(size, 0)),
                    state = CASE WHEN state = 'deleted' THEN 'deleted' WHEN excluded.state = 'complete' OR state = 'complete' THEN 'complete' ELSE 'recording' END,
                    updated_at = excluded.updated_at
                """, arguments: [e.path, s.filePath, s.start, s.duration, s.size, complete ? "complete" : "recording", now])
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
            for row in try Row.fetchAll(db, sql: "SELECT path_name, reader_id, reader_type FROM path_readers WHERE active AND path_name IN (\(marks))", arguments: StatementArguments(paths)) {
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
            if let path = query.path { conditions.append("path_name = ?"); arguments.append(path) }
            if !query.includeDeleted { conditions.append("state <> 'deleted'") }
            if let to = query.to { conditions.append("start < ?"); arguments.append(to) }
            if let from = query.from {
                // Segments are at most a day long: bound the index range, then check the end exactly.
                conditions.append("start >= ? AND (duration IS NULL OR start + CAST(duration * 1000000 AS INTEGER) > ?)")
                arguments += [from - 86_400_000_000, from]
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

    /// Every live segment of a path in a range, for merging into sessions.
    public func allSegments(path: String, from: Int64? = nil, to: Int64? = nil) async throws -> [Segment] {
        try await writer.read { db in
            var sql = "SELECT * FROM segments WHERE path_name = ? AND state <> 'deleted'"
            var arguments: [any DatabaseValueConvertible] = [path]
            if let to { sql += " AND start < ?"; arguments.append(to) }
            if let from {
                sql += " AND start >= ? AND (duration IS NULL OR start + CAST(duration * 1000000 AS INTEGER) > ?)"
                arguments += [from - 86_400_000_000, from]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY start", arguments: StatementArguments(arguments)).map(Self.segment)
        }
    }

    /// True while a segment of the path is open (created, not yet complete).
    public func isRecording(path: String) async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM segments WHERE path_name = ? AND state = 'recording')", arguments: [path]) ?? false
        }
    }

    public func history(path: String, limit: Int, before: Int64? = nil) async throws -> [HistoryEvent] {
        try await writer.read { db in
            var sql = "SELECT * FROM hook_events WHERE path_name = ?"
            var arguments: [any DatabaseValueConvertible] = [path]
            if let before { sql += " AND occurred_at < ?"; arguments.append(before) }
            sql += " ORDER BY occurred_at DESC LIMIT ?"
            arguments.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                HistoryEvent(eventID: row["event_id"], type: row["type"], pathName: row["path_name"], occurredAt: row["occurred_at"], node: row["node"], payload: row["payload"])
            }
        }
    }

    static func segment(_ row: Row) -> Segment {
        Segment(
            id: row["id"], pathName: row["path_name"], filePath: row["file_path"], start: row["start"], duration: row["duration"],
            size: row["size"], state: SegmentState(rawValue: row["state"]) ?? .complete
        )
    }
}

/// Merges segments whose gap to the previous end is at most `gap` microseconds. An open segment (no
/// duration yet) ends its session "now" as far as the index knows: at its start.
public func mergeSessions(_ segments: [Segment], gap: Int64) -> [RecordingSession] {
    var sessions: [RecordingSession] = []
    for s in segments.sorted(by: { $0.start < $1.start }) {
        let end = s.end ?? s.start
        if var last = sessions.last, s.start - last.end <= gap {
            last.end = max(last.end, end)
            last.segmentCount += 1
            last.open = last.open || s.state == .recording
            sessions[sessions.count - 1] = last
        } else {
            sessions.append(RecordingSession(start: s.start, end: end, segmentCount: 1, open: s.state == .recording))
        }
    }
    return sessions
}
