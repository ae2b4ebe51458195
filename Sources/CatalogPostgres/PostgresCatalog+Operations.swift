import Catalog
import Domain
import Foundation
import PostgresNIO

extension PostgresCatalog {
    /// Each source's own retention: SQLite's `v6_source_retention`. It goes with its source (ON DELETE CASCADE).
    static let operationsMigrations: [(name: String, statements: [String])] = [
        (
            "v6_source_retention",
            [
                """
                CREATE TABLE source_retention (
                    source_id uuid PRIMARY KEY REFERENCES media_sources (id) ON DELETE CASCADE,
                    days integer NOT NULL CHECK (days >= 0)
                )
                """
            ]
        )
    ]
}

extension PostgresCatalog: RetentionStore {
    public func retentionDays(sourceID: UUID) async throws -> Int? {
        try await client.query("SELECT days FROM source_retention WHERE source_id = \(sourceID)", logger: logger).decode(Int.self)
            .reduce(nil) { _, days in days }
    }

    public func setRetentionDays(sourceID: UUID, _ days: Int?) async throws {
        if let days {
            try await client.query(
                """
                INSERT INTO source_retention (source_id, days) VALUES (\(sourceID), \(days))
                ON CONFLICT (source_id) DO UPDATE SET days = excluded.days
                """, logger: logger)
        } else {
            try await client.query("DELETE FROM source_retention WHERE source_id = \(sourceID)", logger: logger)
        }
    }

    public func retentionOverrides() async throws -> [UUID: Int] {
        var out: [UUID: Int] = [:]
        for try await (id, days) in try await client.query("SELECT source_id, days FROM source_retention", logger: logger).decode((UUID, Int).self) {
            out[id] = days
        }
        return out
    }
}

extension PostgresCatalog: WebhookOutboxStore {
    static let outboxDeliveryColumns = """
        id, subscription_id, event_id, event_type, order_key, payload::text, state, attempts, next_attempt_at, created_at,
        last_attempt_at, last_status, last_error, last_latency_ms, delivered_at
        """

    static func outboxDelivery(_ c: DeliveryColumns) -> WebhookDelivery {
        WebhookDelivery(
            id: c.0, subscriptionID: c.1, eventID: c.2, eventType: c.3, orderKey: c.4, payload: c.5,
            state: WebhookDeliveryState(rawValue: c.6) ?? .failed, attempts: c.7, nextAttemptAt: c.8, createdAt: c.9, lastAttemptAt: c.10,
            lastStatus: c.11, lastError: c.12, lastLatencyMs: c.13, deliveredAt: c.14)
    }

    func fetchOutboxDeliveries(_ query: PostgresQuery) async throws -> [WebhookDelivery] {
        var out: [WebhookDelivery] = []
        for try await c in try await client.query(query, logger: logger).decode(DeliveryColumns.self) { out.append(Self.outboxDelivery(c)) }
        return out
    }

    /// The new row takes the next id, so it comes after the stream's other pending deliveries.
    public func redeliver(id: Int64, now: Int64 = Date().micros) async throws -> WebhookDelivery? {
        try await fetchOutboxDeliveries(
            """
            INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_key, payload, state, next_attempt_at, created_at)
            SELECT subscription_id, event_id, event_type, order_key, payload, 'pending', \(now), \(now) FROM webhook_deliveries WHERE id = \(id)
            RETURNING \(unescaped: Self.outboxDeliveryColumns)
            """
        ).first
    }

    /// `payload` is stored as jsonb: it must be JSON.
    public func recordDelivery(subscriptionID: UUID, eventID: String, type: String, payload: String, attempt: WebhookAttempt) async throws
        -> WebhookDelivery
    {
        let delivered = attempt.outcome == .delivered
        let state = delivered ? "delivered" : "failed"
        let deliveredAt: Int64? = delivered ? attempt.at : nil
        let rows = try await fetchOutboxDeliveries(
            """
            INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_key, payload, state, attempts, next_attempt_at,
                created_at, last_attempt_at, last_status, last_error, last_latency_ms, delivered_at)
            VALUES (\(subscriptionID), \(eventID), \(type), 'ping', \(payload)::jsonb, \(state), 1, \(attempt.at), \(attempt.at), \(attempt.at),
                \(attempt.status), \(attempt.error), \(attempt.latencyMs), \(deliveredAt))
            RETURNING \(unescaped: Self.outboxDeliveryColumns)
            """)
        guard let row = rows.first else { throw CatalogError.notFound }
        return row
    }

