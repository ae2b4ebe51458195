import Foundation
import Hummingbird

/// Refuses request paths that are not canonical before anything reads them: empty segments (`//api/...`, also in
/// absolute form), `.` or `..` segments (raw or percent-encoded) and broken percent-encoding. The router would
/// otherwise fold some of these into another path than the one the client wrote. Such a path names no route: 404,
/// with a message saying why.
struct CanonicalPathMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.isCanonical(request.uri.path) else { throw APIError(.notFound, code: "not_found", message: .invalidPath) }
        return try await next(request, context)
    }

    static func isCanonical(_ path: String) -> Bool {
        guard path.hasPrefix("/"), !path.contains("//") else { return false }
        // Most paths (every hook delivery) have no escapes: nothing to decode.
        guard let decoded = path.contains("%") ? path.removingPercentEncoding : path else { return false }
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: false).dropFirst() where segment == "." || segment == ".." {
            return false
        }
        return !decoded.contains("//")
    }
}
