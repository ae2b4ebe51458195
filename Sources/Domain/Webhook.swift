import Foundation

/// A webhook subscription: where to send which events, signed with `secret`.
public struct WebhookSubscription: Sendable, Equatable {
    public var id: UUID
    public var url: String
    /// Event types (`stream.online`, …); never empty.
    public var events: [String]
    /// Only events of these sources; nil for every source (and paths no source manages).
    public var sourceIDs: [UUID]?
    public var secret: String
    /// The secret before the last rotation, still signed with until `previousSecretExpiresAt` (µs).
    public var previousSecret: String?
    public var previousSecretExpiresAt: Int64?
    public var enabled: Bool
    /// Why the server turned it off (`failing`); nil when enabled or turned off by a person.
    public var disabledReason: String?
    /// Start of the current run of failed attempts (µs); nil after a success.
    public var failingSince: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        id: UUID, url: String, events: [String], sourceIDs: [UUID]?, secret: String, previousSecret: String? = nil,
        previousSecretExpiresAt: Int64? = nil, enabled: Bool, disabledReason: String? = nil, failingSince: Int64? = nil,
        createdAt: Int64, updatedAt: Int64
    ) {
        self.id = id
        self.url = url
        self.events = events
        self.sourceIDs = sourceIDs
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.enabled = enabled
        self.disabledReason = disabledReason
        self.failingSince = failingSince
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The event types a subscription may ask for.
    public static let eventTypes = [
        "stream.online", "stream.offline", "reader.joined", "reader.left", "recording.segment_completed",
        "recording.session_started", "recording.session_ended", "source.created", "source.deleted", "clip.created",
    ]

    /// Automatic disabling after continuous failure.
    public static let disabledFailing = "failing"
}

public enum WebhookDeliveryState: String, Sendable, CaseIterable {
    /// Waiting for its first or next attempt.
    case pending
    case delivered
    /// Parked: the last try failed, or the answer was one that is not retried.
    case failed
}

/// One event for one subscription: the outbox row and its delivery log.
public struct WebhookDelivery: Sendable, Equatable {
    public var id: Int64
    public var subscriptionID: UUID
    public var eventID: String
    public var eventType: String
    /// Deliveries with the same subscription and key go out in id order (the stream's path).
    public var orderKey: String
    public var payload: String
    public var state: WebhookDeliveryState
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var createdAt: Int64
    public var lastAttemptAt: Int64?
    public var lastStatus: Int?
    public var lastError: String?
    public var lastLatencyMs: Double?
    public var deliveredAt: Int64?
    public init(
        id: Int64, subscriptionID: UUID, eventID: String, eventType: String, orderKey: String, payload: String, state: WebhookDeliveryState,
        attempts: Int, nextAttemptAt: Int64, createdAt: Int64, lastAttemptAt: Int64? = nil, lastStatus: Int? = nil, lastError: String? = nil,
        lastLatencyMs: Double? = nil, deliveredAt: Int64? = nil
    ) {
        self.id = id
        self.subscriptionID = subscriptionID
        self.eventID = eventID
        self.eventType = eventType
        self.orderKey = orderKey
        self.payload = payload
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.lastAttemptAt = lastAttemptAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.lastLatencyMs = lastLatencyMs
        self.deliveredAt = deliveredAt
    }
}

/// What one attempt came to.
public struct WebhookAttempt: Sendable {
    public enum Outcome: Sendable, Equatable {
        case delivered
        /// Try again at this time (µs).
        case retry(at: Int64)
        case failed
    }

    public var outcome: Outcome
    public var at: Int64
    public var status: Int?
    public var error: String?
    public var latencyMs: Double

    public init(outcome: Outcome, at: Int64, status: Int?, error: String?, latencyMs: Double) {
        self.outcome = outcome
        self.at = at
        self.status = status
        self.error = error
        self.latencyMs = latencyMs
    }
}

/// An event the services raise (not a hook): `source.created`, `source.deleted`, `clip.created`.
public struct ServiceEvent: Sendable {
    public var type: String
    public var occurredAt: Int64
    public var source: MediaSource
    public var data: [String: WebhookValue]

    public init(type: String, occurredAt: Int64 = Date().micros, source: MediaSource, data: [String: WebhookValue]) {
        self.type = type
        self.occurredAt = occurredAt
        self.source = source
        self.data = data
    }
}

/// A JSON value in a webhook payload's `data`.
public enum WebhookValue: Sendable, Encodable, Equatable {
    case string(String)
    case number(Double)
    case integer(Int64)
    case bool(Bool)
    case null

    public static func optional(_ s: String?) -> WebhookValue { s.map(WebhookValue.string) ?? .null }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let n): try c.encode(n)
        case .integer(let n): try c.encode(n)
        case .bool(let b): try c.encode(b)
        case .null: try c.encodeNil()
        }
    }
}

/// The JSON body a receiver gets: `{id, type, occurred_at, source: {id, name, path_name}, data}`.
public struct WebhookPayload: Encodable, Sendable {
    public struct Source: Encodable, Sendable {
        public var id: String?
        public var name: String?
        public var path_name: String

        public init(id: String?, name: String?, path_name: String) {
            self.id = id
            self.name = name
            self.path_name = path_name
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(name, forKey: .name)
            try c.encode(path_name, forKey: .path_name)
        }

        enum CodingKeys: String, CodingKey { case id, name, path_name }
    }

    public var id: String
    public var type: String
    public var occurred_at: String
    /// Null only in a `ping`.
    public var source: Source?
    public var data: [String: WebhookValue]

    public init(id: String, type: String, occurredAt: Int64, source: Source?, data: [String: WebhookValue]) {
        self.id = id
        self.type = type
        occurred_at = Self.format(occurredAt)
        self.source = source
        self.data = data
    }

    enum CodingKeys: String, CodingKey { case id, type, occurred_at, source, data }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(type, forKey: .type)
        try c.encode(occurred_at, forKey: .occurred_at)
        try c.encode(source, forKey: .source)
        try c.encode(data, forKey: .data)
    }

    /// RFC 3339 in UTC with microseconds, as the API's `Timestamp` writes them (that one lives in API, which the
    /// catalogue does not depend on; the payloads are made in the ingest transaction).
    static func format(_ micros: Int64) -> String {
        var seconds = time_t(micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000)
        let fraction = micros - Int64(seconds) * 1_000_000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(fraction)
        )
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public func json() throws -> String {
        String(decoding: try Self.encoder.encode(self), as: UTF8.self)
    }
}
