import AsyncHTTPClient
import Catalog
import Domain
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// Sends the outbox: the oldest pending delivery of each (subscription, stream) once due, at most
/// `concurrency` attempts in flight and a quarter of them per subscription, so a slow receiver holds up only its
/// own deliveries. Retries network errors, timeouts, 408, 429 and 5xx with exponential backoff and jitter until
/// `max_age`; other answers, blocked addresses and expired deliveries are parked as failed. Everything lives in
/// SQLite: pending deliveries survive a restart. Stops on graceful shutdown (in-flight attempts are cancelled and
/// stay pending).
public final class WebhookWorker: Service, Sendable {

    let database: any CatalogBackend
    let settings: AppConfig.Webhooks
    let retentionDays: Int
    let metrics: AppMetrics
    let logger: Logger
    let client: HTTPClient
    private let load: Mutex<AppDatabase.WorkerLoad>
    private let outcomes = Mutex<(items: [(WebhookDelivery, WebhookAttempt)], flushing: Bool)>(([], false))
    private let wakeup = Wakeup()
    /// Several instances: only the holder of the `webhooks` lease sends (no delivery sent by two instances).
    let leases: Leases?

    public init(
        database: any CatalogBackend, settings: AppConfig.Webhooks, retentionDays: Int, metrics: AppMetrics, logger: Logger, leases: Leases? = nil
    ) {
        self.database = database
        self.leases = leases
        self.metrics = metrics
        load = Mutex(AppDatabase.WorkerLoad(slots: max(1, settings.concurrency / 4)))
        self.settings = settings
        self.retentionDays = retentionDays
        self.logger = logger
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .init(min(settings.requestTimeout, .seconds(5))))
        )
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: settings.concurrency)
        // A refused connection fails the attempt at once (our backoff and log), instead of the client retrying the
        // connection until the deadline and then sending a request that may already be too late.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// New deliveries are in the outbox: look now instead of at the next poll.
    public func wake() {
        wakeup.signal()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                await self.loop(group: &group)
            }
        }
        try await client.shutdown()
    }

    private func loop(group: inout DiscardingTaskGroup) async {
        var lastPrune = ContinuousClock.now - .seconds(3600)
        while !Task.isCancelled {
            if let leases, await !leases.holds(.webhooks) {
                await wakeup.wait(timeout: .seconds(1))
                continue
            }
            let now = Date().micros
            var nextPoll: Duration = .seconds(1)
            // The outcomes and pruning are written under the lease (`LeaseFence`): refused once another instance has
            // it, the deliveries stay pending for it. Bound in each child task (a task group's body may not bind
            // a task-local around `addTask`).
            let fence = leases?.fence(.webhooks)
            do {
                let (candidates, next) = try await database.dueDeliveries(now: now, load: load.withLock { $0 })
                let claimed = candidates.filter(claim)
                // The payloads of the claimed deliveries only; one no longer pending (deleted meanwhile) is let go.
                let deliveries = try await fetch(claimed)
                for c in claimed {
                    if let d = deliveries[c.id] {
                        group.addTask { await LeaseFence.$current.withValue(fence) { await self.attempt(d, c.subscription) } }
                    } else {
                        release(c.streamKey, c.subscription.id)
                    }
                }
                if let next { nextPoll = min(nextPoll, .microseconds(max(0, next - now))) }
                if retentionDays > 0, ContinuousClock.now - lastPrune > .seconds(3600) {
                    lastPrune = .now
                    try await LeaseFence.$current.withValue(fence) {
                        try await database.pruneDeliveries(createdBefore: now - Int64(retentionDays) * 86_400_000_000)
                    }
                }
            } catch {
                logger.error("webhook outbox not readable", metadata: ["error": "\(error)"])
            }
            await wakeup.wait(timeout: nextPoll)
        }
    }

    private func fetch(_ claimed: [AppDatabase.Candidate]) async throws -> [Int64: WebhookDelivery] {
        do {
            return Dictionary(uniqueKeysWithValues: try await database.pendingDeliveries(ids: claimed.map(\.id)).map { ($0.id, $0) })
        } catch {
            for c in claimed { release(c.streamKey, c.subscription.id) }
            throw error
        }
    }

    /// Takes a slot for the delivery's stream, unless it is busy or the limits are reached.
    private func claim(_ c: AppDatabase.Candidate) -> Bool {
        load.withLock { load in
            let key = c.streamKey
            guard load.inFlight.values.reduce(0, +) < settings.concurrency, load.inFlight[c.subscription.id, default: 0] < load.slots,
                !load.busy.contains(key)
            else { return false }
            load.busy.insert(key)
            load.inFlight[c.subscription.id, default: 0] += 1
            load.resumeAfter[c.subscription.id] = c.orderKey
            return true
        }
    }

    private func release(_ streamKey: String, _ subscription: UUID) {
        load.withLock { load in
            load.busy.remove(streamKey)
            load.inFlight[subscription, default: 1] -= 1
            if load.inFlight[subscription] == 0 { load.inFlight[subscription] = nil }
        }
        wakeup.signal()
    }

    private func release(_ d: WebhookDelivery) {
        release(AppDatabase.streamKey(d.subscriptionID, d.orderKey), d.subscriptionID)
    }

    func attempt(_ d: WebhookDelivery, _ s: WebhookSubscription) async {
        let result = await send(d.payload, to: s)
        // Shutting down: the attempt did not finish; it stays pending and is made again after the restart.
        if Task.isCancelled { return release(d) }
        let now = Date().micros
        let outcome: WebhookAttempt.Outcome
        if result.delivered {
            outcome = .delivered
        } else if result.retryable {
            let next = now + backoff(afterAttempts: d.attempts + 1)
            outcome = next - d.createdAt <= micros(settings.maxAge) ? .retry(at: next) : .failed
        } else {
            outcome = .failed
        }
        metrics.webhookAttempt(outcome: outcome.label, duration: .microseconds(Int64(result.latencyMs * 1000)))
        if outcome == .failed {
            logger.notice(
                "webhook delivery parked as failed",
                metadata: ["delivery": "\(d.id)", "url": "\(s.url)", "error": "\(result.error ?? "HTTP \(result.status ?? 0)")"])
        }
        await record(d, WebhookAttempt(outcome: outcome, at: now, status: result.status, error: result.error, latencyMs: result.latencyMs))
    }

    /// Stores an outcome; its stream's slot is freed once it is stored, so the stream's next delivery is read only
    /// after this one left the pending state. Outcomes that finish while a write is under way are stored together
    /// in the next one (one transaction for many attempts, instead of one each).
    private func record(_ d: WebhookDelivery, _ attempt: WebhookAttempt) async {
        let flusher = outcomes.withLock { o in
            o.items.append((d, attempt))
            defer { o.flushing = true }
            return !o.flushing
        }
        guard flusher else { return }
        while let batch = outcomes.withLock({ o -> [(WebhookDelivery, WebhookAttempt)]? in
            guard !o.items.isEmpty else {
                o.flushing = false
                return nil
            }
            defer { o.items = [] }
            return o.items
        }) {
            do {
                try await database.recordAttempts(batch, disableAfter: micros(settings.disableAfter))
            } catch {
                logger.error("webhook attempts not recorded", metadata: ["deliveries": "\(batch.map(\.0.id))", "error": "\(error)"])
            }
            for (d, _) in batch { release(d) }
        }
    }

    /// `retry_base` × 2^(n-1), at most an hour, ±20% jitter (µs).
    func backoff(afterAttempts n: Int) -> Int64 {
        let base = Double(micros(settings.retryBase)) * pow(2, Double(min(n - 1, 30)))
        return Int64(min(base, 3_600_000_000) * Double.random(in: 0.8...1.2))
    }

    struct SendResult: Sendable {
        var delivered: Bool
        var retryable: Bool
        var status: Int?
        var error: String?
        var latencyMs: Double
    }

    /// One signed POST, checked against the address rules first.
    func send(_ payload: String, to s: WebhookSubscription, now: Date = Date()) async -> SendResult {
        let started = ContinuousClock.now
        func elapsed() -> Double { seconds(ContinuousClock.now - started) * 1000 }
        let target: WebhookTarget
        let address: String
        do {
            target = try WebhookTarget(s.url)
            address = try await target.resolve(allowPrivate: settings.allowPrivateTargets)[0]
        } catch WebhookTarget.Problem.blocked(let address) {
            return SendResult(delivered: false, retryable: false, status: nil, error: "blocked address \(address)", latencyMs: elapsed())
        } catch WebhookTarget.Problem.hostNotFound(let host) {
            return SendResult(delivered: false, retryable: true, status: nil, error: "host not found: \(host)", latencyMs: elapsed())
        } catch {
            return SendResult(delivered: false, retryable: false, status: nil, error: "invalid URL", latencyMs: elapsed())
        }
        let pinned = target.pinned(to: address)
        var request = HTTPClientRequest(url: pinned.url)
        request.method = .POST
        if let host = pinned.hostHeader { request.headers.add(name: "Host", value: host) }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "mtx-companion-webhooks")
        var secrets = [s.secret]
        if let old = s.previousSecret, let until = s.previousSecretExpiresAt, until > now.micros { secrets.append(old) }
        request.headers.add(
            name: "X-Signature", value: WebhookSignature.header(body: payload, secrets: secrets, timestamp: Int(now.timeIntervalSince1970)))
        request.body = .bytes(ByteBuffer(string: payload))
        do {
            let deadline = NIODeadline.now() + .init(settings.requestTimeout)
            let response = try await client.execute(request, deadline: deadline)
            // Read (and drop) the answer within the same deadline so the connection can be reused.
            _ = try await response.body.collect(upTo: 64 * 1024)
            let code = Int(response.status.code)
            let ok = (200..<300).contains(code)
            return SendResult(
                delivered: ok, retryable: code == 408 || code == 429 || code >= 500, status: code,
                error: ok ? nil : "HTTP \(code)", latencyMs: elapsed()
            )
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return SendResult(delivered: false, retryable: true, status: nil, error: "timeout", latencyMs: elapsed())
        } catch {
            return SendResult(delivered: false, retryable: true, status: nil, error: "\(error)".prefix(300).description, latencyMs: elapsed())
        }
    }

}

