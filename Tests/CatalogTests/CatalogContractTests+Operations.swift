import Catalog
import Domain
import Foundation
import Testing

/// The contract of `RetentionStore` (each source's own retention) and `WebhookOutboxStore` (the webhook worker's
/// reads and writes of the outbox).
extension CatalogContractTests {
    // MARK: - Retention

    @Test(arguments: Backend.allCases)
    func retentionIsSetChangedClearedAndGoesWithItsSource(backend: Backend) async throws {
        try await withStore(backend) { store in
            let retention = try #require(store as? any RetentionStore)
            let a = Self.source("Yard", at: 1_764_600_000)
            let b = Self.source("Gate", at: 1_764_600_001)
            try await store.insertSource(a, announcing: [])
            try await store.insertSource(b, announcing: [])
            #expect(try await retention.retentionDays(sourceID: a.id) == nil)
            #expect(try await retention.retentionOverrides().isEmpty)

            try await retention.setRetentionDays(sourceID: a.id, 7)
            try await retention.setRetentionDays(sourceID: b.id, 0)
            #expect(try await retention.retentionDays(sourceID: a.id) == 7)
            #expect(try await retention.retentionDays(sourceID: b.id) == 0)
            // Setting it again replaces it.
            try await retention.setRetentionDays(sourceID: a.id, 30)
            #expect(try await retention.retentionDays(sourceID: a.id) == 30)
            #expect(try await retention.retentionOverrides() == [a.id: 30, b.id: 0])

            // Nil: the default again; clearing what is not set is no error.
            try await retention.setRetentionDays(sourceID: a.id, nil)
            try await retention.setRetentionDays(sourceID: a.id, nil)
            #expect(try await retention.retentionDays(sourceID: a.id) == nil)
            #expect(try await retention.retentionOverrides() == [b.id: 0])

            // Never negative; never for a source that does not exist.
            await #expect(throws: (any Error).self) { try await retention.setRetentionDays(sourceID: a.id, -1) }
            #expect(try await retention.retentionDays(sourceID: a.id) == nil)
            let ghost = UUID()
            await #expect(throws: (any Error).self) { try await retention.setRetentionDays(sourceID: ghost, 3) }
            #expect(try await retention.retentionDays(sourceID: ghost) == nil)

            // Deleting the source deletes its retention.
            #expect(try await store.deleteSource(id: b.id, announcing: []))
            #expect(try await retention.retentionOverrides().isEmpty)
            #expect(try await retention.retentionDays(sourceID: b.id) == nil)
        }
    }

    // MARK: - Webhook outbox

    static func subscriber(_ url: String = "https://hooks.example/a", at created: Int64 = 1) -> WebhookSubscription {
        WebhookSubscription(
            id: UUID(), url: url, events: ["source.created", "source.deleted"], sourceIDs: nil, secret: "s", enabled: true, createdAt: created,
            updatedAt: created)
    }

    /// Queues `types` for a new source through `insertSource(_:announcing:)`: one stream (its path name) per source.
    static func announce(_ types: [String], name: String, _ store: any Store) async throws -> MediaSource {
        let source = Self.source(name, at: 1_764_600_000)
        try await store.insertSource(source, announcing: types.map { ServiceEvent(type: $0, source: source, data: [:]) })
        return source
    }

    /// A subscription's deliveries, oldest first.
    static func log(_ subscription: UUID, _ store: any Store) async throws -> [WebhookDelivery] {
        try await store.deliveries(subscriptionID: subscription, state: nil, page: 1, pageSize: 100).items.reversed()
    }

    static func attempt(_ outcome: WebhookAttempt.Outcome, at: Int64, status: Int? = 200, error: String? = nil) -> WebhookAttempt {
        WebhookAttempt(outcome: outcome, at: at, status: status, error: error, latencyMs: 12.5)
    }

