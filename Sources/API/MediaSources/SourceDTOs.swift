import Catalog
import Domain
import Foundation
import Hummingbird
import MediaMTX

// MARK: - Requests

struct CreateSourceRequest: StrictBody {
    static let allowedKeys: Set<String> = ["name", "type", "url", "protocol", "enabled", "record_enabled", "node", "node_labels"]
    var name: String?
    var type: String?
    var url: String?
    var `protocol`: String?
    var enabled: Bool?
    var recordEnabled: Bool?
    /// The node to place the source on; else `node_labels` the node must carry; neither: the least loaded node.
    var node: String?
    var nodeLabels: [String: String]?

    enum CodingKeys: String, CodingKey {
        case name, type, url, `protocol`, enabled, node
        case recordEnabled = "record_enabled"
        case nodeLabels = "node_labels"
    }
}

/// `POST /api/v1/sources/:id/move`.
struct MoveSourceRequest: StrictBody {
    static let allowedKeys: Set<String> = ["node"]
    var node: String?
}

struct UpdateSourceRequest: StrictBody {
    static let allowedKeys: Set<String> = ["name", "url", "protocol", "enabled", "record_enabled", "type"]
    var name: String?
    var url: String?
    var type: String?
    var `protocol`: String?
    var enabled: Bool?
    var recordEnabled: Bool?

    enum CodingKeys: String, CodingKey {
        case name, url, type, `protocol`, enabled
        case recordEnabled = "record_enabled"
    }
}

// MARK: - Responses

struct SourceResponse: ResponseEncodable {
    var id: String
    var name: String
    var pathName: String
    var type: String
    var url: String?
    var `protocol`: String?
    var enabled: Bool
    var recordEnabled: Bool
    /// The MediaMTX node the path is on.
    var node: String
    var pushURL: String?
    var createdAt: String
    var updatedAt: String
    /// The indexed live status (`with_status=true`), the same in lists and for one source.
    var status: LiveStatusResponse?

    enum CodingKeys: String, CodingKey {
        case id, name, type, url, `protocol`, enabled, status, node
        case pathName = "path_name"
        case recordEnabled = "record_enabled"
        case pushURL = "push_url"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// `credentials`: the pull URL keeps its user info and secret parameters (operators and admins, who may set it).
    init(
        _ s: MediaSource, urls: StreamURLs, pushKey: String?, credentials: Bool, status: LiveStatusResponse? = nil
    ) {
        id = s.id.uuidString.lowercased()
        name = s.name
        pathName = s.pathName
        type = s.kind.rawValue
        url = credentials ? s.url : s.url.map(Redaction.url)
        self.protocol = s.protocol
        enabled = s.enabled
        recordEnabled = s.recordEnabled
        node = s.node
        pushURL = s.kind == .push ? urls.push(s.pathName, key: pushKey) : nil
        createdAt = Timestamp.format(s.createdAt)
        updatedAt = Timestamp.format(s.updatedAt)
        self.status = status
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(pathName, forKey: .pathName)
        try c.encode(type, forKey: .type)
        try c.encode(url, forKey: .url)
        try c.encode(self.protocol, forKey: .protocol)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(recordEnabled, forKey: .recordEnabled)
        try c.encode(node, forKey: .node)
        try c.encodeIfPresent(pushURL, forKey: .pushURL)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encodeIfPresent(status, forKey: .status)
    }
}

extension SourceResponse {
    /// `source` as `identity` may see it: the publish key and camera credentials only for those allowed them.
    init(_ source: MediaSource, urls: StreamURLs, access: StreamAccess, for identity: Identity?) async throws {
        self.init(source, urls: urls, pushKey: try await access.pushKey(source, for: identity), credentials: access.mayReadCredentials(identity))
    }
}

/// Live state of a source's path (MediaMTX `Path`); a path MediaMTX doesn't have is simply not live.
struct StatusResponse: ResponseEncodable {
    var pathName: String
    var ready: Bool
    var available: Bool
    var online: Bool
    var readyTime: String?
    var availableTime: String?
    var onlineTime: String?
    var readers: Int
    var readerTypes: [String]
    var sourceType: String?
    var sourceID: String?
    var tracks: [String]
    var bytesReceived: UInt64
    var bytesSent: UInt64

    enum CodingKeys: String, CodingKey {
        case ready, available, online, readers, tracks
        case pathName = "path_name"
        case readyTime = "ready_time"
        case availableTime = "available_time"
        case onlineTime = "online_time"
        case readerTypes = "reader_types"
        case sourceType = "source_type"
        case sourceID = "source_id"
        case bytesReceived = "bytes_received"
        case bytesSent = "bytes_sent"
    }

