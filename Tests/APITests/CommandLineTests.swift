import ChildProcess
import Foundation
import Testing

/// The `mtx-companion` executable, run as a child process.
@Suite("mtx-companion command line", .timeLimit(.minutes(3)))
struct CommandLineTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mtx-companion")
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: binary.path) }

    func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL, input: String? = nil) async throws -> (
        status: Int32, output: String
    ) {
        try await offThePool { try Self.spawn(arguments, environment: environment, in: directory, input: input) }
    }

    static func spawn(_ arguments: [String], environment: [String: String], in directory: URL, input: String? = nil) throws -> (
        status: Int32, output: String
    ) {
        let (termination, output) = try ChildProcess.run(
            binary.path, arguments, environment: ChildProcess.currentEnvironment.merging(environment) { _, new in new }, directory: directory.path,
            input: input
        )
        return (termination.status, output)
    }

    @Test func migrateCreatesTheDatabase() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("sub/catalog.sqlite").path
        let result = try await run(
            ["migrate", "--env", "test"], environment: ["MTX_COMPANION_DATABASE_PATH": db],
            in: repositoryRoot
        )
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("v1_media_sources"))
        #expect(FileManager.default.fileExists(atPath: db))
    }

    @Test func backupCopiesTheCatalogueAndNeverOverwrites() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("catalog.sqlite").path
        let env = ["MTX_COMPANION_DATABASE_PATH": db]
        #expect(
            try await run(
                ["users", "add", "alice", "--role", "admin", "--password-stdin", "--env", "test"], environment: env, in: repositoryRoot,
                input: "alice's first password\n"
            ).status == 0)
        let copy = dir.appendingPathComponent("backup.sqlite").path
        let result = try await run(["backup", copy, "--env", "test"], environment: env, in: repositoryRoot)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("backed up to \(copy)"))
        // The copy is a catalogue of its own: the CLI reads the same user from it.
        let listed = try await run(["users", "list", "--env", "test"], environment: ["MTX_COMPANION_DATABASE_PATH": copy], in: repositoryRoot)
        #expect(listed.status == 0 && listed.output.contains("alice"), "\(listed.output)")
        let again = try await run(["backup", copy, "--env", "test"], environment: env, in: repositoryRoot)
        #expect(again.status != 0 && again.output.contains("exists"))
    }

    @Test func badConfigStopsWithOneLine() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.yaml")
        try AppConfigTests.valid.replacingOccurrences(of: "record_format: fmp4", with: "record_format: mkv").write(
            to: file, atomically: true, encoding: .utf8)
        let result = try await run(["serve", "--config", file.path], in: dir)
        #expect(result.status != 0)
        #expect(result.output.contains("\(file.path): mediamtx.record_format: must be fmp4 or mpegts (\"mkv\")"))

        let missing = try await run(["serve", "--env", "staging"], in: dir)
        #expect(missing.status != 0)
        #expect(missing.output.contains("configs/config.staging.yaml: cannot read the file"))
    }
}

@Suite("users command", .timeLimit(.minutes(3)))
struct UsersCommandTests {
    @Test(.disabled(if: TestBackend.isPostgres, "runs the CLI on the SQLite file the stack uses"))
    func theFirstAdminIsMadeOnTheCommandLineAndCanLogIn() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("catalog.sqlite").path
        let cli = CommandLineTests()
        let env = ["MTX_COMPANION_DATABASE_PATH": db]
        let added = try await cli.run(
            ["users", "add", "alice", "--role", "admin", "--password-stdin", "--env", "test"], environment: env, in: repositoryRoot,
            input: "alice's first password\n")
        #expect(added.status == 0, "\(added.output)")
        #expect(added.output.contains("added alice (admin)"))
        #expect(!added.output.contains("alice's first password"))
        let again = try await cli.run(
            ["users", "add", "alice", "--role", "viewer", "--password-stdin", "--env", "test"], environment: env, in: repositoryRoot,
            input: "another password\n")
        #expect(again.status != 0 && again.output.contains("already exists"))
        let noStdin = try await cli.run(["users", "add", "bob", "--role", "viewer", "--env", "test"], environment: env, in: repositoryRoot)
        #expect(noStdin.status != 0 && noStdin.output.contains("--password-stdin"))
        let badRole = try await cli.run(
            ["users", "add", "bob", "--role", "root", "--password-stdin", "--env", "test"], environment: env, in: repositoryRoot,
            input: "long password\n")
        #expect(badRole.status != 0 && badRole.output.contains("role must be"))
        let changed = try await cli.run(
            ["users", "passwd", "alice", "--password-stdin", "--env", "test"], environment: env, in: repositoryRoot,
            input: "alice's second password\n")
        #expect(changed.status == 0, "\(changed.output)")
        let list = try await cli.run(["users", "list", "--env", "test"], environment: env, in: repositoryRoot)
        #expect(list.output.hasPrefix("alice\tadmin\t"))

        try await withStack(databasePath: db) { stack in
            #expect(
                try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": "alice's first password"]).status
                    == .unauthorized)
            #expect(
                try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "alice", "password": "alice's second password"]).status
                    == .ok)
            let audit = try await stack.client.call(.get, "/api/v1/audit?username=cli")
            #expect(audit["items"]?.arrayValue.compactMap { $0["action"]?.stringValue } == ["user.update", "user.add"])
        }
        let removed = try await cli.run(["users", "remove", "alice", "--env", "test"], environment: env, in: repositoryRoot)
        #expect(removed.status == 0 && removed.output.contains("removed alice"))
    }
}

@Suite("segments and events commands read the index", .timeLimit(.minutes(3)))
struct IndexCommandTests {
    @Test(.disabled(if: TestBackend.isPostgres, "runs the CLI on the SQLite file the stack uses"))
    func segmentsAndEventsPrintWhatWasIndexed() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("catalog.sqlite").path
        try await withStack(databasePath: db) { stack in
            try await stack.client.postEvents(
                segmentEvents(path: "live/cli", start: Date(timeIntervalSince1970: 1_795_000_000), duration: 2, size: 4242))
        }
        let cli = CommandLineTests()
        let env = ["MTX_COMPANION_DATABASE_PATH": db]
        let json = try await cli.run(["segments", "--env", "test", "--path", "live/cli", "--json"], environment: env, in: repositoryRoot)
        #expect(json.status == 0, "\(json.output)")
        #expect(json.output.contains(#""start":"2026-11-18T11:06:40.000000Z""#))
        #expect(json.output.contains(#""size":4242"#))
        let none = try await cli.run(
            ["segments", "--env", "test", "--path", "live/cli", "--from", "2026-11-18T12:00:00Z"], environment: env, in: repositoryRoot)
        #expect(none.output.contains("0 of 0 segment(s)"))
        let csv = try await cli.run(["segments", "--env", "test", "--format", "csv"], environment: env, in: repositoryRoot)
        #expect(csv.status == 0, "\(csv.output)")
        #expect(csv.output.contains("path_name,source_id,node,start,end,duration,size,state,file_path\r\n"))
        #expect(csv.output.contains("live/cli,,,2026-11-18T11:06:40.000000Z,2026-11-18T11:06:42.000000Z,2.0,4242,complete,"))
        let events = try await cli.run(["events", "--env", "test", "--path", "live/cli"], environment: env, in: repositoryRoot)
        #expect(events.status == 0)
        #expect(events.output.contains("segment-create"))
        #expect(events.output.contains("segment-complete"))
    }
}
