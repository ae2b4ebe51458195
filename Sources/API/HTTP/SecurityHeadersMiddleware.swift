import Foundation
import HTTPTypes
import Hummingbird

/// Headers every answer carries, errors included (the error is rendered here, so no error path can skip them): no
/// MIME sniffing, no framing, no referrer, a strict content policy for the web UI, and no caching of anything but the
/// web UI's files (API answers carry tokens and keys).
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.frameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; img-src 'self' data:; media-src 'self' blob: *; connect-src 'self' *; frame-ancestors 'none'"
        let uiFile = context.endpointPath == nil && response.status.code < 400
        if !uiFile, response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension HTTPField.Name {
    // Not among swift-http-types' predefined names; made once, not on every answer.
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
