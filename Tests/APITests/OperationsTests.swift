import API
import Catalog
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MediaMTXSimulator
import Testing

/// What operators rely on: metrics after known traffic, health and readiness, request ids, backups.
@Suite("Operations: metrics, health, request ids, backup")
struct OperationsTests {
    /// The value of the sample `name{labels…}` in a Prometheus text answer (labels in any order).
    func sample(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let head = line.split(separator: " ").dropLast().joined(separator: " ")
            guard labels.allSatisfy({ head.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            if labels.isEmpty, head != name { continue }
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    func event(_ id: String, _ type: String) -> [String: any Sendable] {
        ["event_id": id, "type": type, "occurred_at": "2026-11-25T20:00:00Z", "path": "live/metrics"]
    }

    @Test func metricsCountWhatHappened() async throws {
        try await withStack { stack in
            let hook: HTTPFields = [.authorization: "Bearer \(hookToken)"]
            for id in ["m1", "m2", "m3"] {
                #expect(try await stack.raw.call(.post, "/api/v1/hooks/events", json: event(id, "online"), headers: hook).status == .ok)
            }
            #expect(try await stack.raw.call(.post, "/api/v1/hooks/events", json: event("m1", "online"), headers: hook).status == .ok)
            #expect(try await stack.raw.call(.post, "/api/v1/hooks/events", json: ["events": [event("m4", "read").merging(["reader_id": "r1"]) { $1 }]], headers: hook).status == .ok)
            #expect(try await stack.raw.call(.get, "/api/v1/sources").status == .unauthorized)
            #expect(try await stack.client.call(.post, "/api/v1/sources", json: ["name": "cam", "type": "push"]).status == .created)
            #expect(try await stack.client.call(.get, "/api/v1/sources").status == .ok)
            #expect(try await stack.raw.call(.post, "/api/v1/mediamtx/auth", json: ["action": "read", "path": "nowhere", "protocol": "rtsp", "ip": "127.0.0.1"]).status != .internalServerError)

            let scrape = try await stack.raw.execute(uri: "/metrics", method: .get)
            #expect(scrape.status == .ok)
            #expect(scrape.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: scrape.body)
            #expect(sample(text, "mtx_companion_hook_events_total", ["type": "online", "outcome": "accepted"]) == 3)
            #expect(sample(text, "mtx_companion_hook_events_total", ["type": "online", "outcome": "duplicate"]) == 1)
            #expect(sample(text, "mtx_companion_hook_events_total", ["type": "read", "outcome": "accepted"]) == 1)
            #expect(sample(text, "mtx_companion_http_requests_total", ["route": "/api/v1/hooks/events", "method": "POST", "status": "200"]) == 5)
            #expect(sample(text, "mtx_companion_http_requests_total", ["route": "/api/v1/sources", "method": "GET", "status": "401"]) == 1)
            #expect(sample(text, "mtx_companion_http_requests_total", ["route": "/api/v1/sources", "method": "POST", "status": "201"]) == 1)
            #expect(sample(text, "mtx_companion_http_request_duration_seconds_count", ["route": "/api/v1/sources", "method": "GET"]) == 2)
            // Creating a push source adds its path to MediaMTX.
            #expect(sample(text, "mtx_companion_mediamtx_requests_total", ["operation": "addPath", "outcome": "ok"]) == 1)
            #expect((sample(text, "mtx_companion_mediamtx_request_duration_seconds_count", ["operation": "addPath"]) ?? 0) == 1)
            #expect(sample(text, "mtx_companion_auth_decisions_total", ["action": "read"]) == 1)
            #expect(sample(text, "mtx_companion_sources") == 1)
            #expect((sample(text, "mtx_companion_database_size_bytes") ?? 0) > 0)
        }
    }

    @Test func readinessFollowsMediaMTX() async throws {
        try await withStack { stack in
            #expect(try await stack.raw.call(.get, "/healthz").status == .ok)
            let ready = try await stack.raw.call(.get, "/readyz")
            #expect(ready.status == .ok)
            #expect(ready["checks"]?["database"]?.stringValue == "ok" && ready["checks"]?["mediamtx"]?.stringValue == "ok")

            let port = await stack.sim.apiPort
            await stack.sim.stop()
            let down = try await stack.raw.call(.get, "/readyz")
            #expect(down.status == .serviceUnavailable)
            #expect(down["status"]?.stringValue == "not_ready")
            #expect(down["checks"]?["database"]?.stringValue == "ok")
            #expect(down["checks"]?["mediamtx"]?.stringValue?.hasPrefix("unreachable") == true)
            // Alive all the same.
            #expect(try await stack.raw.call(.get, "/healthz").status == .ok)

            try await stack.sim.start(apiPort: port)
            #expect(try await stack.raw.call(.get, "/readyz").status == .ok)
        }
    }

    @Test func everyAnswerCarriesItsRequestID() async throws {
        try await withStack { stack in
            let ok = try await stack.client.call(.get, "/api/v1/sources")
            let first = try #require(ok.headers[HTTPField.Name("X-Request-Id")!])
            #expect(!first.isEmpty)
            let missing = try await stack.client.call(.get, "/api/v1/sources/\(UUID())")
            #expect(missing.status == .notFound)
            let id = try #require(missing.headers[HTTPField.Name("X-Request-Id")!])
            #expect(id != first)
            #expect(missing["error"]?["request_id"]?.stringValue == id)
        }
    }

    @Test func backupHoldsTheSameRowsWhileWritesGoOn() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try AppDatabase.open(path: dir.appendingPathComponent("live.sqlite").path)
        func events(_ range: Range<Int>) -> [IngestEvent] {
            range.map {
                IngestEvent(eventID: "b\($0)", type: "online", occurredAt: Int64($0), node: nil, path: "live/b", sourceType: nil, sourceID: nil,
                            readerType: nil, readerID: nil, segment: nil, payload: "{}")
            }
        }
        _ = try await database.ingest(events(0..<500))
        // Writes keep coming while the backup runs; the copy is one consistent snapshot.
        let writer = Task { for batch in 1..<20 { _ = try await database.ingest(events(batch * 500..<(batch + 1) * 500)) } }
        let copy = dir.appendingPathComponent("backup.sqlite").path
        try await offThePool { try database.backup(to: copy) }
        try await writer.value

        let restored = try AppDatabase.open(path: copy)
        #expect(try restored.appliedMigrations() == database.appliedMigrations())
        let count = try await restored.writer.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM hook_events") ?? 0 }
        #expect(count >= 500 && count % 500 == 0, "a snapshot holds whole transactions: \(count)")
        let ids = try await restored.writer.read { try String.fetchAll($0, sql: "SELECT event_id FROM hook_events ORDER BY occurred_at") }
        #expect(ids == (0..<count).map { "b\($0)" })
        // Never over an existing file.
        #expect(throws: CatalogError.backupExists(copy)) { try database.backup(to: copy) }
    }
}
