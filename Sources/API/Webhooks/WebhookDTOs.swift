import Catalog
import Domain
import Foundation
import Hummingbird

// MARK: - Requests

/// `POST` and `PUT /api/v1/webhooks…`: `source_ids: null` (or absent on create) means every source.
struct WebhookRequest: StrictBody {
    static let allowedKeys: Set<String> = ["url", "events", "source_ids", "enabled"]
    static let nullableKeys: Set<String> = ["source_ids"]
    var url: String?
    var events: [String]?
    var sourceIDs: [String]??
    var enabled: Bool?

    enum CodingKeys: String, CodingKey {
        case url, events, enabled
        case sourceIDs = "source_ids"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decodeIfPresent(String.self, forKey: .url)
        events = try c.decodeIfPresent([String].self, forKey: .events)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled)
        if c.contains(.sourceIDs) {
            sourceIDs = .some(try c.decodeNil(forKey: .sourceIDs) ? nil : try c.decode([String].self, forKey: .sourceIDs))
        }
    }

    var input: WebhooksService.Input {
        WebhooksService.Input(url: url, events: events, sourceIDs: sourceIDs, enabled: enabled)
    }
}

// MARK: - Responses

/// A subscription; `secret` only in the answers of create and rotate.
struct WebhookResponse: ResponseEncodable {
    var id: String
    var url: String
    var events: [String]
    var sourceIDs: [String]?
    var enabled: Bool
    var disabledReason: String?
    var failingSince: String?
    var previousSecretExpiresAt: String?
    var secret: String?
    var createdAt: String
    var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, url, events, enabled, secret
        case sourceIDs = "source_ids"
        case disabledReason = "disabled_reason"
        case failingSince = "failing_since"
        case previousSecretExpiresAt = "previous_secret_expires_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(_ s: WebhookSubscription, showSecret: Bool = false) {
        id = s.id.uuidString.lowercased()
        url = s.url
        events = s.events
        sourceIDs = s.sourceIDs?.map { $0.uuidString.lowercased() }
        enabled = s.enabled
        disabledReason = s.disabledReason
        failingSince = s.failingSince.map(Timestamp.format(micros:))
        let now = Date().micros
        previousSecretExpiresAt = s.previousSecretExpiresAt.flatMap { $0 > now ? Timestamp.format(micros: $0) : nil }
        secret = showSecret ? s.secret : nil
        createdAt = Timestamp.format(micros: s.createdAt)
        updatedAt = Timestamp.format(micros: s.updatedAt)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(url, forKey: .url)
        try c.encode(events, forKey: .events)
        try c.encode(sourceIDs, forKey: .sourceIDs)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(disabledReason, forKey: .disabledReason)
        try c.encode(failingSince, forKey: .failingSince)
        try c.encode(previousSecretExpiresAt, forKey: .previousSecretExpiresAt)
        try c.encodeIfPresent(secret, forKey: .secret)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// One delivery of the log: its event, state, attempts and the last attempt's answer.
struct WebhookDeliveryResponse: ResponseEncodable {
    var id: Int64
    var subscriptionID: String
    var eventID: String
    var eventType: String
    var state: String
    var attempts: Int
    var createdAt: String
    var lastAttemptAt: String?
    var nextAttemptAt: String?
    var deliveredAt: String?
    var responseCode: Int?
    var latencyMs: Double?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case id, state, attempts, error
        case subscriptionID = "subscription_id"
        case eventID = "event_id"
        case eventType = "event_type"
        case createdAt = "created_at"
        case lastAttemptAt = "last_attempt_at"
        case nextAttemptAt = "next_attempt_at"
        case deliveredAt = "delivered_at"
        case responseCode = "response_code"
        case latencyMs = "latency_ms"
    }

    init(_ d: WebhookDelivery) {
        id = d.id
        subscriptionID = d.subscriptionID.uuidString.lowercased()
        eventID = d.eventID
        eventType = d.eventType
        state = d.state.rawValue
        attempts = d.attempts
        createdAt = Timestamp.format(micros: d.createdAt)
        lastAttemptAt = d.lastAttemptAt.map(Timestamp.format(micros:))
        nextAttemptAt = d.state == .pending ? Timestamp.format(micros: d.nextAttemptAt) : nil
        deliveredAt = d.deliveredAt.map(Timestamp.format(micros:))
        responseCode = d.lastStatus
        latencyMs = d.lastLatencyMs.map { ($0 * 1000).rounded() / 1000 }
        error = d.lastError
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(subscriptionID, forKey: .subscriptionID)
        try c.encode(eventID, forKey: .eventID)
        try c.encode(eventType, forKey: .eventType)
        try c.encode(state, forKey: .state)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(lastAttemptAt, forKey: .lastAttemptAt)
        try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(deliveredAt, forKey: .deliveredAt)
        try c.encode(responseCode, forKey: .responseCode)
        try c.encode(latencyMs, forKey: .latencyMs)
        try c.encode(error, forKey: .error)
    }
}
