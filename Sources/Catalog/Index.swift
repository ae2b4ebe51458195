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
    /// Paths whose state changed, for live updates.
    public var paths: [String]
    /// How many of the duplicates were of each type (metrics).
    public var duplicatesByType: [HookEvent: Int] = [:]
    /// Webhook deliveries written to the outbox.
    public var webhooks = 0
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

    public var end: Int64? { duration.map { start + Int64(($0 * 1_000_000).rounded()) } }
}

/// A path's indexed live state.
public struct PathState: Sendable, Equatable {
    public var pathName: String
    public var available: Bool
    public var availableSince: Int64?
    public var online: Bool
    public var onlineSince: Int64?
    public var sourceType: String?
    public var sourceID: String?
    public var readers: [String: String]

    public static func idle(_ path: String) -> PathState {
        PathState(
            pathName: path, available: false, availableSince: nil, online: false, onlineSince: nil, sourceType: nil, sourceID: nil, readers: [:])
    }
}

/// Contiguous segments merged (gap ≤ the tolerance).
public struct RecordingSession: Sendable, Equatable {
    public var start: Int64
    public var end: Int64
    public var segmentCount: Int
    public var open: Bool
}

public struct HistoryEvent: Sendable, Equatable {
    public var eventID: String
    public var type: String
    public var pathName: String
    public var occurredAt: Int64
    public var node: String?
    public var payload: String
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

extension Date {
    /// Microseconds since 1970.
    public var micros: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
    public init(micros: Int64) { self.init(timeIntervalSince1970: Double(micros) / 1_000_000) }
}
