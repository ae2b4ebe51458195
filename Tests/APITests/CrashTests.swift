import AsyncHTTPClient
import ChildProcess
import Foundation
import GRDB
import NIOCore
import Testing

/// A signal to the server in the middle of a burst of hook events: `kill -9` loses no acknowledged event; SIGTERM
/// also lets the requests in flight finish, refuses the rest with an error (so `mtx-hook` spools them), and closes
/// the database cleanly.
@Suite(
    "Crash safety and graceful shutdown", .timeLimit(.minutes(3)),
    .available(CommandLineTests.built, "the mtx-companion binary next to the tests (swift build builds it)"),
    .requires(CommandLineTests.built, "the mtx-companion binary next to the tests (swift build builds it)"))
struct CrashTests {
    struct Outcome {
        var acknowledged: [String]
        /// Requests that got an error instead of an answer.
        var failed: Int
        var termination: ChildProcess.Termination
        var database: String
        /// From the signal to the process's exit.
        var stopping: Duration
    }

    /// Four clients post events as fast as they can; `signal` goes to the server after 700 ms. Each client stops
    /// at its first failed request.
    func burst(then signal: Int32, in dir: URL) async throws -> Outcome {
        let port = Int.random(in: 20_000...40_000)
        let database = dir.appendingPathComponent("catalog.sqlite").path
        try AppConfigTests.valid
            .replacingOccurrences(of: "port: 8080", with: "port: \(port)")
            .replacingOccurrences(of: "data/x.sqlite", with: database)
            .appending("\nhooks:\n  token: \(hookToken)\n")
            .replacingOccurrences(of: "  request_timeout: 750ms", with: "  request_timeout: 750ms\n  reconcile_interval: 0")
            .write(to: dir.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        let server = try ChildProcess.start(
            CommandLineTests.binary.path,
            ["serve", "--config", dir.appendingPathComponent("c.yaml").path, "--log-level", "warning", "--shutdown-timeout", "3"],
            environment: ChildProcess.currentEnvironment
        )
        var ended = false
        defer {
            if !ended {
                server.signal(SIGKILL)
                server.wait()
            }
        }

        let url = "http://127.0.0.1:\(port)/api/v1/hooks/events"
        var up = false
        for _ in 0..<100 where !up {
            try await Task.sleep(for: .milliseconds(100))
            up =
                (try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/sources"), timeout: .seconds(1)))?
                .status == .unauthorized
        }
        try #require(up, "server did not start")

        let signalled = ContinuousClock.now + .milliseconds(700)
        let exit = Task {
            try await Task.sleep(until: signalled)
            server.signal(signal)
            let termination = try await offThePool { server.wait() }
            return (termination, ContinuousClock.now - signalled)
        }
        let (acknowledged, failed) = try await withThrowingTaskGroup(of: ([String], Int).self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var ids: [String] = []
                    for i in 0..<2000 {
                        let id = "w\(worker)-\(i)"
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(hookToken)")
                        request.body = .bytes(
                            ByteBuffer(
                                string: #"{"event_id":"\#(id)","type":"online","occurred_at":"2026-11-25T20:00:00Z","path":"live/crash-\#(worker)"}"#)
                        )
                        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)), response.status == .ok else {
                            return (ids, 1)
                        }
                        ids.append(id)
                    }
                    return (ids, 0)
                }
            }
            return try await group.reduce(into: ([String](), 0)) {
                $0.0 += $1.0
                $0.1 += $1.1
            }
        }
        let (termination, stopping) = try await exit.value
        ended = true
        return Outcome(acknowledged: acknowledged, failed: failed, termination: termination, database: database, stopping: stopping)
    }

    func stored(_ database: String) async throws -> Set<String> {
        Set(try await DatabaseQueue(path: database).read { try String.fetchAll($0, sql: "SELECT event_id FROM hook_events") })
    }

    @Test func killDashNineDuringIngestLosesNoAcknowledgedEvent() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try await burst(then: SIGKILL, in: dir)
        #expect(outcome.termination == .signaled(SIGKILL))
        #expect(outcome.acknowledged.count > 0, "the burst should have been under way when the server died")
        #expect(outcome.acknowledged.count < 8000, "the server should have died mid-burst")
        let stored = try await stored(outcome.database)
        let lost = outcome.acknowledged.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "acknowledged but lost: \(lost.prefix(5))")
    }

    @Test func sigtermDuringIngestFinishesWhatItAcknowledgedAndClosesCleanly() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try await burst(then: SIGTERM, in: dir)
        #expect(outcome.termination == .exited(0))
        // A rule operators rely on, not a speed target: `--shutdown-timeout 3` bounds the wait, so systemd's stop
        // never hangs. 8 s leaves 5 s for a loaded machine; without the bound the open clients would hold it forever.
        #expect(outcome.stopping < .seconds(8), "the shutdown wait is bounded (--shutdown-timeout 3)")
        #expect(outcome.acknowledged.count > 0 && outcome.acknowledged.count < 8000, "the burst should have been under way at SIGTERM")
        // Every client learnt that the server stopped: an error, not a hang (each stops at its first failure).
        #expect(outcome.failed == 4)
        // Closed cleanly: everything was checkpointed into the database file, the WAL is empty.
        let wal = (try? FileManager.default.attributesOfItem(atPath: outcome.database + "-wal")[.size] as? Int) ?? 0
        #expect(wal == 0)
        let stored = try await stored(outcome.database)
        let lost = outcome.acknowledged.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "acknowledged but lost: \(lost.prefix(5))")
    }
}
