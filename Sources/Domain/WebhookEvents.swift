import Foundation
import HookWire

/// Which webhook events one newly indexed hook event makes (design: `stream.online`/`offline`,
/// `reader.joined`/`left`, `recording.session_started`/`session_ended`, `recording.segment_completed`).
///
/// `available`/`unavailable` are the stream going online/offline (MediaMTX's "ready": readers can read it);
/// `online`/`offline` and a `segment-create` that starts no session make none. Recording sessions are told apart
/// by the gap between a segment's start and the previous segment's end; a path's open session is remembered by the
/// store (`SessionChange` says how it moves).
public enum WebhookEvents {
    /// What the store knows about the path before the event is applied.
    public struct Facts: Sendable, Equatable {
        /// The start of the session reported as started and not yet as ended.
        public var openSession: Int64?
        /// A `segment-create` for a segment already indexed (reported again).
        public var segmentKnown: Bool
        /// The end of the latest segment that starts before this one (not deleted).
        public var previousSegmentEnd: Int64?

        public init(openSession: Int64? = nil, segmentKnown: Bool = false, previousSegmentEnd: Int64? = nil) {
            self.openSession = openSession
            self.segmentKnown = segmentKnown
            self.previousSegmentEnd = previousSegmentEnd
        }
    }

    /// Which facts the rule reads for an event of this type (the store looks up no others).
    public enum Needs: Sendable { case nothing, openSession, segmentHistory }

    public static func needs(_ type: HookEvent) -> Needs {
        switch type {
        case .unavailable: .openSession
        case .segmentCreate: .segmentHistory
        default: .nothing
        }
    }

    public enum SessionChange: Sendable, Equatable {
        case keep
        case close
        case open(start: Int64)
    }

    public struct Outgoing: Sendable, Equatable {
        public var id: String
        public var type: String
        public var at: Int64
        public var data: [String: WebhookValue]

        public init(id: String, type: String, at: Int64, data: [String: WebhookValue]) {
            self.id = id
            self.type = type
            self.at = at
            self.data = data
        }
    }

    public static func of(_ e: IngestEvent, facts: Facts, sessionGap: Int64) -> (events: [Outgoing], session: SessionChange) {
        switch e.type {
        case .available:
            let data: [String: WebhookValue] = ["mediamtx_source_type": .optional(e.sourceType), "mediamtx_source_id": .optional(e.sourceID)]
            return ([Outgoing(id: e.eventID, type: "stream.online", at: e.occurredAt, data: data)], .keep)
        case .unavailable:
            var out = [Outgoing(id: e.eventID, type: "stream.offline", at: e.occurredAt, data: [:])]
            // A recording ends with its stream.
            guard let start = facts.openSession else { return (out, .keep) }
            out.append(sessionEnded(e.eventID, start: start, end: e.occurredAt))
            return (out, .close)
        case .read, .unread:
            let data: [String: WebhookValue] = ["reader_id": .optional(e.readerID), "reader_type": .optional(e.readerType)]
            return ([Outgoing(id: e.eventID, type: e.type == .read ? "reader.joined" : "reader.left", at: e.occurredAt, data: data)], .keep)
        case .segmentComplete:
            guard let s = e.segment else { return ([], .keep) }
            let data: [String: WebhookValue] = [
                "segment_path": .string(s.filePath), "start": .string(WebhookPayload.format(s.start)),
                "duration": s.duration.map(WebhookValue.number) ?? .null, "size": s.size.map(WebhookValue.integer) ?? .null,
            ]
            return ([Outgoing(id: e.eventID, type: "recording.segment_completed", at: e.occurredAt, data: data)], .keep)
        case .segmentCreate:
            // A segment already indexed (reported again) starts nothing.
            guard let s = e.segment, !facts.segmentKnown else { return ([], .keep) }
            let afterGap = facts.previousSegmentEnd.map { s.start - $0 > sessionGap } ?? true
            var out: [Outgoing] = []
            if let open = facts.openSession {
                guard afterGap else { return ([], .keep) }
                // Recording stopped and started again while the stream went on: the old session ended at its last
                // segment's end.
                out.append(sessionEnded(e.eventID, start: open, end: facts.previousSegmentEnd ?? s.start))
            }
            let data: [String: WebhookValue] = ["start": .string(WebhookPayload.format(s.start)), "segment_path": .string(s.filePath)]
            out.append(Outgoing(id: e.eventID + ":session_started", type: "recording.session_started", at: s.start, data: data))
            return (out, .open(start: s.start))
        default:
            return ([], .keep)
        }
    }

    static func sessionEnded(_ eventID: String, start: Int64, end: Int64) -> Outgoing {
        Outgoing(
            id: eventID + ":session_ended", type: "recording.session_ended", at: end,
            data: ["start": .string(WebhookPayload.format(start)), "end": .string(WebhookPayload.format(end))])
    }
}

extension WebhookSubscription {
    /// A subscription gets an event when it lists the type and, if it names sources, the path's source is one of
    /// them (an event of a path no source manages reaches only subscriptions to all sources).
    public static func wants(events: Set<String>, sourceIDs: Set<String>?, type: String, sourceID: String?) -> Bool {
        events.contains(type) && (sourceIDs.map { ids in sourceID.map { ids.contains($0) } ?? false } ?? true)
    }
}
