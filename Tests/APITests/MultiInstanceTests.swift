import AsyncHTTPClient
import ChildProcess
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// What the multi-instance test needs from the machine: a PostgreSQL server (`MTX_TEST_POSTGRES_URL`), psql, nginx
/// and the executables `swift build` makes.
enum MultiInstance {
    static let postgresURL = ProcessInfo.processInfo.environment["MTX_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let nginx = Prerequisite.onPath("nginx") ?? ["/usr/sbin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let psql =
        Prerequisite.onPath("psql")
        ?? ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        .map { "/usr/lib/postgresql/\($0)/bin/psql" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    static var simulator: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mediamtx-sim")
    }

    static let missing: String? = {
        var missing: [String] = []
        if postgresURL == nil { missing.append("MTX_TEST_POSTGRES_URL (scripts/postgres.sh start DIR prints one)") }
        if nginx == nil { missing.append("nginx (apt install nginx)") }
        if psql == nil { missing.append("psql (apt install postgresql-client)") }
        if !CommandLineTests.built || !Hook.built || !FileManager.default.isExecutableFile(atPath: simulator.path) {
            missing.append("mtx-companion, mtx-hook and mediamtx-sim next to the tests (swift build builds them)")
        }
        return missing.isEmpty ? nil : missing.joined(separator: ", ")
    }()
}

/// The acceptance test of several instances on one PostgreSQL, with real processes: two `mtx-companion serve` (A and
/// B) behind nginx run with the example config, the MediaMTX simulator, `mtx-hook` runs as MediaMTX makes them, a
/// webhook receiver and an SSE client on B. A holds the leases; `kill -9` of A mid-stream hands them to B, and no
/// acknowledged event is lost or stored twice.
@Suite(
    "Several instances on one PostgreSQL", .timeLimit(.minutes(2)),
    .available(MultiInstance.missing == nil, "needs \(MultiInstance.missing ?? "")"),
    .requires(MultiInstance.missing == nil, MultiInstance.missing ?? "")
)
struct MultiInstanceTests {
    static let leaseTimeout = Duration.seconds(3)
    /// Leases are renewed (and free ones tried) every third of the timeout.
    static let renewal = leaseTimeout / 3
    static let webhookTypes: Set<String> = ["available", "unavailable", "read", "unread", "segment-complete"]