/// A signal the worker sleeps on, with a timeout; a signal sent while nobody waits is kept for the next wait.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
        /// Which wait is current, and the last one whose time ran out (or was cancelled) before it parked.
        var generation = 0
        var expired = -1
    }

    private let state = Mutex(State())

    func signal() {
        resumeWaiter { $0.signalled = true }
    }

    func wait(timeout: Duration) async {
        let generation = state.withLock { s in
            s.generation += 1
            return s.generation
        }
        let timer = Task {
            // Cancelled when the wait ended otherwise: then it must not end a later wait.
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self.expire(generation)
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.signalled || s.expired == generation || Task.isCancelled {
                        s.signalled = false
                        return true
                    }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            self.expire(generation)
        }
    }

    /// Ends wait `generation` (timeout or cancellation), at once or as soon as it parks.
    private func expire(_ generation: Int) {
        resumeWaiter(if: { $0.generation == generation }) { $0.expired = generation }
    }

    /// Resumes the parked wait; with none parked, `mark`s the state for the next wait to find when it parks.
    private func resumeWaiter(if applies: (State) -> Bool = { _ in true }, orMark mark: (inout State) -> Void) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard applies(s) else { return nil }
            guard let w = s.waiter else {
                mark(&s)
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }
}

extension WebhookAttempt.Outcome {
    /// The metrics label.
    var label: String {
        switch self {
        case .delivered: "delivered"
        case .retry: "retry"
        case .failed: "failed"
        }
    }
}
