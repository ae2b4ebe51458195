import Hummingbird

/// `GET /api/openapi.yaml`: the API's OpenAPI document (`server.openapi_file`, docs/openapi.yaml), open to everyone.
/// Read from disk on each request (no thread of Swift concurrency waits on it), so an edited document is served at once.
struct OpenAPIController {
    let path: String
    let files = FileIO()

    func addRoutes(to router: AppRouter) {
        router.get("api/openapi.yaml") { _, context in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: try await files.loadFile(path: path, context: context)
            )
        }
    }
}
