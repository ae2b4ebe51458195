import API
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Rules of the webhook outbox and worker that had no test of their own.
extension WebhookTests {
    /// The outbox row is written in the transaction that indexes the hook event: when it cannot be, the event is not
    /// indexed either (mtx-hook keeps it and sends it again), and nothing is half written.
    @Test func aHookEventAndItsOutboxRowAreStoredTogether() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await withStack { stack in
            _ = try await subscribe(stack, receiver.url, events: ["stream.online"])
            try await stack.failWrites("INSERT", on: "webhook_deliveries")
            let event = hookEvent("available", path: "live/a")
            let refused = try await stack.client.postEvents([event])
            #expect(refused.status.code >= 500, "an event whose webhook cannot be stored is not acknowledged")
            #expect(try await stack.integer("SELECT count(*) FROM hook_events") == 0)
            #expect(try await stack.integer("SELECT count(*) FROM path_status WHERE available") == 0)
            // Sent again (as mtx-hook does), it is stored with its delivery.
            try await stack.allowWrites("INSERT", on: "webhook_deliveries")
            #expect(try await stack.client.postEvents([event])["accepted"]?.intValue == 1)
            try await waitForDeliveries(stack) { $0.delivered == 1 }
            #expect(receiver.hits.map(\.id) == [event["event_id"] as! String])
        }
    }

    /// After a rotation both secrets sign, for `secret_grace`; then only the new one.
    @Test func theOldSecretStopsSigningAfterTheGracePeriod() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        // Long enough for the first delivery to go out within it on a loaded machine; the test then waits it out.
        try await withStack(webhooks: testWebhookSettings { $0.secretGrace = .seconds(6) }) { stack in
            let (id, old) = try await subscribe(stack, receiver.url, events: ["stream.online"])
            let rotated = try await stack.client.call(.post, "/api/v1/webhooks/\(id)/secret/rotate")
            let new = try #require(rotated["secret"]?.stringValue)
            try await stack.client.postEvents([hookEvent("available", path: "live/a")])
            try await waitForDeliveries(stack) { $0.delivered == 1 }
            let during = try #require(receiver.hits.last)
            #expect(signed(during, with: old) && signed(during, with: new))
            #expect(during.signature?.components(separatedBy: "v1=").count == 3)
            // Wait for the instant the subscription itself says the old secret expires.
            let expires = try #require(try await stack.client.call(.get, "/api/v1/webhooks/\(id)")["previous_secret_expires_at"]?.stringValue)
            let at = try #require(ISO8601DateFormatter.micro.date(from: expires))
            try await Task.sleep(for: .milliseconds(Int(max(0, at.timeIntervalSinceNow) * 1000) + 50))
            try await stack.client.postEvents([hookEvent("available", path: "live/b")])
            try await waitForDeliveries(stack) { $0.delivered == 2 }
            let after = try #require(receiver.hits.last)
            #expect(signed(after, with: new) && !signed(after, with: old))
            #expect(after.signature?.components(separatedBy: "v1=").count == 2)
        }
    }

    /// A delivery still failing `max_age` after its event is parked as failed, and not tried again.
    @Test func aDeliveryFailingPastMaxAgeIsParked() async throws {
        let receiver = WebhookReceiver { _, _ in (.serviceUnavailable, .zero) }
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        // Retries after 50, 100, 200 … ms: several fit in max_age, even on a loaded machine.
        try await withStack(webhooks: testWebhookSettings { $0.maxAge = .seconds(3) }) { stack in
            let (id, _) = try await subscribe(stack, receiver.url, events: ["stream.online"])
            try await stack.client.postEvents([hookEvent("available", path: "live/a")])
            try await waitForDeliveries(stack) { $0.failed == 1 }
            let tries = receiver.hits.count
            #expect(tries >= 2, "retried before it was parked")
            let log = try await stack.client.call(.get, "/api/v1/webhooks/\(id)/deliveries?state=failed")
            #expect(log["items"]?.arrayValue.first?["attempts"]?.intValue == tries)
            #expect(log["items"]?.arrayValue.first?["response_code"]?.intValue == 503)
            // Parked: a later event is delivered normally... to a receiver that still fails, so it is tried; the parked
            // one is not (its id never shows again).
            let parkedID = try #require(receiver.hits.first?.id)
            try await stack.client.postEvents([hookEvent("available", path: "live/b")])
            try await waitForDeliveries(stack) { $0.failed == 2 }
            #expect(receiver.hits.filter { $0.id == parkedID }.count == tries)
        }
    }

    /// 408 and 429 are retried like 5xx; a redirect is never followed (the target was checked, its Location not).
    @Test func requestTimeoutIsRetriedAndRedirectsAreNotFollowed() async throws {
        let timeout = WebhookReceiver { _, n in (n == 1 ? .requestTimeout : .ok, .zero) }
        let elsewhere = WebhookReceiver()
        try await timeout.start()
        try await elsewhere.start()
        let redirecting = WebhookReceiver(location: elsewhere.url) { _, _ in (.temporaryRedirect, .zero) }
        try await redirecting.start()
        defer { Task { for r in [timeout, elsewhere, redirecting] { await r.stop() } } }
        try await withStack { stack in
            let a = try await subscribe(stack, timeout.url, events: ["stream.online"])
            let b = try await subscribe(stack, redirecting.url, events: ["stream.online"])
            try await stack.client.postEvents([hookEvent("available", path: "live/a")])
            try await waitForDeliveries(stack) { $0.pending == 0 }
            let logA = try await stack.client.call(.get, "/api/v1/webhooks/\(a.id)/deliveries")["items"]?.arrayValue.first
            #expect(logA?["state"]?.stringValue == "delivered" && logA?["attempts"]?.intValue == 2)
            let logB = try await stack.client.call(.get, "/api/v1/webhooks/\(b.id)/deliveries")["items"]?.arrayValue.first
            #expect(logB?["state"]?.stringValue == "failed" && logB?["response_code"]?.intValue == 307)
            #expect(redirecting.hits.count == 1)
            #expect(elsewhere.hits.isEmpty, "the redirect was followed")
        }
    }
}

