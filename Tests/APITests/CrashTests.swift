import AsyncHTTPClient
import ChildProcess
import Foundation
import GRDB
import NIOCore
import Testing

/// `kill -9` of the server in the middle of a burst of hook events: every event it acknowledged is stored.
@Suite("Crash safety", .enabled(if: FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path)))
struct CrashTests {
    @Test func killDashNineDuringIngestLosesNoAcknowledgedEvent() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = Int.random(in: 20_000...40_000)
        let database = dir.appendingPathComponent("catalog.sqlite").path
        try AppConfigTests.valid
            .replacingOccurrences(of: "port: 8080", with: "port: \(port)")
            .replacingOccurrences(of: "data/x.sqlite", with: database)
            .appending("\nhooks:\n  token: \(hookToken)\n")
            .replacingOccurrences(of: "  request_timeout: 750ms", with: "  request_timeout: 750ms\n  reconcile_interval: 0")
            .write(to: dir.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        let server = try ChildProcess.start(
            CommandLineTests.binary.path, ["serve", "--config", dir.appendingPathComponent("c.yaml").path], environment: ChildProcess.currentEnvironment
        )
        var ended = false
        defer { if !ended { server.signal(SIGKILL); server.wait() } }

        let url = "http://127.0.0.1:\(port)/api/v1/hooks/events"
        var up = false
        for _ in 0..<100 where !up {
            try await Task.sleep(for: .milliseconds(100))
            up = (try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/sources"), timeout: .seconds(1)))?.status == .unauthorized
        }
        try #require(up, "server did not start")

        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var ids: [String] = []
                    for i in 0..<2000 {
                        let id = "w\(worker)-\(i)"
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(hookToken)")
                        request.body = .bytes(ByteBuffer(string: #"{"event_id":"\#(id)","type":"online","occurred_at":"2026-11-25T20:00:00Z","path":"live/crash-\#(worker)"}"#))
                        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) else { break }
                        if response.status == .ok { ids.append(id) }
                    }
                    return ids
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(700))
                server.signal(SIGKILL)
                return []
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        let termination = try await offThePool { server.wait() }
        ended = true
        #expect(termination == .signaled(SIGKILL))
        #expect(acknowledged.count > 0, "the burst should have been under way when the server died")
        #expect(acknowledged.count < 8000, "the server should have died mid-burst")
        let stored = Set(try await DatabaseQueue(path: database).read { try String.fetchAll($0, sql: "SELECT event_id FROM hook_events") })
        let lost = acknowledged.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "acknowledged but lost: \(lost.prefix(5))")
    }
}
