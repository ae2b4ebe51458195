import API
import Catalog
import ChildProcess
import Domain
import Foundation
import Hummingbird
import HummingbirdTesting
import MediaMTXSimulator
import Testing

/// A PostgreSQL server of the test's own (scripts/postgres.sh), so that it can be stopped and started again without
/// touching the server other tests share.
struct OwnPostgres: Sendable {
    let dir: String
    let url: String

    /// The newest installed PostgreSQL's bin directory, as scripts/postgres.sh picks it.
    static let bin: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }.sorted()
        guard let newest = versions.last else { return nil }
        let bin = "\(root)/\(newest)/bin"
        return FileManager.default.isExecutableFile(atPath: "\(bin)/initdb") ? bin : nil
    }()
    static let ready = bin != nil && Hook.built
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let missing = "PostgreSQL (scripts/install-deps.sh --test installs it) and the mtx-hook binary next to the tests"

    static func script(_ arguments: [String]) async throws -> String {
        let script = repositoryRoot.appendingPathComponent("scripts/postgres.sh").path
        let (termination, output) = try await offThePool {
            try ChildProcess.run(script, arguments, environment: ChildProcess.currentEnvironment)
        }
        guard termination == .exited(0) else { throw Failure(description: "postgres.sh \(arguments[0]): \(output)") }
        return output
    }

    static func start() async throws -> OwnPostgres {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-outage-pg-\(UUID().uuidString)").path
        let output = try await script(["start", dir])
        guard let url = output.split(separator: "\n").last(where: { $0.hasPrefix("postgres://") }) else {
            throw Failure(description: "postgres.sh start printed no URL: \(output)")
        }
        return OwnPostgres(dir: dir, url: String(url))
    }

    /// Stops the server, keeping its data and port.
    func pause() async throws { _ = try await Self.script(["pause", dir]) }
    /// Starts it again on the same port.
    func resume() async throws { _ = try await Self.script(["resume", dir]) }
    /// Stops it and deletes its directory (blocks: for `defer`).
    func stop() {
        _ = try? ChildProcess.run(
            repositoryRoot.appendingPathComponent("scripts/postgres.sh").path, ["stop", dir], environment: ChildProcess.currentEnvironment)
    }

    /// The rows of `sql` through psql, one line each, columns separated by `|`.
    func rows(_ sql: String) async throws -> [String] {
        let psql = try #require(Self.bin) + "/psql"
        let (termination, output) = try await offThePool {
            try ChildProcess.run(psql, [url, "-X", "-qAtc", sql], environment: ChildProcess.currentEnvironment)
        }
        guard termination == .exited(0) else { throw Failure(description: "psql: \(output)") }
        return output.split(separator: "\n").map(String.init)
    }
}

@Suite(
    "PostgreSQL down: 503 at once, hooks spooled, publishing refused, back without a restart", .timeLimit(.minutes(3)),
    .available(OwnPostgres.ready, OwnPostgres.missing), .requires(OwnPostgres.ready, OwnPostgres.missing))
struct PostgresOutageTests {
    /// What a request should never take while the database is down.
    static let bound = Duration.seconds(5)

    static func timed<T>(_ work: () async throws -> T) async rethrows -> (T, Duration) {
        let start = ContinuousClock.now
        let result = try await work()
        return (result, ContinuousClock.now - start)
    }