    @Test func killingTheLeaseHolderHandsTheWorkToTheOtherInstanceAndLosesNoEvent() async throws {
        let dir = try makeTempDirectory()
        let processes = Processes(logs: dir)
        let receiver = WebhookReceiver()
        let sse = SSEClient()
        var database: Scratch?
        do {
            database = try Scratch.create(server: try #require(MultiInstance.postgresURL))
            try await Self.scenario(dir: dir, database: try #require(database), processes: processes, receiver: receiver, sse: sse)
        } catch {
            print("multi-instance: failed (\(error)); logs:\n\(processes.logTails())")
            await sse.stop()
            await receiver.stop()
            processes.stopAll()
            database?.drop()
            try? FileManager.default.removeItem(at: dir)
            throw error
        }
        await sse.stop()
        await receiver.stop()
        processes.stopAll()
        database?.drop()
        try? FileManager.default.removeItem(at: dir)
    }

    static func scenario(dir: URL, database: Scratch, processes: Processes, receiver: WebhookReceiver, sse: SSEClient) async throws {
        let testStarted = ContinuousClock.now
        // MARK: Processes: the simulator, A, then B once A holds every lease, then nginx.
        let (simAPI, simPlayback) = (try freePort(), try freePort())
        try processes.start(
            "sim", MultiInstance.simulator.path, ["--api-port", "\(simAPI)", "--playback-port", "\(simPlayback)"], environment: [:], in: dir)
        let sim = "http://127.0.0.1:\(simAPI)"
        try await waitFor("mediamtx-sim answering", timeout: .seconds(10)) { (try? await get("\(sim)/v3/info"))?.status == 200 }

        let common = [
            "MTX_COMPANION_DATABASE_URL": database.url, "MTX_COMPANION_DATABASE_LEASE_TIMEOUT": "3s",
            "MTX_COMPANION_JWT_SECRET": testJWTSecret, "MTX_COMPANION_HOOK_TOKEN": hookToken,
            "MTX_COMPANION_MEDIAMTX_API_ADDRESS": sim, "MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS": "http://127.0.0.1:\(simPlayback)",
            "MTX_COMPANION_MEDIAMTX_RECONCILE_INTERVAL": "1s",
            "MTX_COMPANION_MEDIAMTX_RECORD_PATH": "/srv/mediamtx/recordings/%path/%Y-%m-%d_%H-%M-%S-%f",
            "MTX_COMPANION_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
        ]
        // The first admin, made on the command line in the shared catalogue (this also migrates it).
        let password = "multi instance password"
        let added = try await CommandLineTests().run(
            ["users", "add", "root", "--role", "admin", "--password-stdin", "--env", "test"], environment: common, in: repositoryRoot,
            input: password + "\n")
        try #require(added.status == 0, "users add: \(added.output)")

        let portA = try freePort()
        let a = "http://127.0.0.1:\(portA)"
        func serve(_ name: String, _ port: Int) throws {
            var env = common
            env["MTX_COMPANION_SERVER_PORT"] = "\(port)"
            env["MTX_COMPANION_SERVER_INSTANCE"] = name
            try processes.start(
                name, CommandLineTests.binary.path, ["serve", "--env", "test", "--log-level", "notice", "--shutdown-timeout", "1"],
                environment: env, in: repositoryRoot)
        }
        try serve("a", portA)
        let allLeases: Set<String> = ["reconciler", "retention", "webhooks"]
        try await waitFor("A holding every lease", timeout: .seconds(15)) { (try? await readiness(a)).map { Set($0.leases.keys) } == allLeases }
        let tokensA = try await readiness(a).leases
        // B's port is taken just before B starts: one picked early (while A takes its leases) can meanwhile become
        // another test's outgoing port, and B would exit on "Address already in use". Should it still happen, B starts
        // again on another port.
        var portB = 0
        var b = ""
        for attempt in 1...3 {
            portB = try freePort()
            b = "http://127.0.0.1:\(portB)"
            try serve("b", portB)
            let started = ContinuousClock.now
            let log = dir.appendingPathComponent("b.log")
            while ContinuousClock.now - started < .seconds(15) {
                if (try? await readiness(b))?.instance == "b" { break }
                if (try? String(contentsOf: log, encoding: .utf8))?.contains("Address already in use") == true { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            if (try? await readiness(b))?.instance == "b" { break }
            _ = processes.kill("b")
            try #require(attempt < 3, "B did not answer: \(processes.logTails())")
        }
        let before = try await readiness(b)
        #expect(before.backend == "postgres")
        #expect(before.leases.isEmpty, "B holds \(before.leases) while A is alive")

        let proxy = try await startNginx(processes: processes, dir: dir, upstreams: [portA, portB])

        // MARK: Through nginx: log in, subscribe the receiver, make a source. The SSE client goes to B directly.
        let login = try await call(.POST, "\(proxy)/api/v1/auth/login", json: ["username": "root", "password": password])
        try #require(login.status == 200, "login through nginx: \(login.status) \(login.text)")
        let token = try #require(login.json["access_token"] as? String)
        try await receiver.start()
        let subscription = try await call(
            .POST, "\(proxy)/api/v1/webhooks", token: token,
            json: [
                "url": receiver.url,
                "events": ["stream.online", "stream.offline", "reader.joined", "reader.left", "recording.segment_completed"],
            ])
        try #require(subscription.status == 201, "webhook subscription: \(subscription.status) \(subscription.text)")
        let source = try await call(.POST, "\(proxy)/api/v1/sources", token: token, json: ["name": "cam", "type": "push"])
        try #require(source.status == 201, "source: \(source.status) \(source.text)")
        let sourcePath = try #require(source.json["path_name"] as? String)
        #expect(try await get("\(sim)/v3/config/paths/get/\(sourcePath)").status == 200)
        try await sse.connect("\(b)/api/v1/events/stream?access_token=\(token)")

        let hooks = HookFiring(dir: dir, urls: [.both: "\(a),\(b)", .onlyA: a, .nginx: proxy], sourcePath: sourcePath)

        // MARK: Phase 1, no crash: every delivery arrives once.
        let phase1 = try await hooks.fire(while: { ContinuousClock.now < $0 + .seconds(2) }) { i in
            [.onlyA, .nginx, .both, .both][i % 4]
        }
        try await waitForDeliveries(database, receiver)
        let phase1Hits = receiver.hits.map(\.id)
        let phase1Duplicates = duplicates(phase1Hits)
        #expect(phase1Duplicates.isEmpty, "deliveries received twice without a crash: \(phase1Duplicates.prefix(5))")
        #expect(!phase1Hits.isEmpty)

        // MARK: Phase 2: kill -9 of A mid-stream; B must take over.
        let killed = Mutex<ContinuousClock.Instant?>(nil)
        let stopAt = Mutex<ContinuousClock.Instant?>(nil)
        let firing = Task {
            try await hooks.fire(while: { _ in stopAt.withLock { $0 }.map { ContinuousClock.now < $0 } ?? true }) { i in
                // After the kill, some hooks know only A: they spool, and the last run replays them.
                if killed.withLock({ $0 }) != nil, i % 8 == 0 { return .onlyA }
                return i % 3 == 0 ? .nginx : .both
            }
        }
        var handover: Duration?
        var tokensB: [String: Int64] = [:]
        do {
            try await Task.sleep(for: .milliseconds(1500))
            let killedAt = ContinuousClock.now
            killed.withLock { $0 = killedAt }
            try #require(processes.kill("a") == .signaled(SIGKILL))
            while handover == nil, ContinuousClock.now - killedAt < .seconds(10) {
                if let leases = try? await readiness(b).leases, Set(leases.keys) == allLeases {
                    handover = ContinuousClock.now - killedAt
                    tokensB = leases
                } else {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            // Keep firing a little after the hand-over, so that B alone indexes and delivers for a while.
            stopAt.withLock { $0 = ContinuousClock.now + .milliseconds(1500) }
        } catch {
            stopAt.withLock { $0 = .now }
            _ = try? await firing.value
            throw error
        }
        let phase2 = try await firing.value
        let killedAt = try #require(killed.withLock { $0 })
        let handoverTime = try #require(handover, "B did not take every lease within 10 s of A's kill -9")
        // (2) Within the lease timeout and one renewal period (plus polling and the database's answers).
        #expect(handoverTime <= Self.leaseTimeout + Self.renewal + .milliseconds(500), "hand-over took \(handoverTime)")
        for (name, token) in tokensB {
            #expect(token > tokensA[name] ?? .max, "\(name): B's fencing token \(token) is not above A's \(tokensA[name] ?? 0)")
        }

        // (3) The reconciler now runs on B: a path deleted behind the companion's back comes back.
        let deleted = try await call(.DELETE, "\(sim)/v3/config/paths/delete/\(sourcePath)")
        #expect(deleted.status == 200)
        let deletedAt = ContinuousClock.now
        try await waitFor("B's reconciler re-adding \(sourcePath)", timeout: .seconds(6)) {
            (try? await get("\(sim)/v3/config/paths/get/\(sourcePath)"))?.status == 200
        }
        let readded = ContinuousClock.now - deletedAt

        // Replay what was spooled, with one more run.
        let flushed = try await Hook.run(["flush"], hooks.environment(url: b, spool: hooks.spool.path))
        #expect(flushed.status == 0, "flush: \(flushed.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: hooks.spool.path)) ?? []).filter { $0.hasSuffix(".json") }.isEmpty)
        try await waitForDeliveries(database, receiver)

        // MARK: (1) Every acknowledged or spooled event is stored exactly once.
        let runs = phase1 + phase2
        let failed = runs.filter { $0.status != 0 }
        #expect(failed.isEmpty, "mtx-hook runs that failed: \(failed.prefix(3).map { "\($0.marker) \($0.status) \($0.output)" })")
        var stored: [String: Int] = [:]
        var eventIDs: [String: String] = [:]
        for row in try database.query("SELECT payload->>'source_id', event_id FROM hook_events") where row.count == 2 {
            stored[row[0], default: 0] += 1
            eventIDs[row[0]] = row[1]
        }
        let acknowledged = runs.filter { $0.status == 0 }
        let wrong = acknowledged.filter { stored[$0.marker] != 1 }
        #expect(wrong.isEmpty, "acknowledged events not stored exactly once: \(wrong.prefix(5).map { "\($0.marker) × \(stored[$0.marker] ?? 0)" })")
        #expect(try database.query("SELECT count(*) - count(DISTINCT event_id) FROM hook_events").first == ["0"])

        // MARK: (4) Delivery resumed on B: events indexed after the kill reached the receiver.
        let hitIDs = Set(receiver.hits.map(\.id))
        let afterKill = acknowledged.filter { $0.started > killedAt && Self.webhookTypes.contains($0.type) }
        let undelivered = afterKill.filter { eventIDs[$0.marker].map { !hitIDs.contains($0) } ?? true }
        #expect(!afterKill.isEmpty)
        #expect(undelivered.isEmpty, "events after the kill with no delivery: \(undelivered.prefix(5).map(\.marker))")
        let afterKillIDs = Set(afterKill.compactMap { eventIDs[$0.marker] })
        let resumed = receiver.hits.filter { afterKillIDs.contains($0.id) }.map(\.at).min().map { $0 - killedAt }
        let notDelivered = try database.query("SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'")
        #expect(notDelivered.first == ["0"], "deliveries not delivered: \(notDelivered)")
        let outbox = Set(try database.query("SELECT event_id FROM webhook_deliveries").compactMap(\.first))
        #expect(outbox.subtracting(hitIDs).isEmpty, "delivered per the outbox but never received: \(outbox.subtracting(hitIDs).prefix(5))")

        // MARK: (5) The SSE client on B heard everything, A's events before the kill included (NOTIFY).
        let byA = phase1.filter { $0.mode == .onlyA && $0.status == 0 && !$0.spooled }.compactMap { eventIDs[$0.marker] }
        #expect(!byA.isEmpty)
        // Runs across the kill are left out: A may have stored an event and died before telling anyone.
        let expectedLive = acknowledged.filter { !$0.spooled && ($0.ended < killedAt || $0.started > killedAt) }.compactMap { eventIDs[$0.marker] }
        try? await waitFor("the SSE client on B catching up", timeout: .seconds(3)) { Set(expectedLive).isSubset(of: sse.eventIDs) }
        let heard = sse.eventIDs
        let missedFromA = byA.filter { !heard.contains($0) }
        #expect(missedFromA.isEmpty, "events indexed by A that B's SSE client never got: \(missedFromA.count) of \(byA.count)")
        let missed = expectedLive.filter { !heard.contains($0) }
        #expect(missed.isEmpty, "acknowledged events B's SSE client never got: \(missed.count) of \(expectedLive.count)")
        let heardAfterKill = sse.received.filter { $0.at > killedAt }.count
        #expect(heardAfterKill > 0)
        // Throughout: while phase 2's hooks fired (every 50 ms), no long silence on B's stream, across the kill included.
        let phase2Window = try #require(phase2.map(\.started).min())...(try #require(phase2.map(\.ended).max()))
        let times = sse.received.map(\.at).filter { phase2Window.contains($0) }.sorted()
        let longestGap = zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? .zero
        #expect(longestGap < .seconds(2), "B's SSE client heard nothing for \(longestGap)")

        // MARK: (6) Duplicates after the crash: allowed (at least once), counted.
        let hits = receiver.hits
        let duplicatesAfter = duplicates(hits.map(\.id))
        let figures = [
            "hand-over \(milliseconds(handoverTime)) ms (lease timeout 3 s, renewal 1 s)",
            "path re-added by B's reconciler \(milliseconds(readded)) ms after its deletion",
            "events fired \(runs.count) (before the kill \(runs.filter { $0.started < killedAt }.count))",
            "acknowledged \(acknowledged.filter { !$0.spooled }.count), spooled \(runs.filter(\.spooled).count), failed \(failed.count)",
            "webhook deliveries received \(hits.count) (phase 1: \(phase1Hits.count), duplicates 0 expected, got \(phase1Duplicates.count))",
            "duplicates after the crash \(duplicatesAfter.count)",
            "webhook delivery resumed \(resumed.map { "\(milliseconds($0)) ms" } ?? "never") after the kill",
            "SSE events on B \(heard.count) (from A before the kill: \(byA.count), after the kill: \(heardAfterKill), longest silence \(milliseconds(longestGap)) ms)",
            "wall time \(milliseconds(ContinuousClock.now - testStarted)) ms",
        ]
        print("multi-instance: " + figures.joined(separator: "; "))
    }

    /// nginx with the example config: only the upstream servers and the listen port replaced; the temp paths it needs
    /// and the include in an http{} wrapper.
    /// Its address once it proxies to A or B (their `/readyz` names them: another test's server on a port nginx could
    /// not get would not). A free port can be taken by a test running alongside before nginx binds it: nginx then
    /// says so and ends, and it starts again on another.
    static func startNginx(processes: Processes, dir: URL, upstreams: [Int]) async throws -> String {
        for _ in 1...3 {
            let port = try freePort()
            try await startNginx(processes: processes, dir: dir, upstreams: upstreams, port: port)
            let proxy = "http://127.0.0.1:\(port)"
            let log = processes.logs.appendingPathComponent("nginx.log")
            func bindFailed() -> Bool { (try? String(contentsOf: log, encoding: .utf8))?.contains("bind() to") == true }
            try await waitFor("nginx proxying", timeout: .seconds(15)) {
                if bindFailed() { return true }
                return ["a", "b"].contains((try? await readiness(proxy))?.instance)
            }
            guard bindFailed() else { return proxy }
            _ = processes.kill("nginx", SIGTERM)
        }
        throw TimedOut(what: "nginx getting a free port")
    }

    static func startNginx(processes: Processes, dir: URL, upstreams: [Int], port: Int) async throws {
        let example = try String(contentsOf: repositoryRoot.appendingPathComponent("packaging/nginx/mtx-companion.conf"), encoding: .utf8)
        var conf = example
        for (original, replacement) in [
            ("server 127.0.0.1:8080 ", "server 127.0.0.1:\(upstreams[0]) "), ("server 127.0.0.1:8081 ", "server 127.0.0.1:\(upstreams[1]) "),
            ("listen 8000;", "listen 127.0.0.1:\(port);"),
        ] {
            try #require(conf.contains(original), "the example config has no \"\(original)\"")
            conf = conf.replacingOccurrences(of: original, with: replacement)
        }
        let nginx = dir.appendingPathComponent("nginx")
        for temp in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            // Writable by the worker processes, which run as nobody when the test runs as root.
            try FileManager.default.createDirectory(
                at: nginx.appendingPathComponent(temp), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        }
        try conf.write(to: nginx.appendingPathComponent("mtx-companion.conf"), atomically: true, encoding: .utf8)
        let root = nginx.path
        try """
        worker_processes 1;
        events { worker_connections 1024; }
        http {
            access_log off;
            client_body_temp_path \(root)/client_body;
            proxy_temp_path \(root)/proxy;
            fastcgi_temp_path \(root)/fastcgi;
            uwsgi_temp_path \(root)/uwsgi;
            scgi_temp_path \(root)/scgi;
            include \(root)/mtx-companion.conf;
        }

        """.write(to: nginx.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        try processes.start(
            "nginx", try #require(MultiInstance.nginx),
            ["-p", root + "/", "-c", "\(root)/nginx.conf", "-e", "stderr", "-g", "daemon off; pid \(root)/nginx.pid; error_log stderr;"],
            environment: [:], in: dir)
    }

    /// Waits until the outbox has nothing pending and the receiver got every delivery it says was made.
    static func waitForDeliveries(_ database: Scratch, _ receiver: WebhookReceiver) async throws {
        try await waitFor("webhook deliveries drained", timeout: .seconds(10)) {
            guard let pending = try? database.query("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'"), pending.first == ["0"],
                let made = try? database.query("SELECT event_id FROM webhook_deliveries WHERE state = 'delivered'")
            else { return false }
            return Set(made.compactMap(\.first)).isSubset(of: Set(receiver.hits.map(\.id)))
        }
    }
}

// MARK: - mtx-hook runs

extension MultiInstanceTests {
    /// `mtx-hook` run as MediaMTX runs it, about 20 times a second, each run with its own spool folder (so the test knows
    /// which runs spooled: those are moved into one spool, which a last `flush` run replays). Every run's event carries
    /// its marker as `MTX_SOURCE_ID`, which the stored payload keeps (mtx-hook makes a random event id).
    final class HookFiring: Sendable {
        enum Mode: String, Sendable {
            /// `MTX_COMPANION_URL=http://A,http://B`
            case both
            /// Only A.
            case onlyA
            /// nginx's address.
            case nginx
        }

        struct Run: Sendable {
            var marker: String
            var type: String
            var mode: Mode
            var started: ContinuousClock.Instant
            var ended: ContinuousClock.Instant
            var status: Int32
            var spooled: Bool
            var output: String
        }

        static let types = ["available", "read", "unread", "unavailable", "online", "offline", "segment-complete"]
        let dir: URL
        let urls: [Mode: String]
        let sourcePath: String
        let spool: URL
        private let counter = Mutex(0)

        init(dir: URL, urls: [Mode: String], sourcePath: String) {
            self.dir = dir
            self.urls = urls
            self.sourcePath = sourcePath
            spool = dir.appendingPathComponent("spool")
        }

        func environment(url: String, spool: String) -> [String: String] {
            [
                "MTX_COMPANION_URL": url, "MTX_COMPANION_HOOK_TOKEN": hookToken, "MTX_COMPANION_SPOOL_DIR": spool,
                "MTX_COMPANION_HOOK_DEADLINE_MS": "5000", "MTX_COMPANION_NODE": "mtx-1",
            ]
        }

        /// Starts a run every 50 ms while `go(start of the firing)` holds; returns every run once all have ended.
        func fire(while go: @escaping @Sendable (ContinuousClock.Instant) -> Bool, mode: @escaping @Sendable (Int) -> Mode) async throws -> [Run] {
            let start = ContinuousClock.now
            return try await withThrowingTaskGroup(of: Run.self) { group in
                var tick = start
                // Bounded, whatever `go` says: a test that goes wrong must not fire for ever.
                while go(start), ContinuousClock.now - start < .seconds(20) {
                    let i = counter.withLock { n in
                        defer { n += 1 }
                        return n
                    }
                    let runMode = mode(i)
                    group.addTask { try await self.run(i, runMode) }
                    tick += .milliseconds(50)
                    try await Task.sleep(until: tick)
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }

        func run(_ i: Int, _ mode: Mode) async throws -> Run {
            let type = Self.types[i % Self.types.count]
            let marker = "mi-\(i)"
            let own = dir.appendingPathComponent("spools/\(i)")
            var env = environment(url: urls[mode]!, spool: own.path)
            let path = type == "segment-complete" ? "live/mi-rec" : (i % 4 == 0 ? sourcePath : "live/mi-\(i % 4)")
            env["MTX_PATH"] = path
            env["MTX_QUERY"] = ""
            env["MTX_SOURCE_TYPE"] = "rtmpConn"
            env["MTX_SOURCE_ID"] = marker
            if type == "read" || type == "unread" {
                env["MTX_READER_TYPE"] = "webRTCSession"
                env["MTX_READER_ID"] = "reader-\(i / Self.types.count)"
            }
            if type == "segment-complete" {
                env["MTX_SEGMENT_PATH"] = segmentFile(path, Date(timeIntervalSince1970: 1_795_000_000 + Double(i) * 2))
                env["MTX_SEGMENT_DURATION"] = "2.0"
            }
            let started = ContinuousClock.now
            let result = try await Hook.run([type], env)
            let ended = ContinuousClock.now
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: own.path)) ?? []).filter { $0.hasSuffix(".json") }
            if !files.isEmpty {
                try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
                for file in files {
                    try FileManager.default.moveItem(at: own.appendingPathComponent(file), to: spool.appendingPathComponent(file))
                }
            }
            return Run(
                marker: marker, type: type, mode: mode, started: started, ended: ended, status: result.status, spooled: !files.isEmpty,
                output: result.stderr)
        }
    }

    // MARK: - Helpers

    /// The child processes of the test, each writing its output to `<name>.log` in the test's folder.
    final class Processes: Sendable {
        private let running = Mutex<[String: ChildProcess]>([:])

        let logs: URL

        init(logs: URL) {
            self.logs = logs
        }

        /// Starts `executable` in `directory`, its output going to `<logs>/<name>.log`.
        func start(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String], in directory: URL) throws {
            let log = logs.appendingPathComponent("\(name).log").path
            // Inherited settings of the companion must not reach it: only what the test gives.
            let inherited = ChildProcess.currentEnvironment.filter { !$0.key.hasPrefix("MTX_") }
            let command = "exec " + ([executable] + arguments).map(shellQuoted).joined(separator: " ") + " >\(shellQuoted(log)) 2>&1"
            let process = try ChildProcess.start(
                "/bin/sh", ["-c", command], environment: inherited.merging(environment) { _, new in new },
                directory: directory.path)
            running.withLock { $0[name] = process }
        }

        /// Sends `signal` and waits for the process to end.
        func kill(_ name: String, _ signal: Int32 = SIGKILL) -> ChildProcess.Termination? {
            guard let process = running.withLock({ $0.removeValue(forKey: name) }) else { return nil }
            process.signal(signal)
            return process.wait()
        }

        /// nginx gets SIGTERM (its master tells the workers to stop; a SIGKILLed master would leave them listening);
        /// everything else SIGKILL.
        func stopAll() {
            let all = running.withLock { running in
                defer { running = [:] }
                return running
            }
            for (name, process) in all {
                if name == "nginx" {
                    process.signal(SIGTERM)
                    var status: Int32 = 0
                    let deadline = ContinuousClock.now + .seconds(5)
                    while waitpid(process.pid, &status, WNOHANG) == 0, ContinuousClock.now < deadline { usleep(20_000) }
                    if ContinuousClock.now >= deadline {
                        process.signal(SIGKILL)
                        process.wait()
                    }
                } else {
                    process.signal(SIGKILL)
                    process.wait()
                }
            }
        }

        /// The last lines of every log, for a failure's report.
        func logTails() -> String {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: logs.path)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
            return names.map { name in
                let text = (try? String(contentsOf: logs.appendingPathComponent(name), encoding: .utf8)) ?? ""
                return "--- \(name)\n" + text.split(separator: "\n").suffix(30).joined(separator: "\n")
            }.joined(separator: "\n")
        }
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A fresh database on the test server, queried with psql.
    struct Scratch: Sendable {
        let server: String
        let name: String
        let url: String

        static func create(server: String) throws -> Scratch {
            let name = "t_mi_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            var components = try #require(URLComponents(string: server))
            components.path = "/" + name
            let scratch = Scratch(server: server, name: name, url: try #require(components.string))
            _ = try psql(server, "CREATE DATABASE \(name)")
            return scratch
        }

        func drop() {
            _ = try? Self.psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }

        /// Rows of tab-separated columns.
        func query(_ sql: String) throws -> [[String]] {
            try Self.psql(url, sql).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        }

        struct Failed: Error, CustomStringConvertible {
            var description: String
        }

        static func psql(_ url: String, _ sql: String) throws -> String {
            let (termination, output) = try ChildProcess.run(
                try #require(MultiInstance.psql), [url, "-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                environment: ["PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"])
            guard termination == .exited(0) else { throw Failed(description: "psql \(sql): \(output)") }
            return output
        }
    }

    /// An SSE client: records the event id of every live event, with when it arrived.
    final class SSEClient: Sendable {
        struct Event: Sendable {
            var id: String
            var at: ContinuousClock.Instant
        }

        private let state = Mutex<(events: [Event], connected: Bool, task: Task<Void, Never>?)>(([], false, nil))
        private let client = HTTPClient(eventLoopGroupProvider: .singleton)

        var received: [Event] { state.withLock { $0.events } }
        var eventIDs: Set<String> { Set(received.map(\.id)) }

        func connect(_ url: String) async throws {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(3600))
            try #require(response.status == .ok, "SSE: \(response.status)")
            let task = Task {
                var pending = ""
                do {
                    for try await chunk in response.body {
                        pending += String(buffer: chunk)
                        while let end = pending.range(of: "\n\n") {
                            let message = String(pending[..<end.lowerBound])
                            pending.removeSubrange(..<end.upperBound)
                            self.handle(message)
                        }
                    }
                } catch {}
            }
            state.withLock { $0.task = task }
            try await waitFor("the SSE greeting", timeout: .seconds(5)) { self.state.withLock { $0.connected } }
        }

        private func handle(_ message: String) {
            if message.hasPrefix(": connected") { state.withLock { $0.connected = true } }
            for line in message.split(separator: "\n") where line.hasPrefix("data: ") {
                let json = (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any]
                guard let id = json?["event_id"] as? String else { continue }
                state.withLock { $0.events.append(Event(id: id, at: .now)) }
            }
        }

        func stop() async {
            let task = state.withLock { $0.task }
            task?.cancel()
            try? await client.shutdown()
            await task?.value
        }
    }

    struct HTTPReply {
        var status: Int
        var text: String
        var json: [String: Any]
    }

    static func call(_ method: HTTPMethod, _ url: String, token: String? = nil, json: [String: Any]? = nil) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        let text = String(buffer: body)
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        return HTTPReply(status: Int(response.status.code), text: text, json: object ?? [:])
    }

    static func get(_ url: String) async throws -> HTTPReply { try await call(.GET, url) }

    struct Readiness {
        var instance: String?
        var backend: String?
        var leases: [String: Int64]
    }

    /// `/readyz` of one instance (answered 200 or 503: the leases are in both).
    static func readiness(_ base: String) async throws -> Readiness {
        let reply = try await get("\(base)/readyz")
        let leases = (reply.json["leases"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.int64Value }
        return Readiness(instance: reply.json["instance"] as? String, backend: reply.json["backend"] as? String, leases: leases)
    }

    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    static func waitFor(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func freePort() throws -> Int {
        let reservation = try PortReservation()
        defer { reservation.release() }
        return reservation.port
    }

    static func duplicates(_ ids: [String]) -> [String] {
        Dictionary(ids.map { ($0, 1) }, uniquingKeysWith: +).filter { $0.value > 1 }.map(\.key)
    }

    static func milliseconds(_ d: Duration) -> Int {
        Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }
}