    /// The same JSON (a jsonb column may reformat it).
    static func sameJSON(_ a: String, _ b: String) throws -> Bool {
        let x = try JSONSerialization.jsonObject(with: Data(a.utf8), options: [.fragmentsAllowed]) as? NSObject
        let y = try JSONSerialization.jsonObject(with: Data(b.utf8), options: [.fragmentsAllowed]) as? NSObject
        return x != nil && x == y
    }

    @Test(arguments: Backend.allCases)
    func theWorkerTakesTheOldestDeliveryOfEachStreamInTurn(backend: Backend) async throws {
        try await withStore(backend) { store in
            let outbox = try #require(store as? any WebhookOutboxStore)
            let sub = Self.subscriber()
            var off = Self.subscriber("https://hooks.example/off", at: 2)
            try await store.insertSubscription(sub)
            try await store.insertSubscription(off)
            #expect(try await outbox.dueDeliveries(now: Date().micros, load: .init(slots: 4)).due.isEmpty)

            // Two streams: the first source's path has two deliveries, the second's one.
            let one = try await Self.announce(["source.created", "source.deleted"], name: "Cam one", store)
            let two = try await Self.announce(["source.created"], name: "Cam two", store)
            off.enabled = false
            try await store.updateSubscription(off)
            let queued = try await Self.log(sub.id, store)
            try #require(queued.count == 3)
            let (d1, d2, d3) = (queued[0], queued[1], queued[2])
            #expect(d1.orderKey == one.pathName && d2.orderKey == one.pathName && d3.orderKey == two.pathName)
            #expect(d1.eventType == "source.created" && d2.eventType == "source.deleted" && d1.id < d2.id && d2.id < d3.id)
            let now = Date().micros + 1_000_000

            // The heads of the streams, oldest due first; a disabled subscription's deliveries wait.
            let all = try await outbox.dueDeliveries(now: now, load: .init(slots: 4))
            #expect(all.due.map(\.id) == [d1.id, d3.id])
            #expect(all.due.allSatisfy { $0.subscription == sub })
            #expect(all.due.map(\.orderKey) == [one.pathName, two.pathName])
            #expect(all.due.map(\.nextAttemptAt) == [d1.nextAttemptAt, d3.nextAttemptAt])
            #expect(all.due.map(\.streamKey) == [AppDatabase.streamKey(sub.id, one.pathName), AppDatabase.streamKey(sub.id, two.pathName)])

            // None due yet: when the first will be.
            let early = try await outbox.dueDeliveries(now: 0, load: .init(slots: 4))
            #expect(early.due.isEmpty && early.next == min(d1.nextAttemptAt, d3.nextAttemptAt))

            // One slot: the streams in turn, after the one taken last, wrapping round.
            let (first, second) = one.pathName < two.pathName ? (d1, d3) : (d3, d1)
            var load = AppDatabase.WorkerLoad(slots: 1)
            #expect(try await outbox.dueDeliveries(now: now, load: load).due.map(\.id) == [first.id])
            load.resumeAfter[sub.id] = first.orderKey
            #expect(try await outbox.dueDeliveries(now: now, load: load).due.map(\.id) == [second.id])
            load.resumeAfter[sub.id] = second.orderKey
            #expect(try await outbox.dueDeliveries(now: now, load: load).due.map(\.id) == [first.id])

            // A stream in flight is skipped; a subscription with every slot taken gets nothing.
            load = AppDatabase.WorkerLoad(slots: 4)
            load.busy = [AppDatabase.streamKey(sub.id, one.pathName)]
            #expect(try await outbox.dueDeliveries(now: now, load: load).due.map(\.id) == [d3.id])
            load.busy = []
            load.inFlight[sub.id] = 4
            #expect(try await outbox.dueDeliveries(now: now, load: load).due.isEmpty)

            // What the worker reads before an attempt: the pending ones among the ids, whole.
            #expect(try await outbox.pendingDeliveries(ids: []).isEmpty)
            #expect(try await outbox.pendingDeliveries(ids: [d3.id, d1.id, 999_999]).sorted { $0.id < $1.id } == [d1, d3])

            // Delivered: out of the pending ones, and the stream's next delivery is its head.
            let t = now + 10
            try await outbox.recordAttempts([(d1, Self.attempt(.delivered, at: t))], disableAfter: 1_000_000_000)
            #expect(try await outbox.pendingDeliveries(ids: [d1.id]).isEmpty)
            let done = try #require(try await Self.log(sub.id, store).first { $0.id == d1.id })
            #expect(done.state == .delivered && done.attempts == 1 && done.deliveredAt == t && done.lastAttemptAt == t)
            #expect(done.lastStatus == 200 && done.lastError == nil && done.lastLatencyMs == 12.5)
            #expect(try await outbox.dueDeliveries(now: t, load: .init(slots: 4)).due.map(\.id) == [d2.id, d3.id])

            // A retry: still pending, due at its time; the stream waits for it.
            let later = t + 5_000_000
            try await outbox.recordAttempts(
                [(d2, Self.attempt(.retry(at: later), at: t + 1, status: 503, error: "HTTP 503")), (d3, Self.attempt(.delivered, at: t + 2))],
                disableAfter: 1_000_000_000)
            let retried = try #require(try await outbox.pendingDeliveries(ids: [d2.id]).first)
            #expect(retried.state == .pending && retried.attempts == 1 && retried.nextAttemptAt == later && retried.deliveredAt == nil)
            #expect(retried.lastStatus == 503 && retried.lastError == "HTTP 503" && retried.lastAttemptAt == t + 1)
            let waiting = try await outbox.dueDeliveries(now: t + 3, load: .init(slots: 4))
            #expect(waiting.due.isEmpty && waiting.next == later)
            #expect(try await outbox.dueDeliveries(now: later, load: .init(slots: 4)).due.map(\.id) == [d2.id])

            // Parked after a failure that is not retried.
            try await outbox.recordAttempts([(retried, Self.attempt(.failed, at: later, status: 410))], disableAfter: 1_000_000_000)
            let parked = try #require(try await Self.log(sub.id, store).first { $0.id == d2.id })
            #expect(parked.state == .failed && parked.attempts == 2 && parked.lastStatus == 410 && parked.deliveredAt == nil)
            #expect(try await outbox.dueDeliveries(now: later, load: .init(slots: 4)).due.isEmpty)
            #expect(try await store.deliveries(subscriptionID: sub.id, state: .pending, page: 1, pageSize: 10).total == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func aStreamsDeliveriesGoOutOneAtATimeOldestFirst(backend: Backend) async throws {
        try await withStore(backend) { store in
            let outbox = try #require(store as? any WebhookOutboxStore)
            let sub = Self.subscriber()
            try await store.insertSubscription(sub)
            let source = try await Self.announce(["source.created", "source.deleted", "source.created"], name: "Cam", store)
            let queued = try await Self.log(sub.id, store)
            try #require(queued.count == 3)
            #expect(queued.allSatisfy { $0.orderKey == source.pathName })
            var sent: [Int64] = []
            var now = Date().micros + 1_000_000
            // However many slots, one at a time; a retry due later holds the stream up until then.
            while true {
                let (due, _) = try await outbox.dueDeliveries(now: now, load: .init(slots: 8))
                guard let head = due.first else { break }
                #expect(due.count == 1)
                let delivery = try #require(try await outbox.pendingDeliveries(ids: [head.id]).first)
                if delivery.attempts == 0 && delivery.id == queued[1].id {
                    try await outbox.recordAttempts(
                        [(delivery, Self.attempt(.retry(at: now + 60), at: now, status: 500))], disableAfter: 1_000_000_000)
                    #expect(try await outbox.dueDeliveries(now: now + 59, load: .init(slots: 8)).due.isEmpty)
                    now += 60
                    continue
                }
                try await outbox.recordAttempts([(delivery, Self.attempt(.delivered, at: now))], disableAfter: 1_000_000_000)
                sent.append(delivery.id)
            }
            #expect(sent == queued.map(\.id))

            // A redelivery joins the end of its stream, after the deliveries still pending there.
            let more = try await Self.log(sub.id, store).count
            #expect(try await store.deleteSource(id: source.id, announcing: [ServiceEvent(type: "source.deleted", source: source, data: [:])]))
            now = max(now, Date().micros + 1)
            let again = try #require(try await outbox.redeliver(id: queued[0].id, now: now))
            #expect(again.orderKey == source.pathName)
            #expect(try await Self.log(sub.id, store).count == more + 2)
            let pending = try await store.deliveries(subscriptionID: sub.id, state: .pending, page: 1, pageSize: 10).items.reversed().map(\.id)
            #expect(pending.count == 2 && pending.last == again.id)
            #expect(try await outbox.dueDeliveries(now: now, load: .init(slots: 8)).due.map(\.id) == [pending[0]])
        }
    }

    @Test(arguments: Backend.allCases)
    func failingForLongEnoughTurnsTheSubscriptionOff(backend: Backend) async throws {
        try await withStore(backend) { store in
            let outbox = try #require(store as? any WebhookOutboxStore)
            let sub = Self.subscriber()
            let other = Self.subscriber("https://hooks.example/b", at: 2)
            try await store.insertSubscription(sub)
            try await store.insertSubscription(other)
            _ = try await Self.announce(["source.created"], name: "One", store)
            _ = try await Self.announce(["source.created"], name: "Two", store)
            let mine = try await Self.log(sub.id, store)
            let theirs = try await Self.log(other.id, store)
            try #require(mine.count == 2 && theirs.count == 2)
            let t0: Int64 = 2_000_000_000_000_000
            let limit: Int64 = 1_000

            // A failure starts the run; later failures keep its start.
            try await outbox.recordAttempts([(mine[0], Self.attempt(.retry(at: t0 + 100), at: t0, status: 500))], disableAfter: limit)
            #expect(try await store.subscription(id: sub.id)?.failingSince == t0)
            try await outbox.recordAttempts([(mine[0], Self.attempt(.retry(at: t0 + 600), at: t0 + 500, status: 500))], disableAfter: limit)
            var state = try #require(try await store.subscription(id: sub.id))
            #expect(state.failingSince == t0 && state.enabled)
            // A success ends it.
            try await outbox.recordAttempts([(mine[1], Self.attempt(.delivered, at: t0 + 600))], disableAfter: limit)
            #expect(try await store.subscription(id: sub.id)?.failingSince == nil)

            // A new run, in one batch with another subscription's success: failing since `limit` or longer turns only
            // this one off, saying why.
            try await outbox.recordAttempts(
                [
                    (mine[0], Self.attempt(.retry(at: t0 + 800), at: t0 + 700, error: "timed out")),
                    (theirs[0], Self.attempt(.delivered, at: t0 + 700)),
                ], disableAfter: limit)
            try await outbox.recordAttempts([(mine[0], Self.attempt(.retry(at: t0 + 1_800), at: t0 + 1_699, status: 502))], disableAfter: limit)
            #expect(try await store.subscription(id: sub.id)?.enabled == true)
            try await outbox.recordAttempts([(mine[0], Self.attempt(.retry(at: t0 + 1_800), at: t0 + 1_700, status: 502))], disableAfter: limit)
            state = try #require(try await store.subscription(id: sub.id))
            #expect(!state.enabled && state.disabledReason == WebhookSubscription.disabledFailing)
            #expect(state.updatedAt == t0 + 1_700 && state.failingSince == t0 + 700)
            let untouched = try #require(try await store.subscription(id: other.id))
            #expect(untouched.enabled && untouched.failingSince == nil && untouched.disabledReason == nil && untouched.updatedAt == 2)

            // Its pending deliveries wait while it is off, and go out again once it is turned back on.
            #expect(try await outbox.pendingDeliveries(ids: [mine[0].id]).map(\.attempts) == [5])
            let due = try await outbox.dueDeliveries(now: t0 + 2_000, load: .init(slots: 4)).due
            #expect(due.map(\.id) == [theirs[1].id])
            state.enabled = true
            state.disabledReason = nil
            try await store.updateSubscription(state)
            #expect(
                try await outbox.dueDeliveries(now: t0 + 2_000, load: .init(slots: 4)).due.map(\.id).sorted() == [mine[0].id, theirs[1].id].sorted())
        }
    }

