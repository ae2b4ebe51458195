import AsyncHTTPClient
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

    @Test func aWiredInstallationPassesEveryCheck() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await SimulatorProcess.with { sim in
            try await wireHooks(sim)
            let result = try await doctor(sim, database: dir.appendingPathComponent("c.sqlite").path)
            #expect(result.status == 0, "\(result.output)")
            for check in ["config", "database", "mediamtx api", "hooks", "record path", "playback"] {
                #expect(result.output.contains("ok    \(check): "), "\(check): \(result.output)")
            }
            #expect(result.output.contains("MediaMTX v1.20"))
            #expect(result.output.contains("all 6 checks passed"))
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
            #expect(result.output.contains("2 of 6 checks failed"))
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
        let sim = MediaMTXSimulator()
        try await sim.start()
        let (api, playback) = await (sim.apiURL, sim.playbackURL)
        await sim.stop()
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
        #expect(result.output.contains("5 of 6 checks failed"))
    }
}
