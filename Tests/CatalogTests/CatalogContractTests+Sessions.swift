import Catalog
import Domain
import Foundation
import HookWire
import Testing

/// Recording sessions kept in the index, on every backend: after any sequence of writes (segment events in any order
/// and repeated, retention's deletions at either end or in the middle, the reconciler's additions and deletions, a
/// bulk insert, a new gap) a path's stored sessions are exactly what merging its live segments makes.
extension CatalogContractTests {
    /// SplitMix64: the same sequence on every run and machine.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A path's segments one after another, mostly touching (gaps under the second), now and then a pause that
    /// starts a new session; durations to the microsecond.
    static func recordedSegments(count: Int, from: Int64, _ random: inout SeededRandom) -> [(start: Int64, duration: Double)] {
        var at = from
        var out: [(Int64, Double)] = []
        for _ in 0..<count {
            let duration = Double(Int64.random(in: 1_000_000...3_000_000, using: &random)) / 1_000_000
            out.append((at, duration))
            let pause =
                Int.random(in: 0..<5, using: &random) == 0
                ? Int64.random(in: 1_000_001...9_000_000, using: &random) : Int64.random(in: 0...900_000, using: &random)
            at += Int64((duration * 1_000_000).rounded()) + pause
        }
        return out
    }

    func expectSessionsMerged(_ index: any IndexStore, _ paths: [String], gap: Int64, _ step: String) async throws {
        let stored = try await index.recordingSessions(paths: paths, from: .min, to: .max)
        for path in paths {
            let merged = mergeSessions(try await index.allSegments(path: path, from: nil, to: nil), gap: gap)
            #expect((stored[path] ?? []) == merged, "\(step): \(path)")
        }
    }

