/// A request a service refuses: the kind of refusal, the message for a person and, when one is to blame, the
/// field. The error middleware alone turns it into an HTTP answer.
public struct ServiceError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A given value breaks a rule.
        case invalidArgument
        /// What is asked about does not exist.
        case notFound
        /// Nothing was recorded at or in the time asked about.
        case noRecording
        /// The asset is not a stream asset, so it has no stream.
        case notAStreamAsset
        /// The asset is a clip, not a live stream.
        case notALiveStream
        /// The change clashes with what exists.
        case conflict
        /// Stream assets still use the source.
        case sourceHasAssets
        /// Only push sources have a publish key.
        case notAPushSource
        /// The change would leave no admin.
        case lastAdmin
        /// Wrong user name or password.
        case badCredentials
        /// No MediaMTX node can take a source.
        case noNodeAvailable
        /// Sources are placed on the node.
        case nodeHasSources
        /// The caller's token is missing, invalid or expired.
        case unauthenticated
        /// The caller may not do this.
        case forbidden
        /// Too many failed attempts; the next may come after this many seconds.
        case tooManyAttempts(retryAfter: Int)
    }

    public let kind: Kind
    public let message: Message
    public let field: String?

    public init(_ kind: Kind, _ message: Message, field: String? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
    }

    static func invalid(_ field: String, _ message: Message) -> ServiceError {
        ServiceError(.invalidArgument, message, field: field)
    }

    static func missing(_ field: String) -> ServiceError {
        ServiceError(.invalidArgument, .missingField(field), field: field)
    }

    static func notFound(_ thing: Message.Thing, field: String? = nil) -> ServiceError {
        ServiceError(.notFound, .notFound(thing), field: field)
    }
}
