import Domain
import Foundation

/// What operators need from the store itself, and the ingest loop's hand-over to it.
public protocol MaintenanceStore: Sendable {
    /// `sqlite` or `postgres` (logs, `/readyz`).
    var backendName: String { get }
    /// Rows and bytes, for metrics.
    func sizes() async throws -> AppDatabase.Sizes
    /// Commits a real write, so a full disk, a read-only file or an unreachable server fails here (readiness).
    func checkWritable() async throws
    /// Group commit: calls `next(nil)` for the first groups, writes each batch in one transaction and hands its
    /// outcome to `next`, which returns the following batch, or nil to end the loop.
    func drainIngest(sessionGap: Int64, _ next: @escaping @Sendable (Result<[IngestResult], any Error>?) -> [[IngestEvent]]?)
    /// How many such loops may write at once: SQLite has one writer; PostgreSQL takes concurrent transactions.
    var ingestWriters: Int { get }
    /// Closes the store's connections (SQLite: checkpoints the WAL into the file first).
    func shutdown() async
}

/// Work that must run on one instance at a time (reconciler, retention, history pruning, webhook delivery) runs
/// under a lease. SQLite has one instance: its lease is always held.
public protocol LeaseStore: Sendable {
    /// Takes `name` for `holder`, or renews it if `holder` has it, until `ttl` past the database's clock (one clock
    /// for every instance). Returns the lease's fencing token, which grows each time the lease changes hands, or
    /// nil while another holder's lease has not expired.
    func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> Int64?
    /// Gives `name` up if `holder` has it, so a clean shutdown hands the work over at once.
    func releaseLease(_ name: String, holder: String) async throws
}

/// Failed logins, kept in the catalogue so that every instance counts them together (a password guesser spread
/// over several instances is locked out as fast as on one).
public protocol LoginFailureStore: Sendable {
    /// The failures of each of `keys` at or after `since` (µs), oldest first; keys without any are left out.
    func loginFailures(keys: [String], since: Int64) async throws -> [String: [Int64]]
    func recordLoginFailure(keys: [String], at: Int64) async throws
    func clearLoginFailures(key: String) async throws
    @discardableResult
    func pruneLoginFailures(before: Int64) async throws -> Int
}

/// Short messages to every instance on the catalogue (PostgreSQL `NOTIFY`): live events for SSE clients connected
/// elsewhere and wake-ups for background work. A message is at most `maxBroadcastBytes` of UTF-8. SQLite has one
/// instance: nothing is sent and nothing arrives.
public protocol ChangeFeed: Sendable {
    /// Whether other instances can share this catalogue and so hear its messages (PostgreSQL); false for SQLite, one
    /// process's file, where there is nobody to tell.
    var reachesOtherInstances: Bool { get }
    /// Sends `message` to every listening instance, the sender's own included.
    func broadcast(_ message: String) async throws
    /// Messages from every instance (the sender's own included), from now on, until the stream is dropped.
    func changes() -> AsyncStream<String>
}

/// The lease a piece of background work runs under, with the fencing token it was granted. Work under a lease binds
/// it (`LeaseFence.$current.withValue`); every PostgreSQL transaction started meanwhile first checks that the lease
/// still has this token and has not expired, keeping the lease row share-locked until it commits (a hand-over waits
/// for the write), and fails with `CatalogError.leaseLost` otherwise, writing nothing. An instance that stalled past
/// its lease cannot overwrite what the new holder wrote. On SQLite, one process's file, the lease is always held.
public struct LeaseFence: Sendable, Equatable {
    public var name: String
    public var token: Int64

    public init(name: String, token: Int64) {
        self.name = name
        self.token = token
    }

    @TaskLocal public static var current: LeaseFence?
}

/// PostgreSQL's `NOTIFY` payload limit is 8,000 bytes; a little is kept back.
public let maxBroadcastBytes = 7_900

/// Every capability of the catalogue: what the server runs on, SQLite (`AppDatabase`) or PostgreSQL
/// (`PostgresCatalog`).
public typealias CatalogBackend = SourceStore & WebhookSubscriptionStore & AssetStore & AuthStore & IndexStore & RetentionStore
    & WebhookOutboxStore & MaintenanceStore & LeaseStore & LoginFailureStore & ChangeFeed & NodeStore
