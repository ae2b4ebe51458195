import AsyncHTTPClient
import ChildProcess
import Foundation
import MediaMTX
import MediaMTXSimulator
import Testing

/// `mtx-companion doctor`, run as an operator runs it, against a `mediamtx-sim` process (`SimulatorProcess`): one
/// line per check, a fix for each that fails, exit status 1 when anything fails.
@Suite("mtx-companion doctor", .timeLimit(.minutes(3)))
struct DoctorTests {
    typealias Sim = SimulatorProcess.Addresses

    func doctor(_ sim: Sim, database: String, _ environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let (api, playback) = sim
        return try await CommandLineTests().run(
            ["doctor", "--env", "test"],
            environment: [
                "MTX_COMPANION_DATABASE_PATH": database, "MTX_COMPANION_MEDIAMTX_API_ADDRESS": api,
                "MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS": playback,
                // MediaMTX runs on this host in the test: the hook command must exist here.
                "MTX_COMPANION_MEDIAMTX_HOOK_COMMAND": "/bin/true",
            ].merging(environment) { _, new in new }, in: repositoryRoot)
    }

    func wireHooks(_ sim: Sim, command: String = "/bin/true") async throws {
        let (api, playback) = sim
        let client = MediaMTXClient(
            apiAddress: api, playbackAddress: playback, httpClient: .shared, requestTimeout: .seconds(5), logger: quietLogger)
        var patch = HookCommands()
        for hook in HookWiring.wanted(command: command, current: try await client.getPathDefaultHooks()) { patch[keyPath: hook.key] = hook.command }
        try await client.patchPathDefaultHooks(patch)
    }

    /// MediaMTX's global config (`/v3/config/global/patch`): how it authorises.
    func setAuth(_ sim: Sim, method: String, address: String) async throws {
        var request = HTTPClientRequest(url: sim.api + "/v3/config/global/patch")
        request.method = .PATCH
        request.body = .bytes(Data(#"{"authMethod":"\#(method)","authHTTPAddress":"\#(address)"}"#.utf8))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        try #require(response.status == .ok)
    }

    /// `mtx-companion serve` as its own process on a free-looking port, pointed at `sim`: the auth callback's target.
    func withCompanion(_ sim: Sim, database: String, _ body: (String) async throws -> Void) async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mtx-companion")
        let port = Int.random(in: 40_001...50_000)
        let environment = ChildProcess.currentEnvironment.merging([
            "MTX_COMPANION_SERVER_PORT": "\(port)", "MTX_COMPANION_DATABASE_PATH": database, "MTX_COMPANION_MEDIAMTX_API_ADDRESS": sim.api,
            "MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS": sim.playback,
        ]) { _, new in new }
        let process = try ChildProcess.start(
            binary.path, ["serve", "--env", "test", "--log-level", "critical"], environment: environment, directory: repositoryRoot.path)
        defer {
            process.signal(SIGKILL)
            process.wait()
        }
        let base = "http://127.0.0.1:\(port)"
        var up = false
        for _ in 0..<150 where !up {
            try await Task.sleep(for: .milliseconds(100))
            up = (try? await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(1)))?.status == .ok
        }
        try #require(up, "mtx-companion did not start")
        try await body(base)
    }

