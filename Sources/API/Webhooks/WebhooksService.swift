import Catalog
import Domain
import Foundation
import Logging

/// Webhook subscriptions: checked input (URL form and the addresses its host resolves to, event types, sources),
/// secrets made and rotated, the delivery log, test pings and redeliveries.
public struct WebhooksService: Sendable {
    let database: any CatalogBackend
    let settings: AppConfig.Webhooks
    let worker: WebhookWorker
    let logger: Logger

    public struct Input: Sendable {
        var url: String?
        var events: [String]?
        /// `.some(nil)`: every source.
        var sourceIDs: [String]??
        var enabled: Bool?
    }

    // MARK: - Validation

    /// The URL's form, then every address its host resolves to (400 naming `url`).
    func checkURL(_ text: String) async throws -> String {
        let url = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !url.isEmpty else { throw ServiceError.invalid("url", .mustNotBeEmpty("url")) }
        do {
            _ = try await WebhookTarget(url).resolve(allowPrivate: settings.allowPrivateTargets)
        } catch WebhookTarget.Problem.notHTTP {
            throw ServiceError.invalid("url", .notAWebhookURL("url"))
        } catch WebhookTarget.Problem.blocked(let address) {
            throw ServiceError.invalid("url", .blockedAddress("url", address: address))
        } catch WebhookTarget.Problem.hostNotFound(let host) {
            throw ServiceError.invalid("url", .hostNotFound("url", host: host))
        }
        return url
    }

    static func checkEvents(_ events: [String]) throws -> [String] {
        guard !events.isEmpty else { throw ServiceError.invalid("events", .mustNotBeEmpty("events")) }
        var out: [String] = []
        for (i, e) in events.enumerated() {
            guard WebhookSubscription.eventTypes.contains(e) else {
                throw ServiceError.invalid("events[\(i)]", .notOneOf("events[\(i)]", WebhookSubscription.eventTypes))
            }
            if !out.contains(e) { out.append(e) }
        }
        return out
    }

    func checkSources(_ ids: [String]?) async throws -> [UUID]? {
        guard let ids else { return nil }
        guard !ids.isEmpty else { throw ServiceError.invalid("source_ids", .mustNotBeEmpty("source_ids")) }
        guard ids.count <= 100 else { throw ServiceError.invalid("source_ids", .tooMany("source_ids", max: 100)) }
        var out: [UUID] = []
        for (i, text) in ids.enumerated() {
            guard let id = UUID(uuidString: text), try await database.source(id: id) != nil else {
                throw ServiceError.invalid("source_ids[\(i)]", .unknownSource("source_ids[\(i)]"))
            }
            if !out.contains(id) { out.append(id) }
        }
        return out
    }

    // MARK: - CRUD

    public func create(_ input: Input) async throws -> WebhookSubscription {
        guard let url = input.url else { throw ServiceError.missing("url") }
        guard let events = input.events else { throw ServiceError.missing("events") }
        let checkedURL = try await checkURL(url)
        let checkedEvents = try Self.checkEvents(events)
        let sources = try await checkSources(input.sourceIDs ?? nil)
        let now = Date().micros
        let subscription = WebhookSubscription(
            id: UUID(), url: checkedURL, events: checkedEvents, sourceIDs: sources, secret: WebhookSignature.makeSecret(),
            enabled: input.enabled ?? true, createdAt: now, updatedAt: now
        )
        try await database.insertSubscription(subscription)
        logger.info("webhook subscription created", metadata: ["id": "\(subscription.id)", "url": "\(subscription.url)"])
        return subscription
    }

    public func get(_ id: UUID) async throws -> WebhookSubscription {
        guard let s = try await database.subscription(id: id) else { throw ServiceError.notFound(.webhook) }
        return s
    }

    public func list(page: Int, pageSize: Int) async throws -> Page<WebhookSubscription> {
        try await database.subscriptions(page: page, pageSize: pageSize)
    }

    /// Changes the given fields; enabling clears `disabled_reason` and the failure run.
    public func update(_ id: UUID, _ input: Input) async throws -> WebhookSubscription {
        var s = try await get(id)
        if let url = input.url { s.url = try await checkURL(url) }
        if let events = input.events { s.events = try Self.checkEvents(events) }
        if let sources = input.sourceIDs { s.sourceIDs = try await checkSources(sources) }
        if let enabled = input.enabled {
            s.enabled = enabled
            if enabled {
                s.disabledReason = nil
                s.failingSince = nil
            }
        }
        s.updatedAt = Date().micros
        try await save(s)
        if s.enabled { worker.wake() }
        return s
    }

    public func delete(_ id: UUID) async throws {
        guard try await database.deleteSubscription(id: id) else { throw ServiceError.notFound(.webhook) }
    }

    /// A new secret, returned once; the old one still signs deliveries for `secret_grace`.
    public func rotateSecret(_ id: UUID) async throws -> WebhookSubscription {
        var s = try await get(id)
        let now = Date().micros
        s.previousSecret = s.secret
        s.previousSecretExpiresAt = now + micros(settings.secretGrace)
        s.secret = WebhookSignature.makeSecret()
        s.updatedAt = now
        try await save(s)
        return s
    }

    func save(_ s: WebhookSubscription) async throws {
        do {
            try await database.updateSubscription(s)
        } catch CatalogError.notFound {
            throw ServiceError.notFound(.webhook)
        }
    }

    // MARK: - Operations

    public func deliveries(_ id: UUID, state: WebhookDeliveryState?, page: Int, pageSize: Int) async throws -> Page<WebhookDelivery> {
        _ = try await get(id)
        return try await database.deliveries(subscriptionID: id, state: state, page: page, pageSize: pageSize)
    }

    /// Sends a `ping` now, once (even to a disabled subscription), and logs it with the deliveries.
    public func ping(_ id: UUID) async throws -> WebhookDelivery {
        let s = try await get(id)
        let eventID = UUID().uuidString.lowercased()
        let now = Date().micros
        let payload = try WebhookPayload(id: eventID, type: "ping", occurredAt: now, source: nil, data: [:]).json()
        let result = await worker.send(payload, to: s)
        let attempt = WebhookAttempt(
            outcome: result.delivered ? .delivered : .failed, at: Date().micros, status: result.status, error: result.error,
            latencyMs: result.latencyMs
        )
        return try await database.recordDelivery(subscriptionID: id, eventID: eventID, type: "ping", payload: payload, attempt: attempt)
    }

    /// Queues a delivery's event again (a new delivery with the same payload and event id).
    public func redeliver(_ deliveryID: Int64) async throws -> WebhookDelivery {
        guard let queued = try await database.redeliver(id: deliveryID, now: Date().micros) else { throw ServiceError.notFound(.delivery) }
        worker.wake()
        return queued
    }
}