    init(pathName: String, path: Path?) {
        self.pathName = pathName
        ready = path?.ready ?? false
        available = path?.available ?? ready
        online = path?.online ?? ready
        readyTime = path?.readyTime
        availableTime = path?.availableTime ?? readyTime
        onlineTime = path?.onlineTime ?? readyTime
        readers = path?.readers.count ?? 0
        readerTypes = path?.readers.map(\.type) ?? []
        sourceType = path?.source?.type
        sourceID = path?.source?.id
        tracks = path?.tracks ?? []
        bytesReceived = path?.inboundBytes ?? path?.bytesReceived ?? 0
        bytesSent = path?.outboundBytes ?? path?.bytesSent ?? 0
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pathName, forKey: .pathName)
        try c.encode(ready, forKey: .ready)
        try c.encode(available, forKey: .available)
        try c.encode(online, forKey: .online)
        try c.encode(readyTime, forKey: .readyTime)
        try c.encode(availableTime, forKey: .availableTime)
        try c.encode(onlineTime, forKey: .onlineTime)
        try c.encode(readers, forKey: .readers)
        try c.encode(readerTypes, forKey: .readerTypes)
        try c.encode(sourceType, forKey: .sourceType)
        try c.encode(sourceID, forKey: .sourceID)
        try c.encode(tracks, forKey: .tracks)
        try c.encode(bytesReceived, forKey: .bytesReceived)
        try c.encode(bytesSent, forKey: .bytesSent)
    }
}

struct PreviewResponse: ResponseEncodable {
    var pathName: String
    var hlsURL: String
    var rtspURL: String
    var rtmpURL: String
    var webrtcURL: String
    var srtURL: String
    var hlsPlayerURL: String
    var webrtcPlayerURL: String
    var pushURL: String?

    enum CodingKeys: String, CodingKey {
        case pathName = "path_name"
        case hlsURL = "hls_url"
        case rtspURL = "rtsp_url"
        case rtmpURL = "rtmp_url"
        case webrtcURL = "webrtc_url"
        case srtURL = "srt_url"
        case hlsPlayerURL = "hls_player_url"
        case webrtcPlayerURL = "webrtc_player_url"
        case pushURL = "push_url"
    }

    /// Every URL carries `token`, a read token for this path (MediaMTX asks us about it through authHTTPAddress).
    init(_ s: MediaSource, urls: StreamURLs, token: String, pushKey: String?) {
        func signed(_ url: String) -> String { StreamURLs.adding("token", token, to: url) }
        pathName = s.pathName
        hlsURL = signed(urls.hls(s.pathName))
        rtspURL = signed(urls.rtsp(s.pathName))
        rtmpURL = signed(urls.rtmp(s.pathName))
        webrtcURL = signed(urls.whep(s.pathName))
        srtURL = urls.srt(s.pathName, token: token)
        hlsPlayerURL = signed(urls.hlsPlayer(s.pathName))
        webrtcPlayerURL = signed(urls.webrtcPlayer(s.pathName))
        pushURL = s.kind == .push ? urls.push(s.pathName, key: pushKey) : nil
    }

    /// With a new read token, and the publish key if `identity` may publish.
    init(_ s: MediaSource, urls: StreamURLs, access: StreamAccess, for identity: Identity?) async throws {
        self.init(s, urls: urls, token: try await access.readToken(s.pathName), pushKey: try await access.pushKey(s, for: identity))
    }
}

struct ReadyResponse: ResponseEncodable {
    var ready: Bool
}

struct RecordStatusResponse: ResponseEncodable {
    var recordEnabled: Bool
    var recording: Bool
    var recordPath: String
    var recordFormat: String
    var segmentDuration: String

    enum CodingKeys: String, CodingKey {
        case recording
        case recordEnabled = "record_enabled"
        case recordPath = "record_path"
        case recordFormat = "record_format"
        case segmentDuration = "segment_duration"
    }

    init(_ s: SourcesService.RecordStatus) {
        recordEnabled = s.recordEnabled
        recording = s.recording
        recordPath = s.recordPath
        recordFormat = s.recordFormat
        segmentDuration = s.segmentDuration
    }
}

/// A source's live state as the hook events indexed it (no MediaMTX call).
struct LiveStatusResponse: Encodable, Sendable {
    var pathName: String
    var ready: Bool
    var available: Bool
    var online: Bool
    var availableSince: String?
    var onlineSince: String?
    var readers: Int
    var readerTypes: [String]
    var sourceType: String?
    var sourceID: String?
    /// The source's node is `down`: the state above is its last known one.
    var nodeDown: Bool

    enum CodingKeys: String, CodingKey {
        case ready, available, online, readers
        case nodeDown = "node_down"
        case pathName = "path_name"
        case availableSince = "available_since"
        case onlineSince = "online_since"
        case readerTypes = "reader_types"
        case sourceType = "source_type"
        case sourceID = "source_id"
    }

