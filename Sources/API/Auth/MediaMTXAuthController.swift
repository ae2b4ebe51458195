import Catalog
import Domain
import Foundation
import Hummingbird
import Logging
import Synchronization

/// `POST /api/v1/mediamtx/auth`: MediaMTX's `authMethod: http` asks us before every publish, read, playback and
/// API call (`authHTTPAddress`). Any 2xx allows. A request with no credentials at all gets 401, so that RTSP clients
/// (which try without credentials first) retry with them; wrong credentials get 403.
struct MediaMTXAuthController {
    let authenticator: Authenticator
    let database: AppDatabase
    let trustedAddresses: Set<String>
    let stats: AuthDecisionStats
    let metrics: AppMetrics
    let logger: Logger

    func addRoutes(to router: AppRouter) {
        router.post("api/v1/mediamtx/auth", use: decide)
        router.get("api/v1/mediamtx/auth/stats") { _, _ in stats.snapshot() }
    }

    /// What MediaMTX posts (reference/mediamtx transcript.json); `id` is null for playback.
    struct AuthRequest: Decodable {
        var ip: String?
        var user: String?
        var password: String?
        var token: String?
        var action: String?
        var path: String?
        var `protocol`: String?
        var id: String?
        var query: String?
        var userAgent: String?
    }

    enum Decision {
        case allow
        /// No credentials given: ask for them.
        case challenge(String)
        case deny(String)
    }

    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let data = Data(buffer: try await request.collectBody(upTo: 64 * 1024))
        try JSONLimits.check(data)
        guard let body = try? JSONDecoder().decode(AuthRequest.self, from: data) else {
            throw APIError.invalidJSON("expected MediaMTX's auth request")
        }
        let action = body.action ?? ""
        let path = body.path ?? ""
        let decision = try await decide(body, action: action, path: path)
        switch decision {
        case .allow:
            stats.count(action, "allowed")
            metrics.authDecision(action: action, outcome: "allowed")
            return Response(status: .ok)
        case .challenge(let reason):
            stats.count(action, "challenged")
            metrics.authDecision(action: action, outcome: "challenged")
            logger.debug(
                "mediamtx auth: credentials requested",
                metadata: ["action": "\(action)", "path": "\(path)", "ip": "\(body.ip ?? "")", "reason": "\(reason)"])
            return Response(status: .unauthorized)
        case .deny(let reason):
            stats.count(action, "refused")
            metrics.authDecision(action: action, outcome: "refused")
            logger.notice(
                "mediamtx auth refused",
                metadata: [
                    "action": "\(action)", "path": "\(path)", "ip": "\(body.ip ?? "")", "protocol": "\(body.protocol ?? "")", "reason": "\(reason)",
                ])
            return Response(status: .forbidden)
        }
    }

    func decide(_ body: AuthRequest, action: String, path: String) async throws -> Decision {
        let query = Self.queryItems(body.query ?? "")
        switch action {
        case "publish":
            // Credentials first, whatever the path: a client without any is asked for them, and learns nothing.
            let given = [body.password, body.token, query["key"], query["pass"]].compactMap { $0 }.filter { !$0.isEmpty }
            guard !given.isEmpty else { return .challenge("no publish key") }
            guard let target = try await database.publishTarget(path: path) else { return .deny("no source has this path") }
            guard target.source.kind == .push else { return .deny("not a push source") }
            guard target.source.enabled else { return .deny("source disabled") }
            guard let key = target.key, given.contains(where: { constantTimeEquals($0, key) }) else { return .deny("wrong publish key") }
            return .allow
        case "read", "playback":
            let given = [body.token, body.password, query["token"], query["jwt"]].compactMap { $0 }.filter { !$0.isEmpty }
            guard !given.isEmpty else { return .challenge("no token") }
            for token in given where await authenticator.mediaTokenAllows(token, path: path, action: action) { return .allow }
            return .deny("token invalid, expired, or for another path or action")
        case "api", "metrics", "pprof":
            return trustedAddresses.contains(Self.normalize(body.ip ?? "")) ? .allow : .deny("address not trusted")
        default:
            return .deny("unknown action")
        }
    }

    /// `a=1&b=x%20y` → ["a": "1", "b": "x y"]; the first value of a repeated name wins.
    static func queryItems(_ query: String) -> [String: String] {
        var items: [String: String] = [:]
        func decode(_ part: Substring) -> String {
            // Tokens and keys need no decoding; only decode what is encoded.
            guard part.contains("%") || part.contains("+") else { return String(part) }
            return part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
        }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            if items[name] == nil { items[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return items
    }

    static func normalize(_ ip: String) -> String {
        ip.hasPrefix("::ffff:") ? String(ip.dropFirst(7)) : ip
    }
}
