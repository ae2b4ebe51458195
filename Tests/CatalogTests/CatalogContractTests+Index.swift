import Catalog
import CatalogPostgres
import Domain
import Foundation
import HookWire
import PostgresScratch
import Testing

/// The hook index capability (`IndexStore`) on every backend: ingest idempotent and order-tolerant, readers, segments
/// and recording sessions, history, reconciliation, and the webhook deliveries ingest writes.
extension CatalogContractTests {
    /// The backend's index, and its sources and webhook subscriptions.
    func withIndexStore(_ backend: Backend, _ body: (any IndexStore, any Store) async throws -> Void) async throws {
        try await withStore(backend) { store in
            let index = try #require(store as? any IndexStore)
            try await body(index, store)
        }
    }

    static func event(
        _ id: String, _ type: HookEvent, at: Int64, path: String = "live/cam", reader: String? = nil, sourceType: String? = nil,
        segment: IngestEvent.SegmentInfo? = nil
    ) -> IngestEvent {
        IngestEvent(
            eventID: id, type: type, occurredAt: at, node: "node-1", path: path, sourceType: sourceType ?? (type == .available ? "rtmpConn" : nil),
            sourceID: type == .available ? "conn-1" : nil, readerType: reader.map { _ in "hlsMuxer" }, readerID: reader, segment: segment,
            payload: #"{"type":"\#(type.rawValue)","id":"\#(id)","path":"\#(path)"}"#)
    }

    static func segment(_ start: Int64, duration: Double? = nil, size: Int64? = nil) -> IngestEvent.SegmentInfo {
        IngestEvent.SegmentInfo(filePath: "/rec/\(start).mp4", start: start, duration: duration, size: size)
    }

    /// A segment without its id (ids are the backend's own).
    struct SegmentRow: Equatable, CustomStringConvertible {
        var path: String, filePath: String?, start: Int64, duration: Double?, size: Int64?, state: SegmentState
        init(_ s: Segment) { (path, filePath, start, duration, size, state) = (s.pathName, s.filePath, s.start, s.duration, s.size, s.state) }
        var description: String { "\(path)@\(start) \(state) \(duration.map { "\($0)" } ?? "-") \(size.map { "\($0)" } ?? "-")" }
    }

    @Test(arguments: Backend.allCases)
    func ingestStoresAnEventOnceHoweverOftenItComes(backend: Backend) async throws {
        try await withIndexStore(backend) { index, _ in
            let first = [
                Self.event("e1", .available, at: 10), Self.event("e2", .online, at: 11, path: "live/b"),
                Self.event("e1", .available, at: 10), Self.event("e3", .read, at: 12, reader: "r1"),
            ]
            let result = try await index.ingest(first, receivedAt: 100, sessionGap: 1_000_000)
            #expect(result.accepted == 3 && result.duplicates == 1 && result.duplicatesByType == [.available: 1])
            #expect(result.acceptedIDs == ["e1", "e2", "e3"] && result.webhooks == 0)

            // Group commit: one result per group, in order; an event of an earlier group is a duplicate in a later one.
            let groups = try await index.ingest(
                groups: [[Self.event("e2", .online, at: 11, path: "live/b")], [Self.event("e4", .unread, at: 13, reader: "r1")], []],
                receivedAt: 200, sessionGap: 1_000_000)
            #expect(groups.count == 3)
            #expect(
                groups[0].accepted == 0 && groups[0].duplicates == 1 && groups[0].duplicatesByType == [.online: 1] && groups[0].acceptedIDs.isEmpty)
            #expect(groups[1].accepted == 1 && groups[1].duplicates == 0 && groups[1].acceptedIDs == ["e4"])
            #expect(groups[2] == IngestResult())

            let history = try await index.history(path: "live/cam", limit: 10, before: nil)
            #expect(history.map(\.eventID) == ["e4", "e3", "e1"])
            #expect(history.map(\.type) == ["unread", "read", "available"])
            let e1 = try #require(history.last)
            #expect(e1.pathName == "live/cam" && e1.occurredAt == 10 && e1.node == "node-1")
            let payload = try JSONSerialization.jsonObject(with: Data(e1.payload.utf8)) as? [String: String]
            #expect(payload == ["type": "available", "id": "e1", "path": "live/cam"])

            let state = try await index.pathState("live/cam")
            #expect(
                state
                    == PathState(
                        pathName: "live/cam", available: true, availableSince: 10, online: false, sourceType: "rtmpConn", sourceID: "conn-1",
                        readers: [:]))
            #expect(
                try await index.pathState("live/b") == PathState(pathName: "live/b", available: false, online: true, onlineSince: 11, readers: [:]))
            #expect(try await index.pathState("live/none") == .idle("live/none"))
            #expect(try await index.pathStates([]) == [:])
            #expect(try await index.pathStates(["live/b", "live/none"]).keys.sorted() == ["live/b"])
        }
    }

    /// Every arrival order of the same events ends where `PathStatusModel` says (the store's upserts are the rule).
    @Test(arguments: Backend.allCases)
    func everyArrivalOrderEndsWhereTheModelSays(backend: Backend) async throws {
        try await withIndexStore(backend) { index, _ in
            let template: [(HookEvent, Int64, String?)] = [
                (.available, 10, nil), (.read, 11, "a"), (.unread, 12, "a"), (.read, 15, "c"), (.unavailable, 30, nil), (.read, 31, "b"),
            ]
            var events: [IngestEvent] = []
            var expected: [String: PathState] = [:]
            for (n, order) in Self.permutations(Array(template.indices)).enumerated() {
                let path = "live/p\(n)"
                var model = PathStatusModel()
                for i in order {
                    let (type, at, reader) = template[i]
                    let e = Self.event("\(n)-\(i)", type, at: at, path: path, reader: reader)
                    model.apply(e)
                    events.append(e)
                }
                expected[path] = model.state(of: path)
            }
            #expect(expected.count == 720)
            // Delivered twice, the second time in reverse: nothing changes.
            #expect(try await index.ingest(events, receivedAt: 1, sessionGap: 1_000_000).accepted == events.count)
            #expect(try await index.ingest(events.reversed(), receivedAt: 2, sessionGap: 1_000_000).duplicates == events.count)
            let stored = try await index.pathStates(Array(expected.keys))
            for (path, state) in expected {
                #expect(stored[path] == state, "\(path)")
            }
            #expect(Set(stored.values.map(\.readers)) == [["b": "hlsMuxer"]])
        }
    }

    static func permutations(_ items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i in
            var rest = items
            let head = rest.remove(at: i)
            return permutations(rest).map { [head] + $0 }
        }
    }

    @Test(arguments: Backend.allCases)
    func readersFollowTheirStream(backend: Backend) async throws {
        try await withIndexStore(backend) { index, _ in
            _ = try await index.ingest(
                [
                    Self.event("a", .available, at: 10), Self.event("r1", .read, at: 11, reader: "x"), Self.event("r2", .read, at: 12, reader: "y"),
                    Self.event("u1", .unread, at: 13, reader: "x"),
                ], receivedAt: 1, sessionGap: 1_000_000)
            #expect(try await index.pathState("live/cam").readers == ["y": "hlsMuxer"])
            // Readers end with the stream; a late read from before it went down stays over.
            _ = try await index.ingest(
                [Self.event("n", .unavailable, at: 20), Self.event("r3", .read, at: 14, reader: "z")], receivedAt: 2, sessionGap: 1_000_000)
            let down = try await index.pathState("live/cam")
            #expect(!down.available && down.availableSince == 20 && down.readers.isEmpty)
            // The source of a stream that went down is the one it had.
            #expect(down.sourceType == "rtmpConn" && down.sourceID == "conn-1")
        }
    }

    @Test(arguments: Backend.allCases)
    func segmentsAreIndexedOnceAndQueriedByRange(backend: Backend) async throws {
        try await withIndexStore(backend) { index, _ in
            let s: Int64 = 1_764_600_000_000_000
            _ = try await index.ingest(
                [
                    Self.event("c1", .segmentCreate, at: s, segment: Self.segment(s)),
                    // Completed before its create arrives: complete wins, the duration and size are kept.
                    Self.event("k2", .segmentComplete, at: s + 12_000_000, segment: Self.segment(s + 10_000_000, duration: 10, size: 500)),
                    Self.event("c2", .segmentCreate, at: s + 10_000_000, segment: Self.segment(s + 10_000_000)),
                ], receivedAt: 1, sessionGap: 1_000_000)
            #expect(try await index.isRecording(path: "live/cam"))
            #expect(try await !index.isRecording(path: "live/other"))
            _ = try await index.ingest(
                [
                    Self.event("k1", .segmentComplete, at: s + 10_000_000, segment: Self.segment(s, duration: 10, size: 400)),
                    // The same segment reported again under a new event id (as the reconciler would): still one.
                    Self.event("c1b", .segmentCreate, at: s + 1, segment: Self.segment(s)),
                    Self.event("o1", .segmentCreate, at: s, path: "live/other", segment: Self.segment(s + 5_000_000)),
                ], receivedAt: 2, sessionGap: 1_000_000)
            #expect(try await !index.isRecording(path: "live/cam"))
            #expect(try await index.isRecording(path: "live/other"))

            let all = try await index.segments(SegmentQuery())
            #expect(all.total == 3)
            #expect(
                all.items.map(SegmentRow.init) == [
                    SegmentRow(
                        Segment(id: 0, pathName: "live/cam", filePath: "/rec/\(s).mp4", start: s, duration: 10, size: 400, state: .complete)),
                    SegmentRow(
                        Segment(
                            id: 0, pathName: "live/cam", filePath: "/rec/\(s + 10_000_000).mp4", start: s + 10_000_000, duration: 10, size: 500,
                            state: .complete)),
                    SegmentRow(
                        Segment(
                            id: 0, pathName: "live/other", filePath: "/rec/\(s + 5_000_000).mp4", start: s + 5_000_000, duration: nil, size: nil,
                            state: .recording)),
                ])
            // Overlapping [from, to): the first segment ends at s+10s, so from s+10s only the second (and the open one).
            let cam = try await index.segments(SegmentQuery(path: "live/cam", from: s + 10_000_000))
            #expect(cam.total == 1 && cam.items.map(\.start) == [s + 10_000_000])
            #expect(try await index.segments(SegmentQuery(path: "live/cam", from: s + 9_999_999)).total == 2)
            #expect(try await index.segments(SegmentQuery(path: "live/cam", to: s + 10_000_000)).items.map(\.start) == [s])
            #expect(try await index.segments(SegmentQuery(from: s + 20_000_000)).items.map(\.pathName) == ["live/other"])
            // Paging: total counts every match.
            let second = try await index.segments(SegmentQuery(page: 2, pageSize: 2))
            #expect(second.total == 3 && second.items.map(\.pathName) == ["live/other"])
            #expect(try await index.segments(SegmentQuery(page: 3, pageSize: 2)).items.isEmpty)

            #expect(try await index.allSegments(path: "live/cam", from: nil, to: nil).map(\.start) == [s, s + 10_000_000])
            #expect(try await index.allSegments(path: "live/cam", from: s + 15_000_000, to: nil).map(\.start) == [s + 10_000_000])
            #expect(try await index.allSegments(path: "live/cam", from: s + 25_000_000, to: nil).isEmpty)
            #expect(try await index.pathsWithSegments().sorted() == ["live/cam", "live/other"])

            // Deleted segments leave every list but the one that asks for them.
            let reconciled = try await index.reconcileSegments(path: "live/cam", starts: [s + 10_000_000], olderThan: s + 60_000_000, now: 5)
            #expect(reconciled == (added: 0, deleted: 1))
            #expect(try await index.segments(SegmentQuery(path: "live/cam")).items.map(\.start) == [s + 10_000_000])
            let withDeleted = try await index.segments(SegmentQuery(path: "live/cam", includeDeleted: true))
            #expect(withDeleted.items.map(\.state) == [.deleted, .complete])
            #expect(try await index.allSegments(path: "live/cam", from: nil, to: nil).map(\.start) == [s + 10_000_000])
            // A deleted segment stays deleted whatever is reported of it later.
            _ = try await index.ingest(
                [Self.event("k1b", .segmentComplete, at: s + 10_000_000, segment: Self.segment(s, duration: 10, size: 400))], receivedAt: 3,
                sessionGap: 1_000_000)
            #expect(try await index.segments(SegmentQuery(path: "live/cam", includeDeleted: true)).items.map(\.state) == [.deleted, .complete])
        }
    }

    @Test(arguments: Backend.allCases)
    func reconcilingSegmentsAddsTheUnreportedAndDeletesTheGone(backend: Backend) async throws {
        try await withIndexStore(backend) { index, _ in
            try await index.insertSegments([("live/a", 100, 1.5, 10), ("live/a", 200, 2, 20), ("live/b", 100, 3, 30), ("live/a", 100, 9, 99)])
            #expect(
                try await index.allSegments(path: "live/a", from: nil, to: nil).map(SegmentRow.init) == [
                    SegmentRow(Segment(id: 0, pathName: "live/a", filePath: nil, start: 100, duration: 1.5, size: 10, state: .complete)),
                    SegmentRow(Segment(id: 0, pathName: "live/a", filePath: nil, start: 200, duration: 2, size: 20, state: .complete)),
                ])
            try await index.insertSegments([])
            // 300 is new; 200 is gone; 900 is not listed but started after the listing, so it is kept.
            try await index.insertSegments([("live/a", 900, 1, 1)])
            let result = try await index.reconcileSegments(path: "live/a", starts: [100, 300, 300], olderThan: 500, now: 7)
            #expect(result == (added: 1, deleted: 1))
            let live = try await index.allSegments(path: "live/a", from: nil, to: nil)
            #expect(live.map(\.start) == [100, 300, 900])
            #expect(live[1].duration == nil && live[1].size == nil && live[1].filePath == nil && live[1].state == .complete)
            #expect(try await index.reconcileSegments(path: "live/a", starts: [100, 300], olderThan: 500, now: 8) == (added: 0, deleted: 0))
            #expect(try await index.reconcileSegments(path: "live/b", starts: [], olderThan: 500, now: 9) == (added: 0, deleted: 1))
            #expect(try await index.pathsWithSegments() == ["live/a"])
        }
    }

    @Test(arguments: Backend.allCases)
    func historyIsNewestFirstAndPrunedByReceiveTime(backend: Backend) async throws {
        try await withIndexStore(backend) { index, _ in
            _ = try await index.ingest([Self.event("a", .available, at: 10), Self.event("b", .online, at: 12)], receivedAt: 100, sessionGap: 1)
            _ = try await index.ingest(
                [Self.event("c", .offline, at: 11), Self.event("d", .unavailable, at: 13), Self.event("x", .online, at: 1, path: "live/x")],
                receivedAt: 200, sessionGap: 1)
            #expect(try await index.history(path: "live/cam", limit: 10, before: nil).map(\.eventID) == ["d", "b", "c", "a"])
            #expect(try await index.history(path: "live/cam", limit: 2, before: nil).map(\.eventID) == ["d", "b"])
            #expect(try await index.history(path: "live/cam", limit: 10, before: 12).map(\.eventID) == ["c", "a"])
            #expect(try await index.history(path: "live/none", limit: 10, before: nil).isEmpty)

            #expect(try await index.pruneHistory(receivedBefore: 100) == 0)
            #expect(try await index.pruneHistory(receivedBefore: 101) == 2)
            #expect(try await index.history(path: "live/cam", limit: 10, before: nil).map(\.eventID) == ["d", "c"])
            // The state they set stays.
            let state = try await index.pathState("live/cam")
            #expect(!state.available && state.availableSince == 13 && state.online && state.onlineSince == 12)
            #expect(try await index.history(path: "live/x", limit: 10, before: nil).map(\.eventID) == ["x"])
        }
    }

    @Test(arguments: Backend.allCases)
    func reconcilingStatesHealsWhatHooksMissedAndKeepsNewerEvents(backend: Backend) async throws {
        try await withIndexStore(backend) { index, _ in
            _ = try await index.ingest(
                [
                    Self.event("a1", .available, at: 10, path: "live/gone"), Self.event("r1", .read, at: 11, path: "live/gone", reader: "x"),
                    Self.event("a2", .available, at: 10, path: "live/kept"), Self.event("r2", .read, at: 11, path: "live/kept", reader: "x"),
                    Self.event("a3", .available, at: 500, path: "live/newer"),
                ], receivedAt: 1, sessionGap: 1_000_000)
            let observed = [
                // Indexed as available with reader x; MediaMTX lists reader y instead.
                AppDatabase.ObservedPath(path: "live/kept", available: true, sourceType: "rtmpConn", sourceID: "c", readers: ["y": "webRTCSession"]),
                // Never hooked: becomes available with its readers.
                AppDatabase.ObservedPath(
                    path: "live/missed", available: true, sourceType: "rtspSession", sourceID: "m", readers: ["z": "rtspSession"]),
            ]
            // live/gone is not listed: unavailable, readers over; live/newer was set by an event after `at`: kept.
            let healed = try await index.reconcileStates(observed, at: 100)
            #expect(healed == ["live/gone", "live/kept", "live/missed"])
            let states = try await index.pathStates(["live/gone", "live/kept", "live/missed", "live/newer"])
            #expect(
                states["live/gone"]
                    == PathState(
                        pathName: "live/gone", available: false, availableSince: 100, online: false, onlineSince: 100, sourceType: "rtmpConn",
                        sourceID: "conn-1", readers: [:]))
            #expect(states["live/kept"]?.readers == ["y": "webRTCSession"] && states["live/kept"]?.availableSince == 10)
            #expect(
                states["live/missed"]
                    == PathState(
                        pathName: "live/missed", available: true, availableSince: 100, online: true, onlineSince: 100, sourceType: "rtspSession",
                        sourceID: "m", readers: ["z": "rtspSession"]))
            #expect(states["live/newer"]?.available == true && states["live/newer"]?.availableSince == 500)
            // Once in line, nothing more to heal.
            #expect(
                try await index.reconcileStates(
                    observed + [AppDatabase.ObservedPath(path: "live/newer", available: true, sourceType: nil, sourceID: nil, readers: [:])], at: 200
                ).isEmpty)
            // A hook event older than the reconciliation does not undo it.
            _ = try await index.ingest([Self.event("late", .available, at: 50, path: "live/gone")], receivedAt: 2, sessionGap: 1_000_000)
            #expect(try await index.pathState("live/gone").available == false)
        }
    }

    /// The webhook events of hook events go to the outbox in the ingest transaction: stream online and offline,
    /// readers, completed segments and recording sessions told apart by the gap between segments.
    @Test(arguments: Backend.allCases)
    func ingestWritesTheWebhookDeliveriesOfItsEvents(backend: Backend) async throws {
        try await withIndexStore(backend) { index, store in
            let camera = Self.source("Camera", at: 1_764_600_000)
            try await store.insertSource(camera, announcing: [])
            let path = camera.pathName
            let everything = WebhookSubscription(
                id: UUID(), url: "https://hooks.example/all",
                events: [
                    "stream.online", "stream.offline", "reader.joined", "reader.left", "recording.session_started", "recording.session_ended",
                    "recording.segment_completed",
                ], sourceIDs: nil, secret: "s1", enabled: true, createdAt: 1, updatedAt: 1)
            let cameraOnly = WebhookSubscription(
                id: UUID(), url: "https://hooks.example/camera", events: ["stream.online"], sourceIDs: [camera.id], secret: "s2", enabled: true,
                createdAt: 2, updatedAt: 2)
            let elsewhere = WebhookSubscription(
                id: UUID(), url: "https://hooks.example/other", events: ["stream.online"], sourceIDs: [UUID()], secret: "s3", enabled: true,
                createdAt: 3, updatedAt: 3)
            for s in [everything, cameraOnly, elsewhere] { try await store.insertSubscription(s) }

            let t: Int64 = 1_764_600_000_000_000
            let events = [
                Self.event("on", .available, at: t, path: path),
                Self.event("c1", .segmentCreate, at: t + 1, path: path, segment: Self.segment(t)),
                Self.event("r", .read, at: t + 2, path: path, reader: "x"),
                Self.event("k1", .segmentComplete, at: t + 2_000_000, path: path, segment: Self.segment(t, duration: 2, size: 10)),
                // Right after the first: the same session.
                Self.event("c2", .segmentCreate, at: t + 2_000_001, path: path, segment: Self.segment(t + 2_000_000)),
                Self.event("k2", .segmentComplete, at: t + 4_000_000, path: path, segment: Self.segment(t + 2_000_000, duration: 2, size: 10)),
                // After a 10 s gap: the first session ended at the second segment's end, a new one starts.
                Self.event("c3", .segmentCreate, at: t + 14_000_001, path: path, segment: Self.segment(t + 14_000_000)),
                Self.event("u", .unread, at: t + 15_000_000, path: path, reader: "x"),
                // The stream going down ends the recording session.
                Self.event("off", .unavailable, at: t + 16_000_000, path: path),
            ]
            let result = try await index.ingest(events, receivedAt: t + 20_000_000, sessionGap: 1_000_000)
            #expect(result.accepted == 9 && result.webhooks == 11)
            // Again: nothing new is announced.
            let again = try await index.ingest(events, receivedAt: t + 30_000_000, sessionGap: 1_000_000)
            #expect(again.duplicates == 9 && again.webhooks == 0)

            let log = try await store.deliveries(subscriptionID: everything.id, state: nil, page: 1, pageSize: 50)
            #expect(
                log.items.reversed().map(\.eventType) == [
                    "stream.online", "recording.session_started", "reader.joined", "recording.segment_completed", "recording.segment_completed",
                    "recording.session_ended", "recording.session_started", "reader.left", "stream.offline", "recording.session_ended",
                ])
            #expect(log.items.allSatisfy { $0.orderKey == path && $0.state == .pending && $0.nextAttemptAt == t + 20_000_000 })
            let ends = log.items.filter { $0.eventType == "recording.session_ended" }.reversed().map(\.payload)
            let decoded = try ends.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            let data = decoded.map { $0["data"] as? [String: String] }
            #expect(data.map { $0?["end"] } == ["2025-12-01T14:40:04.000000Z", "2025-12-01T14:40:16.000000Z"])
            #expect(data.map { $0?["start"] } == ["2025-12-01T14:40:00.000000Z", "2025-12-01T14:40:14.000000Z"])
            #expect(decoded.first?["id"] as? String == "c3:session_ended")
            let source = decoded.first?["source"] as? [String: Any]
            #expect(source?["id"] as? String == camera.id.uuidString.lowercased() && source?["name"] as? String == "Camera")

            #expect(try await store.deliveries(subscriptionID: cameraOnly.id, state: nil, page: 1, pageSize: 50).items.map(\.eventID) == ["on"])
            #expect(try await store.deliveries(subscriptionID: elsewhere.id, state: nil, page: 1, pageSize: 50).total == 0)
        }
    }

    /// Two companion instances on one database ingest the same events at once, each event sent several times, in
    /// different orders and batches: every event is stored exactly once, and the state is what one ingest of the
    /// events in order makes (here: the SQLite store's).
    @Test(.enabled(if: CatalogContractTests.postgresURL != nil, "set MTX_TEST_POSTGRES_URL (scripts/postgres.sh start DIR prints one)"))
    func instancesIngestingTheSameEventsTogetherStoreEachOnce() async throws {
        let server = try #require(CatalogContractTests.postgresURL)
        // 200 events on 5 paths: streams up and down, readers, segments created and completed. Each path ends available:
        // the source a path that went down keeps is the one of the last `available` applied before it (the rule,
        // `PathStatusModel`), which depends on arrival order, so only an available stream's source is order-free.
        var events: [IngestEvent] = []
        let t: Int64 = 1_764_600_000_000_000
        for i in 0..<200 {
            let path = "live/p\(i % 5)"
            let at = t + Int64(i) * 1_000_000
            let n = i / 5
            let e: IngestEvent
            switch n % 8 {
            case 0: e = Self.event("e\(i)", .available, at: at, path: path)
            case 1: e = Self.event("e\(i)", .read, at: at, path: path, reader: "r\(n % 3)")
            case 2: e = Self.event("e\(i)", .segmentCreate, at: at, path: path, segment: Self.segment(at))
            case 3: e = Self.event("e\(i)", .online, at: at, path: path)
            case 4:
                e = Self.event("e\(i)", .segmentComplete, at: at, path: path, segment: Self.segment(at - 10_000_000, duration: 10, size: Int64(i)))
            case 5: e = Self.event("e\(i)", .unread, at: at, path: path, reader: "r\((n + 2) % 3)")
            case 6: e = Self.event("e\(i)", .read, at: at, path: path, reader: "r\(n % 3)")
            default: e = Self.event("e\(i)", n % 16 == 15 ? .unavailable : .offline, at: at, path: path)
            }
            events.append(e)
        }
        let paths = (0..<5).map { "live/p\($0)" }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = try AppDatabase.open(path: dir.appendingPathComponent("catalog.sqlite").path)
        _ = try await reference.ingest(events, receivedAt: 1, sessionGap: 1_000_000)
        let expectedStates = try await reference.pathStates(paths)
        let expectedSegments = try await reference.segments(SegmentQuery(pageSize: 1000)).items.map(SegmentRow.init)
        try reference.close()

        try await PostgresScratch.with(server) { url in
            let a = try await PostgresCatalog.open(url: url, logger: quiet)
            let b = try await PostgresCatalog.open(url: url, logger: quiet)
            // Each stored stream or reader event is announced once, whichever instance stored it.
            let subscription = WebhookSubscription(
                id: UUID(), url: "https://hooks.example/all", events: ["stream.online", "stream.offline", "reader.joined", "reader.left"],
                sourceIDs: nil, secret: "s", enabled: true, createdAt: 1, updatedAt: 1)
            try await a.insertSubscription(subscription)
            // 8 tasks, each event in 3 of them (on both instances), each task in its own order, 10 events a batch.
            let accepted = try await withThrowingTaskGroup(of: Int.self) { group in
                for k in 0..<8 {
                    let catalog = k.isMultiple(of: 2) ? a : b
                    var mine = events.indices.filter { ($0 + k) % 8 < 3 }.map { events[$0] }
                    var generator = SeededGenerator(seed: UInt64(k + 1))
                    mine.shuffle(using: &generator)
                    let batches = stride(from: 0, to: mine.count, by: 10).map { Array(mine[$0..<min($0 + 10, mine.count)]) }
                    group.addTask {
                        var accepted = 0
                        for batch in batches { accepted += try await catalog.ingest(batch, receivedAt: 1, sessionGap: 1_000_000).accepted }
                        return accepted
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(accepted == 200)
            var stored: [String] = []
            for path in paths { stored += try await a.history(path: path, limit: 1000, before: nil).map(\.eventID) }
            #expect(stored.count == 200 && Set(stored) == Set(events.map(\.eventID)))
            let states = try await b.pathStates(paths)
            for path in paths { #expect(states[path] == expectedStates[path], "\(path)") }
            #expect(try await a.segments(SegmentQuery(pageSize: 1000)).items.map(SegmentRow.init) == expectedSegments)
            let announced = events.filter { [.available, .unavailable, .read, .unread].contains($0.type) }.map(\.eventID)
            let deliveries = try await b.deliveries(subscriptionID: subscription.id, state: nil, page: 1, pageSize: 1000)
            #expect(deliveries.total == announced.count && deliveries.items.map(\.eventID).sorted() == announced.sorted())
            // Everything again, on both: all duplicates.
            let again = try await a.ingest(events, receivedAt: 2, sessionGap: 1_000_000)
            #expect(again.accepted == 0 && again.duplicates == 200)
            await a.close()
            await b.close()
        }
    }
}

/// A deterministic order for each task (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Retention's sweep over the index: which segments have expired, marking them deleted, what each path holds.
extension CatalogContractTests {
    @Test(arguments: Backend.allCases)
    func retentionSweepsOnlyCompleteSegmentsThatEndedAndCountsWhatIsKept(backend: Backend) async throws {
        try await withIndexStore(backend) { index, store in
            let retention = try #require(store as? any RetentionStore)
            let s: Int64 = 1_764_600_000_000_000
            _ = try await index.ingest(
                [
                    Self.event("a1", .segmentComplete, at: s + 10_000_000, segment: Self.segment(s, duration: 10, size: 1_000)),
                    Self.event("a2", .segmentComplete, at: s + 20_000_000, segment: Self.segment(s + 10_000_000, duration: 9.5, size: 2_000)),
                    // Still being recorded: never swept, however old.
                    Self.event("a3", .segmentCreate, at: s + 20_000_000, segment: Self.segment(s + 20_000_000)),
                    Self.event("b1", .segmentComplete, at: s + 5_000_000, path: "live/other", segment: Self.segment(s, duration: 4, size: 300)),
                ], receivedAt: s + 30_000_000, sessionGap: 1_000_000)
            // The first ends at s+10 s exactly: not before s+10 s, but before s+10 s + 1 µs.
            #expect(try await retention.expiredSegments(path: "live/cam", endedBefore: s + 10_000_000).isEmpty)
            #expect(try await retention.expiredSegments(path: "live/cam", endedBefore: s + 10_000_001).map(\.start) == [s])
            #expect(try await retention.expiredSegments(path: "live/cam", endedBefore: s + 1_000_000_000).map(\.start) == [s, s + 10_000_000])

            let before = try await retention.storage()
            #expect(before["live/cam"] == AppDatabase.PathStorage(pathName: "live/cam", segments: 3, bytes: 3_000, seconds: 19.5))
            #expect(before["live/other"] == AppDatabase.PathStorage(pathName: "live/other", segments: 1, bytes: 300, seconds: 4))

            try await retention.markSegmentDeleted(path: "live/cam", start: s, at: s + 40_000_000)
            try await retention.markSegmentDeleted(path: "live/cam", start: s + 999, at: s + 40_000_000)  // no such segment: nothing
            #expect(try await retention.expiredSegments(path: "live/cam", endedBefore: s + 1_000_000_000).map(\.start) == [s + 10_000_000])
            #expect(
                try await retention.storage()["live/cam"] == AppDatabase.PathStorage(pathName: "live/cam", segments: 2, bytes: 2_000, seconds: 9.5))
            // Listings leave the deleted segment out.
            let kept = try await index.allSegments(path: "live/cam", from: nil, to: nil)
            #expect(kept.map(\.start) == [s + 10_000_000, s + 20_000_000] && kept.map(\.state) == [.complete, .recording])
        }
    }
}
