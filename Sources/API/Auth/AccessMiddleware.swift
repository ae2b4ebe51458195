import Catalog
import Domain
import Hummingbird
import Logging

/// Checks the access token and the role on every route the policy does not leave open, and writes the audit log
/// entry of each call that changes something (including refused and failed ones). The check keys on the route the
/// router matched, never on the request's raw path: whatever form of a path reaches a handler (`//api/...`, absolute
/// form, a trailing slash) has met that handler's rule.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: Authenticator
    /// Keeps the audit log.
    let auth: AuthService
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
            await audit(rule, context, status: Self.status(of: error))
            throw error
        }
    }

    func authenticate(_ request: Request, endpoint: String) async throws -> Identity {
        // Browsers' EventSource cannot send headers: the live event stream also takes `?access_token=`.
        if request.headers[.authorization] == nil, endpoint == "/api/v1/events/stream",
            let token = request.uri.queryParameters["access_token"].map(String.init), !token.isEmpty
        {
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
            try await auth.record(entry)
        } catch {
            logger.error("audit entry not written", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }

    /// The status the error middleware answers (`ErrorMiddleware.known`); 500 for the rest.
    static func status(of error: any Error) -> Int {
        ErrorMiddleware.known(error)?.status.code ?? 500
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
