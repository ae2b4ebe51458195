import Catalog
import CatalogPostgres
import Domain
import Foundation
import Hummingbird
import MediaMTX
import NIOCore

/// Turns every error into an `APIError` (the one place services' errors become HTTP answers), so no answer is an empty 500, and refuses oversized bodies up front.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > AppRequestContext.maxBodySize {
            throw APIError.bodyTooLarge
        }
        do {
            return try await next(request, context)
        } catch {
            throw map(error, context: context)
        }
    }

    func map(_ error: any Error, context: Context) -> APIError {
        if let known = Self.known(error) {
            if known.code == APIError.databaseUnavailable.code {
                // 503, not a hang or a 500 (design §5.3): mtx-hook spools the event, balancers see /readyz fail. Only
                // the error's type: the text of a driver's error may hold a query.
                context.logger.debug("database unavailable", metadata: ["error": "\(type(of: error))"])
            }
            return known
        }
        context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
        return .internalError
    }

    /// The answer for an error that names one; nil for the rest (a 500). Also what the audit log records.
    static func known(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as ServiceError:
            return APIError(error)
        case let error as MediaMTXError:
            return Self.map(error)
        case CatalogError.pathNameTaken(let path):
            return .pathConflict(path)
        case CatalogError.notFound:
            return .notFound(.source)
        case CatalogError.unavailable:
            return .databaseUnavailable
        case CatalogError.nodeHasSources(let n):
            return APIError(ServiceError(.nodeHasSources, .nodeHasSources(n)))
        case let error where PostgresCatalogError.isUnavailable(error):
            // Raised while reading rows, past the pool's own mapping.
            return .databaseUnavailable
        case let error as HTTPError where error.status == .contentTooLarge:
            return .bodyTooLarge
        case is NIOTooManyBytesError:
            // A route's own, smaller cap (`collectBody(upTo:)`).
            return .bodyTooLarge
        case let error as HTTPError where error.status == .notFound:
            return .routeNotFound
        case let error as HTTPError where error.status.code < 500:
            return APIError(error.status, code: "invalid_request", message: .invalidRequest(error.body ?? error.status.reasonPhrase))
        default:
            return nil
        }
    }

    static func map(_ error: MediaMTXError) -> APIError {
        switch error {
        case .unavailable(let detail): return .mediamtxUnavailable(detail)
        case .conflict(let message): return .pathConflict(message)
        case .notFound(let message): return .mediamtxRejected(message)
        case .rejected(_, let message): return .mediamtxRejected(message)
        case .badResponse(let detail): return .mediamtxRejected(detail)
        }
    }
}