    @Test func anOutageAnswers503SpoolsHooksAndRecoversWithoutARestart() async throws {
        let server = try await OwnPostgres.start()
        defer { server.stop() }
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = dir.appendingPathComponent("spool")
        let settings = CatalogSettings(path: "", url: server.url)

        let catalog = try await openCatalog(settings, logger: quietLogger)
        try await catalog.addUser(
            User(id: TestUser.admin.id, username: TestUser.admin.name, role: .admin, passwordHash: await testPasswordHash.value))
        await catalog.shutdown()

        let sim = MediaMTXSimulator()
        try await sim.start()
        defer { Task { await sim.stop() } }
        let config = await testConfig(sim: sim, databasePath: "").with { $0.database = settings }
        let app = try await buildApplication(config, logger: quietLogger)
        let adminToken = try await TestUser.admin.token
        try await app.test(.live) { raw in
            let client = SignedClient(base: raw, token: adminToken)
            let source = try await client.createSource(["name": "encoder", "type": "push"])
            let path = try #require(source["path_name"]?.stringValue)
            let key = try #require(source["push_url"]?.stringValue?.components(separatedBy: "?key=").last)
            let port = try #require(raw.port)
            var env = [
                "MTX_COMPANION_URL": "http://127.0.0.1:\(port)", "MTX_COMPANION_HOOK_TOKEN": hookToken,
                "MTX_COMPANION_SPOOL_DIR": spool.path, "MTX_SOURCE_TYPE": "rtmpConn", "MTX_SOURCE_ID": "1",
            ]
            var fired: [String] = []
            /// Runs mtx-hook for a new path; how long it took.
            func hook(_ name: String) async throws -> Duration {
                env["MTX_PATH"] = "live/\(name)"
                fired.append("live/\(name)")
                let (result, took) = try await Self.timed { try await Hook.run(["online"], env) }
                // Delivered or spooled, mtx-hook exits 0; at most it says the spool could not be flushed (a 503).
                let said = result.stderr.split(separator: "\n").filter { $0 != "mtx-hook: spool not flushed: answered 503" }
                #expect(result.status == 0 && said.isEmpty, "mtx-hook for \(name): \(result.status) \(result.stderr)")
                return took
            }
            func spooled() throws -> Int {
                ((try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []).filter { $0.hasSuffix(".json") }.count
            }
            func publish() async throws -> (Reply, Duration) {
                try await Self.timed {
                    try await raw.call(.post, "/api/v1/mediamtx/auth", raw: MediaMTXAuthTests.body("publish", path: path, query: "key=\(key)"))
                }
            }

            // Up: events are indexed at once, publishing with the key is allowed.
            for i in 0..<3 { _ = try await hook("before-\(i)") }
            #expect(try spooled() == 0)
            #expect(try await publish().0.status == .ok)
            #expect(try await raw.call(.get, "/readyz").status == .ok)

            try await server.pause()

            // The first request after the stop finds the pool's connections gone and a server refusing new ones.
            let (first, firstTook) = try await Self.timed { try await client.call(.get, "/api/v1/sources") }
            #expect(first.status == .serviceUnavailable && first.errorCode == "database_unavailable", "\(first.json.serialized())")
            #expect(firstTook < Self.bound, "the first request after the stop took \(firstTook)")
            #expect(first.headers[.retryAfter] == "5")
            #expect(first.errorMessage == "The database is unavailable right now. Try again in a few seconds.")
            let (chinese, chineseTook) = try await Self.timed {
                try await client.call(.get, "/api/v1/sources", headers: [.acceptLanguage: "zh-CN,zh;q=0.9"])
            }
            #expect(chinese.status == .serviceUnavailable && chinese.errorCode == "database_unavailable")
            #expect(chinese.errorMessage == "数据库暂时不可用，请稍后重试。")
            #expect(chineseTook < .seconds(1), "a request while the server is known to be down took \(chineseTook)")
            let login = try await raw.call(.post, "/api/v1/auth/login", json: ["username": "admin", "password": testPassword])
            #expect(login.status == .serviceUnavailable && login.errorCode == "database_unavailable")

            // Hook ingest answers 503: mtx-hook spools each event (and cannot flush the earlier ones).
            let ingest = try await raw.postEvents([hookEvent("online", path: "live/direct")])
            #expect(ingest.status == .serviceUnavailable && ingest.errorCode == "database_unavailable", "\(ingest.json.serialized())")
            for i in 0..<3 {
                let took = try await hook("during-\(i)")
                #expect(took < Self.bound, "mtx-hook took \(took) to spool")
            }
            #expect(try spooled() == 3)

            // Not ready (the database check says why), yet alive.
            let (ready, readyTook) = try await Self.timed { try await raw.call(.get, "/readyz") }
            #expect(ready.status == .serviceUnavailable && ready["status"]?.stringValue == "not_ready")
            #expect(ready["checks"]?["database"]?.stringValue?.contains("database unavailable") == true, "\(ready.json.serialized())")
            #expect(ready["checks"]?["mediamtx"]?.stringValue == "ok")
            #expect(readyTook < Self.bound)
            #expect(try await raw.call(.get, "/healthz").status == .ok)

            // MediaMTX's auth callback fails closed for publishing (the key is in the catalogue), at once.
            let (refused, refusedTook) = try await publish()
            #expect(refused.status == .serviceUnavailable && refused.errorCode == "database_unavailable")
            #expect(refusedTook < Self.bound)
            let read = try await raw.call(.post, "/api/v1/mediamtx/auth", raw: MediaMTXAuthTests.body("read", path: path, token: "forged"))
            #expect(read.status == .forbidden)

            try await server.resume()

            // Back without restarting the companion: within a few seconds, and every request then answers.
            let resumed = ContinuousClock.now
            var status = HTTPResponse.Status.serviceUnavailable
            while status != .ok, ContinuousClock.now - resumed < .seconds(30) {
                status = try await client.call(.get, "/api/v1/sources").status
                if status != .ok { try await Task.sleep(for: .milliseconds(50)) }
            }
            let recovery = ContinuousClock.now - resumed
            #expect(status == .ok)
            print("PostgresOutageTests: first 503 after \(firstTook), next \(chineseTook); back \(recovery) after the server restarted")
            #expect(recovery < Self.bound, "the API answered 200 again \(recovery) after the server restarted")
            #expect(try await raw.call(.get, "/readyz").status == .ok)
            #expect(try await publish().0.status == .ok)
            #expect(try await raw.call(.post, "/api/v1/auth/login", json: ["username": "admin", "password": testPassword]).status == .ok)

            // The next hook run delivers the spool first: every event, before, during and after, is stored once.
            _ = try await hook("after-0")
            #expect(try spooled() == 0)
            let stored = try await server.rows("SELECT path_name, count(*) FROM hook_events GROUP BY path_name ORDER BY path_name")
            #expect(stored == fired.sorted().map { "\($0)|1" })
        }
    }
}
