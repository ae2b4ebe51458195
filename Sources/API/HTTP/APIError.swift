import Foundation
import Hummingbird

/// The one error type at the edge: `{"error": {"code", "message", "field", "request_id"}}`, the message in the
/// request's language (`Accept-Language`: English by default, Chinese for `zh`), the code stable English.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: Message
    public let field: String?
    /// E.g. `Retry-After` of a 429, `WWW-Authenticate` of a 401.
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: Message, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let language = Language(acceptLanguage: request.headers[.acceptLanguage])
        let body = ErrorBody(error: .init(code: code, message: message.text(language), field: field, requestID: context.id))
        let data = try JSONEncoder.api.encode(body)
        var fields: HTTPFields = [.contentType: "application/json; charset=utf-8", .contentLanguage: language.rawValue]
        fields.append(contentsOf: headers)
        return Response(
            status: status,
            headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

/// `{"error": {"code", "message", "field", "request_id"}}`; `field` only when a field is to blame; `request_id` as in
/// the `X-Request-Id` header and the server's log line of the request.
struct ErrorBody: Codable {
    struct Inner: Codable {
        let code: String
        let message: String
        let field: String?
        var requestID: String?

        enum CodingKeys: String, CodingKey {
            case code, message, field
            case requestID = "request_id"
        }
    }
    let error: Inner
}

// MARK: - The errors the API answers

extension APIError {
    static func missingField(_ field: String) -> APIError {
        APIError(.badRequest, code: "invalid_argument", message: .missingField(field), field: field)
    }

    static func invalidField(_ field: String, _ reason: Message) -> APIError {
        APIError(.badRequest, code: "invalid_argument", message: reason, field: field)
    }

    static func unknownField(_ field: String) -> APIError {
        APIError(.badRequest, code: "invalid_argument", message: .unknownField(field), field: field)
    }

    static func invalidJSON(_ detail: String) -> APIError {
        APIError(.badRequest, code: "invalid_json", message: .invalidJSON(detail), field: "body")
    }

    static func notFound(_ what: Message.Thing) -> APIError {
        APIError(.notFound, code: "not_found", message: .notFound(what))
    }

    static let loginRequired = APIError(.unauthorized, code: "unauthorized", message: .loginRequired)
    static let tokenInvalid = APIError(.unauthorized, code: "unauthorized", message: .tokenInvalid)

    static func forbidden(needs role: String) -> APIError {
        APIError(.forbidden, code: "forbidden", message: .roleForbidden(required: role))
    }

    static let routeNotFound = APIError(.notFound, code: "not_found", message: .routeNotFound)
    static let bodyTooLarge = APIError(.contentTooLarge, code: "payload_too_large", message: .bodyTooLarge)
    static let internalError = APIError(.internalServerError, code: "internal", message: .internalError)

    static func mediamtxUnavailable(_ detail: String) -> APIError {
        APIError(.serviceUnavailable, code: "mediamtx_unavailable", message: .mediamtxUnavailable(detail))
    }

    /// The catalogue's database server is unreachable (PostgreSQL down or restarting): try again shortly.
    static var databaseUnavailable: APIError {
        var error = APIError(.serviceUnavailable, code: "database_unavailable", message: .databaseUnavailable)
        error.headers[.retryAfter] = "5"
        return error
    }

    static func pathConflict(_ path: String) -> APIError {
        APIError(.conflict, code: "conflict", message: .pathConflict(path))
    }

    static func mediamtxRejected(_ detail: String) -> APIError {
        APIError(.badGateway, code: "mediamtx_error", message: .mediamtxRejected(detail))
    }
}

// MARK: - Services' refusals

extension APIError {
    /// The status and code of a service's refusal; its message and field as they are.
    init(_ error: ServiceError) {
        let (status, code): (HTTPResponse.Status, String) =
            switch error.kind {
            case .invalidArgument: (.badRequest, "invalid_argument")
            case .notFound: (.notFound, "not_found")
            case .noRecording: (.notFound, "no_recording")
            case .notAStreamAsset: (.badRequest, "not_a_stream_asset")
            case .notALiveStream: (.badRequest, "not_a_live_stream")
            case .conflict: (.conflict, "conflict")
            case .sourceHasAssets: (.conflict, "source_has_assets")
            case .notAPushSource: (.conflict, "not_push")
            case .lastAdmin: (.conflict, "last_admin")
            case .noNodeAvailable: (.serviceUnavailable, "no_node_available")
            case .nodeHasSources: (.conflict, "node_has_sources")
            case .badCredentials: (.unauthorized, "invalid_credentials")
            case .unauthenticated: (.unauthorized, "unauthorized")
            case .forbidden: (.forbidden, "forbidden")
            case .tooManyAttempts: (.tooManyRequests, "too_many_attempts")
            }
        self.init(status, code: code, message: error.message, field: error.field)
        if case .tooManyAttempts(let seconds) = error.kind { headers[.retryAfter] = String(seconds) }
    }
}

/// Languages the API speaks.
public enum Language: String, Sendable {
    case en, zh

    /// Picks the preferred of English and Chinese from an `Accept-Language` header (q-values honoured).
    public init(acceptLanguage header: String?) {
        self = .en
        guard let header else { return }
        var best: (Language, Double)?
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let tag = pieces.first else { continue }
            var q = 1.0
            for p in pieces.dropFirst() where p.hasPrefix("q=") { q = Double(p.dropFirst(2)) ?? 0 }
            let language: Language? = tag.hasPrefix("zh") ? .zh : (tag.hasPrefix("en") || tag == "*" ? .en : nil)
            if let language, q > 0, q > (best?.1 ?? -1) { best = (language, q) }
        }
        self = best?.0 ?? .en
    }
}
