import Foundation

/// Contiguous segments merged (gap ≤ the tolerance).
public struct RecordingSession: Sendable, Equatable {
    public var start: Int64
    public var end: Int64
    public var segmentCount: Int
    public var open: Bool
    public init(start: Int64, end: Int64, segmentCount: Int, open: Bool) {
        self.start = start
        self.end = end
        self.segmentCount = segmentCount
        self.open = open
    }
}

/// Merges segments whose gap to the previous end is at most `gap` microseconds. An open segment (no
/// duration yet) ends its session "now" as far as the index knows: at its start.
public func mergeSessions(_ segments: [Segment], gap: Int64) -> [RecordingSession] {
    var sessions: [RecordingSession] = []
    for s in segments.sorted(by: { $0.start < $1.start }) {
        let end = s.end ?? s.start
        if var last = sessions.last, s.start - last.end <= gap {
            last.end = max(last.end, end)
            last.segmentCount += 1
            last.open = last.open || s.state == .recording
            sessions[sessions.count - 1] = last
        } else {
            sessions.append(RecordingSession(start: s.start, end: end, segmentCount: 1, open: s.state == .recording))
        }
    }
    return sessions
}

/// A path's online and offline events around a range: the last one before it (nil: none known) and those inside it,
/// oldest first.
public struct OnlineHistory: Sendable, Equatable {
    public struct Change: Sendable, Equatable {
        public var at: Int64
        public var online: Bool
        public init(at: Int64, online: Bool) {
            self.at = at
            self.online = online
        }
    }

    public var before: Bool?
    public var changes: [Change]

    public init(before: Bool?, changes: [Change]) {
        self.before = before
        self.changes = changes
    }

    public struct Span: Sendable, Equatable {
        public var start: Int64
        public var end: Int64
        public init(start: Int64, end: Int64) {
            self.start = start
            self.end = end
        }
    }

    /// The spans of `[from, to)` the path was online and those it was offline; a time before any known event is
    /// neither. Adjacent spans of one kind are one (a repeated event changes nothing).
    public func spans(from: Int64, to: Int64) -> (online: [Span], offline: [Span]) {
        var online: [Span] = []
        var offline: [Span] = []
        var state = before
        var since = from
        func close(at end: Int64) {
            guard let known = state, end > since else { return }
            if known {
                if let last = online.last, last.end == since {
                    online[online.count - 1].end = end
                } else {
                    online.append(Span(start: since, end: end))
                }
            } else {
                if let last = offline.last, last.end == since {
                    offline[offline.count - 1].end = end
                } else {
                    offline.append(Span(start: since, end: end))
                }
            }
        }
        for change in changes where change.at >= from && change.at < to {
            close(at: change.at)
            state = change.online
            since = max(since, change.at)
        }
        close(at: to)
        return (online, offline)
    }
}
