import Catalog
import Domain
import Foundation
import PostgresNIO

/// Recording sessions kept in the index (SQLite's `AppDatabase+Sessions.swift`, the same rules): a trigger on
/// `segments` moves the sessions of each segment written, under the path's advisory lock, so every writer (hook
/// ingest, the reconciler, retention, a bulk insert's rebuild) keeps them right on every instance. A statement that
/// writes many segments at once sets `mtx.bulk_segments` and rebuilds their paths' sessions after.
extension PostgresCatalog {
    static let sessionMigrations: [(name: String, statements: [String])] = [
        (
            "v10_recording_sessions",
            [
                """
                CREATE TABLE recording_sessions (
                    path_name text COLLATE "C" NOT NULL,
                    start bigint NOT NULL,
                    stop bigint NOT NULL,
                    segment_count integer NOT NULL,
                    open_count integer NOT NULL,
                    PRIMARY KEY (path_name, start)
                )
                """,
                // No row: the default gap, one second (a copied catalogue brings its own row).
                "CREATE TABLE recording_session_gap (id integer PRIMARY KEY CHECK (id = 1), gap bigint NOT NULL)",
                "CREATE INDEX hook_events_online ON hook_events (path_name, occurred_at) WHERE type IN ('online', 'offline')",
                """
                CREATE FUNCTION mtx_session_gap() RETURNS bigint STABLE LANGUAGE sql AS
                $$ SELECT coalesce((SELECT gap FROM recording_session_gap WHERE id = 1), 1000000) $$
                """,
                """
                CREATE FUNCTION mtx_segment_end(start bigint, duration double precision) RETURNS bigint IMMUTABLE LANGUAGE sql AS
                $$ SELECT start + round(coalesce(duration, 0)::numeric * 1000000)::bigint $$
                """,
                // A segment joins every session within the gap of it (none: it starts one), and they become one.
                """
                CREATE FUNCTION mtx_session_add(p text, a bigint, b bigint, segments int, opened int) RETURNS void LANGUAGE plpgsql AS $$
                DECLARE
                    g bigint := mtx_session_gap();
                    low bigint := coalesce((SELECT max(start) FROM recording_sessions WHERE path_name = p AND start <= a), a);
                    lo bigint := a;
                    hi bigint := b;
                    n int := 0;
                    first_start bigint;
                    s record;
                BEGIN
                    FOR s IN SELECT start, stop, segment_count, open_count FROM recording_sessions
                        WHERE path_name = p AND start >= low AND start <= b + g AND stop >= a - g ORDER BY start
                    LOOP
                        n := n + 1;
                        IF n = 1 THEN first_start := s.start; END IF;
                        lo := least(lo, s.start);
                        hi := greatest(hi, s.stop);
                        segments := segments + s.segment_count;
                        opened := opened + s.open_count;
                    END LOOP;
                    IF n = 1 AND lo = first_start THEN
                        UPDATE recording_sessions SET stop = hi, segment_count = segments, open_count = opened WHERE path_name = p AND start = lo;
                    ELSE
                        IF n > 0 THEN
                            DELETE FROM recording_sessions WHERE path_name = p AND start >= low AND start <= b + g AND stop >= a - g;
                        END IF;
                        INSERT INTO recording_sessions (path_name, start, stop, segment_count, open_count) VALUES (p, lo, hi, segments, opened);
                    END IF;
                END
                $$
                """,
                // A segment leaves its session: the session goes, shortens at either end, or splits where the segment was
                // the only bridge between its neighbours.
                """
                CREATE FUNCTION mtx_session_remove(p text, a bigint, recording boolean) RETURNS void LANGUAGE plpgsql AS $$
                DECLARE
                    s record;
                    closing int := CASE WHEN recording THEN 1 ELSE 0 END;
                    previous_end bigint;
                    next_start bigint;
                    first_count int;
                    first_open int;
                BEGIN
                    SELECT start, stop, segment_count, open_count INTO s FROM recording_sessions
                    WHERE path_name = p AND start <= a ORDER BY start DESC LIMIT 1;
                    IF NOT FOUND OR s.stop < a THEN RETURN; END IF;
                    IF s.segment_count <= 1 THEN
                        DELETE FROM recording_sessions WHERE path_name = p AND start = s.start;
                        RETURN;
                    END IF;
                    IF a > s.start THEN
                        SELECT mtx_segment_end(g.start, g.duration) INTO previous_end FROM segments g
                        WHERE g.path_name = p AND g.start < a AND g.start >= s.start AND g.state <> 'deleted' ORDER BY g.start DESC LIMIT 1;
                    END IF;
                    SELECT g.start INTO next_start FROM segments g
                    WHERE g.path_name = p AND g.start > a AND g.start <= s.stop AND g.state <> 'deleted' ORDER BY g.start LIMIT 1;
                    IF previous_end IS NULL AND next_start IS NULL THEN
                        DELETE FROM recording_sessions WHERE path_name = p AND start = s.start;
                    ELSIF previous_end IS NULL THEN
                        UPDATE recording_sessions SET start = next_start, segment_count = s.segment_count - 1, open_count = s.open_count - closing
                        WHERE path_name = p AND start = s.start;
                    ELSIF next_start IS NULL THEN
                        UPDATE recording_sessions SET stop = previous_end, segment_count = s.segment_count - 1, open_count = s.open_count - closing
                        WHERE path_name = p AND start = s.start;
                    ELSIF next_start - previous_end <= mtx_session_gap() THEN
                        UPDATE recording_sessions SET segment_count = s.segment_count - 1, open_count = s.open_count - closing
                        WHERE path_name = p AND start = s.start;
                    ELSE
                        SELECT count(*), count(*) FILTER (WHERE g.state = 'recording') INTO first_count, first_open FROM segments g
                        WHERE g.path_name = p AND g.start >= s.start AND g.start < a AND g.state <> 'deleted';
                        UPDATE recording_sessions SET stop = previous_end, segment_count = first_count, open_count = first_open
                        WHERE path_name = p AND start = s.start;
                        INSERT INTO recording_sessions (path_name, start, stop, segment_count, open_count)
                        VALUES (p, next_start, s.stop, s.segment_count - 1 - first_count, s.open_count - closing - first_open);
                    END IF;
                END
                $$
                """,
                """
                CREATE FUNCTION mtx_segments_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    was_live boolean := TG_OP <> 'INSERT' AND OLD.state <> 'deleted';
                    is_live boolean := TG_OP <> 'DELETE' AND NEW.state <> 'deleted';
                    path text := CASE WHEN TG_OP = 'DELETE' THEN OLD.path_name ELSE NEW.path_name END;
                    old_end bigint;
                    new_end bigint;
                BEGIN
                    IF current_setting('mtx.bulk_segments', true) = 'on' THEN RETURN NULL; END IF;
                    IF TG_OP = 'UPDATE' AND OLD.state = NEW.state AND OLD.duration IS NOT DISTINCT FROM NEW.duration THEN RETURN NULL; END IF;
                    IF NOT was_live AND NOT is_live THEN RETURN NULL; END IF;
                    -- The path's lock (`lockPaths`; already held by ingest and the reconciler): one writer of its sessions at a time.
                    PERFORM pg_advisory_xact_lock(\(pathLockSpace), hashtext(path) & \(pathLockBuckets - 1));
                    IF was_live THEN old_end := mtx_segment_end(OLD.start, OLD.duration); END IF;
                    IF is_live THEN new_end := mtx_segment_end(NEW.start, NEW.duration); END IF;
                    IF was_live AND NOT is_live THEN
                        PERFORM mtx_session_remove(path, OLD.start, OLD.state = 'recording');
                    ELSIF is_live AND NOT was_live THEN
                        PERFORM mtx_session_add(path, NEW.start, new_end, 1, (NEW.state = 'recording')::int);
                    ELSIF new_end >= old_end THEN
                        PERFORM mtx_session_add(path, NEW.start, new_end, 0, (NEW.state = 'recording')::int - (OLD.state = 'recording')::int);
                    ELSE
                        PERFORM mtx_session_remove(path, OLD.start, OLD.state = 'recording');
                        PERFORM mtx_session_add(path, NEW.start, new_end, 1, (NEW.state = 'recording')::int);
                    END IF;
                    RETURN NULL;
                END
                $$
                """,
                "CREATE TRIGGER segments_sessions AFTER INSERT OR UPDATE OR DELETE ON segments FOR EACH ROW EXECUTE FUNCTION mtx_segments_sessions()",
                rebuildSessionsSQL(filter: ""),
            ]
        )
    ]

