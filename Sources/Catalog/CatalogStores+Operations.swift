import Domain
import Foundation

/// Each source's own retention (days of recordings kept; none: the configured default). A source's retention is
/// deleted with it. The segments past a retention and what each path holds (`expiredSegments`, `markSegmentDeleted`,
/// `storage`) read the segment index and are not part of this protocol yet.
public protocol RetentionStore: Sendable {
    /// The source's own retention in days; nil when it follows the configured default.
    func retentionDays(sourceID: UUID) async throws -> Int?
    /// Sets the source's own retention (days ≥ 0, else it throws); nil clears it, so that the source follows the
    /// default again. Throws when there is no such source.
    func setRetentionDays(sourceID: UUID, _ days: Int?) async throws
    /// Every source's own retention.
    func retentionOverrides() async throws -> [UUID: Int]
    /// The path's complete segments that ended before `before` (start + duration), oldest first; one still recording
    /// or already deleted is never among them.
    func expiredSegments(path: String, endedBefore before: Int64) async throws -> [Segment]
    /// Marks a segment deleted (MediaMTX removed its file); the row stays, so history and sessions know it existed.
    func markSegmentDeleted(path: String, start: Int64, at now: Int64) async throws
    /// What each path's segments that are not deleted hold: count, bytes, recorded seconds.
    func storage() async throws -> [String: AppDatabase.PathStorage]
}

/// The webhook outbox as the worker reads and writes it. Each delivery belongs to a stream: its subscription and its
/// `orderKey` (the source's path name); a stream's pending deliveries go out oldest (lowest id) first, one at a time.
/// The contract claims nothing: `dueDeliveries` is a read, the worker keeps what it has in flight (`WorkerLoad`), so
/// one worker process runs against a catalogue.
public protocol WebhookOutboxStore: Sendable {
    /// Queues the delivery's payload again as a new pending delivery (after the subscription's other pending ones for
    /// that stream), created and due at `now`; the old row stays in the log. Nil when there is no such delivery.
    func redeliver(id: Int64, now: Int64) async throws -> WebhookDelivery?
    /// Records a delivery made outside the outbox (a test ping), already attempted once: delivered or failed as the
    /// attempt says, order key "ping", created at the attempt's time.
    func recordDelivery(subscriptionID: UUID, eventID: String, type: String, payload: String, attempt: WebhookAttempt) async throws
        -> WebhookDelivery
    /// The deliveries that may go out now, oldest due first, and when the next one not yet due will be (µs): of each
    /// enabled subscription, the heads of its streams (each stream's oldest pending delivery) that are due and not
    /// in flight (`load.busy`), as many as the subscription has free slots (`load.slots - load.inFlight`), taken
    /// from the stream after `load.resumeAfter` round to it, so every stream gets its turn. `next` may be left out
    /// when deliveries are due.
    func dueDeliveries(now: Int64, load: AppDatabase.WorkerLoad) async throws -> (due: [AppDatabase.Candidate], next: Int64?)
    /// The pending deliveries among `ids`, by id (those no longer pending, or gone, are left out).
    func pendingDeliveries(ids: [Int64]) async throws -> [WebhookDelivery]
    /// Stores attempts' outcomes in one transaction: delivered (the stream's next delivery becomes its head), retry
    /// (still pending, due at the given time) or failed (parked); and each subscription's failure run: a success
    /// clears `failingSince`, a failure starts it, and failing since `disableAfter` (µs) or longer turns the
    /// subscription off with `disabledReason` `WebhookSubscription.disabledFailing`.
    func recordAttempts(_ attempts: [(WebhookDelivery, WebhookAttempt)], disableAfter: Int64) async throws
    /// Drops finished deliveries (delivered or failed) created before `before` (µs); how many.
    @discardableResult
    func pruneDeliveries(createdBefore before: Int64) async throws -> Int
}

extension AppDatabase: RetentionStore, WebhookOutboxStore {}

extension AppDatabase.Candidate {
    /// For the other backends (`PostgresCatalog`): the memberwise initialiser is internal.
    public static func head(id: Int64, subscription: WebhookSubscription, orderKey: String, nextAttemptAt: Int64) -> Self {
        Self(id: id, subscription: subscription, orderKey: orderKey, nextAttemptAt: nextAttemptAt)
    }
}
