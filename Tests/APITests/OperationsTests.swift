import API
import Domain
import Foundation
import GRDB
import HTTPTypes
import HookWire
import Hummingbird
import HummingbirdTesting
import MediaMTX
import MediaMTXSimulator
import Synchronization
import Testing

@testable import Catalog

/// The value of the sample `name{labels…}` in a Prometheus text answer (labels in any order).
func sample(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        // Every series carries `instance`; a sample asked for without labels is the one with no others.
        let head = line.split(separator: " ").dropLast().joined(separator: " ").replacing(/instance="[^"]*",?/, with: "")
            .replacing(/,?}/, with: "}").replacing("{}", with: "")
        guard labels.allSatisfy({ head.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
        if labels.isEmpty, head != name { continue }
        return Double(line.split(separator: " ").last ?? "")
    }
    return nil
}

/// What operators rely on: metrics after known traffic, health and readiness, request ids, backups.
@Suite("Operations: metrics, health, request ids, backup", .timeLimit(.minutes(3)))
struct OperationsTests {
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
            #expect(
                try await stack.raw.call(
                    .post, "/api/v1/hooks/events", json: ["events": [event("m4", "read").merging(["reader_id": "r1"]) { $1 }]], headers: hook
                ).status == .ok)
            #expect(try await stack.raw.call(.get, "/api/v1/sources").status == .unauthorized)
            #expect(try await stack.client.call(.post, "/api/v1/sources", json: ["name": "cam", "type": "push"]).status == .created)
            #expect(try await stack.client.call(.get, "/api/v1/sources").status == .ok)
            #expect(
                try await stack.raw.call(
                    .post, "/api/v1/mediamtx/auth", json: ["action": "read", "path": "nowhere", "protocol": "rtsp", "ip": "127.0.0.1"]
                ).status != .internalServerError)

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
            // Several instances scraped by one Prometheus stay apart: every series names its instance.
            let series = text.split(separator: "\n").filter { $0.hasPrefix("mtx_companion_") }
            #expect(!series.isEmpty && series.allSatisfy { $0.contains("instance=\"\(stack.config.server.instanceName)\"") }, "\(series.prefix(3))")
        }
    }

    @Test func readinessFollowsMediaMTX() async throws {
        try await withStack { stack in
            #expect(try await stack.raw.call(.get, "/healthz").status == .ok)
            let ready = try await stack.raw.call(.get, "/readyz")
            #expect(ready.status == .ok)
            #expect(ready["checks"]?["database"]?.stringValue == "ok" && ready["checks"]?["mediamtx"]?.stringValue == "ok")
            // A lone instance holds every lease: it runs all the background work.
            #expect(ready["backend"]?.stringValue == (TestBackend.isPostgres ? "postgres" : "sqlite"))
            #expect(ready["instance"]?.stringValue == stack.config.server.instanceName)
            for lease in ["reconciler", "retention", "webhooks"] { #expect(ready["leases"]?[lease] != nil, "\(ready.json)") }

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
                IngestEvent(
                    eventID: "b\($0)", type: .online, occurredAt: Int64($0), node: nil, path: "live/b", sourceType: nil, sourceID: nil,
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

@Suite("Retention", .timeLimit(.minutes(3)))
struct RetentionTests {
    /// A segment file name as MediaMTX writes it with the test stack's record_path.
    func file(_ path: String, _ start: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd_HH-mm-ss-SSSSSS"
        return "/srv/mediamtx/recordings/\(path)/\(f.string(from: start))"
    }

    /// Cancelled (a service group cancelling instead of shutting down gracefully), the background loops end at once,
    /// whether this instance holds their lease or not. Retention's loop checked only for a graceful shutdown: its
    /// sleep, cancelled, threw at once and the loop spun on two cores until the process was killed.
    @Test func backgroundLoopsEndWhenCancelled() async throws {
        try await withStack { stack in
            let services = try await AppServices(stack.config, logger: quietLogger)
            let leases = Task { try await services.leases.run() }
            let loops = [Task { try await services.retention.run() }, Task { try await services.reconciler.run() }]
            try await Task.sleep(for: .milliseconds(300))
            for loop in loops { loop.cancel() }
            let ended = ContinuousClock.now
            let done = Mutex(false)
            Task {
                for loop in loops { _ = await loop.result }
                done.withLock { $0 = true }
            }
            // Polled, not awaited: a loop that never ends must fail the test, not hang it.
            while !done.withLock({ $0 }), ContinuousClock.now - ended < .seconds(10) { try await Task.sleep(for: .milliseconds(50)) }
            let finished = done.withLock { $0 }
            #expect(finished, "a background loop kept running after its task was cancelled")
            leases.cancel()
            _ = await leases.result
            try await services.httpClient.shutdown()
        }
    }

    @Test func expiredSegmentsAreDeletedThroughMediaMTXAndNotOneNewer() async throws {
        try await withStack { stack in
            let created = try await stack.client.call(.post, "/api/v1/sources", json: ["name": "kept", "type": "push"])
            let id = try #require(created["id"]?.stringValue)
            let path = try #require(created["path_name"]?.stringValue)
            #expect(try await stack.client.call(.put, "/api/v1/sources/\(id)/retention", json: ["retention_days": 7]).status == .ok)

            let now = Date()
            let day = 86_400.0
            // Whole-second starts, so the simulator and the index name them alike. Duration 60 s each.
            func ago(_ seconds: Double) -> Date { Date(timeIntervalSince1970: (now.timeIntervalSince1970 - seconds).rounded(.down)) }
            let expired = [ago(10 * day), ago(8 * day), ago(7 * day + 3600)]
            let kept = [ago(7 * day - 3600), ago(1 * day)]
            var events: [[String: any Sendable]] = []
            for (i, start) in (expired + kept).enumerated() {
                await stack.state.addSegment(path: path, start: start, duration: 60)
                events.append([
                    "event_id": "r\(i)", "type": "segment-complete", "occurred_at": RFC3339.format(start.addingTimeInterval(60)), "path": path,
                    "segment_path": file(path, start) + ".mp4", "segment_duration": 60.0, "segment_size": 1000 + i,
                ])
            }
            // An old segment still being written is never expired.
            events.append([
                "event_id": "open", "type": "segment-create", "occurred_at": RFC3339.format(ago(9 * day)), "path": path,
                "segment_path": file(path, ago(9 * day)) + ".mp4",
            ])
            #expect(
                try await stack.raw.call(.post, "/api/v1/hooks/events", json: ["events": events], headers: [.authorization: "Bearer \(hookToken)"])
                    .status == .ok)

            let services = try await AppServices(stack.config, logger: quietLogger)
            let dry = try await services.retention.runOnce(dryRun: true, now: now)
            #expect(dry.segments.map(\.start) == expired.map(\.micros))
            #expect(await stack.state.segmentStarts(path: path).count == 5, "a dry run deletes nothing")

            let report = try await services.retention.runOnce(now: now)
            #expect(report.segments.map(\.start) == expired.map(\.micros))
            #expect(report.bytes == 1000 + 1001 + 1002)
            #expect(await stack.state.segmentStarts(path: path) == kept)
            let again = try await services.retention.runOnce(now: now)
            #expect(again.segments.isEmpty && again.failed == 0)
            try await services.httpClient.shutdown()

            let files = try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files?page_size=100")
            #expect(files["items"]?.arrayValue.count == 3, "two kept and the open one; deleted ones are not listed")
            let storage = try await stack.client.call(.get, "/api/v1/storage")
            let item = try #require(storage["items"]?.arrayValue.first { $0["source_id"]?.stringValue == id })
            #expect(item["bytes"]?.intValue == 1003 + 1004)
            #expect(item["segments"]?.intValue == 3)
            #expect(item["retention_days"]?.intValue == 7)
        }
    }

    @Test func retentionSettingsAreChecked() async throws {
        try await withStack { stack in
            let created = try await stack.client.call(.post, "/api/v1/sources", json: ["name": "r", "type": "push"])
            let id = try #require(created["id"]?.stringValue)
            let url = "/api/v1/sources/\(id)/retention"
            let initial = try await stack.client.call(.get, url)
            #expect(initial["retention_days"] == .null && initial["effective_days"]?.intValue == 0)
            for bad: [String: any Sendable] in [["retention_days": -1], ["retention_days": "7"], ["retention_days": 1.5], ["days": 7], [:]] {
                let reply = try await stack.client.call(.put, url, json: bad)
                #expect(reply.status == .badRequest, "\(bad)")
                #expect(reply.errorField == "retention_days" || reply.errorField == "days", "\(bad) \(reply.json)")
            }
            #expect(try await stack.client.call(.get, url)["retention_days"] == .null, "nothing changed")
            #expect(try await stack.client.call(.put, url, json: ["retention_days": 30])["effective_days"]?.intValue == 30)
            let back = try await stack.client.call(.put, url, json: ["retention_days": NSNull()])
            #expect(back["retention_days"] == .null && back["effective_days"]?.intValue == 0)
            #expect(try await stack.client.call(.put, "/api/v1/sources/\(UUID())/retention", json: ["retention_days": 1]).status == .notFound)
        }
    }
}
