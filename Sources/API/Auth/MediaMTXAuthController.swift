import Domain
import Foundation
import Hummingbird
import Logging
import Synchronization

/// `POST /api/v1/mediamtx/auth`: MediaMTX's `authMethod: http` asks us before every publish, read, playback and
/// API call (`authHTTPAddress`). Any 2xx allows. A request with no credentials at all gets 401, so that RTSP clients
/// (which try without credentials first) retry with them; wrong credentials get 403.
struct MediaMTXAuthController {
    let service: MediaMTXAuthService
    let stats: AuthDecisionStats
    let metrics: AppMetrics
    let logger: Logger

    func addRoutes(to router: AppRouter) {
        router.post("api/v1/mediamtx/auth", use: decide)
        router.get("api/v1/mediamtx/auth/stats") { _, _ in stats.snapshot() }
    }

    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let data = Data(buffer: try await request.collectBody(upTo: 64 * 1024))
        try JSONLimits.check(data)
        guard let body = try? JSONDecoder().decode(MediaMTXAuthService.AuthRequest.self, from: data) else {
            throw APIError.invalidJSON("expected MediaMTX's auth request")
        }
        let action = body.action ?? ""
        let path = body.path ?? ""
        let decision = try await service.decide(
            body, action: action, path: path, nodeToken: request.uri.queryParameters["node_token"].map(String.init))
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
        case .unavailable(let reason):
            // A refusal too: MediaMTX takes any answer but 2xx as one.
            stats.count(action, "refused")
            metrics.authDecision(action: action, outcome: "refused")
            logger.warning(
                "mediamtx auth refused: the catalogue is unavailable",
                metadata: ["action": "\(action)", "path": "\(path)", "ip": "\(body.ip ?? "")", "error": "\(reason)"])
            throw APIError.databaseUnavailable
        }
    }
}
