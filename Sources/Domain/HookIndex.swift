import Foundation
import HookWire

/// One hook event, checked and ready to index. Times are microseconds since 1970 (MediaMTX names segments
/// to the microsecond; SQLite keeps them as integers so range queries stay exact and fast).
public struct IngestEvent: Sendable, Equatable {
    public struct SegmentInfo: Sendable, Equatable {
        public var filePath: String
        public var start: Int64
        public var duration: Double?
        public var size: Int64?

        public init(filePath: String, start: Int64, duration: Double?, size: Int64?) {
            self.filePath = filePath
            self.start = start
            self.duration = duration
            self.size = size
        }
    }

    public var eventID: String
    public var type: HookEvent
    public var occurredAt: Int64
    public var node: String?
    public var path: String
    public var sourceType: String?
    public var sourceID: String?
    public var readerType: String?
    public var readerID: String?
    public var segment: SegmentInfo?
    /// The event as received, kept in the history.
    public var payload: String

    public init(
        eventID: String, type: HookEvent, occurredAt: Int64, node: String?, path: String, sourceType: String?, sourceID: String?,
        readerType: String?, readerID: String?, segment: SegmentInfo?, payload: String
    ) {
        self.eventID = eventID
        self.type = type
        self.occurredAt = occurredAt
        self.node = node
        self.path = path
        self.sourceType = sourceType
        self.sourceID = sourceID
        self.readerType = readerType
        self.readerID = readerID
        self.segment = segment
        self.payload = payload
    }
}

public struct IngestResult: Sendable, Equatable {
    public var accepted: Int
    public var duplicates: Int
    /// The ids of the events accepted (stored for the first time), in order: what live listeners are told.
    public var acceptedIDs: [String]
    /// How many of the duplicates were of each type (metrics).
    public var duplicatesByType: [HookEvent: Int] = [:]
    /// Webhook deliveries written to the outbox.
    public var webhooks = 0

    public init(accepted: Int = 0, duplicates: Int = 0, acceptedIDs: [String] = [], duplicatesByType: [HookEvent: Int] = [:], webhooks: Int = 0) {
        self.accepted = accepted
        self.duplicates = duplicates
        self.acceptedIDs = acceptedIDs
        self.duplicatesByType = duplicatesByType
        self.webhooks = webhooks
    }
}

public enum SegmentState: String, Sendable {
    case recording, complete, deleted
}

public struct Segment: Sendable, Equatable {
    public init(id: Int64, pathName: String, filePath: String?, start: Int64, duration: Double?, size: Int64?, state: SegmentState) {
        self.id = id
        self.pathName = pathName
        self.filePath = filePath
        self.start = start
        self.duration = duration
        self.size = size
        self.state = state
    }

    public var id: Int64
    public var pathName: String
    public var filePath: String?
    public var start: Int64
    public var duration: Double?
    public var size: Int64?
    public var state: SegmentState
    /// The node it was recorded on (from the path's placements; not stored with the segment).
    public var node: String?

    public var end: Int64? { duration.map { start + Int64(($0 * 1_000_000).rounded()) } }

    /// Where a segment ends as far as sessions go: an open one (no duration yet) at its start.
    public static func end(start: Int64, duration: Double?) -> Int64 { start + Int64(((duration ?? 0) * 1_000_000).rounded()) }
}

public struct HistoryEvent: Sendable, Equatable {
    public var eventID: String
    public var type: String
    public var pathName: String
    public var occurredAt: Int64
    public var node: String?
    public var payload: String

    public init(eventID: String, type: String, pathName: String, occurredAt: Int64, node: String?, payload: String) {
        self.eventID = eventID
        self.type = type
        self.pathName = pathName
        self.occurredAt = occurredAt
        self.node = node
        self.payload = payload
    }
}

/// Where a streamed listing of segments goes on: after this path's segment that started at `start`.
public struct SegmentCursor: Sendable, Equatable {
    public var path: String
    public var start: Int64

    public init(path: String, start: Int64) {
        self.path = path
        self.start = start
    }
}

public struct SegmentQuery: Sendable {
    public var path: String?
    public var from: Int64?
    public var to: Int64?
    public var includeDeleted: Bool
    public var page: Int
    public var pageSize: Int

    public init(path: String? = nil, from: Int64? = nil, to: Int64? = nil, includeDeleted: Bool = false, page: Int = 1, pageSize: Int = 100) {
        self.path = path
        self.from = from
        self.to = to
        self.includeDeleted = includeDeleted
        self.page = page
        self.pageSize = pageSize
    }
}
