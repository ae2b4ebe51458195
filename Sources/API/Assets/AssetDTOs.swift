import Catalog
import Domain
import Foundation
import Hummingbird
import MediaMTX

/// The design's bodies (§3.2, §7): `{stream_url, name[, tags]}` or `{source_id, name[, tags][, path]}`, with `type`
/// and `source_type` optional (they can only be `stream`/`live`); `path`, when given, must be the source's path_name.
struct CreateAssetRequest: StrictBody {
    static let allowedKeys: Set<String> = ["type", "source_type", "name", "stream_url", "source_id", "path", "tags", "description", "node"]
    static let nullableKeys: Set<String> = ["description"]
    var type: String?
    var sourceType: String?
    var name: String?
    /// With `stream_url`: the node of the new source (placement as for sources otherwise).
    var node: String?
    var streamURL: String?
    var sourceID: String?
    var path: String?
    var tags: [String]?
    var description: String?

    enum CodingKeys: String, CodingKey {
        case type, name, tags, description, path, node
        case sourceType = "source_type"
        case streamURL = "stream_url"
        case sourceID = "source_id"
    }
}

struct UpdateAssetRequest: StrictBody {
    static let allowedKeys: Set<String> = ["name", "tags", "description", "source_id", "type", "source_type", "path"]
    static let nullableKeys: Set<String> = ["description"]
    var name: String?
    var tags: [String]?
    var description: String?
    var sourceID: String?
    var type: String?
    var sourceType: String?
    var path: String?

    enum CodingKeys: String, CodingKey {
        case name, tags, description, type, path
        case sourceID = "source_id"
        case sourceType = "source_type"
    }
}

struct CreateClipRequest: StrictBody {
    static let allowedKeys: Set<String> = ["name", "start", "duration", "tags", "description", "format"]
    static let nullableKeys: Set<String> = ["description"]
    var name: String?
    var start: String?
    var duration: Double?
    var tags: [String]?
    var description: String?
    var format: String?
}

struct AssetResponse: ResponseEncodable {
    var id: String
    var name: String
    var type: String
    var sourceType: String
    var sourceID: String?
    var path: String?
    var tags: [String]
    var description: String?
    var start: String?
    var duration: Double?
    var format: String?
    var playbackURL: String?
    /// The node of a live asset's source, or the node that recorded a clip's start.
    var node: String?
    var createdAt: String
    var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, name, type, path, tags, description, start, duration, format, node
        case sourceType = "source_type"
        case sourceID = "source_id"
        case playbackURL = "playback_url"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// A clip's `playback_url` carries `playbackToken` (a playback token for its path) when given.
    init(_ a: MediaAsset, playbackAddress: String, playbackToken: String? = nil, node: String? = nil) {
        self.node = node
        id = a.id.uuidString.lowercased()
        name = a.name
        type = a.type
        sourceType = a.sourceType.rawValue
        sourceID = a.sourceID?.uuidString.lowercased()
        path = a.path
        tags = a.tags
        description = a.description
        start = a.clipStart.map(Timestamp.format)
        duration = a.clipDuration
        format = a.clipFormat
        if let path = a.path, let clipStart = a.clipStart, let clipDuration = a.clipDuration {
            let url = MediaMTXClient.playbackURL(
                base: playbackAddress, path: path, start: clipStart, duration: clipDuration, format: a.clipFormat ?? "mp4")
            playbackURL = playbackToken.map { StreamURLs.adding("token", $0, to: url) } ?? url
        }
        createdAt = Timestamp.format(a.createdAt)
        updatedAt = Timestamp.format(a.updatedAt)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(type, forKey: .type)
        try c.encode(sourceType, forKey: .sourceType)
        try c.encode(sourceID, forKey: .sourceID)
        try c.encode(path, forKey: .path)
        try c.encode(tags, forKey: .tags)
        try c.encode(description, forKey: .description)
        try c.encodeIfPresent(start, forKey: .start)
        try c.encodeIfPresent(duration, forKey: .duration)
        try c.encodeIfPresent(format, forKey: .format)
        try c.encodeIfPresent(playbackURL, forKey: .playbackURL)
        try c.encode(node, forKey: .node)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// Input rules for assets.
enum AssetValidation {
    static let maxTags = 50
    static let maxTagLength = 64

    /// Trimmed, non-empty, at most 64 characters each, at most 50, duplicates dropped (first kept).
    static func tags(_ value: [String]?) throws -> [String]? {
        guard let value else { return nil }
        var seen = Set<String>()
        var out: [String] = []
        for raw in value {
            let tag = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !tag.isEmpty else { throw APIError.invalidField("tags", .mustNotBeEmpty("tags[]")) }
            guard tag.count <= maxTagLength else { throw APIError.invalidField("tags", .tooLong("tags[]", max: maxTagLength)) }
            guard !tag.unicodeScalars.contains("\0") else { throw APIError.invalidField("tags", .containsNUL("tags[]")) }
            if seen.insert(tag).inserted { out.append(tag) }
        }
        guard out.count <= maxTags else { throw APIError.invalidField("tags", .notAnInteger("tags (count)", min: 0, max: maxTags)) }
        return out
    }

    static func description(_ value: String?) throws -> String? {
        guard let value else { return nil }
        guard value.count <= 4000 else { throw APIError.invalidField("description", .tooLong("description", max: 4000)) }
        guard !value.unicodeScalars.contains("\0") else { throw APIError.invalidField("description", .containsNUL("description")) }
        return value
    }

    /// A UUID naming a source; anything else can't name one: 404 on `source_id`.
    static func sourceID(_ value: String) throws -> UUID {
        guard let id = UUID(uuidString: value) else { throw APIError(.notFound, code: "not_found", message: .notFound(.source), field: "source_id") }
        return id
    }
}