    @Test func aWiredInstallationPassesEveryCheck() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await SimulatorProcess.with { sim in
            try await wireHooks(sim)
            let database = dir.appendingPathComponent("c.sqlite").path
            try await withCompanion(sim, database: database) { companion in
                try await setAuth(sim, method: "http", address: companion + "/api/v1/mediamtx/auth")
                let result = try await doctor(sim, database: database)
                #expect(result.status == 0, "\(result.output)")
                for check in ["config", "database", "mediamtx api", "hooks", "auth callback", "record path", "playback"] {
                    #expect(result.output.contains("ok    \(check): "), "\(check): \(result.output)")
                }
                #expect(result.output.contains("MediaMTX v1.20"))
                #expect(result.output.contains("all 7 checks passed"))
            }
        }
    }

    /// MediaMTX not asking us, asking the wrong route, or asking an address where no companion answers.
    @Test func anAuthCallbackNotWiredOrNotReachableFailsWithAFix() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await SimulatorProcess.with { sim in
            try await wireHooks(sim)
            let database = dir.appendingPathComponent("c.sqlite").path
            let unasked = try await doctor(sim, database: database)
            #expect(unasked.status == 1)
            #expect(unasked.output.contains("FAIL  auth callback: MediaMTX's authMethod is internal"), "\(unasked.output)")
            #expect(unasked.output.contains("fix: set authMethod: http, authHTTPAddress: http://<companion>/api/v1/mediamtx/auth"))
            #expect(unasked.output.contains("1 of 7 checks failed"))

            try await setAuth(sim, method: "http", address: "http://127.0.0.1:9/auth")
            let route = try await doctor(sim, database: database)
            #expect(route.output.contains(#"FAIL  auth callback: MediaMTX's authHTTPAddress is "http://127.0.0.1:9/auth", not"#), "\(route.output)")

            // Our route, but nothing listens there (port 9, discard, is closed here); then MediaMTX's own API, which
            // answers, but not as the companion does.
            try await setAuth(sim, method: "http", address: "http://127.0.0.1:9/api/v1/mediamtx/auth")
            let closed = try await doctor(sim, database: database)
            #expect(
                closed.output.contains("FAIL  auth callback: http://127.0.0.1:9/api/v1/mediamtx/auth is not reachable from here"), "\(closed.output)")
            #expect(closed.output.contains("fix: start the companion"))
            try await setAuth(sim, method: "http", address: sim.api + "/api/v1/mediamtx/auth")
            let other = try await doctor(sim, database: database)
            #expect(other.output.contains("answered 404 to a read without credentials, not 401"), "\(other.output)")
        }
    }

    @Test func hooksNotWiredAndAWrongRecordPathFailWithAFix() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await SimulatorProcess.with { sim in
            let result = try await doctor(
                sim, database: dir.appendingPathComponent("c.sqlite").path,
                ["MTX_COMPANION_MEDIAMTX_RECORD_PATH": "/srv/rec/%path/%Y-%m-%d_%H-%M-%S-%f"])
            #expect(result.status == 1)
            #expect(result.output.contains("FAIL  hooks: pathDefaults do not run mtx-hook for runOnAvailable"), "\(result.output)")
            #expect(result.output.contains("fix: set mediamtx.manage_hooks: true"))
            #expect(result.output.contains("FAIL  record path: MediaMTX records to ./recordings/%path/%Y-%m-%d_%H-%M-%S-%f"), "\(result.output)")
            #expect(result.output.contains("ok    playback: "))
            #expect(result.output.contains("FAIL  auth callback: "))
            #expect(result.output.contains("3 of 7 checks failed"))
            // Wired hooks whose command does not exist on this host.
            try await wireHooks(sim, command: "/nonexistent/mtx-hook")
            let missing = try await doctor(
                sim, database: dir.appendingPathComponent("c.sqlite").path, ["MTX_COMPANION_MEDIAMTX_HOOK_COMMAND": "/nonexistent/mtx-hook"])
            #expect(missing.output.contains("FAIL  hooks: /nonexistent/mtx-hook is not an executable file here"), "\(missing.output)")
        }
    }

    @Test func mediaMTXDownAndAnUnwritableDatabaseFail() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A database path whose folder is a file: it can be neither made nor opened.
        let blocker = dir.appendingPathComponent("blocker")
        try Data("x".utf8).write(to: blocker)
        // Ports held bound but not listening: refused, and no other test's server can take them meanwhile.
        let apiPort = try PortReservation(), playbackPort = try PortReservation()
        defer {
            apiPort.release()
            playbackPort.release()
        }
        let (api, playback) = ("http://127.0.0.1:\(apiPort.port)", "http://127.0.0.1:\(playbackPort.port)")
        let result = try await CommandLineTests().run(
            ["doctor", "--env", "test"],
            environment: [
                "MTX_COMPANION_DATABASE_PATH": blocker.appendingPathComponent("c.sqlite").path, "MTX_COMPANION_MEDIAMTX_API_ADDRESS": api,
                "MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS": playback,
            ], in: repositoryRoot)
        #expect(result.status == 1)
        #expect(result.output.contains("FAIL  database: \(blocker.path)/c.sqlite"), "\(result.output)")
        #expect(result.output.contains("fix: make the file and its folder writable"))
        #expect(result.output.contains("FAIL  mediamtx api: \(api)"), "\(result.output)")
        #expect(result.output.contains("fix: start MediaMTX with `api: yes`"))
        #expect(result.output.contains("skip  hooks: needs MediaMTX's API"))
        #expect(result.output.contains("FAIL  playback: \(playback)"))
        #expect(result.output.contains("skip  auth callback: needs MediaMTX's API"))
        #expect(result.output.contains("6 of 7 checks failed"))
    }
}
