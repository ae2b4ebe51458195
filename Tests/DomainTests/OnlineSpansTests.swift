import Domain
import Testing

/// Online and offline spans of a range from a path's events: what the recordings page shades.
struct OnlineSpansTests {
    typealias Span = OnlineHistory.Span

    @Test func spansFollowTheEventsAndStartWithTheStateBefore() {
        let history = OnlineHistory(
            before: true,
            changes: [.init(at: 10, online: false), .init(at: 20, online: true), .init(at: 20, online: true), .init(at: 35, online: false)])
        let spans = history.spans(from: 0, to: 50)
        #expect(spans.online == [Span(start: 0, end: 10), Span(start: 20, end: 35)], "a repeated event extends, it does not split")
        #expect(spans.offline == [Span(start: 10, end: 20), Span(start: 35, end: 50)])
    }

    @Test func nothingIsKnownBeforeTheFirstEvent() {
        let spans = OnlineHistory(before: nil, changes: [.init(at: 30, online: false)]).spans(from: 0, to: 60)
        #expect(spans.online.isEmpty && spans.offline == [Span(start: 30, end: 60)])
        let none = OnlineHistory(before: nil, changes: []).spans(from: 0, to: 60)
        #expect(none.online.isEmpty && none.offline.isEmpty)
    }

    @Test func eventsOutsideTheRangeAndAtItsEdges() {
        let history = OnlineHistory(before: false, changes: [.init(at: 0, online: true), .init(at: 60, online: false), .init(at: 70, online: true)])
        let spans = history.spans(from: 0, to: 60)
        #expect(spans.online == [Span(start: 0, end: 60)] && spans.offline.isEmpty, "a change at `from` holds from there; one at `to` is after")
    }
}
