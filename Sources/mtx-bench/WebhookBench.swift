import ArgumentParser
import AsyncHTTPClient
import ChildProcess
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Outbound webhooks end to end: a release `mtx-companion serve` with one subscription to a fast receiver in this
/// process. Ingest rate with and without the subscription (wrk), how fast the outbox drains to the receiver, and the
/// latency a webhook adds: hook request sent → webhook received.
struct WebhooksBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "webhooks", abstract: "Webhook delivery rate and hook-to-webhook latency.")

    @Option(help: "Seconds of load for each ingest rate (wrk).") var ingestSeconds = 10
    @Option(help: "Hook events timed one by one for the latency.") var runs = 500

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-bench-webhooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = "bench-token"
        let server = try await BenchServer.start(in: dir, settings: "hooks: {token: \(token)}\nwebhooks: {allow_private_targets: true}")
        defer { server.stop() }
        let receiver = BenchReceiver()
        let receiverURL = try await receiver.start()
        defer { Task { await receiver.stop() } }
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw ValidationError("wrk is not installed (scripts/install-deps.sh --bench)")
        }

        // 1. Baseline: the same events, nobody subscribed (warm-up first: a fresh database is slow at first).
        _ = try load(wrk, server.base, token, dir, prefix: "warm", seconds: 15)
        let baseline = try load(wrk, server.base, token, dir, prefix: "base", seconds: ingestSeconds)
        print("ingest, one event per request, 16 connections, no subscription (baseline): \(Int(baseline.rate)) events/s")

        // 2. One subscription to every stream event: ingest writes an outbox row per event; the worker drains it.
        let admin = try await server.viewerToken(database: dir.appendingPathComponent("bench.sqlite").path, role: .admin)
        var create = HTTPClientRequest(url: server.base + "/api/v1/webhooks")
        create.method = .POST
        create.headers.add(name: "Authorization", value: "Bearer \(admin)")
        create.headers.add(name: "Content-Type", value: "application/json")
        create.body = .bytes(ByteBuffer(string: #"{"url":"\#(receiverURL)","events":["stream.online","stream.offline"]}"#))
        let created = try await HTTPClient.shared.execute(create, timeout: .seconds(5))
        _ = try await created.body.collect(upTo: 1 << 20)
        guard created.status == .created else { throw ValidationError("subscription not created: \(created.status)") }

        let started = ContinuousClock.now
        let loaded = try load(wrk, server.base, token, dir, prefix: "sub", seconds: ingestSeconds)
        let accepted = loaded.requests
        while receiver.count(prefix: "sub-") < accepted {
            guard ContinuousClock.now - started < .seconds(ingestSeconds * 20) else {
                throw ValidationError("only \(receiver.count(prefix: "sub-")) of \(accepted) webhooks arrived")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let drained = seconds(receiver.lastArrival(prefix: "sub-")! - started)
        print("ingest with 1 subscription: \(Int(loaded.rate)) events/s, \(String(format: "%.2f", loaded.rate / baseline.rate))x the baseline")
        print(
            "webhooks delivered: \(accepted) in \(String(format: "%.1f", drained)) s from the start of the load = \(Int(Double(accepted) / drained)) events/s (duplicates: \(receiver.duplicates))"
        )

        // 3. Added latency, one event at a time on an idle server: hook request sent → webhook received.
        var latencies: [Double] = []
        var ingestOnly: [Double] = []
        for i in 0..<runs {
            let id = "lat-\(i)"
            let arrival = receiver.expect(id)
            var request = HTTPClientRequest(url: server.base + "/api/v1/hooks/events")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(
                ByteBuffer(
                    string:
                        #"{"event_id":"\#(id)","type":"\#(i % 2 == 0 ? "available" : "unavailable")","occurred_at":"2026-11-25T20:00:00Z","path":"live/latency"}"#
                ))
            let t0 = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            _ = try await response.body.collect(upTo: 1 << 16)
            ingestOnly.append(seconds(ContinuousClock.now - t0))
            latencies.append(seconds(await arrival.value - t0))
        }
        let l = stats(latencies), h = stats(ingestOnly)
        print("hook request → webhook received (\(runs) runs, idle): p50 \(ms(l.median)) ms, p99 \(ms(l.p99)) ms")
        print("  of which the hook request itself (until its 200): p50 \(ms(h.median)) ms, p99 \(ms(h.p99)) ms")
    }

    /// wrk at 16 connections posting single `available`/`unavailable` events over 100 paths.
    func load(_ wrk: String, _ base: String, _ token: String, _ dir: URL, prefix: String, seconds: Int) throws -> (rate: Double, requests: Int) {
        let script = dir.appendingPathComponent("\(prefix).lua")
        try """
        local threads = 0
        function setup(thread) thread:set("tid", threads); threads = threads + 1 end
        local counter = 0
        function request()
          counter = counter + 1
          local body = '{"event_id":"\(prefix)-' .. tid .. '-' .. counter .. '","type":"' .. (counter % 2 == 0 and 'available' or 'unavailable')
            .. '","occurred_at":"2026-11-25T20:00:00Z","path":"live/wh-' .. (counter % 100) .. '"}'
          return wrk.format("POST", "/api/v1/hooks/events", {["Authorization"] = "Bearer \(token)", ["Content-Type"] = "application/json"}, body)
        end
        """.write(to: script, atomically: true, encoding: .utf8)
        let (termination, output) = try ChildProcess.run(
            wrk, ["-t2", "-c16", "-d\(seconds)s", "-s", script.path, base], environment: ChildProcess.currentEnvironment
        )
        guard termination == .exited(0), let rateLine = output.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
            let rate = Double(rateLine.split(separator: " ").last ?? ""),
            let countLine = output.split(separator: "\n").first(where: { $0.contains(" requests in ") }),
            let requests = Int(countLine.split(separator: " ").first ?? ""),
            !output.contains("Non-2xx")
        else { throw ValidationError("wrk failed: \(output)") }
        return (rate, requests)
    }
}

/// A webhook receiver in the bench process: answers 204 at once and notes when each event id first arrived.
final class BenchReceiver: Sendable {
    private struct State {
        var arrivals: [String: ContinuousClock.Instant] = [:]
        var waiters: [String: CheckedContinuation<ContinuousClock.Instant, Never>] = [:]
        var duplicates = 0
        var group: ServiceGroup?
        var task: Task<Void, any Error>?
    }

    private let state = Mutex(State())

    func start() async throws -> String {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let at = ContinuousClock.now
            // The id is the payload's first field (keys are sorted: "data" comes before "id").
            let text = String(buffer: body)
            guard let range = text.range(of: #""id":""#), let end = text[range.upperBound...].firstIndex(of: "\"") else {
                return Response(status: .badRequest)
            }
            let id = String(text[range.upperBound..<end])
            let waiter = self.state.withLock { s -> CheckedContinuation<ContinuousClock.Instant, Never>? in
                if s.arrivals[id] != nil {
                    s.duplicates += 1
                    return nil
                }
                s.arrivals[id] = at
                return s.waiters.removeValue(forKey: id)
            }
            waiter?.resume(returning: at)
            return Response(status: .noContent)
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "bench-receiver")
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        state.withLock {
            $0.group = group
            $0.task = task
        }
        for await port in stream { return "http://127.0.0.1:\(port)/hook" }
        throw ValidationError("the receiver did not start")
    }

    func stop() async {
        let (group, task) = state.withLock { ($0.group, $0.task) }
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
    }

    /// When `id` arrives (or arrived).
    func expect(_ id: String) -> Task<ContinuousClock.Instant, Never> {
        Task {
            await withCheckedContinuation { c in
                let known = state.withLock { s -> ContinuousClock.Instant? in
                    if let at = s.arrivals[id] { return at }
                    s.waiters[id] = c
                    return nil
                }
                if let known { c.resume(returning: known) }
            }
        }
    }

    func count(prefix: String) -> Int { state.withLock { $0.arrivals.keys.filter { $0.hasPrefix(prefix) }.count } }
    func lastArrival(prefix: String) -> ContinuousClock.Instant? {
        state.withLock { $0.arrivals.filter { $0.key.hasPrefix(prefix) }.map(\.value).max() }
    }
    var duplicates: Int { state.withLock { $0.duplicates } }
}
