import Foundation
import HookWire

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
    public init(
        pathName: String, available: Bool, availableSince: Int64? = nil, online: Bool, onlineSince: Int64? = nil, sourceType: String? = nil,
        sourceID: String? = nil, readers: [String: String]
    ) {
        self.pathName = pathName
        self.available = available
        self.availableSince = availableSince
        self.online = online
        self.onlineSince = onlineSince
        self.sourceType = sourceType
        self.sourceID = sourceID
        self.readers = readers
    }
}

/// The order-tolerant transitions of a path's live state, as every catalogue store applies them (the SQLite store
/// as conditional upserts in the ingest transaction; `CatalogTests` checks it against this model in every order of
/// the same events). Hook events can arrive late or twice: a state only moves to an event at least as recent as the
/// one that set it, so the newest event wins whatever order they came in.
public struct PathStatusModel: Sendable, Equatable {
    public struct Reader: Sendable, Equatable {
        public var type: String?
        public var active: Bool
        public var changedAt: Int64
        public init(type: String? = nil, active: Bool, changedAt: Int64) {
            self.type = type
            self.active = active
            self.changedAt = changedAt
        }
    }

    public var available = false
    public var availableAt: Int64?
    public var online = false
    public var onlineAt: Int64?
    public var sourceType: String?
    public var sourceID: String?
    public var readers: [String: Reader] = [:]

    public init() {}

    public mutating func apply(_ e: IngestEvent) {
        switch e.type {
        case .available, .unavailable:
            guard availableAt.map({ $0 <= e.occurredAt }) ?? true else { return }
            available = e.type == .available
            availableAt = e.occurredAt
            // The source is the one of the newest `available`; an `unavailable` keeps the last one known.
            if available {
                sourceType = e.sourceType
                sourceID = e.sourceID
            } else {
                // Readers end with the stream.
                for (id, reader) in readers where reader.active && reader.changedAt <= e.occurredAt {
                    readers[id] = Reader(type: reader.type, active: false, changedAt: e.occurredAt)
                }
            }
        case .online, .offline:
            guard onlineAt.map({ $0 <= e.occurredAt }) ?? true else { return }
            online = e.type == .online
            onlineAt = e.occurredAt
        case .read, .unread:
            guard let id = e.readerID else { return }
            let known = readers[id]
            guard known.map({ $0.changedAt <= e.occurredAt }) ?? true else { return }
            // A reader belongs to the stream it joined: a read older than the stream's last coming up or going
            // down arrived late and is already over.
            let current = availableAt.map { $0 <= e.occurredAt } ?? true
            readers[id] = Reader(type: e.readerType ?? known?.type, active: e.type == .read && current, changedAt: e.occurredAt)
        default:
            break
        }
    }

    /// The state as the API shows it.
    public func state(of path: String) -> PathState {
        PathState(
            pathName: path, available: available, availableSince: availableAt, online: online, onlineSince: onlineAt, sourceType: sourceType,
            sourceID: sourceID, readers: readers.filter(\.value.active).mapValues { $0.type ?? "" })
    }
}
