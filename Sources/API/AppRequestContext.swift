import Foundation
import Hummingbird
import NIOCore

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

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { Self.maxBodySize }
    public var responseEncoder: JSONEncoder { .api }

    /// The client's IP address, without the port.
    public var clientIP: String? { remoteAddress?.ipAddress }
}

/// Filled in by handlers of mutating calls: which action on which target (the middleware knows who and how it ended).
public final class AuditNote: @unchecked Sendable {
    private let lock = NSLock()
    private var _action: String?
    private var _targetType: String?
    private var _targetID: String?
    private var _detail: String?

    public func record(_ action: String, target type: String?, id: String?, detail: String? = nil) {
        lock.withLock {
            _action = action
            _targetType = type
            _targetID = id
            _detail = detail
        }
    }

    /// Sets the target of an action the middleware already knows (e.g. the id of what a create made).
    public func target(_ type: String, id: String) {
        lock.withLock {
            _targetType = type
            _targetID = id
        }
    }

    var snapshot: (action: String?, targetType: String?, targetID: String?, detail: String?) {
        lock.withLock { (_action, _targetType, _targetID, _detail) }
    }
}

extension JSONEncoder {
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }
}
