import API
import Catalog
import Crypto
import Domain
import Foundation
import Hummingbird
import HummingbirdTesting
import MediaMTXSimulator
import Synchronization
import Testing

/// The outbox by state, read from the catalogue: `pending == 0` means nothing more will be sent, so what a receiver
/// has seen is final (the positive marker that replaces waiting a fixed time for late duplicates).
struct OutboxCounts: Sendable {
    var pending = 0
    var delivered = 0
    var failed = 0
    /// Deliveries tried at least once.
    var attempted = 0
}

/// Waits until the outbox satisfies `condition`, failing after `timeout`.
func waitForDeliveries(_ stack: TestStack, timeout: Duration = .seconds(15), until condition: (OutboxCounts) -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        let n = try await stack.integers(
            """
            SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'delivered'),
                count(*) FILTER (WHERE state = 'failed'), count(*) FILTER (WHERE attempts > 0) FROM webhook_deliveries
            """)
        let counts = OutboxCounts(pending: n[0], delivered: n[1], failed: n[2], attempted: n[3])
        if condition(counts) { return }
        guard ContinuousClock.now < deadline else {
            Issue.record("the outbox never got there: \(counts)")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

@Suite("Outbound webhooks", .timeLimit(.minutes(3)))
struct WebhookTests {
    /// Creates a subscription; returns its id and secret.
    func subscribe(_ stack: TestStack, _ url: String, events: [String], extra: [String: any Sendable] = [:]) async throws -> (
        id: String, secret: String
    ) {
        var body: [String: any Sendable] = ["url": url, "events": events]
        for (k, v) in extra { body[k] = v }
        let reply = try await stack.client.call(.post, "/api/v1/webhooks", json: body)
        #expect(reply.status == .created, "create answered \(reply.status): \(reply.json.serialized())")
        return (try #require(reply["id"]?.stringValue), try #require(reply["secret"]?.stringValue))
    }

    /// True when one of the `v1` signatures of the hit is the HMAC of "t.body" with `secret`.
    func signed(_ hit: WebhookReceiver.Hit, with secret: String) -> Bool {
        guard let header = hit.signature else { return false }
        let parts = header.split(separator: ",").map(String.init)
        guard let t = parts.first(where: { $0.hasPrefix("t=") })?.dropFirst(2) else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(t).\(hit.body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return parts.contains("v1=" + mac.map { String(format: "%02x", $0) }.joined())
    }

    @Test func deliveriesAreSignedAndCarryTheIndexedEvent() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "Door", "type": "push"])
            let path = try #require(source["path_name"]?.stringValue)
            let (_, secret) = try await subscribe(stack, receiver.url, events: ["stream.online"])
            let event = hookEvent("available", path: path, extra: ["source_type": "rtmpConn", "source_id": "conn-1"])
            try await stack.client.postEvents([event])
            try await receiver.wait { $0.count == 1 }
            let hit = receiver.hits[0]
            #expect(signed(hit, with: secret))
            #expect(!signed(hit, with: secret + "x"))
            let json = try JSONValue.parse(Data(hit.body.utf8))
            #expect(json["id"]?.stringValue == event["event_id"] as? String)
            #expect(json["type"]?.stringValue == "stream.online")
            // The hook's time to the millisecond, in the API's microsecond form.
            #expect(json["occurred_at"]?.stringValue == (event["occurred_at"] as? String)?.replacingOccurrences(of: "Z", with: "000Z"))
            #expect(json["source"]?["id"]?.stringValue == source["id"]?.stringValue)
            #expect(json["source"]?["name"]?.stringValue == "Door")
            #expect(json["source"]?["path_name"]?.stringValue == path)
            #expect(json["data"]?["mediamtx_source_type"]?.stringValue == "rtmpConn")
        }
    }

    @Test func aReceiverDownForAWhileGetsEveryEventOnceInOrderPerStream() async throws {
        let receiver = WebhookReceiver()
        let reserved = try PortReservation()
        defer { Task { await receiver.stop() } }
        try await withStack { stack in
            _ = try await subscribe(stack, "http://127.0.0.1:\(reserved.port)/hook", events: ["stream.online", "stream.offline"])
            let t0 = Date()
            var sent: [String: [String]] = [:]
            for i in 0..<30 {
                let path = "live/cam-\(i % 3)"
                let event = hookEvent(i / 3 % 2 == 0 ? "available" : "unavailable", path: path, at: t0.addingTimeInterval(Double(i)))
                sent[path, default: []].append(event["event_id"] as! String)
                try await stack.client.postEvents([event])
            }
            // The worker tried while the receiver was down (connection refused), and kept every delivery pending.
            try await waitForDeliveries(stack) { $0.pending == 30 && $0.attempted > 0 }
            try await receiver.start(on: reserved)
            // Every delivery delivered: nothing is left to send, so the hits are final.
            try await waitForDeliveries(stack) { $0.delivered == 30 }
            let hits = receiver.hits
            #expect(hits.count == 30, "an event arrived twice")
            for (path, ids) in sent {
                #expect(hits.filter { $0.path == path }.map(\.id) == ids, "\(path) out of order")
            }
        }
    }

    @Test func serverErrorsAndTimeoutsAreRetriedWithGrowingDelays() async throws {
        // 500, 503, 429, then 200.
        let failing = WebhookReceiver { _, n in
            ([HTTPResponse.Status.internalServerError, .serviceUnavailable, .tooManyRequests][safe: n - 1] ?? .ok, .zero)
        }
        // Answers after the client's deadline twice, then at once.
        let slow = WebhookReceiver { _, n in (.ok, n <= 2 ? .seconds(3) : .zero) }
        let gone = WebhookReceiver { _, _ in (.gone, .zero) }
        for r in [failing, slow, gone] { try await r.start() }
        defer { Task { for r in [failing, slow, gone] { await r.stop() } } }
        // Retries after 300, 600, 1200 ms ±20%: the third wait is at least 960 ms, the first at most 360 ms.
        try await withStack(
            webhooks: testWebhookSettings {
                $0.requestTimeout = .seconds(1)
                $0.retryBase = .milliseconds(300)
            }
        ) { stack in
            let a = try await subscribe(stack, failing.url, events: ["stream.online"])
            let b = try await subscribe(stack, slow.url, events: ["stream.online"])
            let c = try await subscribe(stack, gone.url, events: ["stream.online"])
            try await stack.client.postEvents([hookEvent("available", path: "live/a")])
            try await failing.wait { $0.count == 4 }
            try await slow.wait(timeout: .seconds(15)) { $0.count == 3 }
            let gaps = zip(failing.hits.dropFirst(), failing.hits).map { $0.at - $1.at }
            // A loaded machine can only lengthen a wait, so each is at least its backoff's lower bound; those
            // bounds (240, 480, 960 ms) alone show the delays grow, whatever else runs at the same time.
            #expect(
                gaps.count == 3 && gaps[0] >= .milliseconds(240) && gaps[1] >= .milliseconds(480) && gaps[2] >= .milliseconds(960),
                "delays did not grow: \(gaps)")
            #expect(Set(failing.hits.map(\.id)).count == 1)
            try await waitForDeliveries(stack) { $0.pending == 0 }
            let logA = try await stack.client.call(.get, "/api/v1/webhooks/\(a.id)/deliveries")["items"]?.arrayValue.first
            #expect(logA?["state"]?.stringValue == "delivered")
            #expect(logA?["attempts"]?.intValue == 4)
            #expect(logA?["response_code"]?.intValue == 200)
            let logB = try await stack.client.call(.get, "/api/v1/webhooks/\(b.id)/deliveries")["items"]?.arrayValue.first
            #expect(logB?["state"]?.stringValue == "delivered")
            // Two timeouts, then the answer; a loaded machine can time out the quick answer too, never fewer.
            let slowAttempts = slow.hits.count
            #expect(slowAttempts >= 3 && logB?["attempts"]?.intValue == slowAttempts)
            // A 410 is not retried: parked as failed at the first answer.
            let logC = try await stack.client.call(.get, "/api/v1/webhooks/\(c.id)/deliveries?state=failed")
            #expect(logC["total"]?.intValue == 1)
            #expect(logC["items"]?.arrayValue.first?["attempts"]?.intValue == gone.hits.count)
            #expect(logC["items"]?.arrayValue.first?["response_code"]?.intValue == 410)
            // The same attempts in the metrics: 3 + the slow one's retried, 2 delivered, 1 parked; nothing left pending.
            let text = String(buffer: try await stack.raw.execute(uri: "/metrics", method: .get).body)
            #expect(sample(text, "mtx_companion_webhook_attempts_total", ["outcome": "retry"]) == Double(3 + slowAttempts - 1))
            #expect(sample(text, "mtx_companion_webhook_attempts_total", ["outcome": "delivered"]) == 2)
            #expect(sample(text, "mtx_companion_webhook_attempts_total", ["outcome": "failed"]) == 1)
            #expect(sample(text, "mtx_companion_webhook_attempt_duration_seconds_count") == Double(4 + slowAttempts + 1))
            #expect(sample(text, "mtx_companion_webhook_deliveries_pending") == 0)
        }
    }

    @Test func aSlowReceiverDoesNotHoldUpAnother() async throws {
        let slow = WebhookReceiver { _, _ in (.ok, .seconds(4)) }
        let fast = WebhookReceiver()
        try await slow.start()
        try await fast.start()
        defer {
            Task {
                await slow.stop()
                await fast.stop()
            }
        }
        try await withStack(webhooks: testWebhookSettings { $0.requestTimeout = .seconds(10) }) { stack in
            _ = try await subscribe(stack, slow.url, events: ["stream.online"])
            _ = try await subscribe(stack, fast.url, events: ["stream.online"])
            try await stack.client.postEvents((0..<12).map { hookEvent("available", path: "live/cam-\($0)") })
            // The slow one holds each of its attempts 4 s; the fast one is done before the slow one's first answer
            // (an order between two events of the run, not a wall-clock limit: load delays both alike).
            try await fast.wait(timeout: .seconds(30)) { $0.count == 12 }
            try await slow.wait { !$0.isEmpty }
            let firstSlowAnswer = try #require(slow.hits.first).at + .seconds(4)
            #expect(try #require(fast.hits.last).at < firstSlowAnswer, "the fast receiver waited for the slow one")
            #expect(slow.hits.count <= 4, "one subscription took more than its share of attempts")
        }
    }

    /// A stream whose deliveries keep failing holds up only itself, however long its backlog: the worker finds the
    /// oldest pending delivery of every stream, not only of the streams among the oldest deliveries.
    @Test func aLongBacklogOnOneStreamDoesNotHideAnother() async throws {
        let receiver = WebhookReceiver { hit, _ in (hit.path == "live/stuck" ? .serviceUnavailable : .ok, .zero) }
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await withStack { stack in
            _ = try await subscribe(stack, receiver.url, events: ["reader.joined"])
            // In the past: events more than hooks.max_clock_skew ahead are refused.
            let t0 = Date().addingTimeInterval(-1000)
            try await stack.client.postEvents(
                (0..<400).map {
                    hookEvent("read", path: "live/stuck", at: t0.addingTimeInterval(Double($0)), extra: ["reader_id": "r\($0)"])
                })
            try await stack.client.postEvents([hookEvent("read", path: "live/free", at: t0, extra: ["reader_id": "f"])])
            try await receiver.wait { hits in hits.contains { $0.path == "live/free" } }
            // The stuck stream's first delivery is retried, and none after it is sent before it.
            let stuck = Set(receiver.hits.filter { $0.path == "live/stuck" }.map(\.id))
            #expect(stuck.count == 1)
        }
    }

    @Test func pendingDeliveriesSurviveARestart() async throws {
        let receiver = WebhookReceiver()
        let reserved = try PortReservation()
        defer { Task { await receiver.stop() } }
        let events = (0..<5).map { hookEvent("read", path: "live/a", at: Date().addingTimeInterval(Double($0)), extra: ["reader_id": "r\($0)"]) }
        let ids = events.map { $0["event_id"] as! String }
        try await withTestCatalogue { catalogue in
            try await MediaMTXSimulator.with { sim in
                try await withStack(catalogue: catalogue, sim: sim) { stack in
                    let (id, _) = try await subscribe(stack, "http://127.0.0.1:\(reserved.port)/hook", events: ["reader.joined"])
                    try await stack.client.postEvents(events)
                    // Tried while the receiver is down, and still pending when the server stops.
                    try await waitForDeliveries(stack) { $0.pending == 5 && $0.attempted > 0 }
                    let pending = try await stack.client.call(.get, "/api/v1/webhooks/\(id)/deliveries?state=pending")
                    #expect(pending["total"]?.intValue == 5)
                }
                try await receiver.start(on: reserved)
                try await withStack(catalogue: catalogue, sim: sim) { stack in
                    try await waitForDeliveries(stack) { $0.delivered == 5 }
                }
                #expect(receiver.hits.map(\.id) == ids)
            }
        }
    }

    @Test func addressesInBlockedRangesAreRefused() async throws {
        try await withStack(webhooks: testWebhookSettings { $0.allowPrivateTargets = false }) { stack in
            for url in [
                "http://127.0.0.1/hook", "http://10.0.0.1/hook", "http://[::1]/hook", "http://169.254.169.254/latest/meta-data",
                "http://localhost:8080/hook", "http://192.168.1.10/hook", "http://172.16.0.1/", "http://0.0.0.0/", "http://224.0.0.1/",
                "http://[fe80::1]/", "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/", "http://2130706433/",
            ] {
                let reply = try await stack.client.call(.post, "/api/v1/webhooks", json: ["url": url, "events": ["stream.online"]])
                #expect(reply.status == .badRequest, "\(url) answered \(reply.status)")
                #expect(reply.errorField == "url", "\(url)")
            }
            for url in [
                "ftp://example.com/hook", "file:///etc/passwd", "gopher://example.com/", "http://user:pass@example.com/", "http:///nohost",
                "not a url",
            ] {
                let reply = try await stack.client.call(.post, "/api/v1/webhooks", json: ["url": url, "events": ["stream.online"]])
                #expect(reply.status == .badRequest, "\(url) answered \(reply.status)")
                #expect(reply.errorField == "url", "\(url)")
            }
            let zh = try await stack.client.call(
                .post, "/api/v1/webhooks", json: ["url": "http://127.0.0.1/", "events": ["stream.online"]], headers: [.acceptLanguage: "zh"])
            #expect(zh.errorMessage?.contains("回环") == true)
            // A public address is accepted; changing it to a blocked one is refused, and nothing changes.
            let ok = try await stack.client.call(.post, "/api/v1/webhooks", json: ["url": "http://93.184.215.14/hook", "events": ["stream.online"]])
            #expect(ok.status == .created)
            let id = try #require(ok["id"]?.stringValue)
            let put = try await stack.client.call(.put, "/api/v1/webhooks/\(id)", json: ["url": "http://127.0.0.1:9/"])
            #expect(put.status == .badRequest)
            #expect(put.errorField == "url")
            #expect(try await stack.client.call(.get, "/api/v1/webhooks/\(id)")["url"]?.stringValue == "http://93.184.215.14/hook")
        }
    }

    /// The address is checked again before each attempt: a URL saved when it was allowed (as if its name resolved
    /// to a public address then) is not called once it points at a blocked one.
    @Test func theAddressIsCheckedAgainBeforeEachAttempt() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await withTestCatalogue { catalogue in
            try await MediaMTXSimulator.with { sim in
                let saved = Mutex<String?>(nil)
                try await withStack(catalogue: catalogue, sim: sim) { stack in
                    let id = try await subscribe(stack, receiver.url, events: ["stream.online"]).id
                    saved.withLock { $0 = id }
                }
                let id = try #require(saved.withLock { $0 })
                try await withStack(catalogue: catalogue, sim: sim, webhooks: testWebhookSettings { $0.allowPrivateTargets = false }) { stack in
                    try await stack.client.postEvents([hookEvent("available", path: "live/a")])
                    var log = JSONValue.null
                    for _ in 0..<100 {
                        log = try await stack.client.call(.get, "/api/v1/webhooks/\(id)/deliveries?state=failed").json
                        if log["total"]?.intValue == 1 { break }
                        try await Task.sleep(for: .milliseconds(30))
                    }
                    #expect(log["items"]?.arrayValue.first?["error"]?.stringValue == "blocked address 127.0.0.1")
                    #expect(log["items"]?.arrayValue.first?["attempts"]?.intValue == 1)
                }
            }
        }
        #expect(receiver.hits.isEmpty)
    }

    @Test func subscriptionsAreCheckedAndOnlyForOperators() async throws {
        try await withStack { stack in
            let viewer = try await TestUser.viewer.bearer
            #expect(try await stack.client.call(.get, "/api/v1/webhooks", headers: viewer).status == .forbidden)
            let op = try await TestUser.operator.bearer
            let created = try await stack.client.call(
                .post, "/api/v1/webhooks", json: ["url": "http://127.0.0.1:9/h", "events": ["stream.online", "stream.online"]], headers: op)
            #expect(created.status == .created)
            #expect(created["secret"]?.stringValue?.hasPrefix("whsec_") == true)
            #expect(created["events"]?.arrayValue.count == 1)
            #expect(created["source_ids"]?.isNull == true)
            let id = try #require(created["id"]?.stringValue)
            let shown = try await stack.client.call(.get, "/api/v1/webhooks/\(id)")
            #expect(shown["secret"] == nil)
            #expect(shown["enabled"]?.boolValue == true)
            let page = try await stack.client.call(.get, "/api/v1/webhooks?page_size=10")
            #expect(page["total"]?.intValue == 1)
            #expect(page["page_size"]?.intValue == 10)

            let bad: [([String: any Sendable], String)] = [
                (["events": ["stream.online"]], "url"),
                (["url": "http://127.0.0.1:9/"], "events"),
                (["url": "http://127.0.0.1:9/", "events": [String]()], "events"),
                (["url": "http://127.0.0.1:9/", "events": ["stream.online", "nope"]], "events[1]"),
                (["url": "http://127.0.0.1:9/", "events": ["stream.online"], "source_ids": ["not-a-uuid"]], "source_ids[0]"),
                (["url": "http://127.0.0.1:9/", "events": ["stream.online"], "source_ids": [UUID().uuidString]], "source_ids[0]"),
                (["url": "http://127.0.0.1:9/", "events": ["stream.online"], "secret": "mine"], "secret"),
                (["url": 5, "events": ["stream.online"]], "url"),
            ]
            for (body, field) in bad {
                let reply = try await stack.client.call(.post, "/api/v1/webhooks", json: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.errorField == field, "\(body): \(reply.json.serialized())")
            }
            #expect(try await stack.client.call(.get, "/api/v1/webhooks")["total"]?.intValue == 1)

            let off = try await stack.client.call(.put, "/api/v1/webhooks/\(id)", raw: #"{"enabled": false, "source_ids": null}"#)
            #expect(off.status == .ok)
            #expect(off["enabled"]?.boolValue == false)
            #expect(try await stack.client.call(.get, "/api/v1/webhooks/\(UUID().uuidString)").status == .notFound)
            #expect(try await stack.client.call(.get, "/api/v1/webhooks/nope").status == .notFound)
            #expect(try await stack.client.call(.delete, "/api/v1/webhooks/\(id)").status == .noContent)
            #expect(try await stack.client.call(.delete, "/api/v1/webhooks/\(id)").status == .notFound)
            let audit = try await stack.client.call(.get, "/api/v1/audit?action=webhook.create&outcome=ok")
            #expect(audit["total"]?.intValue == 1)
        }
    }

    @Test func hookAndServiceEventsMapToWebhookTypes() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await withStack { stack in
            let all = try await subscribe(stack, receiver.url, events: WebhookSubscription.eventTypes)
            let source = try await stack.client.createSource(["name": "Yard", "type": "push"])
            let sourceID = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            _ = try await subscribe(
                stack, receiver.url.replacingOccurrences(of: "/hook", with: "/hook?only=yard"), events: ["stream.online"],
                extra: ["source_ids": [sourceID]])
            let t0 = Date()
            let first = segmentEvents(path: path, start: t0.addingTimeInterval(1), duration: 2)
            let second = segmentEvents(path: path, start: t0.addingTimeInterval(3), duration: 2)
            try await stack.client.postEvents(
                [
                    hookEvent("available", path: path, at: t0),
                    hookEvent("read", path: path, at: t0.addingTimeInterval(0.5), extra: ["reader_id": "r1", "reader_type": "hlsMuxer"]),
                    hookEvent("unread", path: path, at: t0.addingTimeInterval(0.6), extra: ["reader_id": "r1"]),
                ] + first + second + [hookEvent("unavailable", path: path, at: t0.addingTimeInterval(6))])
            try await stack.client.postEvents([hookEvent("available", path: "other/cam", at: t0)])
            #expect(try await stack.client.call(.delete, "/api/v1/sources/\(sourceID)").status == .noContent)
            try await waitForDeliveries(stack) { $0.pending == 0 && $0.failed == 0 && $0.delivered > 0 }
            let hits = receiver.hits.filter { $0.query == nil }
            #expect(hits.allSatisfy { signed($0, with: all.secret) })
            #expect(
                hits.filter { $0.path == path }.map(\.type) == [
                    "source.created", "stream.online", "reader.joined", "reader.left", "recording.session_started",
                    "recording.segment_completed", "recording.segment_completed", "stream.offline", "recording.session_ended", "source.deleted",
                ])
            // The source-filtered subscription got its source's stream.online only.
            #expect(receiver.hits.filter { $0.query != nil }.map(\.type) == ["stream.online"])
            let other = try JSONValue.parse(Data(try #require(hits.first { $0.path == "other/cam" }).body.utf8))
            #expect(other["source"]?["id"]?.isNull == true)
            let started = try JSONValue.parse(Data(try #require(hits.first { $0.type == "recording.session_started" }).body.utf8))
            let ended = try JSONValue.parse(Data(try #require(hits.first { $0.type == "recording.session_ended" }).body.utf8))
            #expect(ended["data"]?["start"]?.stringValue == started["data"]?["start"]?.stringValue)
            #expect(ended["id"]?.stringValue?.hasSuffix(":session_ended") == true)
        }
    }

    /// `source.created`, `source.deleted` and `clip.created` are written in the transaction of the change they
    /// report: when their outbox row cannot be written, the change is rolled back (MediaMTX too), and the other way
    /// round every change that stands has its webhook.
    @Test func serviceEventsAreStoredWithTheChangeTheyReport() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await withStack { stack in
            _ = try await subscribe(stack, receiver.url, events: ["source.created", "source.deleted", "clip.created"])
            let kept = try await stack.client.createSource(["name": "Kept", "type": "push"])
            let keptID = try #require(kept["id"]?.stringValue)
            try await stack.failWrites("INSERT", on: "webhook_deliveries")
            let refused = try await stack.client.call(.post, "/api/v1/sources", json: ["name": "Lost", "type": "push"])
            #expect(refused.status == .internalServerError)
            #expect(try await stack.client.call(.delete, "/api/v1/sources/\(keptID)").status == .internalServerError)
            #expect(try await stack.client.call(.get, "/api/v1/sources")["total"]?.intValue == 1)
            #expect(await stack.state.configuredPathNames() == [try #require(kept["path_name"]?.stringValue)])

            try await stack.allowWrites("INSERT", on: "webhook_deliveries")
            let asset = try await stack.client.createAsset(["type": "stream", "source_type": "live", "name": "Gate", "stream_url": "rtsp://cam/gate"])
            let path = try #require(asset["path"]?.stringValue)
            let t0 = Date(timeIntervalSince1970: 1_795_000_000)
            try await stack.client.postEvents(segmentEvents(path: path, start: t0, duration: 4))
            let clip = try await stack.client.call(
                .post, "/api/v1/assets/\(try #require(asset["id"]?.stringValue))/clips",
                json: [
                    "name": "Entry", "start": "2026-11-18T11:06:41Z", "duration": 2,
                ])
            #expect(clip.status == .created)
            #expect(try await stack.client.call(.delete, "/api/v1/sources/\(keptID)").status == .noContent)
            try await waitForDeliveries(stack) { $0.pending == 0 && $0.delivered == 4 }
            // In order per stream; the two streams' deliveries go out side by side.
            let keptPath = try #require(kept["path_name"]?.stringValue)
            #expect(receiver.hits.filter { $0.path == keptPath }.map(\.type) == ["source.created", "source.deleted"])
            #expect(receiver.hits.filter { $0.path == path }.map(\.type) == ["source.created", "clip.created"])
            let created = try JSONValue.parse(Data(try #require(receiver.hits.first { $0.type == "clip.created" }).body.utf8))
            #expect(created["data"]?["asset_id"] == clip["id"])
        }
    }

    @Test func pingRotationRedeliveryAndAutomaticDisabling() async throws {
        let receiver = WebhookReceiver()
        let failing = WebhookReceiver { _, _ in (.internalServerError, .zero) }
        try await receiver.start()
        try await failing.start()
        defer {
            Task {
                await receiver.stop()
                await failing.stop()
            }
        }
        try await withStack(webhooks: testWebhookSettings { $0.disableAfter = .milliseconds(300) }) { stack in
            let (id, secret) = try await subscribe(stack, receiver.url, events: ["stream.online"])
            let ping = try await stack.client.call(.post, "/api/v1/webhooks/\(id)/test")
            #expect(ping.status == .ok)
            #expect(ping["state"]?.stringValue == "delivered")
            #expect(ping["response_code"]?.intValue == 200)
            #expect(ping["event_type"]?.stringValue == "ping")
            #expect(receiver.hits.count == 1)
            #expect(receiver.hits[0].type == "ping")
            #expect(signed(receiver.hits[0], with: secret))

            // Rotation: the new secret once; both secrets sign during the grace period.
            let rotated = try await stack.client.call(.post, "/api/v1/webhooks/\(id)/secret/rotate")
            let newSecret = try #require(rotated["secret"]?.stringValue)
            #expect(newSecret != secret)
            #expect(rotated["previous_secret_expires_at"]?.stringValue != nil)
            try await stack.client.call(.post, "/api/v1/webhooks/\(id)/test")
            #expect(signed(receiver.hits[1], with: newSecret))
            #expect(signed(receiver.hits[1], with: secret))

            // Redelivery queues the same event again.
            let deliveryID = try #require(ping["id"]?.intValue)
            let again = try await stack.client.call(.post, "/api/v1/webhooks/deliveries/\(deliveryID)/redeliver")
            #expect(again.status == .accepted)
            try await receiver.wait { $0.count == 3 }
            #expect(receiver.hits[2].id == receiver.hits[0].id)
            #expect(try await stack.client.call(.post, "/api/v1/webhooks/deliveries/999999/redeliver").status == .notFound)
            #expect(try await stack.client.call(.post, "/api/v1/webhooks/deliveries/abc/redeliver").status == .notFound)
            let log = try await stack.client.call(.get, "/api/v1/webhooks/\(id)/deliveries")
            #expect(log["total"]?.intValue == 3)

            // Failing without a success for longer than disable_after turns a subscription off, saying why.
            let bad = try await subscribe(stack, failing.url, events: ["stream.online"])
            try await stack.client.postEvents([hookEvent("available", path: "live/x")])
            var state = JSONValue.null
            for _ in 0..<100 {
                state = try await stack.client.call(.get, "/api/v1/webhooks/\(bad.id)").json
                if state["enabled"]?.boolValue == false { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(state["enabled"]?.boolValue == false)
            #expect(state["disabled_reason"]?.stringValue == "failing")
            let on = try await stack.client.call(.put, "/api/v1/webhooks/\(bad.id)", json: ["enabled": true])
            #expect(on["enabled"]?.boolValue == true)
            #expect(on["disabled_reason"]?.isNull == true)
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
