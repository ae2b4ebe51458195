import Catalog
import Domain
import Foundation
import PostgresNIO

extension PostgresCatalog {
    /// The SQLite schema's `v3_hook_index` and `v5_hook_events_rowid`, with `v7_webhooks`' open recording sessions: the
    /// same tables, keys and checks; int8 microsecond times, the history's payload as jsonb. Path names are `COLLATE "C"`
    /// (bytewise, as SQLite compares text), so segment pages come in the same order on both backends.
    static let indexMigrations: [(name: String, statements: [String])] = [
        (
            "v5_hook_index",
            [
                // Append-only history; the unique event id makes a redelivered event a no-op (ON CONFLICT DO NOTHING).
                """
                CREATE TABLE hook_events (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_id text NOT NULL UNIQUE,
                    type text NOT NULL,
                    path_name text COLLATE "C" NOT NULL,
                    occurred_at bigint NOT NULL,
                    received_at bigint NOT NULL,
                    node text,
                    payload jsonb NOT NULL
                )
                """,
                // `history`, newest first (ties: last stored first, as SQLite's rowid order).
                "CREATE INDEX hook_events_path_time ON hook_events (path_name, occurred_at, id)",
                // `pruneHistory`.
                "CREATE INDEX hook_events_received ON hook_events (received_at)",
                """
                CREATE TABLE path_status (
                    path_name text COLLATE "C" PRIMARY KEY,
                    available boolean NOT NULL DEFAULT false,
                    available_at bigint,
                    online boolean NOT NULL DEFAULT false,
                    online_at bigint,
                    source_type text,
                    source_id text
                )
                """,
                // `reconcileStates`' paths indexed as available.
                "CREATE INDEX path_status_available ON path_status (available_at) WHERE available",
                """
                CREATE TABLE path_readers (
                    path_name text COLLATE "C" NOT NULL,
                    reader_id text NOT NULL,
                    reader_type text,
                    active boolean NOT NULL,
                    changed_at bigint NOT NULL,
                    PRIMARY KEY (path_name, reader_id)
                )
                """,
                // A path's active readers (`pathStates`), read from the index alone.
                "CREATE INDEX path_readers_active ON path_readers (path_name) INCLUDE (reader_id, reader_type) WHERE active",
                """
                CREATE TABLE segments (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    path_name text COLLATE "C" NOT NULL,
                    file_path text,
                    start bigint NOT NULL,
                    duration double precision,
                    size bigint,
                    state text NOT NULL CHECK (state IN ('recording', 'complete', 'deleted')),
                    updated_at bigint NOT NULL,
                    UNIQUE (path_name, start)
                )
                """,
                // Covers range counts: a time-range query reads only this index.
                "CREATE INDEX segments_path_range ON segments (path_name, start) INCLUDE (duration, state)",
                // `isRecording`: the open segments, a handful.
                "CREATE INDEX segments_recording ON segments (path_name) WHERE state = 'recording'",
                // Recording sessions that started and have not been reported as ended (webhook events).
                """
                CREATE TABLE webhook_open_sessions (
                    path_name text COLLATE "C" PRIMARY KEY,
                    start bigint NOT NULL
                )
                """,
            ]
        )
    ]

