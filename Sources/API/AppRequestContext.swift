import Foundation
import Hummingbird

/// Request context of the companion's router: bodies capped at 1 MiB, JSON out with readable URLs.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public static let maxBodySize = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { Self.maxBodySize }
    public var responseEncoder: JSONEncoder { .api }
}

extension JSONEncoder {
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }
}