    /// Inserts the sessions of the paths in `filter` (a condition on `path_name`, "" for every path; their old sessions
    /// deleted first) made anew from their live segments, in one pass: a segment starts a session when it starts more than the gap after every earlier segment
    /// of the path ended.
    static func rebuildSessionsSQL(filter: String) -> String {
        """
        INSERT INTO recording_sessions (path_name, start, stop, segment_count, open_count)
        SELECT path_name, min(start), max(e), count(*), count(*) FILTER (WHERE state = 'recording') FROM (
            SELECT path_name, start, e, state, sum(fresh) OVER (PARTITION BY path_name ORDER BY start ROWS UNBOUNDED PRECEDING) AS session
            FROM (
                SELECT path_name, start, e, state,
                    CASE WHEN start - max(e) OVER (PARTITION BY path_name ORDER BY start ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                        <= mtx_session_gap() THEN 0 ELSE 1 END AS fresh
                FROM (SELECT path_name, start, mtx_segment_end(start, duration) AS e, state FROM segments WHERE state <> 'deleted' \(filter)) AS live
            ) AS marked
        ) AS numbered
        GROUP BY path_name, session
        """
    }

    /// Rebuilds the sessions of `paths` on `connection` (in its transaction; the paths' locks are taken first).
    func rebuildSessions(paths: [String], on connection: PostgresConnection) async throws {
        guard !paths.isEmpty else { return }
        try await lockPaths(paths, on: connection)
        var binds = PostgresBindings()
        binds.append(Array(Set(paths)))
        try await connection.query(
            PostgresQuery(unsafeSQL: "DELETE FROM recording_sessions WHERE path_name = ANY($1::text[])", binds: binds), logger: logger)
        try await connection.query(
            PostgresQuery(unsafeSQL: Self.rebuildSessionsSQL(filter: "AND path_name = ANY($1::text[])"), binds: binds), logger: logger)
    }
}

