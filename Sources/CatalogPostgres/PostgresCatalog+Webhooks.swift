import Catalog
import Domain
import Foundation
import PostgresNIO

extension PostgresCatalog: WebhookSubscriptionStore {
    // MARK: - Outbox writes inside a change's transaction

    /// Queues `events` for every enabled subscription that wants them, in the caller's transaction.
    func enqueue(_ events: [ServiceEvent], on connection: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        var subscribers: [(id: UUID, events: Set<String>, sourceIDs: Set<String>?)] = []
        let rows = try await connection.query("SELECT id, events, source_ids FROM webhook_subscriptions WHERE enabled", logger: logger)
        for try await (id, wanted, sources) in rows.decode((UUID, [String], [UUID]?).self) {
            subscribers.append((id, Set(wanted), sources.map { Set($0.map { $0.uuidString.lowercased() }) }))
        }
        guard !subscribers.isEmpty else { return }
        let now = Date().micros
        for event in events {
            let sourceID = event.source.id.uuidString.lowercased()
            let matching = subscribers.filter {
                WebhookSubscription.wants(events: $0.events, sourceIDs: $0.sourceIDs, type: event.type, sourceID: sourceID)
            }
            guard !matching.isEmpty else { continue }
            let eventID = UUID().uuidString.lowercased()
            let payload = try WebhookPayload(
                id: eventID, type: event.type, occurredAt: event.occurredAt,
                source: .init(id: sourceID, name: event.source.name, path_name: event.source.pathName), data: event.data
            ).json()
            for subscriber in matching {
                try await connection.query(
                    """
                    INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_key, payload, state, next_attempt_at, created_at)
                    VALUES (\(subscriber.id), \(eventID), \(event.type), \(event.source.pathName), \(payload)::jsonb, 'pending', \(now), \(now))
                    """, logger: logger)
            }
        }
    }

    // MARK: - Subscriptions

    static let subscriptionColumns = """
        id, url, events, source_ids, secret, previous_secret, previous_secret_expires_at, enabled, disabled_reason, failing_since,
        created_at, updated_at
        """

    typealias SubscriptionColumns = (UUID, String, [String], [UUID]?, String, String?, Int64?, Bool, String?, Int64?, Int64, Int64)

    func fetchSubscriptions(_ query: PostgresQuery) async throws -> [WebhookSubscription] {
        var out: [WebhookSubscription] = []
        for try await c in try await client.query(query, logger: logger).decode(SubscriptionColumns.self) {
            out.append(
                WebhookSubscription(
                    id: c.0, url: c.1, events: c.2, sourceIDs: c.3, secret: c.4, previousSecret: c.5, previousSecretExpiresAt: c.6, enabled: c.7,
                    disabledReason: c.8, failingSince: c.9, createdAt: c.10, updatedAt: c.11))
        }
        return out
    }

    public func insertSubscription(_ s: WebhookSubscription) async throws {
        try await client.query(
            """
            INSERT INTO webhook_subscriptions (id, url, events, source_ids, secret, previous_secret, previous_secret_expires_at, enabled,
                disabled_reason, failing_since, created_at, updated_at)
            VALUES (\(s.id), \(s.url), \(s.events), \(s.sourceIDs), \(s.secret), \(s.previousSecret), \(s.previousSecretExpiresAt),
                \(s.enabled), \(s.disabledReason), \(s.failingSince), \(s.createdAt), \(s.updatedAt))
            """, logger: logger)
    }

    public func updateSubscription(_ s: WebhookSubscription) async throws {
        let updated = try await client.query(
            """
            UPDATE webhook_subscriptions SET url = \(s.url), events = \(s.events), source_ids = \(s.sourceIDs), secret = \(s.secret),
                previous_secret = \(s.previousSecret), previous_secret_expires_at = \(s.previousSecretExpiresAt), enabled = \(s.enabled),
                disabled_reason = \(s.disabledReason), failing_since = \(s.failingSince), created_at = \(s.createdAt), updated_at = \(s.updatedAt)
            WHERE id = \(s.id) RETURNING id
            """, logger: logger
        ).collect()
        if updated.isEmpty { throw CatalogError.notFound }
    }

    public func subscription(id: UUID) async throws -> WebhookSubscription? {
        try await fetchSubscriptions("SELECT \(unescaped: Self.subscriptionColumns) FROM webhook_subscriptions WHERE id = \(id)").first
    }

    public func subscriptions(page: Int, pageSize: Int) async throws -> Page<WebhookSubscription> {
        let total = try await client.query("SELECT count(*) FROM webhook_subscriptions", logger: logger).decode(Int.self).reduce(0, +)
        let items = try await fetchSubscriptions(
            """
            SELECT \(unescaped: Self.subscriptionColumns) FROM webhook_subscriptions ORDER BY created_at, id
            LIMIT \(pageSize) OFFSET \((page - 1) * pageSize)
            """)
        return Page(items: items, total: total)
    }

    public func deleteSubscription(id: UUID) async throws -> Bool {
        try await !client.query("DELETE FROM webhook_subscriptions WHERE id = \(id) RETURNING id", logger: logger).collect().isEmpty
    }

    // MARK: - Deliveries

    typealias DeliveryColumns = (Int64, UUID, String, String, String, String, String, Int, Int64, Int64, Int64?, Int?, String?, Double?, Int64?)

    public func deliveries(subscriptionID: UUID, state: WebhookDeliveryState?, page: Int, pageSize: Int) async throws -> Page<WebhookDelivery> {
        let total = try await client.query(
            "SELECT count(*) FROM webhook_deliveries WHERE subscription_id = \(subscriptionID) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))",
            logger: logger
        ).decode(Int.self).reduce(0, +)
        let rows = try await client.query(
            """
            SELECT id, subscription_id, event_id, event_type, order_key, payload::text, state, attempts, next_attempt_at, created_at,
                last_attempt_at, last_status, last_error, last_latency_ms, delivered_at
            FROM webhook_deliveries WHERE subscription_id = \(subscriptionID) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
            ORDER BY id DESC LIMIT \(pageSize) OFFSET \((page - 1) * pageSize)
            """, logger: logger)
        var items: [WebhookDelivery] = []
        for try await c in rows.decode(DeliveryColumns.self) {
            items.append(
                WebhookDelivery(
                    id: c.0, subscriptionID: c.1, eventID: c.2, eventType: c.3, orderKey: c.4, payload: c.5,
                    state: WebhookDeliveryState(rawValue: c.6) ?? .failed, attempts: c.7, nextAttemptAt: c.8, createdAt: c.9, lastAttemptAt: c.10,
                    lastStatus: c.11, lastError: c.12, lastLatencyMs: c.13, deliveredAt: c.14))
        }
        return Page(items: items, total: total)
    }
}