    /// The heads of a subscription's streams after `from` (and up to `upTo` when given), in the order of the
    /// streams' keys (the column's collation; every comparison is made here, never in Swift): a recursive query
    /// that jumps from one stream to the next through the partial index `webhook_deliveries_pending`, then the
    /// stream's oldest pending delivery, so a stream's backlog costs nothing however long.
    func streamHeads(subscription: UUID, after from: String, upTo: String?) async throws -> [(key: String, id: Int64, at: Int64)] {
        let rows = try await client.query(
            """
            WITH RECURSIVE streams (key) AS (
                SELECT (SELECT order_key FROM webhook_deliveries
                        WHERE subscription_id = \(subscription) AND state = 'pending' AND order_key > \(from)
                            AND (\(upTo)::text IS NULL OR order_key <= \(upTo))
                        ORDER BY order_key LIMIT 1)
                UNION ALL
                SELECT (SELECT order_key FROM webhook_deliveries
                        WHERE subscription_id = \(subscription) AND state = 'pending' AND order_key > streams.key
                            AND (\(upTo)::text IS NULL OR order_key <= \(upTo))
                        ORDER BY order_key LIMIT 1)
                FROM streams WHERE streams.key IS NOT NULL
            )
            SELECT streams.key, head.id, head.next_attempt_at FROM streams
            CROSS JOIN LATERAL (
                SELECT id, next_attempt_at FROM webhook_deliveries
                WHERE subscription_id = \(subscription) AND state = 'pending' AND order_key = streams.key ORDER BY id LIMIT 1
            ) AS head
            WHERE streams.key IS NOT NULL
            """, logger: logger)
        var out: [(key: String, id: Int64, at: Int64)] = []
        for try await (key, id, at) in rows.decode((String, Int64, Int64).self) { out.append((key, id, at)) }
        return out
    }