    /// `v8_apply_events`: the state change of each indexed event, applied in the database, in order, one call per
    /// batch (a statement per event from the companion was a round trip per event). The same conditional upserts as
    /// SQLite's (`AppDatabase+Index.swift`): a state only moves to an event at least as recent as the one that set it.
    static let ingestMigrations: [(name: String, statements: [String])] = [
        (
            "v8_apply_events",
            [
                """
                CREATE FUNCTION mtx_apply_events(batch jsonb, now_us bigint) RETURNS void LANGUAGE plpgsql AS $$
                DECLARE
                    e record;
                BEGIN
                    FOR e IN
                        SELECT * FROM jsonb_to_recordset(batch) AS r (
                            n int, type text, path text, at bigint, source_type text, source_id text, reader_type text, reader_id text,
                            file_path text, start bigint, duration double precision, size bigint)
                        ORDER BY n
                    LOOP
                        IF e.type IN ('available', 'unavailable') THEN
                            INSERT INTO path_status AS s (path_name, available, available_at, source_type, source_id)
                            VALUES (e.path, e.type = 'available', e.at, e.source_type, e.source_id)
                            ON CONFLICT (path_name) DO UPDATE SET available = EXCLUDED.available, available_at = EXCLUDED.available_at,
                                source_type = CASE WHEN EXCLUDED.available THEN EXCLUDED.source_type ELSE s.source_type END,
                                source_id = CASE WHEN EXCLUDED.available THEN EXCLUDED.source_id ELSE s.source_id END
                            WHERE s.available_at IS NULL OR s.available_at <= EXCLUDED.available_at;
                            IF e.type = 'unavailable' THEN
                                -- Readers end with the stream.
                                UPDATE path_readers SET active = false, changed_at = e.at
                                WHERE path_name = e.path AND active AND changed_at <= e.at;
                            END IF;
                        ELSIF e.type IN ('online', 'offline') THEN
                            INSERT INTO path_status AS s (path_name, online, online_at) VALUES (e.path, e.type = 'online', e.at)
                            ON CONFLICT (path_name) DO UPDATE SET online = EXCLUDED.online, online_at = EXCLUDED.online_at
                            WHERE s.online_at IS NULL OR s.online_at <= EXCLUDED.online_at;
                        ELSIF e.type IN ('read', 'unread') THEN
                            -- A read older than the stream's last coming up or going down is already over (PathStatusModel).
                            INSERT INTO path_readers AS r (path_name, reader_id, reader_type, active, changed_at)
                            VALUES (e.path, e.reader_id, e.reader_type,
                                e.type = 'read' AND NOT EXISTS (SELECT 1 FROM path_status WHERE path_name = e.path AND available_at > e.at),
                                e.at)
                            ON CONFLICT (path_name, reader_id) DO UPDATE SET active = EXCLUDED.active, changed_at = EXCLUDED.changed_at,
                                reader_type = coalesce(EXCLUDED.reader_type, r.reader_type)
                            WHERE r.changed_at <= EXCLUDED.changed_at;
                        ELSIF e.type IN ('segment-create', 'segment-complete') AND e.start IS NOT NULL THEN
                            INSERT INTO segments AS g (path_name, file_path, start, duration, size, state, updated_at)
                            VALUES (e.path, e.file_path, e.start, e.duration, e.size,
                                CASE WHEN e.type = 'segment-complete' THEN 'complete' ELSE 'recording' END, now_us)
                            ON CONFLICT (path_name, start) DO UPDATE SET
                                file_path = coalesce(EXCLUDED.file_path, g.file_path),
                                duration = coalesce(EXCLUDED.duration, g.duration),
                                size = greatest(coalesce(EXCLUDED.size, 0), coalesce(g.size, 0)),
                                state = CASE WHEN g.state = 'deleted' THEN 'deleted'
                                    WHEN EXCLUDED.state = 'complete' OR g.state = 'complete' THEN 'complete' ELSE 'recording' END,
                                updated_at = EXCLUDED.updated_at;
                        END IF;
                    END LOOP;
                END
                $$
                """
            ]
        )
    ]

    /// The first key of the per-path advisory locks (`pg_advisory_xact_lock(int4, int4)`, the second key being
    /// `hashtext(path)`'s bucket): a key space of its own, apart from the migration lock's int8 key.
    static let pathLockSpace: Int32 = 0x6D74_7869

    /// Paths share this many locks (by hash): a transaction holds at most this many, however many paths its batch
    /// has (PostgreSQL's lock table is bounded); two paths in one bucket only wait for each other.
    static let pathLockBuckets: Int32 = 4096

    /// Takes the transaction-scoped advisory lock of every path, in one order (by key) so that two transactions
    /// locking overlapping paths cannot deadlock. Held until commit: the writes of one path are serialised across
    /// every instance, so a rule that reads before it writes (recording sessions, readers of a stream that went down)
    /// reads what the previous writer committed.
    func lockPaths(_ paths: some Collection<String>, on connection: PostgresConnection) async throws {
        guard !paths.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(Array(Set(paths)))
        _ = try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(Self.locking(paths: "$1"))", binds: binds), logger: logger).collect()
    }