    init(_ s: PathState, nodeDown: Bool = false) {
        self.nodeDown = nodeDown
        pathName = s.pathName
        ready = s.available
        available = s.available
        online = s.online
        availableSince = s.available ? s.availableSince.map { Timestamp.format(Date(micros: $0)) } : nil
        onlineSince = s.online ? s.onlineSince.map { Timestamp.format(Date(micros: $0)) } : nil
        readers = s.readers.count
        readerTypes = s.readers.values.sorted()
        sourceType = s.available ? s.sourceType : nil
        sourceID = s.available ? s.sourceID : nil
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pathName, forKey: .pathName)
        try c.encode(ready, forKey: .ready)
        try c.encode(available, forKey: .available)
        try c.encode(online, forKey: .online)
        try c.encode(nodeDown, forKey: .nodeDown)
        try c.encode(availableSince, forKey: .availableSince)
        try c.encode(onlineSince, forKey: .onlineSince)
        try c.encode(readers, forKey: .readers)
        try c.encode(readerTypes, forKey: .readerTypes)
        try c.encode(sourceType, forKey: .sourceType)
        try c.encode(sourceID, forKey: .sourceID)
    }
}

/// `{id, path_name, file_path, start, end, duration, size, state}`.
struct SegmentResponse: Encodable, Sendable {
    var id: Int64
    var pathName: String
    var filePath: String?
    var start: String
    var end: String?
    var duration: Double?
    var size: Int64?
    var state: String
    var node: String?

    enum CodingKeys: String, CodingKey {
        case id, start, end, duration, size, state, node
        case pathName = "path_name"
        case filePath = "file_path"
    }

    init(_ s: Segment) {
        node = s.node
        id = s.id
        pathName = s.pathName
        filePath = s.filePath
        start = Timestamp.format(Date(micros: s.start))
        end = s.end.map { Timestamp.format(Date(micros: $0)) }
        duration = s.duration
        size = s.size
        state = s.state.rawValue
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(pathName, forKey: .pathName)
        try c.encode(node, forKey: .node)
        try c.encode(filePath, forKey: .filePath)
        try c.encode(start, forKey: .start)
        try c.encode(end, forKey: .end)
        try c.encode(duration, forKey: .duration)
        try c.encode(size, forKey: .size)
        try c.encode(state, forKey: .state)
    }
}

/// `{start, end, duration, segment_count}`; `recording` while its last segment is still open.
struct SessionResponse: Encodable, Sendable {
    var start: String
    var end: String
    var duration: Double
    var segmentCount: Int
    var recording: Bool

    enum CodingKeys: String, CodingKey {
        case start, end, duration, recording
        case segmentCount = "segment_count"
    }

    init(_ s: RecordingSession) {
        start = Timestamp.format(Date(micros: s.start))
        end = Timestamp.format(Date(micros: s.end))
        duration = Double(s.end - s.start) / 1_000_000
        segmentCount = s.segmentCount
        recording = s.open
    }
}

struct PlaybackSegment: Encodable {
    var start: String
    var duration: Double
    var url: String
}

struct PlaybackResponse: ResponseEncodable {
    var pathName: String
    var url: String
    var start: String
    var duration: Double
    var format: String
    /// The node whose playback server holds the recording.
    var node: String

    enum CodingKeys: String, CodingKey {
        case url, start, duration, format, node
        case pathName = "path_name"
    }
}

extension PlaybackResponse {
    /// The playback `query` asked of `source`; `url` is the playback's URL with a token.
    init(_ source: MediaSource, _ query: PlaybackQuery, _ playback: SourcesService.Playback, url: String) {
        self.init(
            pathName: source.pathName, url: url, start: Timestamp.format(query.start), duration: playback.duration, format: query.format,
            node: playback.node)
    }
}

/// One indexed hook event: `{event_id, type, path_name, occurred_at, node, data}` (`data` as the hook sent it).
struct HistoryEventResponse: Encodable, Sendable {
    var eventID: String
    var type: String
    var pathName: String
    var occurredAt: String
    var node: String?
    /// Sent by a node that did not hold the path then (a camera or player pointed at the wrong node).
    var misplaced: Bool
    var data: HookWireEvent?

    enum CodingKeys: String, CodingKey {
        case type, node, data, misplaced
        case eventID = "event_id"
        case pathName = "path_name"
        case occurredAt = "occurred_at"
    }

    init(_ e: HistoryEvent, misplaced: Bool = false) {
        self.misplaced = misplaced
        eventID = e.eventID
        type = e.type
        pathName = e.pathName
        occurredAt = Timestamp.format(Date(micros: e.occurredAt))
        node = e.node
        var wire = try? JSONDecoder().decode(HookWireEvent.self, from: Data(e.payload.utf8))
        // Stored redacted since the hook route redacts; events indexed before then are redacted here.
        if let query = wire?.query { wire?.query = Redaction.query(query) }
        data = wire
    }
}

/// The moved source, the node it left, and whether its `push_url` changed (push sources: re-point the encoder).
struct MoveResponse: ResponseEncodable {
    var source: SourceResponse
    var previousNode: String
    var pushURLChanged: Bool

    enum CodingKeys: String, CodingKey {
        case source
        case previousNode = "previous_node"
        case pushURLChanged = "push_url_changed"
    }
}