    /// As SQLite's: a read that claims nothing (one worker per catalogue).
    public func dueDeliveries(now: Int64, load: AppDatabase.WorkerLoad) async throws -> (due: [AppDatabase.Candidate], next: Int64?) {
        var due: [AppDatabase.Candidate] = []
        var next: Int64?
        let subscriptions = try await fetchSubscriptions(
            "SELECT \(unescaped: Self.subscriptionColumns) FROM webhook_subscriptions WHERE enabled ORDER BY created_at, id")
        for s in subscriptions {
            let wanted = load.slots - load.inFlight[s.id, default: 0]
            guard wanted > 0 else { continue }
            var found = 0
            let resume = load.resumeAfter[s.id]
            // After the stream taken last to the end, then from the start up to it (included).
            var passes: [(from: String, upTo: String?)] = [(resume ?? "", nil)]
            if let resume { passes.append(("", resume)) }
            scan: for (from, upTo) in passes {
                for head in try await streamHeads(subscription: s.id, after: from, upTo: upTo) {
                    if load.busy.contains(AppDatabase.streamKey(s.id, head.key)) { continue }
                    if head.at > now {
                        next = min(next ?? head.at, head.at)
                        continue
                    }
                    due.append(.head(id: head.id, subscription: s, orderKey: head.key, nextAttemptAt: head.at))
                    found += 1
                    if found == wanted { break scan }
                }
            }
        }
        due.sort { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        return (due, next)
    }

    public func pendingDeliveries(ids: [Int64]) async throws -> [WebhookDelivery] {
        guard !ids.isEmpty else { return [] }
        return try await fetchOutboxDeliveries(
            """
            SELECT \(unescaped: Self.outboxDeliveryColumns) FROM webhook_deliveries WHERE id = ANY(\(ids)) AND state = 'pending' ORDER BY id
            """)
    }

    public func recordAttempts(_ attempts: [(WebhookDelivery, WebhookAttempt)], disableAfter: Int64) async throws {
        guard !attempts.isEmpty else { return }
        try await client.withTransaction(logger: logger) { connection in
            for (delivery, attempt) in attempts {
                let state: String, next: Int64
                switch attempt.outcome {
                case .delivered: (state, next) = ("delivered", attempt.at)
                case .retry(let at): (state, next) = ("pending", at)
                case .failed: (state, next) = ("failed", attempt.at)
                }
                let deliveredAt: Int64? = attempt.outcome == .delivered ? attempt.at : nil
                try await connection.query(
                    """
                    UPDATE webhook_deliveries SET state = \(state), attempts = attempts + 1, next_attempt_at = \(next),
                        last_attempt_at = \(attempt.at), last_status = \(attempt.status), last_error = \(attempt.error),
                        last_latency_ms = \(attempt.latencyMs), delivered_at = coalesce(\(deliveredAt), delivered_at)
                    WHERE id = \(delivery.id)
                    """, logger: logger)
                let subscription = delivery.subscriptionID
                if attempt.outcome == .delivered {
                    try await connection.query(
                        "UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = \(subscription) AND failing_since IS NOT NULL",
                        logger: logger)
                } else {
                    try await connection.query(
                        "UPDATE webhook_subscriptions SET failing_since = \(attempt.at) WHERE id = \(subscription) AND failing_since IS NULL",
                        logger: logger)
                    try await connection.query(
                        """
                        UPDATE webhook_subscriptions SET enabled = false, disabled_reason = \(WebhookSubscription.disabledFailing),
                            updated_at = \(attempt.at)
                        WHERE id = \(subscription) AND enabled AND failing_since <= \(attempt.at - disableAfter)
                        """, logger: logger)
                }
            }
        }
    }

    @discardableResult
    public func pruneDeliveries(createdBefore before: Int64) async throws -> Int {
        // A transaction: the webhook worker prunes under its lease (`LeaseFence`).
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                WITH dropped AS (DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < \(before) RETURNING 1)
                SELECT count(*) FROM dropped
                """, logger: logger
            ).decode(Int.self).reduce(0, +)
        }
    }
}

// MARK: - Retention's segment sweep

extension PostgresCatalog {
    public func expiredSegments(path: String, endedBefore before: Int64) async throws -> [Segment] {
        try await fetchSegments(
            """
            SELECT \(unescaped: Self.segmentColumns) FROM segments WHERE path_name = \(path) AND start < \(before) AND state = 'complete'
                AND start + round(coalesce(duration, 0)::numeric * 1000000)::bigint < \(before)
            ORDER BY start
            """)
    }

    public func markSegmentDeleted(path: String, start: Int64, at now: Int64) async throws {
        // A transaction: retention marks under its lease (`LeaseFence`).
        try await client.withTransaction(logger: logger) { connection in
            _ = try await connection.query(
                "UPDATE segments SET state = 'deleted', updated_at = \(now) WHERE path_name = \(path) AND start = \(start)", logger: logger)
        }
    }

    public func storage() async throws -> [String: AppDatabase.PathStorage] {
        var out: [String: AppDatabase.PathStorage] = [:]
        let rows = try await client.query(
            """
            SELECT path_name, count(*)::bigint, coalesce(sum(size), 0)::bigint, coalesce(sum(duration), 0)::double precision
            FROM segments WHERE state <> 'deleted' GROUP BY path_name
            """, logger: logger)
        for try await (path, count, bytes, seconds) in rows.decode((String, Int64, Int64, Double).self) {
            out[path] = AppDatabase.PathStorage(pathName: path, segments: Int(count), bytes: bytes, seconds: seconds)
        }
        return out
    }
}
