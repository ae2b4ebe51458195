import Foundation
import Hummingbird

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
