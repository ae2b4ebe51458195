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
        response.headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; media-src 'self' blob: *; connect-src 'self' *; frame-ancestors 'none'"
        let uiFile = context.endpointPath == nil && response.status.code < 400
        if !uiFile, response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

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
        guard path.hasPrefix("/"), !path.contains("//"), let decoded = path.removingPercentEncoding else { return false }
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: false).dropFirst() where segment == "." || segment == ".." {
            return false
        }
        return !decoded.contains("//")
    }
}

extension HTTPField.Name {
    // Not among swift-http-types' predefined names; made once, not on every answer.
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}

/// CORS for the configured browser origins only (`auth.cors_origins`); off when the list is empty. Hummingbird's
/// `CORSMiddleware` takes a fixed origin list only as variadic arguments, so a configured list needs this.
struct AllowedOriginsCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) else { return try await next(request, context) }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return Response(status: .noContent, headers: [
                .accessControlAllowOrigin: origin,
                .accessControlAllowMethods: "GET, POST, PUT, DELETE, OPTIONS",
                .accessControlAllowHeaders: "Authorization, Content-Type, Accept, Accept-Language",
                .accessControlMaxAge: "600",
                .vary: "Origin",
            ])
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.vary] = "Origin"
        return response
    }
}

/// Refuses JSON nested deeper than `limit` before any parser sees it.
enum JSONLimits {
    static let maxDepth = 32

    static func check(_ data: Data, limit: Int = maxDepth) throws {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in data {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { throw APIError.invalidJSON("nested deeper than \(limit) levels") }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
    }
}

/// The web UI's files at `/` (Hummingbird's FileMiddleware, `index.html` for folders); API paths and every path a
/// route matched never touch the disk.
struct UIFilesMiddleware<Context: RequestContext>: RouterMiddleware {
    let files: FileMiddleware<Context, LocalFileSystem>

    init(directory: String) {
        files = FileMiddleware(directory, searchForIndexHtml: true)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.endpointPath == nil, !request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        // A NUL ends the file name the system opens while the content type follows the whole name
        // (`/js/app.js%00.html` would be app.js served as HTML).
        if request.uri.path.removingPercentEncoding?.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) != false {
            throw APIError(.badRequest, code: "invalid_path", message: .controlCharacters("path"), field: "path")
        }
        return try await files.handle(request, context: context, next: next)
    }
}

/// A path the router knows, called with a method it does not serve: 405 with `Allow` (instead of the router's 404).
/// Added after every route, so it wraps only the router's not-found answer.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Route patterns (`["api", "v1", "sources", nil]`, nil for a parameter) and their methods.
    let routes: [(pattern: [Substring?], methods: [String])]

    init(_ routes: [(path: String, method: String)]) {
        var byPattern: [String: (pattern: [Substring?], methods: [String])] = [:]
        for route in routes {
            let pattern = route.path.split(separator: "/").map { $0.hasPrefix(":") || $0.hasPrefix("{") ? nil : $0 }
            byPattern[pattern.map { $0.map(String.init) ?? "*" }.joined(separator: "/"), default: (pattern, [])].methods.append(route.method)
        }
        self.routes = Array(byPattern.values)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.endpointPath == nil else { return try await next(request, context) }
        let parts = request.uri.path.split(separator: "/")
        let allowed = routes.filter { route in
            route.pattern.count == parts.count && zip(route.pattern, parts).allSatisfy { $0 == nil || $0 == $1 }
        }.flatMap(\.methods)
        guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else { return try await next(request, context) }
        var error = APIError(.methodNotAllowed, code: "method_not_allowed", message: .methodNotAllowed(Set(allowed).sorted()))
        error.headers[.allow] = Set(allowed).sorted().joined(separator: ", ")
        throw error
    }
}
