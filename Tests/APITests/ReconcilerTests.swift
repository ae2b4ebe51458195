import API
import Catalog
import Domain
import Foundation
import GRDB
import HookWire
import HummingbirdTesting
import Logging
import MediaMTXSimulator
import Testing

@Suite("Reconciler", .timeLimit(.minutes(3)))
struct ReconcilerTests {
    /// The reconciler of a companion wired like the stack's.
    func reconciler(_ stack: TestStack, manageHooks: Bool = false) async throws -> (Reconciler, AppServices) {
        var config = stack.config
        config.mediamtx.manageHooks = manageHooks
        config.mediamtx.hookCommand = "/usr/local/bin/mtx-hook"
        let services = try await AppServices(config, logger: quietLogger)
        return (services.reconciler, services)
    }

    func once(_ stack: TestStack, manageHooks: Bool = false) async throws -> Reconciler.Report {
        let (reconciler, services) = try await reconciler(stack, manageHooks: manageHooks)
        do {
            let report = try await reconciler.reconcileOnce()
            try await services.httpClient.shutdown()
            return report
        } catch {
            try await services.httpClient.shutdown()
            throw error
        }
    }

    @Test func reAddsPathsMediaMTXLostAndLeavesDisabledOnesAlone() async throws {
        try await withStack { stack in
            let a = try await stack.client.createSource(["name": "a", "type": "pull", "url": "rtsp://a/s", "record_enabled": true])
            let b = try await stack.client.createSource(["name": "b", "type": "push"])
            _ = try await stack.client.createSource(["name": "off", "type": "push", "enabled": false])
            let pathA = try #require(a["path_name"]?.stringValue)
            let pathB = try #require(b["path_name"]?.stringValue)
            // Deleted behind our back, then a MediaMTX restart that dropped everything.
            _ = await stack.state.deletePath(pathA)
            var report = try await once(stack)
            #expect(report.pathsReadded == [pathA])
            #expect(await stack.state.pathConfig(pathA)?["record"]?.boolValue == true)
            await stack.state.restart()
            report = try await once(stack)
            #expect(Set(report.pathsReadded) == [pathA, pathB])
            #expect(await stack.state.configuredPathNames() == [pathA, pathB].sorted())
            #expect(await stack.state.pathConfig(pathA)?["source"]?.stringValue == "rtsp://a/s")
            #expect(try await once(stack).pathsReadded.isEmpty)
        }
    }

    @Test(.disabled(if: TestBackend.isPostgres, "reads the segments from the SQLite file"))
    func indexesMissedSegmentsAndMarksDeletedOnes() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push", "record_enabled": true])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let t0 = Date(timeIntervalSince1970: 1_795_000_000.25)
            // Hooks reported segments 0 and 1; MediaMTX has 1 and 2 (0 was deleted by recordDeleteAfter, 2 was missed).
            try await stack.client.postEvents(
                segmentEvents(path: path, start: t0, duration: 2) + segmentEvents(path: path, start: t0.addingTimeInterval(2), duration: 2))
            await stack.state.addSegment(path: path, start: t0.addingTimeInterval(2), duration: 2)
            await stack.state.addSegment(path: path, start: t0.addingTimeInterval(4), duration: 2)

