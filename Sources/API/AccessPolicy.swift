import Catalog
import Foundation
import Hummingbird
import Synchronization
import Logging

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

/// Checks the access token and the role on every route the policy does not leave open, and writes the audit log
/// entry of each call that changes something (including refused and failed ones). The check keys on the route the
/// router matched, never on the request's raw path: whatever form of a path reaches a handler (`//api/...`, absolute
/// form, a trailing slash) has met that handler's rule.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: Authenticator
    let database: AppDatabase
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // No route matched: no handler runs, only the web UI's files or the router's 404.
        guard let endpoint = context.endpointPath else { return try await next(request, context) }
        let rule = AccessPolicy.rule(method: request.method, endpoint: endpoint)
        var context = context
        do {
            switch rule?.requirement {
            case .open?:
                break
            case .role(let needed)?:
                context.identity = try await authenticate(request, endpoint: endpoint)
                if context.identity!.role < needed { throw APIError.forbidden(needs: needed.rawValue) }
            case nil:
                // A route not in the table: admins only, so a forgotten entry fails closed.
                context.identity = try await authenticate(request, endpoint: endpoint)
                if context.identity!.role < .admin { throw APIError.forbidden(needs: User.Role.admin.rawValue) }
            }
            let response = try await next(request, context)
            await audit(rule, context, status: response.status.code)
            return response
        } catch {
            await audit(rule, context, status: (error as? any HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }

    func authenticate(_ request: Request, endpoint: String) async throws -> Identity {
        // Browsers' EventSource cannot send headers: the live event stream also takes `?access_token=`.
        if request.headers[.authorization] == nil, endpoint == "/api/v1/events/stream",
           let token = request.uri.queryParameters["access_token"].map(String.init), !token.isEmpty {
            return try await authenticator.identity(bearer: token)
        }
        guard let header = request.headers[.authorization] else { throw APIError.loginRequired }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else { throw APIError.tokenInvalid }
        return try await authenticator.identity(bearer: String(header.dropFirst(7)))
    }

    func audit(_ rule: AccessPolicy.Rule?, _ context: Context, status: Int) async {
        let note = context.audit.snapshot
        guard let action = note.action ?? rule?.action else { return }
        let parameter = context.parameters.get("id") ?? context.parameters.get("username")
        let outcome = status < 400 ? "ok" : (status == 401 || status == 403 || status == 429 ? "denied" : "failed")
        let entry = AuditEntry(
            userID: context.identity?.id, username: context.identity?.username, action: action,
            targetType: note.targetType ?? rule.flatMap { Self.targetType($0.path) }, targetID: note.targetID ?? parameter,
            outcome: outcome, status: status, ip: context.clientIP, detail: note.detail
        )
        do {
            try await database.appendAudit(entry)
        } catch {
            logger.error("audit entry not written", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }

    static func targetType(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        guard parts.count >= 3 else { return nil }
        switch parts[2] {
        case "sources": return "source"
        case "assets": return "asset"
        case "users": return "user"
        case "webhooks": return parts.count > 3 && parts[3] == "deliveries" ? "webhook_delivery" : "webhook"
        case "auth": return "user"
        default: return String(parts[2])
        }
    }
}
