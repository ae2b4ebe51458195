import Domain
import Foundation
internal import GRDB
import HookWire

extension AppDatabase {
    /// Subscriptions and the outbox. The outbox holds one row per (event, matching subscription), written in the
    /// transaction that indexes the event: each row carries its own delivery state (attempts, next attempt, parked),
    /// so the row is also the delivery log, and the worker's query is one indexed scan with no join.
    static func registerWebhookMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7_webhooks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhook_subscriptions (
                        id TEXT PRIMARY KEY NOT NULL,
                        url TEXT NOT NULL,
                        events TEXT NOT NULL,
                        source_ids TEXT,
                        secret TEXT NOT NULL,
                        previous_secret TEXT,
                        previous_secret_expires_at INTEGER,
                        enabled BOOLEAN NOT NULL,
                        disabled_reason TEXT,
                        failing_since INTEGER,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX webhook_subscriptions_created ON webhook_subscriptions(created_at, id);
                    CREATE TABLE webhook_deliveries (
                        id INTEGER PRIMARY KEY,
                        subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
                        event_id TEXT NOT NULL,
                        event_type TEXT NOT NULL,
                        order_key TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_attempt_at INTEGER,
                        last_status INTEGER,
                        last_error TEXT,
                        last_latency_ms REAL,
                        delivered_at INTEGER
                    );
                    CREATE INDEX webhook_deliveries_log ON webhook_deliveries(subscription_id, id);
                    -- The worker's scan: the oldest pending delivery of each stream of a subscription, found by
                    -- jumping from stream to stream (covering: the scan reads no row).
                    CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(subscription_id, order_key, id, next_attempt_at, state) WHERE state = 'pending';
                    CREATE INDEX webhook_deliveries_done ON webhook_deliveries(created_at) WHERE state <> 'pending';
                    -- Recording sessions that started and have not been reported as ended.
                    CREATE TABLE webhook_open_sessions (
                        path_name TEXT PRIMARY KEY NOT NULL,
                        start INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
    }

    // MARK: - Outbox writes inside the ingest transaction

    /// The enabled subscriptions, read once per ingest transaction (a small table; nothing is read when empty).
    struct Subscriber {
        var id: String
        var events: Set<String>
        var sourceIDs: Set<String>?
    }

    static func subscribers(_ db: Database) throws -> [Subscriber] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT id, events, source_ids FROM webhook_subscriptions WHERE enabled")).map { row in
            Subscriber(id: row["id"], events: Set(decodeList(row["events"])), sourceIDs: (row["source_ids"] as String?).map { Set(decodeList($0)) })
        }
    }

    /// The webhook events one newly indexed hook event makes (the rule is `WebhookEvents`), worked out before
    /// `apply` changes the index; the path's open recording session moves as the rule says.
    static func webhookEvents(for e: IngestEvent, _ db: Database, sessionGap: Int64) throws -> [WebhookEvents.Outgoing] {
        var facts = WebhookEvents.Facts()
        switch WebhookEvents.needs(e.type) {
        case .nothing:
            break
        case .openSession:
            facts.openSession = try openSession(e.path, db)
        case .segmentHistory:
            guard let s = e.segment else { break }
            facts.segmentKnown =
                try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM segments WHERE path_name = ? AND start = ?)"), arguments: [e.path, s.start])
                ?? false
            guard !facts.segmentKnown else { break }
            facts.openSession = try openSession(e.path, db)
            facts.previousSegmentEnd = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT start, duration FROM segments WHERE path_name = ? AND start < ? AND state <> 'deleted' ORDER BY start DESC LIMIT 1"),
                arguments: [e.path, s.start]
            ).map { row -> Int64 in
                let start: Int64 = row["start"]
                let duration: Double? = row["duration"]
                return start + Int64(((duration ?? 0) * 1_000_000).rounded())
            }
        }
        let (events, session) = WebhookEvents.of(e, facts: facts, sessionGap: sessionGap)
        switch session {
        case .keep:
            break
        case .close:
            try db.cachedStatement(sql: "DELETE FROM webhook_open_sessions WHERE path_name = ?").execute(arguments: [e.path])
        case .open(let start):
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO webhook_open_sessions (path_name, start) VALUES (?, ?)").execute(arguments: [
                e.path, start,
            ])
        }
        return events
    }

    static func openSession(_ path: String, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT start FROM webhook_open_sessions WHERE path_name = ?"), arguments: [path])
    }

    /// Writes one outbox row per subscriber that wants `type` for this source.
    static func enqueue(
        id: String, type: String, at: Int64, path: String, source: (id: String, name: String)?, data: [String: WebhookValue],
        to subscribers: [Subscriber], _ db: Database, now: Int64
    ) throws -> Int {
        let matching = subscribers.filter { s in WebhookSubscription.wants(events: s.events, sourceIDs: s.sourceIDs, type: type, sourceID: source?.id)
        }
        guard !matching.isEmpty else { return 0 }
        let payload = try WebhookPayload(
            id: id, type: type, occurredAt: at, source: .init(id: source?.id, name: source?.name, path_name: path), data: data
        ).json()
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_key, payload, state, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
                """)
        for s in matching { try insert.execute(arguments: [s.id, id, type, path, payload, now, now]) }
        return matching.count
    }

    /// The source that manages a path, for the payload's `source`.
    static func sourceOf(path: String, _ db: Database) throws -> (id: String, name: String)? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT id, name FROM media_sources WHERE path_name = ?"), arguments: [path]).map {
            ($0["id"], $0["name"])
        }
    }

    // MARK: - Service events

    /// Writes the outbox rows of service events (`source.created`, …) inside the transaction of the change they
    /// report: the change and its webhooks are stored together, or neither is.
    static func enqueue(_ events: [ServiceEvent], _ db: Database) throws {
        guard !events.isEmpty else { return }
        let subscribers = try subscribers(db)
        guard !subscribers.isEmpty else { return }
        for event in events {
            _ = try enqueue(
                id: UUID().uuidString.lowercased(), type: event.type, at: event.occurredAt, path: event.source.pathName,
                source: (event.source.id.uuidString.lowercased(), event.source.name), data: event.data, to: subscribers, db, now: Date().micros
            )
        }
    }

    // MARK: - Subscriptions

    static func decodeList(_ text: String) -> [String] {
        text.split(separator: ",").map(String.init)
    }

    static func subscription(_ row: Row) throws -> WebhookSubscription {
        guard let id = UUID(uuidString: row["id"]) else { throw CatalogError.notFound }
        return WebhookSubscription(
            id: id, url: row["url"], events: decodeList(row["events"]),
            sourceIDs: (row["source_ids"] as String?).map { decodeList($0).compactMap(UUID.init(uuidString:)) },
            secret: row["secret"], previousSecret: row["previous_secret"], previousSecretExpiresAt: row["previous_secret_expires_at"],
            enabled: row["enabled"], disabledReason: row["disabled_reason"], failingSince: row["failing_since"],
            createdAt: row["created_at"], updatedAt: row["updated_at"]
        )
    }

    static func arguments(_ s: WebhookSubscription) -> StatementArguments {
        [
            s.id.uuidString.lowercased(), s.url, s.events.joined(separator: ","),
            s.sourceIDs.map { $0.map { $0.uuidString.lowercased() }.joined(separator: ",") },
            s.secret, s.previousSecret, s.previousSecretExpiresAt, s.enabled, s.disabledReason, s.failingSince, s.createdAt, s.updatedAt,
        ]
    }

    public func insertSubscription(_ s: WebhookSubscription) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO webhook_subscriptions (id, url, events, source_ids, secret, previous_secret, previous_secret_expires_at,
                        enabled, disabled_reason, failing_since, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: Self.arguments(s))
        }
    }

    /// Writes every field; `CatalogError.notFound` when the subscription is gone.
    public func updateSubscription(_ s: WebhookSubscription) async throws {
        try await writer.write { db in
            var args = Self.arguments(s)
            args += [s.id.uuidString.lowercased()]
            try db.execute(
                sql: """
                    UPDATE webhook_subscriptions SET id = ?, url = ?, events = ?, source_ids = ?, secret = ?, previous_secret = ?,
                        previous_secret_expires_at = ?, enabled = ?, disabled_reason = ?, failing_since = ?, created_at = ?, updated_at = ?
                    WHERE id = ?
                    """, arguments: args)
            if db.changesCount == 0 { throw CatalogError.notFound }
        }
    }

    public func subscription(id: UUID) async throws -> WebhookSubscription? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM webhook_subscriptions WHERE id = ?", arguments: [id.uuidString.lowercased()]).map(
                Self.subscription)
        }
    }

    /// Oldest first.
    public func subscriptions(page: Int, pageSize: Int) async throws -> Page<WebhookSubscription> {
        try await writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_subscriptions") ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_subscriptions ORDER BY created_at, id LIMIT ? OFFSET ?", arguments: [pageSize, (page - 1) * pageSize]
            )
            return Page(items: try rows.map(Self.subscription), total: total)
        }
    }

    /// Deletes the subscription and its deliveries; false when there was none.
    public func deleteSubscription(id: UUID) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM webhook_subscriptions WHERE id = ?", arguments: [id.uuidString.lowercased()])
            return db.changesCount > 0
        }
    }

    // MARK: - Deliveries

    static func delivery(_ row: Row) throws -> WebhookDelivery {
        guard let subscription = UUID(uuidString: row["subscription_id"]) else { throw CatalogError.notFound }
        return WebhookDelivery(
            id: row["id"], subscriptionID: subscription, eventID: row["event_id"], eventType: row["event_type"], orderKey: row["order_key"],
            payload: row["payload"], state: WebhookDeliveryState(rawValue: row["state"]) ?? .failed, attempts: row["attempts"],
            nextAttemptAt: row["next_attempt_at"], createdAt: row["created_at"], lastAttemptAt: row["last_attempt_at"],
            lastStatus: row["last_status"], lastError: row["last_error"], lastLatencyMs: row["last_latency_ms"], deliveredAt: row["delivered_at"]
        )
    }

    /// A subscription's deliveries, newest first; `state` filters.
    public func deliveries(subscriptionID: UUID, state: WebhookDeliveryState?, page: Int, pageSize: Int) async throws -> Page<WebhookDelivery> {
        try await writer.read { db in
            var filter = "subscription_id = ?"
            var arguments: [any DatabaseValueConvertible] = [subscriptionID.uuidString.lowercased()]
            if let state {
                filter += " AND state = ?"
                arguments.append(state.rawValue)
            }
            let total =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries WHERE \(filter)", arguments: StatementArguments(arguments)) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_deliveries WHERE \(filter) ORDER BY id DESC LIMIT ? OFFSET ?",
                arguments: StatementArguments(arguments + [pageSize, (page - 1) * pageSize])
            )
            return Page(items: try rows.map(Self.delivery), total: total)
        }
    }

    /// Queues the delivery's payload again as a new pending delivery (after the subscription's other pending ones
    /// for that stream); the old row stays in the log.
    public func redeliver(id: Int64, now: Int64 = Date().micros) async throws -> WebhookDelivery? {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_key, payload, state, next_attempt_at, created_at)
                    SELECT subscription_id, event_id, event_type, order_key, payload, 'pending', ?, ? FROM webhook_deliveries WHERE id = ?
                    """, arguments: [now, now, id])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM webhook_deliveries WHERE id = ?", arguments: [db.lastInsertedRowID]).map(Self.delivery)
        }
    }

    /// Records a delivery made outside the outbox (a test ping), already attempted.
    public func recordDelivery(subscriptionID: UUID, eventID: String, type: String, payload: String, attempt: WebhookAttempt) async throws
        -> WebhookDelivery
    {
        try await writer.write { db in
            let delivered = attempt.outcome == .delivered
            try db.execute(
                sql: """
                    INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_key, payload, state, attempts, next_attempt_at,
                        created_at, last_attempt_at, last_status, last_error, last_latency_ms, delivered_at)
                    VALUES (?, ?, ?, 'ping', ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    subscriptionID.uuidString.lowercased(), eventID, type, payload, delivered ? "delivered" : "failed", attempt.at, attempt.at,
                    attempt.at, attempt.status, attempt.error, attempt.latencyMs, delivered ? attempt.at : nil,
                ])
            return try Self.delivery(try Row.fetchOne(db, sql: "SELECT * FROM webhook_deliveries WHERE id = ?", arguments: [db.lastInsertedRowID])!)
        }
    }

    /// A pending delivery the worker may take: which stream of which subscription, and when it is due (µs).
    public struct Candidate: Sendable {
        public var id: Int64
        public var subscription: WebhookSubscription
        public var orderKey: String
        public var nextAttemptAt: Int64
        public var streamKey: String { AppDatabase.streamKey(subscription.id, orderKey) }
    }

    /// What the worker has in flight, so the scan reads no more than it can start.
    public struct WorkerLoad: Sendable {
        /// Attempts one subscription may have in flight.
        public var slots: Int
        public var inFlight: [UUID: Int] = [:]
        /// Streams (`streamKey`) with an attempt in flight.
        public var busy: Set<String> = []
        /// Per subscription, the stream taken last: the next scan starts after it, round the streams in turn.
        public var resumeAfter: [UUID: String] = [:]

        public init(slots: Int) {
            self.slots = slots
        }
    }

    /// The deliveries that may go out now, oldest due first, and when the next one not yet due will be (µs): the
    /// heads of a subscription's streams — each stream's oldest pending delivery — that are due and not in flight,
    /// as many as the subscription has free slots. The heads are found by jumping through a covering index from
    /// one stream to the next (index seeks only, no row, no payload), starting after the stream taken last and
    /// wrapping round, so every stream gets its turn, a stream's backlog costs nothing however long, and a stream
    /// that keeps failing holds up only itself. `next` may be left out when deliveries are due (the worker looks
    /// again as each attempt ends).
    public func dueDeliveries(now: Int64, load: WorkerLoad) async throws -> (due: [Candidate], next: Int64?) {
        try await writer.read { db in
            var due: [Candidate] = []
            var next: Int64?
            let subscriptions = try Row.fetchAll(db, sql: "SELECT * FROM webhook_subscriptions WHERE enabled").map(Self.subscription)
            let heads = try db.cachedStatement(
                sql: """
                    WITH RECURSIVE streams(key) AS (
                        SELECT (SELECT order_key FROM webhook_deliveries WHERE subscription_id = ?1 AND state = 'pending' AND order_key > ?2
                                ORDER BY order_key LIMIT 1)
                        UNION ALL
                        SELECT (SELECT order_key FROM webhook_deliveries WHERE subscription_id = ?1 AND state = 'pending' AND order_key > streams.key
                                ORDER BY order_key LIMIT 1)
                        FROM streams WHERE streams.key IS NOT NULL
                    )
                    SELECT key,
                        (SELECT id FROM webhook_deliveries WHERE subscription_id = ?1 AND state = 'pending' AND order_key = streams.key ORDER BY id LIMIT 1),
                        (SELECT next_attempt_at FROM webhook_deliveries WHERE subscription_id = ?1 AND state = 'pending' AND order_key = streams.key
                            ORDER BY id LIMIT 1)
                    FROM streams WHERE key IS NOT NULL
                    """)
            for s in subscriptions {
                let wanted = load.slots - load.inFlight[s.id, default: 0]
                guard wanted > 0 else { continue }
                var found = 0
                let resume = load.resumeAfter[s.id]
                // After the stream taken last to the end, then from the start up to it.
                var passes: [(from: String, upTo: String?)] = [(resume ?? "", nil)]
                if let resume { passes.append(("", resume)) }
                scan: for (from, upTo) in passes {
                    let rows = try Row.fetchCursor(heads, arguments: [s.id.uuidString.lowercased(), from])
                    while let row = try rows.next() {
                        let key: String = row[0], id: Int64 = row[1], at: Int64 = row[2]
                        if let upTo, key > upTo { break }
                        if load.busy.contains(Self.streamKey(s.id, key)) { continue }
                        if at > now {
                            next = min(next ?? at, at)
                            continue
                        }
                        due.append(Candidate(id: id, subscription: s, orderKey: key, nextAttemptAt: at))
                        found += 1
                        if found == wanted { break scan }
                    }
                }
            }
            due.sort { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
            return (due, next)
        }
    }

    /// The pending deliveries among `ids` (one read; those no longer pending are left out).
    public func pendingDeliveries(ids: [Int64]) async throws -> [WebhookDelivery] {
        guard !ids.isEmpty else { return [] }
        return try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_deliveries WHERE id IN (\(databaseQuestionMarks(count: ids.count))) AND state = 'pending'",
                arguments: StatementArguments(ids)
            ).map(Self.delivery)
        }
    }

    /// Ordering unit of deliveries: one subscription, one stream.
    public static func streamKey(_ subscription: UUID, _ orderKey: String) -> String {
        subscription.uuidString.lowercased() + " " + orderKey
    }

    /// Stores attempts' outcomes (one transaction) and each subscription's failure run: a success clears it;
    /// failing for longer than `disableAfter` (µs) turns the subscription off with `disabled_reason = failing`.
    public func recordAttempts(_ attempts: [(WebhookDelivery, WebhookAttempt)], disableAfter: Int64) async throws {
        try await writer.write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ?, last_status = ?,
                        last_error = ?, last_latency_ms = ?, delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
                    WHERE id = ?
                    """)
            for (delivery, attempt) in attempts {
                let state: String, next: Int64
                switch attempt.outcome {
                case .delivered: (state, next) = ("delivered", attempt.at)
                case .retry(let at): (state, next) = ("pending", at)
                case .failed: (state, next) = ("failed", attempt.at)
                }
                try update.execute(arguments: [
                    state, next, attempt.at, attempt.status, attempt.error, attempt.latencyMs, state, attempt.at, delivery.id,
                ])
                let subscription = delivery.subscriptionID.uuidString.lowercased()
                if attempt.outcome == .delivered {
                    try db.cachedStatement(sql: "UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL")
                        .execute(arguments: [subscription])
                } else {
                    try db.cachedStatement(sql: "UPDATE webhook_subscriptions SET failing_since = ? WHERE id = ? AND failing_since IS NULL")
                        .execute(arguments: [attempt.at, subscription])
                    try db.cachedStatement(
                        sql: """
                            UPDATE webhook_subscriptions SET enabled = 0, disabled_reason = ?, updated_at = ?
                            WHERE id = ? AND enabled AND failing_since <= ?
                            """
                    ).execute(arguments: [WebhookSubscription.disabledFailing, attempt.at, subscription, attempt.at - disableAfter])
                }
            }
        }
    }

    /// Drops finished deliveries (delivered or parked) created before `before` (µs).
    @discardableResult
    public func pruneDeliveries(createdBefore before: Int64) async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < ?", arguments: [before])
            return db.changesCount
        }
    }
}
