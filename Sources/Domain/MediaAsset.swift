import Foundation

/// A catalogue entry. A stream asset (`type` stream) always points at a media source and stores its
/// path_name in `path` (design §3.1); a clip is a stream asset with `sourceType` vod and a recorded time range.
public struct MediaAsset: Sendable, Equatable {
    public enum SourceType: String, Sendable, CaseIterable {
        case live
        case vod
    }

    public var id: UUID
    public var name: String
    /// `stream` today; the column stays general for other kinds of asset.
    public var type: String
    public var sourceType: SourceType
    public var sourceID: UUID?
    /// The source's path_name.
    public var path: String?
    public var tags: [String]
    public var description: String?
    /// Clips: where the recorded range starts, how long it is (seconds), and the playback container.
    public var clipStart: Date?
    public var clipDuration: Double?
    public var clipFormat: String?
    public var createdAt: Date
    public var updatedAt: Date

    public static let streamType = "stream"

    public init(
        id: UUID, name: String, type: String, sourceType: SourceType, sourceID: UUID?, path: String?, tags: [String],
        description: String?, clipStart: Date? = nil, clipDuration: Double? = nil, clipFormat: String? = nil,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.sourceType = sourceType
        self.sourceID = sourceID
        self.path = path
        self.tags = tags
        self.description = description
        self.clipStart = clipStart
        self.clipDuration = clipDuration
        self.clipFormat = clipFormat
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Filters and paging for listing assets.
public struct AssetQuery: Sendable {
    public var type: String?
    public var sourceType: MediaAsset.SourceType?
    public var sourceID: UUID?
    /// Every tag must be present.
    public var tags: [String]
    public var nameContains: String?
    public var page: Int
    public var pageSize: Int

    public init(
        type: String? = nil, sourceType: MediaAsset.SourceType? = nil, sourceID: UUID? = nil, tags: [String] = [],
        nameContains: String? = nil, page: Int = 1, pageSize: Int = 50
    ) {
        self.type = type
        self.sourceType = sourceType
        self.sourceID = sourceID
        self.tags = tags
        self.nameContains = nameContains
        self.page = page
        self.pageSize = pageSize
    }
}