    /// The expression that takes the locks of the paths in the text[] parameter `paths` (a `$n`) and counts them.
    static func locking(paths: String) -> String {
        """
        (SELECT count(pg_advisory_xact_lock(\(pathLockSpace), k.h))
        FROM (SELECT DISTINCT hashtext(p) & \(pathLockBuckets - 1) AS h FROM unnest(\(paths)::text[]) AS p ORDER BY h) AS k)
        """
    }
}

extension PostgresCatalog: IndexStore {
    // MARK: - Ingest

    public func ingest(_ events: [IngestEvent], receivedAt: Int64, sessionGap: Int64) async throws -> IngestResult {
        try await ingest(groups: [events], receivedAt: receivedAt, sessionGap: sessionGap)[0]
    }

    /// One transaction, a handful of statements whatever the batch's size: the paths' advisory locks and the history
    /// rows in one (`ON CONFLICT DO NOTHING`: a duplicate changes nothing, within the batch too); the state changes
    /// of the accepted events, in order, by `mtx_apply_events` (one call for each run of events whose webhook events
    /// need nothing read from the index; an event that does, a recording's start or a stream going down, reads its
    /// facts between runs, as on SQLite); and, when the batch made webhook events, the enabled subscriptions, then
    /// every delivery of the batch in one insert, in event order.
    public func ingest(groups: [[IngestEvent]], receivedAt: Int64, sessionGap: Int64) async throws -> [IngestResult] {
        try await client.withTransaction(logger: logger) { connection in
            let stored = try await record(groups.flatMap { $0 }, receivedAt: receivedAt, on: connection)
            var first = Set<String>()
            var run: [IngestEvent] = []
            var outgoing: [(group: Int, path: String, event: WebhookEvents.Outgoing)] = []
            var results: [IngestResult] = []
            for (group, events) in groups.enumerated() {
                var result = IngestResult()
                for e in events {
                    // The first occurrence of an id the insert stored is accepted; any other is a duplicate.
                    guard stored.contains(e.eventID), first.insert(e.eventID).inserted else {
                        result.duplicates += 1
                        result.duplicatesByType[e.type, default: 0] += 1
                        continue
                    }
                    result.accepted += 1
                    result.acceptedIDs.append(e.eventID)
                    let made: [WebhookEvents.Outgoing]
                    if WebhookEvents.needs(e.type) == .nothing {
                        made = WebhookEvents.of(e, facts: .init(), sessionGap: sessionGap).events
                    } else {
                        // Its facts are what the events before it made of the index. Worked out even with no
                        // subscriber, so the open-session marks stay right for later ones.
                        try await apply(run, on: connection, now: receivedAt)
                        run = []
                        made = try await webhookEvents(for: e, on: connection, sessionGap: sessionGap)
                    }
                    run.append(e)
                    outgoing += made.map { (group, e.path, $0) }
                }
                results.append(result)
            }
            try await apply(run, on: connection, now: receivedAt)
            let subscribers = outgoing.isEmpty ? [] : try await subscribers(on: connection)
            for (group, count) in try await enqueue(outgoing, to: subscribers, on: connection, now: receivedAt) {
                results[group].webhooks += count
            }
            return results
        }
    }

