import Domain
import HookWire
import Testing

@Suite("Order-tolerant path status: the newest event wins, whatever order events arrive in")
struct PathStatusModelTests {
    func event(_ type: HookEvent, at: Int64, reader: String? = nil, readerType: String? = nil, source: String? = nil) -> IngestEvent {
        IngestEvent(
            eventID: "\(type)-\(at)", type: type, occurredAt: at, node: nil, path: "p", sourceType: source, sourceID: source.map { $0 + "-id" },
            readerType: readerType, readerID: reader, segment: nil, payload: "{}")
    }

    func fold(_ events: [IngestEvent]) -> PathState {
        var model = PathStatusModel()
        for e in events { model.apply(e) }
        return model.state(of: "p")
    }

    @Test func aLateEventDoesNotUndoANewerOne() {
        let state = fold([event(.available, at: 20, source: "rtmpConn"), event(.unavailable, at: 10), event(.online, at: 5), event(.offline, at: 3)])
        #expect(state.available && state.availableSince == 20 && state.sourceType == "rtmpConn")
        #expect(state.online && state.onlineSince == 5)
    }

    @Test func readersEndWithTheStreamButNotALaterRead() {
        let events = [
            event(.available, at: 1, source: "rtspSource"), event(.read, at: 2, reader: "a", readerType: "hlsMuxer"),
            event(.read, at: 9, reader: "b", readerType: "webRTCSession"), event(.unavailable, at: 5),
        ]
        let state = fold(events)
        #expect(!state.available)
        #expect(state.readers == ["b": "webRTCSession"])
        // The source of the last `available` is kept while offline.
        #expect(state.sourceType == "rtspSource")
    }

    @Test func aReadOlderThanTheStreamsLastChangeIsAlreadyOver() {
        #expect(fold([event(.available, at: 1), event(.unavailable, at: 5), event(.read, at: 2, reader: "a")]).readers.isEmpty)
        #expect(
            fold([event(.available, at: 1), event(.unavailable, at: 5), event(.available, at: 8), event(.read, at: 2, reader: "a")]).readers.isEmpty)
        #expect(fold([event(.available, at: 8), event(.read, at: 8, reader: "a")]).readers == ["a": ""])
    }

    @Test func anUnreadKeepsTheReaderTypeAndAnOlderReadIsIgnored() {
        #expect(fold([event(.unread, at: 5, reader: "a"), event(.read, at: 4, reader: "a", readerType: "hlsMuxer")]).readers.isEmpty)
        #expect(fold([event(.read, at: 4, reader: "a", readerType: "hlsMuxer"), event(.read, at: 6, reader: "a")]).readers == ["a": "hlsMuxer"])
    }

    @Test func everyOrderEndsInTheSameState() {
        let events = [
            event(.available, at: 10, source: "rtmpConn"), event(.read, at: 11, reader: "a", readerType: "hlsMuxer"),
            event(.unread, at: 12, reader: "a"),
            event(.online, at: 9), event(.unavailable, at: 30), event(.read, at: 31, reader: "b", readerType: "rtspSession"),
            event(.read, at: 15, reader: "c", readerType: "hlsMuxer"),
        ]
        let expected = fold(events)
        #expect(expected.readers == ["b": "rtspSession"])
        // All but the source an offline stream last had: that one is the last known in arrival order (an
        // `available` older than the `unavailable` already there is not applied).
        func live(_ s: PathState) -> PathState {
            var s = s
            (s.sourceType, s.sourceID) = (nil, nil)
            return s
        }
        for order in permutations(events) { #expect(live(fold(order)) == live(expected)) }
    }

    func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i in
            var rest = items
            let head = rest.remove(at: i)
            return permutations(rest).map { [head] + $0 }
        }
    }
}
