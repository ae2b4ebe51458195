import Foundation
import HTTPTypes
import HookWire
import Hummingbird
import Logging

/// Counts and times every request by route (the route's pattern, `unmatched` for a 404 without a route), method and
/// status, and writes one log line each: request id, method, route, path, status, duration. The request id goes
/// back in `X-Request-Id` (and in error bodies, see `APIError`), so a user's report can be found in the log.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: AppMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        let elapsed = ContinuousClock.now - started
        let route = context.endpointPath ?? "unmatched"
        response.headers[.requestID] = context.id
        metrics.request(route: route, method: request.method.rawValue, status: Int(response.status.code), duration: elapsed)
        // Never the query (it may carry a token) nor headers or bodies (credentials, keys). Hook deliveries that
        // succeed are logged at debug: one per stream event, thousands a second at peak, each already in the
        // history and the metrics; a refused or failed one is logged like any other request.
        let level: Logger.Level = route == HookJSON.endpoint && response.status.code < 300 ? .debug : .info
        context.logger.log(
            level: level, "request",
            metadata: [
                "method": "\(request.method)", "route": "\(route)", "path": "\(request.uri.path)",
                "status": "\(response.status.code)",
                "duration_ms": "\(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000))",
            ])
        return response
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}
