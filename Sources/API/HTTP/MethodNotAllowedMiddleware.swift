import Hummingbird

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
