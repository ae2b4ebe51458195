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