@Suite("CORS and the login lockout", .timeLimit(.minutes(3)))
struct CORSAndLockoutTests {
    @Test func onlyConfiguredOriginsGetCORSHeaders() async throws {
        try await withStack(configure: { $0.auth.corsOrigins = ["https://ops.example"] }) { stack in
            let preflight = try await stack.raw.call(
                .options, "/api/v1/sources",
                headers: [
                    .origin: "https://ops.example", .accessControlRequestMethod: "POST",
                ])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://ops.example")
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            let allowed = try await stack.client.call(.get, "/api/v1/sources", headers: [.origin: "https://ops.example"])
            #expect(allowed.status == .ok)
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://ops.example")
            #expect(allowed.headers[.vary] == "Origin")
            // Another origin: no CORS headers (the browser refuses the answer to its page), preflight included.
            let other = try await stack.client.call(.get, "/api/v1/sources", headers: [.origin: "https://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            let otherPreflight = try await stack.raw.call(
                .options, "/api/v1/sources",
                headers: [
                    .origin: "https://evil.example", .accessControlRequestMethod: "POST",
                ])
            #expect(otherPreflight.headers[.accessControlAllowOrigin] == nil)
        }
        // Off when no origin is configured.
        try await withStack { stack in
            let reply = try await stack.client.call(.get, "/api/v1/sources", headers: [.origin: "https://ops.example"])
            #expect(reply.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func aLockedNameIsFreeAgainOnceItsFailuresLeaveTheWindow() async throws {
        // A window long enough for the failures and the locked attempt to fall in it on a loaded machine.
        try await withStack(configure: {
            $0.auth.loginMaxFailures = 2
            $0.auth.loginWindow = .seconds(8)
        }) { stack in
            for _ in 0..<2 {
                _ = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "viewer", "password": "wrong password"])
            }
            let locked = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "viewer", "password": testPassword])
            #expect(locked.status == .tooManyRequests)
            let wait = try #require(locked.headers[.retryAfter].flatMap(Int.init))
            #expect((1...8).contains(wait))
            // Tried with the right password until the lock ends: a locked attempt does not extend the lock.
            let deadline = ContinuousClock.now + .seconds(30)
            var status = locked.status
            while status == .tooManyRequests, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                status = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "viewer", "password": testPassword]).status
            }
            #expect(status == .ok)
        }
    }
}