    @Test(arguments: Backend.allCases)
    func pingsAreRecordedRedeliveredAndFinishedDeliveriesPruned(backend: Backend) async throws {
        try await withStore(backend) { store in
            let outbox = try #require(store as? any WebhookOutboxStore)
            let sub = Self.subscriber()
            try await store.insertSubscription(sub)
            let payload = #"{"id":"e1","type":"ping","occurred_at":"2025-12-01T14:40:00.000000Z","data":{}}"#

            // A test ping, already attempted: delivered or parked, never pending.
            let ok = try await outbox.recordDelivery(
                subscriptionID: sub.id, eventID: "e1", type: "ping", payload: payload, attempt: Self.attempt(.delivered, at: 100))
            #expect(ok.subscriptionID == sub.id && ok.eventID == "e1" && ok.eventType == "ping" && ok.orderKey == "ping")
            #expect(ok.state == .delivered && ok.attempts == 1 && ok.createdAt == 100 && ok.nextAttemptAt == 100 && ok.lastAttemptAt == 100)
            #expect(ok.deliveredAt == 100 && ok.lastStatus == 200 && ok.lastError == nil && ok.lastLatencyMs == 12.5)
            #expect(try Self.sameJSON(ok.payload, payload))
            let bad = try await outbox.recordDelivery(
                subscriptionID: sub.id, eventID: "e2", type: "ping", payload: payload,
                attempt: Self.attempt(.failed, at: 200, status: nil, error: "connection refused"))
            #expect(bad.state == .failed && bad.deliveredAt == nil && bad.lastStatus == nil && bad.lastError == "connection refused")
            #expect(try await Self.log(sub.id, store) == [ok, bad])
            #expect(try await outbox.pendingDeliveries(ids: [ok.id, bad.id]).isEmpty)

            // Redelivery: a new pending row with the same event, due at once; the old row stays as it was.
            let again = try #require(try await outbox.redeliver(id: ok.id, now: 50))
            #expect(again.id > bad.id && again.state == .pending && again.attempts == 0 && again.nextAttemptAt == 50 && again.createdAt == 50)
            #expect(again.eventID == "e1" && again.eventType == "ping" && again.orderKey == "ping" && again.subscriptionID == sub.id)
            #expect(again.lastAttemptAt == nil && again.lastStatus == nil && again.deliveredAt == nil)
            #expect(try Self.sameJSON(again.payload, payload))
            #expect(try await outbox.redeliver(id: 999_999, now: 50) == nil)
            #expect(try await Self.log(sub.id, store) == [ok, bad, again])
            #expect(try await outbox.dueDeliveries(now: 50, load: .init(slots: 4)).due.map(\.id) == [again.id])

            // Pruning drops finished deliveries created before the time, never pending ones.
            let late = try await outbox.recordDelivery(
                subscriptionID: sub.id, eventID: "e3", type: "ping", payload: payload, attempt: Self.attempt(.delivered, at: 300))
            #expect(try await outbox.pruneDeliveries(createdBefore: 100) == 0)
            #expect(try await outbox.pruneDeliveries(createdBefore: 250) == 2)
            #expect(try await Self.log(sub.id, store).map(\.id) == [again.id, late.id])
            #expect(try await outbox.pruneDeliveries(createdBefore: 250) == 0)
            #expect(try await outbox.pruneDeliveries(createdBefore: 1_000) == 1)
            #expect(try await Self.log(sub.id, store).map(\.id) == [again.id])
        }
    }
}