extension PostgresCatalog.PathsInRange {
    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(paths)
        binds.append(from)
        binds.append(to)
        return binds
    }
}

extension PostgresCatalog {
    public func recordingSessions(paths: [String], from: Int64, to: Int64) async throws -> [String: [RecordingSession]] {
        guard !paths.isEmpty else { return [:] }
        var out: [String: [RecordingSession]] = [:]
        for (path, start, stop, count, open) in try await client.execute(SessionsRead(paths: Array(Set(paths)), from: from, to: to), logger: logger) {
            out[path, default: []].append(RecordingSession(start: start, end: stop, segmentCount: Int(count), open: open > 0))
        }
        return out
    }

    public func onlineHistory(paths: [String], from: Int64, to: Int64) async throws -> [String: OnlineHistory] {
        guard !paths.isEmpty else { return [:] }
        var out: [String: OnlineHistory] = [:]
        for (path, type, at, within) in try await client.execute(OnlineRead(paths: Array(Set(paths)), from: from, to: to), logger: logger) {
            var history = out[path] ?? OnlineHistory(before: nil, changes: [])
            if within { history.changes.append(.init(at: at, online: type == "online")) } else { history.before = type == "online" }
            out[path] = history
        }
        return out
    }

    /// A read of some paths over a time range, bound as `$1` (the paths), `$2` and `$3` (the range).
    protocol PathsInRange: PostgresPreparedStatement {
        var paths: [String] { get }
        var from: Int64 { get }
        var to: Int64 { get }
    }

    /// Each path's sessions overlapping `[$2, $3)` or still open: the last that started at or before `$2`, and those
    /// that start inside.
    struct SessionsRead: PathsInRange {
        static let sql = """
            SELECT p.name, s.start, s.stop, s.segment_count, s.open_count FROM unnest($1::text[]) AS p (name)
            CROSS JOIN LATERAL (
                SELECT start, stop, segment_count, open_count FROM recording_sessions
                WHERE path_name = p.name
                    AND start >= coalesce((SELECT max(start) FROM recording_sessions WHERE path_name = p.name AND start <= $2), $2)
                    AND start < $3 AND (stop > $2 OR open_count > 0)
            ) AS s
            ORDER BY p.name, s.start
            """
        typealias Row = (String, Int64, Int64, Int32, Int32)
        var paths: [String]
        var from: Int64
        var to: Int64

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Each path's last online/offline event before `$2` and those in `[$2, $3)`, oldest first.
    struct OnlineRead: PathsInRange {
        static let sql = """
            SELECT p.name, e.type, e.occurred_at, e.within FROM unnest($1::text[]) AS p (name)
            CROSS JOIN LATERAL (
                (SELECT type, occurred_at, false AS within FROM hook_events
                 WHERE path_name = p.name AND type IN ('online', 'offline') AND occurred_at < $2 ORDER BY occurred_at DESC LIMIT 1)
                UNION ALL
                (SELECT type, occurred_at, true FROM hook_events
                 WHERE path_name = p.name AND type IN ('online', 'offline') AND occurred_at >= $2 AND occurred_at < $3)
            ) AS e
            ORDER BY p.name, e.occurred_at, e.within
            """
        typealias Row = (String, String, Int64, Bool)
        var paths: [String]
        var from: Int64
        var to: Int64

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    @discardableResult
    public func prepareSessions(gap: Int64) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            // One instance rebuilds at a time; the others then find the gap stored.
            try await connection.query("LOCK TABLE recording_session_gap IN EXCLUSIVE MODE", logger: logger)
            let stored = try await connection.query("SELECT mtx_session_gap()", logger: logger).decode(Int64.self).reduce(into: [Int64]()) {
                $0.append($1)
            }
            guard stored.first != gap else { return false }
            try await connection.query(
                "INSERT INTO recording_session_gap (id, gap) VALUES (1, \(gap)) ON CONFLICT (id) DO UPDATE SET gap = EXCLUDED.gap", logger: logger)
            try await connection.query("DELETE FROM recording_sessions", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: Self.rebuildSessionsSQL(filter: "")), logger: logger)
            return true
        }
    }
}
