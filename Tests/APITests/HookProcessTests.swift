import API
import ChildProcess
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import MediaMTXSimulator
import Synchronization
import Testing

/// The real `mtx-hook` binary, run as MediaMTX runs it: a child process with MediaMTX's variables.
enum Hook {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mtx-hook")
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: binary.path) }
    static let missing = "the mtx-hook binary next to the tests (swift build builds it)"

    struct Result: Sendable {
        var status: Int32
        /// stdout and stderr, merged.
        var stderr: String
    }

    static func run(_ arguments: [String], _ environment: [String: String]) async throws -> Result {
        try await offThePool {
            // Under a loaded test run, give delivery more than the 2 s default before the hook spools instead.
            let env = ["MTX_COMPANION_HOOK_DEADLINE_MS": "15000"].merging(environment) { _, given in given }
            let (termination, output) = try ChildProcess.run(binary.path, arguments, environment: env)
            return Result(status: termination.status, stderr: output)
        }
    }
}

@Suite("mtx-hook, run as MediaMTX runs it", .timeLimit(.minutes(3)), .available(Hook.built, Hook.missing), .requires(Hook.built, Hook.missing))
struct HookProcessTests {
    @Test func eachEventIsIndexedAsItHappens() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let records = dir.appendingPathComponent("rec").path
        try await withStack(recordPath: records + "/%path/%Y-%m-%d_%H-%M-%S-%f") { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push", "record_enabled": true])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let port = try #require(stack.client.port)
            var env = [
                "MTX_COMPANION_URL": "http://127.0.0.1:\(port)", "MTX_COMPANION_HOOK_TOKEN": hookToken,
                "MTX_COMPANION_SPOOL_DIR": dir.appendingPathComponent("spool").path, "MTX_COMPANION_NODE": "mtx-1",
                "MTX_PATH": path, "MTX_QUERY": "", "MTX_SOURCE_TYPE": "rtmpConn", "MTX_SOURCE_ID": "0909ca7f", "RTSP_PORT": "8554",
            ]
            func status() async throws -> JSONValue? {
                try await stack.client.call(.get, "/api/v1/sources?with_status=true")["items"]?.arrayValue.first?["status"]
            }

            #expect(try await Hook.run(["ready"], env).status == 0)
            #expect(try await status()?["ready"]?.boolValue == true)
            #expect(try await status()?["source_type"]?.stringValue == "rtmpConn")

            env["MTX_READER_TYPE"] = "webRTCSession"
            env["MTX_READER_ID"] = "3a9e"
            #expect(try await Hook.run(["read"], env).status == 0)
            #expect(try await status()?["readers"]?.intValue == 1)

            // A real segment file, named as MediaMTX names it.
            let segmentDir = "\(records)/\(path)"
            try FileManager.default.createDirectory(atPath: segmentDir, withIntermediateDirectories: true)
            let file = "\(segmentDir)/2026-11-25_20-02-47-294696.mp4"
            try Data(repeating: 7, count: 4321).write(to: URL(fileURLWithPath: file))
            env["MTX_SEGMENT_PATH"] = file
            #expect(try await Hook.run(["segment-create"], env).status == 0)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/status")["recording"]?.boolValue == true)
            try Data(repeating: 7, count: 98_765).write(to: URL(fileURLWithPath: file))
            env["MTX_SEGMENT_DURATION"] = "2.047029477"
            #expect(try await Hook.run(["segment-complete"], env).status == 0)
            let segment = try #require(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files")["items"]?.arrayValue.first)
            #expect(segment["start"]?.stringValue == "2026-11-25T20:02:47.294696Z")
            #expect(segment["duration"]?.doubleValue == 2.047029477)
            #expect(segment["size"]?.intValue == 98_765)
            #expect(segment["state"]?.stringValue == "complete")
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/status")["recording"]?.boolValue == false)

            #expect(try await Hook.run(["not-ready"], env).status == 0)
            #expect(try await status()?["ready"]?.boolValue == false)
            #expect(try await status()?["readers"]?.intValue == 0)
            let history = try await stack.client.call(.get, "/api/v1/sources/\(id)/events")["items"]?.arrayValue ?? []
            #expect(history.count == 5)
            #expect(history.allSatisfy { $0["node"]?.stringValue == "mtx-1" })
        }
    }

    @Test(.disabled(if: TestBackend.isPostgres, "reads the event ids from the SQLite file"))
    func aBurstWhileTheCompanionIsDownIsSpooledAndFlushedExactlyOnce() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = dir.appendingPathComponent("spool")
        let down = [
            "MTX_COMPANION_URL": "http://127.0.0.1:1", "MTX_COMPANION_HOOK_TOKEN": hookToken,
            "MTX_COMPANION_SPOOL_DIR": spool.path, "MTX_SOURCE_TYPE": "rtspSession", "MTX_SOURCE_ID": "x",
        ]
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var failures: Int32 = 0
                    for i in stride(from: worker, to: 1000, by: 4) {
                        var env = down
                        env["MTX_PATH"] = "live/burst-\(i % 10)"
                        let result = try await Hook.run([i % 2 == 0 ? "online" : "offline"], env)
                        if result.status != 0 { failures += 1 }
                    }
                    return failures
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(statuses == 0)
        let spooled = try Self.eventIDs(in: spool)
        #expect(spooled.count == 1000)
        // Keep a copy, to deliver every event a second time later.
        let copy = dir.appendingPathComponent("copy")
        try FileManager.default.copyItem(at: spool, to: copy)

        try await withStack { stack in
            let port = try #require(stack.client.port)
            var up = down
            up["MTX_COMPANION_URL"] = "http://127.0.0.1:\(port)"
            func indexed() async throws -> [String] {
                try await stack.database().read { try String.fetchAll($0, sql: "SELECT event_id FROM hook_events") }
            }
            // The first flush alone delivers every spooled event, each once.
            #expect(try await Hook.run(["flush"], up).status == 0)
            #expect(try Self.eventIDs(in: spool).isEmpty)
            let first = try await indexed()
            #expect(first.count == 1000)
            let lost = spooled.subtracting(first)
            #expect(lost.isEmpty && Set(first).count == first.count, "the first flush lost \(lost.count) events")
            // Flushing an empty spool, then every event again: nothing new is indexed.
            #expect(try await Hook.run(["flush"], up).status == 0)
            up["MTX_COMPANION_SPOOL_DIR"] = copy.path
            #expect(try await Hook.run(["flush"], up).status == 0)
            #expect(try await indexed().count == 1000)
            let paths = try await stack.database().read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM path_status") }
            #expect(paths == 10)
        }
    }

    /// The event ids of the events spooled in `folder`.
    static func eventIDs(in folder: URL) throws -> Set<String> {
        var ids = Set<String>()
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".json") {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as? [String: Any]
            let events = (object?["events"] as? [[String: Any]]) ?? [object ?? [:]]
            ids.formUnion(events.compactMap { $0["event_id"] as? String })
        }
        return ids
    }

    @Test(.disabled(if: TestBackend.isPostgres, "reads the event types from the SQLite file"))
    func aNewEventFlushesTheSpoolFirst() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = dir.appendingPathComponent("spool").path
        let down = [
            "MTX_COMPANION_URL": "http://127.0.0.1:1", "MTX_COMPANION_HOOK_TOKEN": hookToken, "MTX_COMPANION_SPOOL_DIR": spool, "MTX_PATH": "live/a",
        ]
        #expect(try await Hook.run(["online"], down).status == 0)
        try await withStack { stack in
            var env = down
            env["MTX_COMPANION_URL"] = "http://127.0.0.1:\(try #require(stack.client.port))"
            #expect(try await Hook.run(["offline"], env).status == 0)
            let types = try await stack.database().read { try String.fetchAll($0, sql: "SELECT type FROM hook_events ORDER BY occurred_at") }
            #expect(types == ["online", "offline"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasSuffix(".json") }.isEmpty)
        }
    }

    /// Several companion instances (`MTX_COMPANION_URL=a,b,c`): an instance that refuses the connection, answers 503 or
    /// refuses the token is passed over for the next; every event lands once, none is spooled. Each hook process
    /// starts at an instance picked by its pid, so the runs start at every one of them.
    @Test func severalCompanionURLsAreTriedInTurnBeforeSpooling() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = dir.appendingPathComponent("spool")
        let router = Router()
        let unavailableHits = Mutex(0)
        router.post("api/v1/hooks/events") { _, _ -> Response in
            unavailableHits.withLock { $0 += 1 }
            return Response(status: .serviceUnavailable)
        }
        let unavailable = try await LoopbackServer(router)
        defer { Task { await unavailable.stop() } }
        try await withStack { stack in
            let port = try #require(stack.client.port)
            let urls = ["http://127.0.0.1:1", "http://127.0.0.1:\(unavailable.port)", " http://127.0.0.1:\(port)/ "]
            var env = [
                "MTX_COMPANION_URL": urls.joined(separator: ","), "MTX_COMPANION_HOOK_TOKEN": hookToken,
                "MTX_COMPANION_SPOOL_DIR": spool.path, "MTX_PATH": "live/a",
            ]
            for (index, event) in ["online", "offline", "online", "offline", "online", "offline"].enumerated() {
                env["MTX_PATH"] = "live/p\(index)"
                let result = try await Hook.run([event], env)
                #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
            }
            #expect(try await stack.integer("SELECT COUNT(*) FROM hook_events") == 6)
            #expect(unavailableHits.withLock { $0 } >= 1, "the instance answering 503 was tried and passed over")
            let spooled = (try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []
            #expect(spooled.isEmpty)

            // Every instance down: spooled, and the reasons name each one.
            env["MTX_COMPANION_URL"] = "http://127.0.0.1:1,http://127.0.0.1:\(unavailable.port)"
            let down = try await Hook.run(["online"], env)
            #expect(down.status == 0)
            #expect(try HookProcessTests.eventIDs(in: spool).count == 1)
            // A list with an empty or non-HTTP entry is a configuration error.
            for bad in ["http://127.0.0.1:\(port),,http://127.0.0.1:1", "http://127.0.0.1:\(port),https://b:8080", ","] {
                env["MTX_COMPANION_URL"] = bad
                let refused = try await Hook.run(["online"], env)
                #expect(refused.status == 2 && refused.stderr.contains("several separated by commas"), "\(bad): \(refused.stderr)")
            }
        }
    }

    @Test(arguments: [
        (["available"], [:] as [String: String], "MTX_PATH is not set"),
        (
            ["segment-complete"],
            [
                "MTX_PATH": "live/a", "MTX_SEGMENT_PATH": "/srv/mediamtx/recordings/live/a/2026-11-25_20-02-47-294696.mp4",
                "MTX_SEGMENT_DURATION": "two seconds",
            ], "MTX_SEGMENT_DURATION"
        ),
        (["teleport"], ["MTX_PATH": "live/a"], "unknown event"),
        (["read"], ["MTX_PATH": "live/a"], "MTX_READER_ID"),
        ([], ["MTX_PATH": "live/a"], "usage"),
    ])
    func badEnvironmentExits2AndSendsNothing(arguments: [String], variables: [String: String], message: String) async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withStack { stack in
            var env = variables
            env["MTX_COMPANION_URL"] = "http://127.0.0.1:\(try #require(stack.client.port))"
            env["MTX_COMPANION_HOOK_TOKEN"] = hookToken
            env["MTX_COMPANION_SPOOL_DIR"] = dir.path
            let result = try await Hook.run(arguments, env)
            #expect(result.status == 2)
            #expect(result.stderr.contains(message))
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(try await stack.integer("SELECT COUNT(*) FROM hook_events") == 0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        }
    }
}