    /// Takes the advisory locks of the events' paths (`lockPaths`, before any row is written: the lock count is an
    /// init plan) and stores their history rows, in order, in one statement; returns the ids it stored (not those
    /// stored before).
    func record(_ events: [IngestEvent], receivedAt: Int64, on connection: PostgresConnection) async throws -> Set<String> {
        guard !events.isEmpty else { return [] }
        struct Row: Encodable {
            var n: Int, event_id: String, type: String, path: String, at: Int64, node: String?, payload: String
        }
        let rows = try String(
            decoding: JSONEncoder().encode(
                events.enumerated().map {
                    Row(n: $0, event_id: $1.eventID, type: $1.type.rawValue, path: $1.path, at: $1.occurredAt, node: $1.node, payload: $1.payload)
                }), as: UTF8.self)
        var binds = PostgresBindings()
        binds.append(rows)
        binds.append(receivedAt)
        binds.append(Array(Set(events.map(\.path))))
        let sql = """
            INSERT INTO hook_events (event_id, type, path_name, occurred_at, received_at, node, payload)
            SELECT event_id, type, path, at, $2, node, payload::jsonb
            FROM jsonb_to_recordset($1::jsonb) AS r (n int, event_id text, type text, path text, at int8, node text, payload text)
            WHERE \(Self.locking(paths: "$3")) >= 0
            ORDER BY n
            ON CONFLICT (event_id) DO NOTHING RETURNING event_id
            """
        return try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).decode(String.self).reduce(into: Set<String>())
        { $0.insert($1) }
    }

    /// Applies accepted events to the paths' state and segments, in order, in one call of `mtx_apply_events`.
    func apply(_ events: [IngestEvent], on connection: PostgresConnection, now: Int64) async throws {
        guard !events.isEmpty else { return }
        struct Row: Encodable {
            var n: Int, type: String, path: String, at: Int64
            var source_type: String?, source_id: String?, reader_type: String?, reader_id: String?
            var file_path: String?, start: Int64?, duration: Double?, size: Int64?
        }
        let rows = try String(
            decoding: JSONEncoder().encode(
                events.enumerated().map { n, e in
                    Row(
                        n: n, type: e.type.rawValue, path: e.path, at: e.occurredAt, source_type: e.sourceType, source_id: e.sourceID,
                        reader_type: e.readerType, reader_id: e.readerID, file_path: e.segment?.filePath, start: e.segment?.start,
                        duration: e.segment?.duration, size: e.segment?.size)
                }), as: UTF8.self)
        try await connection.query("SELECT mtx_apply_events(\(rows)::jsonb, \(now))", logger: logger)
    }

    // MARK: - Webhook events inside the ingest transaction

    typealias Subscriber = (id: UUID, events: Set<String>, sourceIDs: Set<String>?)

    /// The enabled subscriptions, read once per ingest transaction.
    func subscribers(on connection: PostgresConnection) async throws -> [Subscriber] {
        var subscribers: [Subscriber] = []
        let rows = try await connection.query("SELECT id, events, source_ids FROM webhook_subscriptions WHERE enabled", logger: logger)
        for try await (id, wanted, sources) in rows.decode((UUID, [String], [UUID]?).self) {
            subscribers.append((id, Set(wanted), sources.map { Set($0.map { $0.uuidString.lowercased() }) }))
        }
        return subscribers
    }

    /// The webhook events one newly indexed hook event makes (the rule is `WebhookEvents`), worked out before `apply`
    /// changes the index; the path's open recording session moves as the rule says. The path's advisory lock is held,
    /// so what is read here is what the previous writer of the path committed.
    func webhookEvents(for e: IngestEvent, on connection: PostgresConnection, sessionGap: Int64) async throws -> [WebhookEvents.Outgoing] {
        var facts = WebhookEvents.Facts()
        switch WebhookEvents.needs(e.type) {
        case .nothing:
            break
        case .openSession:
            facts.openSession = try await openSession(e.path, on: connection)
        case .segmentHistory:
            guard let s = e.segment else { break }
            let known = try await connection.query(
                "SELECT 1 FROM segments WHERE path_name = \(e.path) AND start = \(s.start)", logger: logger
            ).collect()
            facts.segmentKnown = !known.isEmpty
            guard !facts.segmentKnown else { break }
            facts.openSession = try await openSession(e.path, on: connection)
            let previous = try await connection.query(
                """
                SELECT start, duration FROM segments WHERE path_name = \(e.path) AND start < \(s.start) AND state <> 'deleted'
                ORDER BY start DESC LIMIT 1
                """, logger: logger)
            for try await (start, duration) in previous.decode((Int64, Double?).self) {
                facts.previousSegmentEnd = start + Int64(((duration ?? 0) * 1_000_000).rounded())
            }
        }
        let (events, session) = WebhookEvents.of(e, facts: facts, sessionGap: sessionGap)
        switch session {
        case .keep:
            break
        case .close:
            try await connection.query("DELETE FROM webhook_open_sessions WHERE path_name = \(e.path)", logger: logger)
        case .open(let start):
            try await connection.query(
                """
                INSERT INTO webhook_open_sessions (path_name, start) VALUES (\(e.path), \(start))
                ON CONFLICT (path_name) DO UPDATE SET start = EXCLUDED.start
                """, logger: logger)
        }
        return events
    }

    func openSession(_ path: String, on connection: PostgresConnection) async throws -> Int64? {
        var start: Int64?
        for try await value in try await connection.query("SELECT start FROM webhook_open_sessions WHERE path_name = \(path)", logger: logger)
            .decode(Int64.self)
        {
            start = value
        }
        return start
    }

    /// Writes one outbox row per subscriber that wants each webhook event for its path's source, in one insert, in
    /// the events' order (per-stream order); returns how many rows each group made.
    func enqueue(
        _ outgoing: [(group: Int, path: String, event: WebhookEvents.Outgoing)], to subscribers: [Subscriber], on connection: PostgresConnection,
        now: Int64
    ) async throws -> [Int: Int] {
        guard !outgoing.isEmpty, !subscribers.isEmpty else { return [:] }
        var sources: [String: (id: String, name: String)] = [:]
        let rows = try await connection.query(
            "SELECT path_name, id, name FROM media_sources WHERE path_name = ANY(\(Array(Set(outgoing.map(\.path))))::text[])", logger: logger)
        for try await (path, id, name) in rows.decode((String, UUID, String).self) {
            sources[path] = (id.uuidString.lowercased(), name)
        }
        var subscriptions: [UUID] = [], ids: [String] = [], types: [String] = [], keys: [String] = [], payloads: [String] = []
        var counts: [Int: Int] = [:]
        for (group, path, w) in outgoing {
            let source = sources[path]
            let matching = subscribers.filter {
                WebhookSubscription.wants(events: $0.events, sourceIDs: $0.sourceIDs, type: w.type, sourceID: source?.id)
            }
            guard !matching.isEmpty else { continue }
            let payload = try WebhookPayload(
                id: w.id, type: w.type, occurredAt: w.at, source: .init(id: source?.id, name: source?.name, path_name: path), data: w.data
            ).json()
            for s in matching {
                subscriptions.append(s.id)
                ids.append(w.id)
                types.append(w.type)
                keys.append(path)
                payloads.append(payload)
            }
            counts[group, default: 0] += matching.count
        }
        guard !subscriptions.isEmpty else { return counts }
        try await connection.query(
            """
            INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_key, payload, state, next_attempt_at, created_at)
            SELECT s, e, t, k, p::jsonb, 'pending', \(now), \(now)
            FROM unnest(\(subscriptions)::uuid[], \(ids)::text[], \(types)::text[], \(keys)::text[], \(payloads)::text[])
                WITH ORDINALITY AS d (s, e, t, k, p, n)
            ORDER BY n
            """, logger: logger)
        return counts
    }

    // MARK: - Reads

    public func pathState(_ path: String) async throws -> PathState {
        try await pathStates([path])[path] ?? .idle(path)
    }

    public func pathStates(_ paths: [String]) async throws -> [String: PathState] {
        guard !paths.isEmpty else { return [:] }
        var out: [String: PathState] = [:]
        let status = try await client.query(
            """
            SELECT path_name, available, available_at, online, online_at, source_type, source_id FROM path_status
            WHERE path_name = ANY(\(paths)::text[])
            """, logger: logger)
        for try await c in status.decode((String, Bool, Int64?, Bool, Int64?, String?, String?).self) {
            out[c.0] = PathState(
                pathName: c.0, available: c.1, availableSince: c.2, online: c.3, onlineSince: c.4, sourceType: c.5, sourceID: c.6, readers: [:])
        }
        let readers = try await client.query(
            "SELECT path_name, reader_id, reader_type FROM path_readers WHERE active AND path_name = ANY(\(paths)::text[])", logger: logger)
        for try await (path, id, type) in readers.decode((String, String, String?).self) {
            out[path, default: .idle(path)].readers[id] = type ?? ""
        }
        return out
    }

    static let segmentColumns = "id, path_name, file_path, start, duration, size, state"

    func fetchSegments(_ query: PostgresQuery) async throws -> [Segment] {
        var out: [Segment] = []
        for try await c in try await client.query(query, logger: logger).decode((Int64, String, String?, Int64, Double?, Int64?, String).self) {
            out.append(
                Segment(id: c.0, pathName: c.1, filePath: c.2, start: c.3, duration: c.4, size: c.5, state: SegmentState(rawValue: c.6) ?? .complete))
        }
        return out
    }

    /// The conditions of a range query, binds appended to `bindings`. Where the range scan starts: a path's segments
    /// follow each other, so only the last couple that started before `from` can reach into it (a subquery the
    /// planner runs once); across all paths, segments are at most a day. The end is computed as SQLite's
    /// `CAST(duration * 1000000 AS INTEGER)` does (truncated).
    func rangeConditions(path: String?, from: Int64?, to: Int64?, into bindings: inout PostgresBindings) -> [String] {
        var conditions: [String] = []
        if let path {
            bindings.append(path)
            conditions.append("path_name = $\(bindings.count)")
        }
        if let to {
            bindings.append(to)
            conditions.append("start < $\(bindings.count)")
        }
        if let from {
            bindings.append(from)
            let f = "$\(bindings.count)"
            let lower =
                path == nil
                ? "\(f) - 86400000000"
                : """
                coalesce((SELECT min(b.start) FROM (SELECT start FROM segments WHERE path_name = $1 AND start < \(f)
                    ORDER BY start DESC LIMIT 2) AS b), \(f))
                """
            conditions.append("start >= \(lower) AND (duration IS NULL OR start + trunc(duration * 1000000)::bigint > \(f))")
        }
        return conditions
    }

    /// The total and the page in one statement (one round trip): the count from the covering index, the page from
    /// the range, each on its own plan.
    public func segments(_ query: SegmentQuery) async throws -> Page<Segment> {
        var bindings = PostgresBindings()
        var conditions = rangeConditions(path: query.path, from: query.from, to: query.to, into: &bindings)
        if !query.includeDeleted { conditions.append("state <> 'deleted'") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        bindings.append(query.pageSize)
        bindings.append((query.page - 1) * query.pageSize)
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT t.total, p.id, p.path_name, p.file_path, p.start, p.duration, p.size, p.state
                    FROM (SELECT count(*) AS total FROM segments \(filter)) AS t
                    LEFT JOIN LATERAL (
                        SELECT \(Self.segmentColumns) FROM segments \(filter) ORDER BY path_name, start
                        LIMIT $\(bindings.count - 1) OFFSET $\(bindings.count)
                    ) AS p ON true
                    ORDER BY p.path_name, p.start
                    """, binds: bindings), logger: logger)
        var total = 0
        var items: [Segment] = []
        for try await c in rows.decode((Int, Int64?, String?, String?, Int64?, Double?, Int64?, String?).self) {
            total = c.0
            guard let id = c.1, let path = c.2, let start = c.4, let state = c.7 else { continue }
            items.append(
                Segment(
                    id: id, pathName: path, filePath: c.3, start: start, duration: c.5, size: c.6, state: SegmentState(rawValue: state) ?? .complete))
        }
        return Page(items: items, total: total)
    }

    public func allSegments(path: String, from: Int64?, to: Int64?) async throws -> [Segment] {
        var bindings = PostgresBindings()
        let conditions = rangeConditions(path: path, from: from, to: to, into: &bindings) + ["state <> 'deleted'"]
        return try await fetchSegments(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.segmentColumns) FROM segments WHERE \(conditions.joined(separator: " AND ")) ORDER BY start",
                binds: bindings))
    }

    public func segmentBatch(after cursor: SegmentCursor?, paths: [String]?, from: Int64?, to: Int64?, limit: Int) async throws -> [Segment] {
        if let paths, paths.isEmpty { return [] }
        var bindings = PostgresBindings()
        var conditions = ["state <> 'deleted'"]
        if let cursor {
            bindings.append(cursor.path)
            bindings.append(cursor.start)
            conditions.append("(path_name, start) > ($\(bindings.count - 1), $\(bindings.count))")
        }
        if let paths {
            bindings.append(paths)
            conditions.append("path_name = ANY($\(bindings.count))")
        }
        if let to {
            bindings.append(to)
            conditions.append("start < $\(bindings.count)")
        }
        if let from {
            bindings.append(from)
            conditions.append("(duration IS NULL OR start + trunc(duration * 1000000)::bigint > $\(bindings.count))")
        }
        bindings.append(limit)
        return try await fetchSegments(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.segmentColumns) FROM segments WHERE \(conditions.joined(separator: " AND "))
                    ORDER BY path_name, start LIMIT $\(bindings.count)
                    """, binds: bindings))
    }

    public func isRecording(path: String) async throws -> Bool {
        try await !client.query("SELECT 1 FROM segments WHERE path_name = \(path) AND state = 'recording' LIMIT 1", logger: logger).collect()
            .isEmpty
    }

    public func history(path: String, limit: Int, before: Int64?) async throws -> [HistoryEvent] {
        let rows = try await client.query(
            """
            SELECT event_id, type, path_name, occurred_at, node, payload::text FROM hook_events
            WHERE path_name = \(path) AND (\(before)::int8 IS NULL OR occurred_at < \(before))
            ORDER BY occurred_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        var out: [HistoryEvent] = []
        for try await c in rows.decode((String, String, String, Int64, String?, String).self) {
            out.append(HistoryEvent(eventID: c.0, type: c.1, pathName: c.2, occurredAt: c.3, node: c.4, payload: c.5))
        }
        return out
    }

    // MARK: - Reconciliation

    /// Under the advisory locks of every path it may touch, so an event ingested meanwhile by another instance is
    /// either committed before (and its newer state kept) or waits for this transaction.
    public func reconcileStates(_ observed: [AppDatabase.ObservedPath], at: Int64) async throws -> [String] {
        try await client.withTransaction(logger: logger) { connection in
            var seen: [String: AppDatabase.ObservedPath] = [:]
            for o in observed where seen[o.path] == nil { seen[o.path] = o }
            let staleAvailable = try await connection.query(
                "SELECT path_name FROM path_status WHERE available AND available_at < \(at) ORDER BY path_name", logger: logger
            ).decode(String.self).reduce(into: [String]()) { $0.append($1) }
            let unseen = staleAvailable.filter { seen[$0] == nil }
            try await lockPaths(unseen + observed.map(\.path), on: connection)
            var healed: [String] = []
            for path in unseen {
                // Checked again under the lock: an instance may have indexed a newer event meanwhile.
                let updated = try await connection.query(
                    """
                    UPDATE path_status SET available = false, online = false, available_at = \(at), online_at = \(at)
                    WHERE path_name = \(path) AND available AND available_at < \(at) RETURNING 1
                    """, logger: logger
                ).collect()
                guard !updated.isEmpty else { continue }
                try await connection.query(
                    "UPDATE path_readers SET active = false, changed_at = \(at) WHERE path_name = \(path) AND active AND changed_at < \(at)",
                    logger: logger)
                healed.append(path)
            }
            for o in observed {
                var indexed = false
                var since: Int64?
                for try await (available, availableAt) in try await connection.query(
                    "SELECT available, available_at FROM path_status WHERE path_name = \(o.path)", logger: logger
                ).decode((Bool, Int64?).self) {
                    indexed = available
                    since = availableAt
                }
                if indexed != o.available, (since ?? Int64.min) < at {
                    try await connection.query(
                        """
                        INSERT INTO path_status (path_name, available, available_at, online, online_at, source_type, source_id)
                        VALUES (\(o.path), \(o.available), \(at), \(o.available), \(at), \(o.sourceType), \(o.sourceID))
                        ON CONFLICT (path_name) DO UPDATE SET available = EXCLUDED.available, available_at = EXCLUDED.available_at,
                            online = EXCLUDED.online, online_at = EXCLUDED.online_at, source_type = EXCLUDED.source_type,
                            source_id = EXCLUDED.source_id
                        """, logger: logger)
                    healed.append(o.path)
                }
                let active = try await connection.query(
                    "SELECT reader_id FROM path_readers WHERE path_name = \(o.path) AND active", logger: logger
                ).decode(String.self).reduce(into: Set<String>()) { $0.insert($1) }
                if active != Set(o.readers.keys) {
                    try await connection.query(
                        """
                        UPDATE path_readers SET active = false, changed_at = \(at)
                        WHERE path_name = \(o.path) AND active AND changed_at < \(at)
                        """, logger: logger)
                    for (id, type) in o.readers {
                        try await connection.query(
                            """
                            INSERT INTO path_readers AS r (path_name, reader_id, reader_type, active, changed_at)
                            VALUES (\(o.path), \(id), \(type), true, \(at))
                            ON CONFLICT (path_name, reader_id) DO UPDATE SET active = true, changed_at = EXCLUDED.changed_at
                            WHERE r.changed_at < EXCLUDED.changed_at
                            """, logger: logger)
                    }
                    if !healed.contains(o.path) { healed.append(o.path) }
                }
            }
            return healed
        }
    }

    public func reconcileSegments(path: String, starts: [Int64], olderThan: Int64, now: Int64) async throws -> (added: Int, deleted: Int) {
        try await client.withTransaction(logger: logger) { connection in
            try await lockPaths([path], on: connection)
            let added = try await connection.query(
                """
                INSERT INTO segments (path_name, start, state, updated_at)
                SELECT \(path), s, 'complete', \(now) FROM (SELECT DISTINCT s FROM unnest(\(starts)::int8[]) AS s ORDER BY s) AS listed
                ON CONFLICT (path_name, start) DO NOTHING RETURNING 1
                """, logger: logger
            ).collect().count
            // One statement per segment: the sessions trigger moves a session per removal, looking at the neighbours as
            // they are after it.
            let gone = try await connection.query(
                """
                SELECT start FROM segments
                WHERE path_name = \(path) AND state <> 'deleted' AND start < \(olderThan) AND NOT (start = ANY(\(starts)::int8[]))
                ORDER BY start
                """, logger: logger
            ).decode(Int64.self).reduce(into: [Int64]()) { $0.append($1) }
            for start in gone {
                try await connection.query(
                    "UPDATE segments SET state = 'deleted', updated_at = \(now) WHERE path_name = \(path) AND start = \(start)", logger: logger)
            }
            return (added, gone.count)
        }
    }

    /// Group-commit loops writing at once (`IngestQueue`): one transaction is written while the next fills up. More
    /// loops made smaller transactions, more statements per event, at the same rate (`mtx-bench backends`); the
    /// per-path advisory locks order the writes that must be ordered.
    public var ingestWriters: Int { 2 }

    /// Rows sorted by (path, start), so that two imports of overlapping segments take their key locks in one order.

    public func insertSegments(_ rows: [(path: String, start: Int64, duration: Double, size: Int64)]) async throws {
        guard !rows.isEmpty else { return }
        let sorted = rows.sorted { $0.path != $1.path ? $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) : $0.start < $1.start }
        let now = Date().micros
        try await client.withTransaction(logger: logger) { connection in
            let paths = Array(Set(sorted.map(\.path)))
            try await lockPaths(paths, on: connection)
            // Sessions are rebuilt once at the end, not moved row by row.
            try await connection.query("SET LOCAL mtx.bulk_segments = 'on'", logger: logger)
            var start = sorted.startIndex
            while start < sorted.endIndex {
                let chunk = sorted[start..<min(start + 10_000, sorted.endIndex)]
                try await connection.query(
                    """
                    INSERT INTO segments (path_name, start, duration, size, state, updated_at)
                    SELECT p, s, d, z, 'complete', \(now)
                    FROM unnest(\(chunk.map(\.path))::text[], \(chunk.map(\.start))::int8[], \(chunk.map(\.duration))::float8[], \(chunk.map(\.size))::int8[])
                        AS r (p, s, d, z)
                    ON CONFLICT (path_name, start) DO NOTHING
                    """, logger: logger)
                start = chunk.endIndex
            }
            try await connection.query("SET LOCAL mtx.bulk_segments = 'off'", logger: logger)
            try await rebuildSessions(paths: paths, on: connection)
        }
    }

    @discardableResult
    public func pruneHistory(receivedBefore before: Int64) async throws -> Int {
        // A transaction: the reconciler prunes under its lease (`LeaseFence`).
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                "WITH gone AS (DELETE FROM hook_events WHERE received_at < \(before) RETURNING 1) SELECT count(*) FROM gone", logger: logger
            ).decode(Int.self).reduce(0, +)
        }
    }

    public func pathsWithSegments() async throws -> [String] {
        try await client.query("SELECT DISTINCT path_name FROM segments WHERE state <> 'deleted' ORDER BY path_name", logger: logger)
            .decode(String.self).reduce(into: [String]()) { $0.append($1) }
    }
}
