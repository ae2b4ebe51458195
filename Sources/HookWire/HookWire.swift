/// What `mtx-hook` and the companion agree on: event names, MediaMTX's hook variables, the hook's own
/// settings and the JSON field names of an event. No Foundation, so the hook stays small and starts fast.
public enum HookEvent: String, CaseIterable, Sendable {
    case available, unavailable, online, offline, read, unread
    case segmentCreate = "segment-create"
    case segmentComplete = "segment-complete"

    /// Accepts the event names and the aliases of MediaMTX's deprecated hooks (runOnReady, runOnNotReady).
    public init?(argument: String) {
        switch argument {
        case "ready": self = .available
        case "not-ready", "notReady": self = .unavailable
        default: self.init(rawValue: argument)
        }
    }

    public var isSegment: Bool { self == .segmentCreate || self == .segmentComplete }
    public var isReader: Bool { self == .read || self == .unread }
}

/// Environment variables MediaMTX gives hooks (mediamtx.yml, `pathDefaults` hooks).
public enum MediaMTXEnv {
    public static let path = "MTX_PATH"
    public static let query = "MTX_QUERY"
    public static let sourceType = "MTX_SOURCE_TYPE"
    public static let sourceID = "MTX_SOURCE_ID"
    public static let readerType = "MTX_READER_TYPE"
    public static let readerID = "MTX_READER_ID"
    public static let segmentPath = "MTX_SEGMENT_PATH"
    /// Seconds as a decimal string (`2.047029477`).
    public static let segmentDuration = "MTX_SEGMENT_DURATION"
}

/// The hook's own settings, set in MediaMTX's environment.
public enum HookSettingsEnv {
    /// `http://host:port` of the companion.
    public static let url = "MTX_COMPANION_URL"
    public static let token = "MTX_COMPANION_HOOK_TOKEN"
    public static let tokenFile = "MTX_COMPANION_HOOK_TOKEN_FILE"
    public static let spoolDirectory = "MTX_COMPANION_SPOOL_DIR"
    /// Names the MediaMTX instance the event comes from.
    public static let node = "MTX_COMPANION_NODE"
    /// Overall deadline of one run in milliseconds (default 2000).
    public static let deadline = "MTX_COMPANION_HOOK_DEADLINE_MS"
}

/// `POST /api/v1/hooks/events` takes one event object or `{"events": [...]}`.
public enum HookJSON {
    public static let endpoint = "/api/v1/hooks/events"
    public static let eventID = "event_id"
    public static let type = "type"
    public static let occurredAt = "occurred_at"
    public static let node = "node"
    public static let path = "path"
    public static let query = "query"
    public static let sourceType = "source_type"
    public static let sourceID = "source_id"
    public static let readerType = "reader_type"
    public static let readerID = "reader_id"
    public static let segmentPath = "segment_path"
    public static let segmentDuration = "segment_duration"
    public static let segmentSize = "segment_size"
    public static let events = "events"
}