    @Test(arguments: Backend.allCases)
    func storedSessionsAreTheMergedLiveSegmentsAfterAnyWrites(backend: Backend) async throws {
        try await withIndexStore(backend) { index, store in
            let retention = try #require(store as? any RetentionStore)
            var random = SeededRandom(state: 20_261_202)
            let paths = ["cam/a", "cam/b", "cam/c"]
            let gap: Int64 = 1_000_000
            try await index.prepareSessions(gap: gap)
            var recorded: [String: [(start: Int64, duration: Double)]] = [:]
            for (i, path) in paths.enumerated() {
                recorded[path] = Self.recordedSegments(count: 40, from: 1_800_000_000_000_000 + Int64(i) * 1_000, &random)
            }

            // Hook events: each segment's create and complete, shuffled in windows (late and early arrivals), some twice,
            // in batches; the last segment of cam/a stays open.
            var events: [IngestEvent] = []
            for path in paths {
                for (n, s) in recorded[path]!.enumerated() {
                    let id = "\(path)-\(n)"
                    events.append(Self.event("\(id)-c", .segmentCreate, at: s.start, path: path, segment: Self.segment(s.start)))
                    if path == "cam/a" && n == 39 { continue }
                    events.append(
                        Self.event(
                            "\(id)-d", .segmentComplete, at: s.start + 1, path: path, segment: Self.segment(s.start, duration: s.duration, size: 100))
                    )
                }
            }
            var shuffled: [IngestEvent] = []
            for window in stride(from: 0, to: events.count, by: 12) {
                shuffled += events[window..<min(window + 12, events.count)].shuffled(using: &random)
            }
            shuffled += shuffled.prefix(30)
            for batch in stride(from: 0, to: shuffled.count, by: 7) {
                _ = try await index.ingest(Array(shuffled[batch..<min(batch + 7, shuffled.count)]), receivedAt: 1, sessionGap: gap)
            }
            try await expectSessionsMerged(index, paths, gap: gap, "ingest")
            #expect(try await index.recordingSessions(paths: ["cam/a"], from: .min, to: .max)["cam/a"]?.last?.open == true)
            #expect(try await index.recordingSessions(paths: ["cam/b"], from: .min, to: .max)["cam/b"]?.contains { $0.open } == false)

            // Retention: the oldest segments of cam/b one by one, then single ones in the middle and at the end of cam/c.
            for s in recorded["cam/b"]!.prefix(15) {
                try await retention.markSegmentDeleted(path: "cam/b", start: s.start, at: 2)
                try await expectSessionsMerged(index, ["cam/b"], gap: gap, "retention from the start")
            }
            for n in [20, 21, 5, 39, 38, 0, 30, 10, 11, 12] {
                try await retention.markSegmentDeleted(path: "cam/c", start: recorded["cam/c"]![n].start, at: 2)
                try await expectSessionsMerged(index, ["cam/c"], gap: gap, "retention of segment \(n)")
            }

            // The reconciler: MediaMTX lists some segments hooks never reported, and lacks some the index holds.
            var listed = recorded["cam/a"]!.map(\.start).filter { _ in Int.random(in: 0..<4, using: &random) != 0 }
            let unreported = [recorded["cam/a"]!.last!.start + 60_000_000, recorded["cam/a"]!.last!.start + 61_500_000]
            listed += unreported
            _ = try await index.reconcileSegments(path: "cam/a", starts: listed, olderThan: unreported[0], now: 3)
            try await expectSessionsMerged(index, paths, gap: gap, "reconcile")

            // A late complete for a deleted segment changes nothing; a segment arriving into a pause joins or bridges.
            let deleted = recorded["cam/b"]![0]
            _ = try await index.ingest(
                [Self.event("late", .segmentComplete, at: 9, path: "cam/b", segment: Self.segment(deleted.start, duration: deleted.duration))],
                receivedAt: 4, sessionGap: gap)
            try await expectSessionsMerged(index, ["cam/b"], gap: gap, "late complete of a deleted segment")

            // A bulk insert (imports, benchmarks) of a new path and into an existing one.
            let bulk = Self.recordedSegments(count: 50, from: 1_900_000_000_000_000, &random)
            try await index.insertSegments(
                bulk.map { ("cam/d", $0.start, $0.duration, 10) } + [("cam/b", recorded["cam/b"]!.last!.start + 20_000_000, 2, 10)])
            try await expectSessionsMerged(index, paths + ["cam/d"], gap: gap, "bulk insert")

            // A wider gap merges sessions, a narrower one splits them; then ingest goes on with it.
            #expect(try await index.prepareSessions(gap: 5_000_000))
            #expect(!(try await index.prepareSessions(gap: 5_000_000)), "the same gap rebuilds nothing")
            try await expectSessionsMerged(index, paths + ["cam/d"], gap: 5_000_000, "gap of 5 s")
            #expect(try await index.prepareSessions(gap: 200_000))
            try await expectSessionsMerged(index, paths + ["cam/d"], gap: 200_000, "gap of 0.2 s")
            let next = bulk.last!.start + 10_000_000
            _ = try await index.ingest(
                [
                    Self.event("d1", .segmentCreate, at: next, path: "cam/d", segment: Self.segment(next)),
                    Self.event("d2", .segmentComplete, at: next, path: "cam/d", segment: Self.segment(next, duration: 2)),
                ], receivedAt: 5, sessionGap: 200_000)
            try await expectSessionsMerged(index, paths + ["cam/d"], gap: 200_000, "ingest after the new gap")

            // A range read: sessions overlapping it (one started before it), none of another path.
            let sessions = try await index.recordingSessions(paths: ["cam/d"], from: .min, to: .max)["cam/d"]!
            let middle = sessions[sessions.count / 2]
            let from = middle.start + 1
            let around = try await index.recordingSessions(paths: ["cam/d", "none"], from: from, to: from + 1)
            #expect(around.keys.sorted() == ["cam/d"])
            #expect(around["cam/d"] == sessions.filter { $0.start < from + 1 && $0.end > from })
        }
    }

    @Test(arguments: Backend.allCases)
    func onlineHistoryGivesTheStateBeforeAndTheChangesWithin(backend: Backend) async throws {
        try await withIndexStore(backend) { index, _ in
            _ = try await index.ingest(
                [
                    Self.event("o1", .online, at: 100), Self.event("o2", .offline, at: 200),
                    Self.event("s1", .segmentCreate, at: 250, segment: Self.segment(250)),
                    Self.event("o3", .online, at: 300), Self.event("o4", .offline, at: 400), Self.event("x1", .online, at: 50, path: "other"),
                ], receivedAt: 1, sessionGap: 1_000_000)
            let history = try await index.onlineHistory(paths: ["live/cam", "other", "none"], from: 250, to: 400)
            #expect(history["live/cam"] == OnlineHistory(before: false, changes: [.init(at: 300, online: true)]))
            #expect(history["other"] == OnlineHistory(before: true, changes: []))
            #expect(history["none"] == nil)
            let spans = history["live/cam"]!.spans(from: 250, to: 400)
            #expect(spans.offline == [.init(start: 250, end: 300)] && spans.online == [.init(start: 300, end: 400)])
            let early = try await index.onlineHistory(paths: ["live/cam"], from: 0, to: 150)["live/cam"]!
            #expect(early.before == nil && early.spans(from: 0, to: 150).online == [.init(start: 100, end: 150)])
            #expect(early.spans(from: 0, to: 150).offline.isEmpty, "before the first event nothing is known")
        }
    }
}