            let report = try await once(stack)
            #expect(report.segmentsAdded == 1)
            #expect(report.segmentsDeleted == 1)
            let files = try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files")
            #expect(
                files["items"]?.arrayValue.compactMap { $0["start"]?.stringValue } == ["2026-11-18T11:06:42.250000Z", "2026-11-18T11:06:44.250000Z"])
            let again = try await once(stack)
            #expect(again.segmentsAdded == 0 && again.segmentsDeleted == 0)
            // A hook report of the segment the reconciler added is the same segment.
            try await stack.client.postEvents(segmentEvents(path: path, start: t0.addingTimeInterval(4), duration: 2, size: 777))
            let segments = try stack.database().read {
                try Row.fetchAll($0, sql: "SELECT start, size, state FROM segments WHERE state <> 'deleted' ORDER BY start")
            }
            #expect(segments.count == 2)
            #expect(segments.last?["size"] == 777)
        }
    }

    @Test func healsStatusDrift() async throws {
        try await withStack { stack in
            let live = try await stack.client.createSource(["name": "live", "type": "push"])
            let stale = try await stack.client.createSource(["name": "stale", "type": "push"])
            let livePath = try #require(live["path_name"]?.stringValue)
            let stalePath = try #require(stale["path_name"]?.stringValue)
            // An `available` whose `unavailable` never came (MediaMTX crashed), and a stream whose hook was missed.
            try await stack.client.postEvents([hookEvent("available", path: stalePath, at: Date().addingTimeInterval(-60))])
            await stack.state.publish(path: livePath, sourceType: "rtmpConn")
            await stack.state.addReader(path: livePath)
            let report = try await once(stack)
            #expect(Set(report.statusHealed) == [livePath, stalePath])
            let items = try await stack.client.call(.get, "/api/v1/sources?with_status=true")["items"]?.arrayValue ?? []
            let byName = Dictionary(uniqueKeysWithValues: items.map { ($0["name"]!.stringValue!, $0["status"]!) })
            #expect(byName["live"]?["ready"]?.boolValue == true)
            #expect(byName["live"]?["readers"]?.intValue == 1)
            #expect(byName["stale"]?["ready"]?.boolValue == false)
        }
    }

    @Test(.disabled(if: TestBackend.isPostgres, "writes an old event into the SQLite file with AppDatabase"))
    func oldHistoryIsPrunedButStateStays() async throws {
        try await withStack { stack in
            let db = try AppDatabase.open(path: stack.config.database.path)
            let old = Date().addingTimeInterval(-40 * 86_400).micros
            let event = IngestEvent(
                eventID: "old", type: .available, occurredAt: old, node: nil, path: "live/old", sourceType: nil, sourceID: nil,
                readerType: nil, readerID: nil, segment: nil, payload: "{}"
            )
            _ = try await db.ingest([event], receivedAt: old)
            try await stack.client.postEvents([hookEvent("online", path: "live/new")])
            let report = try await once(stack)
            #expect(report.eventsPruned == 1)
            let left = try await stack.database().read { try String.fetchAll($0, sql: "SELECT path_name FROM hook_events") }
            #expect(left == ["live/new"])
        }
    }

    @Test func wiresMediaMTXHooksWhenAskedTo() async throws {
        try await withStack { stack in
            let report = try await once(stack, manageHooks: true)
            #expect(report.hooksInstalled.count == 8)
            let defaults = await stack.state.getPathDefaults().body
            #expect(defaults["runOnAvailable"]?.stringValue == "/usr/local/bin/mtx-hook available")
            #expect(defaults["runOnRecordSegmentComplete"]?.stringValue == "/usr/local/bin/mtx-hook segment-complete")
            #expect(defaults["runOnUnread"]?.stringValue == "/usr/local/bin/mtx-hook unread")
            #expect(try await once(stack, manageHooks: true).hooksInstalled.isEmpty)
        }
    }

    @Test func theServiceReAssertsPathsRightAfterAMediaMTXRestart() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await MediaMTXSimulator.with { sim in
            var config = await testConfig(sim: sim, databasePath: dir.appendingPathComponent("c.sqlite").path)
            config.mediamtx.reconcileInterval = .seconds(3600)
            let services = try await AppServices(config, logger: quietLogger)
            let source = try await services.sources.create(
                .init(name: "cam", kind: .push, url: nil, protocol: "rtmp", enabled: true, recordEnabled: false))
            let reconciler = Reconciler(sources: services.sources, settings: config.mediamtx, logger: quietLogger, restartCheck: .milliseconds(100))
            let task = Task { try await reconciler.run() }
            // Restart only once the reconciler knows MediaMTX's start time: its first pass is done and it asked
            // /v3/info again. A restart before that would be healed by that first full pass, detected or not.
            let deadline = ContinuousClock.now + .seconds(20)
            while await sim.state.requests.filter({ $0.method == "GET" && $0.path == "/v3/info" }).count < 2 {
                guard ContinuousClock.now < deadline else {
                    Issue.record("the reconciler never asked /v3/info twice")
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(await sim.state.requests.contains { $0.path.hasPrefix("/v3/config/paths/list") })
            await sim.state.restart()
            var restored = false
            for _ in 0..<50 where !restored {
                try await Task.sleep(for: .milliseconds(100))
                restored = await sim.state.pathConfig(source.pathName) != nil
            }
            task.cancel()
            _ = try? await task.value
            try await services.httpClient.shutdown()
            #expect(restored, "path re-added well before the hourly pass")
        }
    }
}
