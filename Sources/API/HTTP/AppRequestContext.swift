import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Request context of the companion's router: bodies capped at 1 MiB, JSON out with readable URLs, the caller's
/// identity once `AuthMiddleware` has checked the token, and the audit note handlers fill in.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public static let maxBodySize = 1 << 20
    /// Set by `AuthMiddleware` on authenticated routes.
    public var identity: Identity?
    /// What `AuditMiddleware` records about a mutating call; a class so the handler's additions reach the middleware.
    public let audit = AuditNote()
    public let remoteAddress: SocketAddress?
    /// The client behind a trusted proxy (`TrustedProxyMiddleware`).
    public var forwardedFor: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { Self.maxBodySize }
    public var responseEncoder: JSONEncoder { .api }

    /// The client's IP address, without the port: behind a trusted proxy, the address it forwarded for.
    public var clientIP: String? { forwardedFor ?? remoteAddress?.ipAddress }

    /// The `:id` path parameter. Ids that are not UUIDs can't name a `thing`: 404, like any unknown id.
    func id(of thing: Message.Thing) throws -> UUID {
        guard let text = parameters.get("id"), let id = UUID(uuidString: text) else { throw APIError.notFound(thing) }
        return id
    }
}

/// Filled in by handlers of mutating calls: which action on which target (the middleware knows who and how it ended).
public final class AuditNote: Sendable {
    typealias State = (action: String?, targetType: String?, targetID: String?, detail: String?)
    private let state = Mutex<State>((nil, nil, nil, nil))

    public func record(_ action: String, target type: String?, id: String?, detail: String? = nil) {
        state.withLock { $0 = (action, type, id, detail) }
    }

    /// Sets the target of an action the middleware already knows (e.g. the id of what a create made).
    public func target(_ type: String, id: String) {
        state.withLock {
            $0.targetType = type
            $0.targetID = id
        }
    }

    var snapshot: State { state.withLock { $0 } }
}

extension JSONEncoder {
    /// One shared encoder (its settings never change), not one per answer.
    static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()
}
