import Foundation

/// A stream the companion has connected to MediaMTX: exactly one MediaMTX path (design §2.1).
public struct MediaSource: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// MediaMTX pulls `url`.
        case pull
        /// An encoder publishes to the path; MediaMTX's `source` is `publisher`.
        case push
    }

    public var id: UUID
    public var name: String
    /// The MediaMTX path name, globally unique (§2.2.1).
    public var pathName: String
    public var kind: Kind
    public var url: String?
    public var `protocol`: String?
    public var enabled: Bool
    public var recordEnabled: Bool
    /// The MediaMTX node the path is on (`MediaNode.name`).
    public var node: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, name: String, pathName: String, kind: Kind, url: String?, protocol: String?,
        enabled: Bool, recordEnabled: Bool, createdAt: Date, updatedAt: Date, node: String = MediaNode.defaultName
    ) {
        self.node = node
        self.id = id
        self.name = name
        self.pathName = pathName
        self.kind = kind
        self.url = url
        self.protocol = `protocol`
        self.enabled = enabled
        self.recordEnabled = recordEnabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Filters and paging for listing sources.
public struct SourceQuery: Sendable {
    public var kind: MediaSource.Kind?
    public var enabled: Bool?
    public var node: String?
    /// Case-insensitive "name contains".
    public var nameContains: String?
    public var page: Int
    public var pageSize: Int

    public init(
        kind: MediaSource.Kind? = nil, enabled: Bool? = nil, nameContains: String? = nil, page: Int = 1, pageSize: Int = 50, node: String? = nil
    ) {
        self.node = node
        self.kind = kind
        self.enabled = enabled
        self.nameContains = nameContains
        self.page = page
        self.pageSize = pageSize
    }
}

public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var total: Int

    public init(items: [Item], total: Int) {
        self.items = items
        self.total = total
    }
}

/// A push source's publish key: 32 random bytes as 64 lowercase hex characters (every catalogue backend makes them so).
public enum PublishKey {
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
}
