import Catalog
import Domain
import Foundation
import Hummingbird
import Logging
import Synchronization

/// The role × route matrix (docs/security.md is the same table in prose): which role each route needs, and the
/// audit action of each call that changes something. A route missing here is refused to everyone but admins.
public enum AccessPolicy {
    public enum Requirement: Sendable, Equatable {
        /// No access token: the route checks its own secret (login, hook token, MediaMTX's auth call).
        case open
        case role(User.Role)
    }

    public struct Rule: Sendable {
        public let method: HTTPRequest.Method
        public let path: String
        public let requirement: Requirement
        /// Recorded in the audit log when set.
        public let action: String?
    }

    static func rule(_ method: HTTPRequest.Method, _ path: String, _ requirement: Requirement, _ action: String? = nil) -> Rule {
        Rule(method: method, path: path, requirement: requirement, action: action)
    }

    public static let rules: [Rule] = [
        rule(.post, "/api/v1/auth/login", .open, "auth.login"),
        rule(.post, "/api/v1/hooks/events", .open),
        rule(.post, "/api/v1/mediamtx/auth", .open),
        rule(.get, "/api/openapi.yaml", .open),
        rule(.get, "/healthz", .open),
        rule(.get, "/readyz", .open),
        rule(.get, "/metrics", .open),
        rule(.get, "/api/v1/auth/me", .role(.viewer)),
        rule(.post, "/api/v1/auth/logout", .role(.viewer), "auth.logout"),

        rule(.get, "/api/v1/sources", .role(.viewer)),
        rule(.post, "/api/v1/sources", .role(.operator), "source.create"),
        rule(.get, "/api/v1/sources/:id", .role(.viewer)),
        rule(.put, "/api/v1/sources/:id", .role(.operator), "source.update"),
        rule(.delete, "/api/v1/sources/:id", .role(.operator), "source.delete"),
        rule(.post, "/api/v1/sources/:id/enable", .role(.operator), "source.enable"),
        rule(.post, "/api/v1/sources/:id/disable", .role(.operator), "source.disable"),
        rule(.post, "/api/v1/sources/:id/publish-key/rotate", .role(.operator), "publish_key.rotate"),
        rule(.get, "/api/v1/sources/:id/status", .role(.viewer)),
        rule(.get, "/api/v1/sources/:id/preview", .role(.viewer)),
        rule(.get, "/api/v1/sources/:id/preview/ready", .role(.viewer)),
        rule(.post, "/api/v1/sources/:id/record/start", .role(.operator), "recording.start"),
        rule(.post, "/api/v1/sources/:id/record/stop", .role(.operator), "recording.stop"),
        rule(.get, "/api/v1/sources/:id/record/status", .role(.viewer)),
        rule(.get, "/api/v1/sources/:id/record/files", .role(.viewer)),
        rule(.get, "/api/v1/sources/:id/record/sessions", .role(.viewer)),
        rule(.get, "/api/v1/sources/:id/playback/segments", .role(.viewer)),
        rule(.get, "/api/v1/sources/:id/playback", .role(.viewer)),
        rule(.get, "/api/v1/sources/:id/events", .role(.viewer)),
        rule(.post, "/api/v1/sources/:id/move", .role(.operator), "source.move"),

        rule(.get, "/api/v1/nodes", .role(.operator)),
        rule(.post, "/api/v1/nodes", .role(.admin), "node.create"),
        rule(.get, "/api/v1/nodes/:name", .role(.operator)),
        rule(.put, "/api/v1/nodes/:name", .role(.admin), "node.update"),
        rule(.delete, "/api/v1/nodes/:name", .role(.admin), "node.delete"),
        rule(.post, "/api/v1/nodes/:name/drain", .role(.admin), "node.drain"),

        rule(.get, "/api/v1/assets", .role(.viewer)),
        rule(.post, "/api/v1/assets", .role(.operator), "asset.create"),
        rule(.get, "/api/v1/assets/:id", .role(.viewer)),
        rule(.put, "/api/v1/assets/:id", .role(.operator), "asset.update"),
        rule(.delete, "/api/v1/assets/:id", .role(.operator), "asset.delete"),
        rule(.post, "/api/v1/assets/:id/clips", .role(.operator), "clip.create"),
        rule(.get, "/api/v1/assets/:id/preview", .role(.viewer)),
        rule(.get, "/api/v1/assets/:id/stream/status", .role(.viewer)),
        rule(.post, "/api/v1/assets/:id/stream/record/start", .role(.operator), "recording.start"),
        rule(.post, "/api/v1/assets/:id/stream/record/stop", .role(.operator), "recording.stop"),
        rule(.get, "/api/v1/assets/:id/stream/record/status", .role(.viewer)),
        rule(.get, "/api/v1/assets/:id/stream/recordings", .role(.viewer)),
        rule(.get, "/api/v1/assets/:id/stream/playback", .role(.viewer)),

        rule(.get, "/api/v1/recordings", .role(.viewer)),
        rule(.get, "/api/v1/recordings/export", .role(.operator)),
        rule(.get, "/api/v1/recordings/sessions", .role(.viewer)),
        rule(.get, "/api/v1/storage", .role(.viewer)),
        rule(.get, "/api/v1/sources/:id/retention", .role(.viewer)),
        rule(.put, "/api/v1/sources/:id/retention", .role(.operator), "source.retention"),
        rule(.get, "/api/v1/events/stream", .role(.viewer)),

        rule(.get, "/api/v1/webhooks", .role(.operator)),
        rule(.post, "/api/v1/webhooks", .role(.operator), "webhook.create"),
        rule(.get, "/api/v1/webhooks/:id", .role(.operator)),
        rule(.put, "/api/v1/webhooks/:id", .role(.operator), "webhook.update"),
        rule(.delete, "/api/v1/webhooks/:id", .role(.operator), "webhook.delete"),
        rule(.post, "/api/v1/webhooks/:id/secret/rotate", .role(.operator), "webhook.rotate_secret"),
        rule(.get, "/api/v1/webhooks/:id/deliveries", .role(.operator)),
        rule(.post, "/api/v1/webhooks/:id/test", .role(.operator), "webhook.test"),
        rule(.post, "/api/v1/webhooks/deliveries/:id/redeliver", .role(.operator), "webhook.redeliver"),

        rule(.get, "/api/v1/users", .role(.admin)),
        rule(.post, "/api/v1/users", .role(.admin), "user.add"),
        rule(.put, "/api/v1/users/:username", .role(.admin), "user.update"),
        rule(.delete, "/api/v1/users/:username", .role(.admin), "user.remove"),
        rule(.get, "/api/v1/audit", .role(.admin)),
        rule(.get, "/api/v1/mediamtx/auth/stats", .role(.admin)),
    ]

    static let index: [String: Rule] = Dictionary(uniqueKeysWithValues: rules.map { ("\($0.method.rawValue) \(normalize($0.path))", $0) })

    /// The rule of a matched route; Hummingbird names parameters `{id}`, the table `:id`.
    public static func rule(method: HTTPRequest.Method, endpoint: String) -> Rule? {
        let key = "\(method.rawValue) \(endpoint)"
        if let known = resolved.withLock({ $0[key] }) { return known }
        let rule = index["\(method.rawValue) \(normalize(endpoint))"]
        resolved.withLock { $0[key] = rule }
        return rule
    }

    /// Lookups by the router's own endpoint strings (a fixed set), so a request does not normalize its route again.
    private static let resolved = Mutex<[String: Rule?]>([:])

    static func normalize(_ path: String) -> String {
        path.split(separator: "/").map { part in
            part.hasPrefix(":") || part.hasPrefix("{") ? "*" : String(part)
        }.joined(separator: "/")
    }
}
