import Domain
import HookWire
import Testing

@Suite("Hook events → webhook events (recording sessions by the gap between segments)")
struct WebhookEventsTests {
    static let second: Int64 = 1_000_000

    func event(_ type: HookEvent, at: Int64, segmentStart: Int64? = nil, duration: Double? = nil) -> IngestEvent {
        IngestEvent(
            eventID: "e\(at)", type: type, occurredAt: at, node: nil, path: "live/cam", sourceType: type == .available ? "rtmpConn" : nil,
            sourceID: type == .available ? "conn1" : nil, readerType: type.isReader ? "hlsMuxer" : nil, readerID: type.isReader ? "r1" : nil,
            segment: segmentStart.map { .init(filePath: "/rec/live/cam/\($0).mp4", start: $0, duration: duration, size: duration.map { _ in 1000 }) },
            payload: "{}")
    }

    func of(_ e: IngestEvent, _ facts: WebhookEvents.Facts = .init()) -> ([String], WebhookEvents.SessionChange) {
        let (events, session) = WebhookEvents.of(e, facts: facts, sessionGap: Self.second)
        return (events.map(\.type), session)
    }

    @Test func streamAndReaderEvents() {
        let (online, _) = WebhookEvents.of(event(.available, at: 10), facts: .init(), sessionGap: Self.second)
        #expect(online.map(\.type) == ["stream.online"])
        #expect(online[0].data == ["mediamtx_source_type": .string("rtmpConn"), "mediamtx_source_id": .string("conn1")])
        #expect(of(event(.unavailable, at: 20)) == (["stream.offline"], .keep))
        #expect(of(event(.read, at: 30)) == (["reader.joined"], .keep))
        #expect(of(event(.unread, at: 40)) == (["reader.left"], .keep))
        // MediaMTX's online/offline (a publisher is there, not yet ready) make none.
        #expect(of(event(.online, at: 50)).0.isEmpty)
        #expect(of(event(.offline, at: 60)).0.isEmpty)
    }

    @Test func aStreamGoingOfflineEndsItsRecordingSession() {
        let (events, session) = WebhookEvents.of(
            event(.unavailable, at: 90 * Self.second), facts: .init(openSession: 5 * Self.second), sessionGap: Self.second)
        #expect(events.map(\.type) == ["stream.offline", "recording.session_ended"])
        #expect(events[1].id == "e90000000:session_ended")
        #expect(events[1].at == 90 * Self.second)
        #expect(events[1].data["start"] == .string("1970-01-01T00:00:05.000000Z"))
        #expect(session == .close)
    }

    @Test func segmentsStartEndAndContinueSessions() {
        let first = event(.segmentCreate, at: 100 * Self.second, segmentStart: 100 * Self.second)
        #expect(of(first) == (["recording.session_started"], .open(start: 100 * Self.second)))
        // The next segment within the gap continues the session.
        let next = event(.segmentCreate, at: 160 * Self.second, segmentStart: 160 * Self.second)
        #expect(of(next, .init(openSession: 100 * Self.second, previousSegmentEnd: 160 * Self.second - 500_000)) == ([], .keep))
        // After a gap longer than the tolerance: the old session ended at its last segment's end, a new one starts.
        let (events, session) = WebhookEvents.of(
            next, facts: .init(openSession: 100 * Self.second, previousSegmentEnd: 150 * Self.second), sessionGap: Self.second)
        #expect(events.map(\.type) == ["recording.session_ended", "recording.session_started"])
        #expect(events[0].at == 150 * Self.second)
        #expect(session == .open(start: 160 * Self.second))
        // A segment reported again starts nothing.
        #expect(of(first, .init(segmentKnown: true)) == ([], .keep))
        let (completed, _) = WebhookEvents.of(
            event(.segmentComplete, at: 161 * Self.second, segmentStart: 100 * Self.second, duration: 60), facts: .init(), sessionGap: Self.second)
        #expect(completed.map(\.type) == ["recording.segment_completed"])
        #expect(completed[0].data["duration"] == .number(60))
        #expect(completed[0].data["size"] == .integer(1000))
    }

    @Test func theStoreLooksUpOnlyWhatTheRuleReads() {
        #expect(HookEvent.allCases.filter { WebhookEvents.needs($0) != .nothing } == [.unavailable, .segmentCreate])
    }

    @Test func subscriptionsMatchByTypeAndSource() {
        #expect(WebhookSubscription.wants(events: ["stream.online"], sourceIDs: nil, type: "stream.online", sourceID: nil))
        #expect(!WebhookSubscription.wants(events: ["stream.online"], sourceIDs: nil, type: "stream.offline", sourceID: "a"))
        #expect(WebhookSubscription.wants(events: ["stream.online"], sourceIDs: ["a"], type: "stream.online", sourceID: "a"))
        #expect(!WebhookSubscription.wants(events: ["stream.online"], sourceIDs: ["a"], type: "stream.online", sourceID: "b"))
        // A path no source manages reaches only subscriptions to every source.
        #expect(!WebhookSubscription.wants(events: ["stream.online"], sourceIDs: ["a"], type: "stream.online", sourceID: nil))
    }
}