/// Runs blocking work (spawning and waiting for a process) on a GCD thread, so it never holds one of the
/// few threads Swift concurrency (and so every server in the test run) shares.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}

@Suite(
    "The simulator runs mtx-hook as MediaMTX does", .timeLimit(.minutes(3)),
    .available(Hook.built, Hook.missing), .requires(Hook.built, Hook.missing),
    .available(Prerequisite.onPath("ffmpeg") != nil, "needs ffmpeg on PATH (scripts/install-deps.sh --test)"),
    .requires(Prerequisite.onPath("ffmpeg") != nil, "ffmpeg on PATH (scripts/install-deps.sh --test)")
)
struct SimulatedMediaMTXHookTests {
    @Test func publishReadRecordAndStop() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let records = dir.appendingPathComponent("rec").path
        try await withStack(recordPath: records + "/%path/%Y-%m-%d_%H-%M-%S-%f") { stack in
            let port = try #require(stack.client.port)
            await stack.state.setHookEnvironment([
                "MTX_COMPANION_URL": "http://127.0.0.1:\(port)", "MTX_COMPANION_HOOK_TOKEN": hookToken,
                "MTX_COMPANION_SPOOL_DIR": dir.appendingPathComponent("spool").path, "MTX_COMPANION_HOOK_DEADLINE_MS": "15000",
            ])
            // Wire MediaMTX's hooks through its API, as the reconciler does with manage_hooks.
            var config = stack.config
            config.mediamtx.manageHooks = true
            config.mediamtx.hookCommand = Hook.binary.path
            let services = try await AppServices(config, logger: quietLogger)
            let wired = try await services.reconciler.reconcileOnce().hooksInstalled
            try await services.httpClient.shutdown()
            #expect(wired.count == 8)

            let source = try await stack.client.createSource(["name": "cam", "type": "push", "record_enabled": true])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            func status() async throws -> JSONValue? {
                try await stack.client.call(.get, "/api/v1/sources?with_status=true")["items"]?.arrayValue.first?["status"]
            }

            await stack.state.publish(path: path, sourceType: "rtmpConn")
            await stack.state.waitForHooks()
            #expect(try await status()?["ready"]?.boolValue == true)
            #expect(try await status()?["online"]?.boolValue == true)
            #expect(try await status()?["source_type"]?.stringValue == "rtmpConn")

            await stack.state.addReader(path: path, type: "hlsMuxer")
            await stack.state.waitForHooks()
            #expect(try await status()?["readers"]?.intValue == 1)

            let files = try await stack.state.record(path: path, count: 3, duration: 1)
            await stack.state.waitForHooks()
            #expect(files.count == 3)
            let segments = try #require(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files")["items"]?.arrayValue)
            #expect(segments.count == 3)
            for (segment, file) in zip(segments, files) {
                let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int
                #expect(segment["file_path"]?.stringValue == file)
                #expect(segment["size"]?.intValue == size)
                #expect((size ?? 0) > 1000, "a real fMP4 file")
                #expect(segment["duration"]?.doubleValue == 1)
                #expect(segment["state"]?.stringValue == "complete")
            }
            let sessions = try await stack.client.call(.get, "/api/v1/sources/\(id)/record/sessions")["items"]?.arrayValue ?? []
            #expect(sessions.count == 1)
            #expect(sessions.first?["segment_count"]?.intValue == 3)
            let start = try #require(segments[1]["start"]?.stringValue)
            let playback = try await stack.client.call(.get, "/api/v1/sources/\(id)/playback?start=\(start)")
            #expect(playback.status == .ok)
            #expect(playback["duration"]?.doubleValue == 2)

            await stack.state.unpublish(path: path)
            await stack.state.waitForHooks()
            #expect(try await status()?["ready"]?.boolValue == false)
            #expect(try await status()?["readers"]?.intValue == 0)
            #expect(await stack.state.hookFailures.isEmpty)
        }
    }
}
