/// Types named and shaped as in MediaMTX's `openapi.yaml` (v3 API) and `playback.openapi.yaml`.

/// `PathConf`: the settings of one configured path. Only the fields the companion sets or reads;
/// nil fields are left out of request bodies, so PATCH touches only what is given.
public struct PathConf: Codable, Sendable, Equatable {
    public var name: String?
    public var source: String?
    public var sourceOnDemand: Bool?
    public var record: Bool?
    public var recordPath: String?
    public var recordFormat: String?
    public var recordSegmentDuration: String?

    public init(
        source: String? = nil, sourceOnDemand: Bool? = nil, record: Bool? = nil,
        recordPath: String? = nil, recordFormat: String? = nil, recordSegmentDuration: String? = nil
    ) {
        self.source = source
        self.sourceOnDemand = sourceOnDemand
        self.record = record
        self.recordPath = recordPath
        self.recordFormat = recordFormat
        self.recordSegmentDuration = recordSegmentDuration
    }
}

/// List answers share this shape: `{itemCount, pageCount, items}`.
public struct ListPage<Item: Decodable & Sendable>: Decodable, Sendable {
    public var itemCount: Int
    public var pageCount: Int
    public var items: [Item]
}

public struct PathSource: Decodable, Sendable, Equatable {
    public var type: String
    public var id: String?
}

public struct PathReader: Decodable, Sendable, Equatable {
    public var type: String
    public var id: String?
}

/// `Path`: the runtime state of a path. `available`/`online` appeared in MediaMTX 1.19; older servers only have `ready`.
public struct Path: Decodable, Sendable {
    public var name: String
    public var confName: String
    public var ready: Bool
    public var readyTime: String?
    public var available: Bool?
    public var availableTime: String?
    public var online: Bool?
    public var onlineTime: String?
    public var source: PathSource?
    public var tracks: [String]?
    public var readers: [PathReader]
    public var inboundBytes: UInt64?
    public var outboundBytes: UInt64?
    public var bytesReceived: UInt64?
    public var bytesSent: UInt64?
}

public struct RecordingSegment: Decodable, Sendable, Equatable {
    /// RFC 3339 with up to nanoseconds, as MediaMTX writes it.
    public var start: String
}

public struct Recording: Decodable, Sendable {
    public var name: String
    public var segments: [RecordingSegment]
}

/// An entry of the playback server's `GET /list`: a recorded span (contiguous segments merged).
public struct PlaybackListEntry: Decodable, Sendable, Equatable {
    public var start: String
    public var duration: Double
    public var url: String?
}

public struct Info: Decodable, Sendable {
    public var version: String
    public var started: String?
}

/// The part of MediaMTX's `GlobalConf` (`/v3/config/global/get`) the companion checks: how it authorises.
public struct GlobalConf: Decodable, Sendable {
    /// `internal`, `http` or `jwt`.
    public var authMethod: String?
    public var authHTTPAddress: String?
}

/// MediaMTX's error body: `{"status":"error","error":"..."}`.
struct ErrorBody: Decodable {
    var status: String?
    var error: String?
}

/// The hook commands of `pathDefaults` (a subset of `PathConf`). Since MediaMTX 1.19.3 `runOnReady`/`runOnNotReady`
/// are deprecated aliases of `runOnAvailable`/`runOnUnavailable`; older servers only know the old names.
public struct HookCommands: Codable, Sendable, Equatable {
    public var runOnAvailable: String?
    public var runOnUnavailable: String?
    public var runOnReady: String?
    public var runOnNotReady: String?
    public var runOnOnline: String?
    public var runOnOffline: String?
    public var runOnRead: String?
    public var runOnUnread: String?
    public var runOnRecordSegmentCreate: String?
    public var runOnRecordSegmentComplete: String?

    public init() {}
}
