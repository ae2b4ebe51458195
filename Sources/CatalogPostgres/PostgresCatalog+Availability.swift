import Catalog
import Logging
import PostgresNIO
import Synchronization
import _ConnectionPoolModule

extension PostgresCatalogError {
    /// Whether `error` says the server cannot be reached or used right now, rather than that a statement failed: no
    /// connection could be made (refused, timed out, the pool gave up), the connection broke under a query, or the
    /// server is shutting down, starting up (SQLSTATE 57P01-57P03), out of connection slots (53300) or reports a
    /// connection exception (class 08). The one place that decides it: by type, code and SQLSTATE, never by text.
    public static func isUnavailable(_ error: any Error) -> Bool {
        if case CatalogError.unavailable = error { return true }
        if let pool = error as? ConnectionPoolError {
            return pool == .connectionCreationCircuitBreakerTripped || pool == .poolShutdown
        }
        if case PostgresError.connectionClosed? = error as? PostgresError { return true }
        guard let psql = psql(error) else { return error is ChannelError || error is IOError || error is NIOConnectionError }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            guard let state = psql.serverInfo?[.sqlState] else { return false }
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
        default:
            return false
        }
    }
}

/// The catalogue's `PostgresClient`, made to fail fast while the server is unavailable and to come back as soon as it
/// is.
///
/// PostgresNIO's pool (1.33) queues a query while it cannot connect, retrying with a growing backoff, and fails the
/// queue only after 60 s without a connection (its circuit breaker, not configurable through `PostgresClient`); then it
/// fails every query at once until one of its retries (backoff up to a minute) gets through. Requests would hang for a
/// minute, and the pool would come back up to a minute after the server. So here:
/// - a call still running after `checkAfter` makes one new connection to the server (a probe, shared by concurrent
///   calls, at most `probeTimeout`). If the probe fails, the call is cancelled (a wait for a pooled connection ends at
///   once) and fails with `CatalogError.unavailable`; if it succeeds, the call is only slow and goes on.
/// - while the server is down (the last probe failed), a call probes first (one probe per `probeReuse`) and fails at
///   once, without queueing in the pool;
/// - the first probe that succeeds after a failed one replaces the pool with a new one (no backoff to wait out);
/// - errors that say the server is unreachable (`PostgresCatalogError.isUnavailable`) become `CatalogError.unavailable`.
/// A query already sent on a connection whose peer vanished without a reset still waits for TCP to give up.
final class PostgresPool: Sendable {
    static let checkAfter = Duration.seconds(1)
    static let probeTimeout = Duration.seconds(2)
    static let probeReuse = Duration.milliseconds(500)

    private struct Pool {
        var client: PostgresClient
        var runner: Task<Void, Never>
        var closed = false
    }

    private struct Health {
        /// Why the last probe failed, while it did; nil while the server takes connections.
        var down: String?
        var downSince: ContinuousClock.Instant?
        var probe: Task<String?, Never>?
        var lastProbe: (at: ContinuousClock.Instant, failure: String?)?
    }

    private let configuration: PostgresClient.Configuration
    /// A single connection's settings, for probes; nil without a URL (then calls are not watched).
    private let probeConfiguration: PostgresConnection.Configuration?
    private let url: PostgresURL?
    private let logger: Logger
    private let pool: Mutex<Pool>
    private let health = Mutex(Health())

    init(configuration: PostgresClient.Configuration, url: PostgresURL?, logger: Logger) {
        self.configuration = configuration
        self.url = url
        self.logger = logger
        var probe = try? url?.connectionConfiguration()
        probe?.options.connectTimeout = .milliseconds(Int64(Self.probeTimeout.components.seconds * 1000))
        probeConfiguration = probe
        pool = Mutex(Self.start(configuration, logger: logger))
    }

    private static func start(_ configuration: PostgresClient.Configuration, logger: Logger) -> Pool {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return Pool(client: client, runner: Task { await client.run() })
    }

    /// Closes the pool's connections; later calls fail.
    func close() async {
        let runner = pool.withLock { pool in
            pool.closed = true
            return pool.runner
        }
        runner.cancel()
        await runner.value
    }

    // MARK: What the catalogue calls (PostgresClient's own signatures)

    @discardableResult
    func query(_ query: PostgresQuery, logger: Logger? = nil, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        try await run { client in try await client.query(query, logger: logger, file: file, line: line) }
    }

    /// A prepared statement (prepared once per connection, then only bound and run: no planning per call), its rows
    /// collected.
    func execute<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger? = nil) async throws -> [Statement.Row]
    where Statement.Row: Sendable {
        try await run { client in
            var rows: [Statement.Row] = []
            for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
    }

    /// Under a lease (`LeaseFence.current`), the transaction first checks the fence. Writes that may run under a lease
    /// go through here, never through `query`.
    func withTransaction<Result>(
        logger: Logger, file: String = #file, line: Int = #line, _ closure: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let fence = LeaseFence.current
        do {
            return try await run { client in
                try await client.withTransaction(logger: logger, file: file, line: line) { connection in
                    if let fence { try await Self.check(fence, on: connection, logger: logger) }
                    return Unchecked(try await closure(connection))
                }.value
            }
        } catch let error as PostgresTransactionError where error.closureError is CatalogError {
            // Rolled back; the catalogue's own error comes out as itself.
            throw error.closureError!
        }
    }

    /// The lease still has the fence's token and has not expired; its row stays share-locked until the transaction
    /// ends, so a hand-over (an update of the row) waits for this transaction's writes.
    static func check(_ fence: LeaseFence, on connection: PostgresConnection, logger: Logger) async throws {
        let held = try await connection.query(
            """
            SELECT 1 FROM leases WHERE name = \(fence.name) AND token = \(fence.token) AND expires_at > \(unescaped: PostgresCatalog.databaseNow)
            FOR SHARE
            """, logger: logger
        ).collect()
        guard !held.isEmpty else { throw CatalogError.leaseLost(fence.name) }
    }

    func withConnection<Result>(_ closure: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await run { client in try await client.withConnection { Unchecked(try await closure($0)) }.value }
    }

    // MARK: Watching

    /// Runs `operation` on the current pool: at once `CatalogError.unavailable` while the server is known to be down,
    /// watched while it runs, its unavailability errors mapped.
    private func run<R>(_ operation: (PostgresClient) async throws -> R) async throws -> R {
        if health.withLock({ $0.down != nil }), let failure = await probe() { throw CatalogError.unavailable(failure) }
        var retried = false
        while true {
            let client = pool.withLock { $0.client }
            do {
                return try await watched { try await operation(client) }
            } catch let error as ConnectionPoolError where !retried && error != .requestCancelled {
                // The pool refused the lease, so the call never ran and may run again: the pool was replaced under it,
                // or its circuit breaker is still open although the server may be back.
                retried = true
                if pool.withLock({ $0.client !== client }) { continue }
                if let failure = await probe() { throw CatalogError.unavailable(failure) }
                replace(client)
            } catch {
                guard PostgresCatalogError.isUnavailable(error) else { throw error }
                if case CatalogError.unavailable = error { throw error }
                // The connection broke: one probe (shared by a burst of such errors) tells whether the server is down.
                _ = await probe()
                throw CatalogError.unavailable(describe(error))
            }
        }
    }

    /// `operation`, with a watchdog that probes the server every `checkAfter` while it runs, and cancels it when a
    /// probe fails (unless it finishes anyway).
    private func watched<R>(_ operation: () async throws -> R) async throws -> R {
        guard probeConfiguration != nil else { return try await operation() }
        // The task group ends both tasks before it returns: the closure does not outlive this call.
        return try await withoutActuallyEscaping(operation) { operation in
            let operation = Unchecked(operation)
            return try await withThrowingTaskGroup(of: Outcome<R>.self) { group in
                group.addTask { .finished(Unchecked(try await operation.value())) }
                group.addTask {
                    while true {
                        try await Task.sleep(for: Self.checkAfter)
                        if let failure = await self.probe() { return .unavailable(failure) }
                    }
                }
                switch try await group.next() {
                case .finished(let result)?:
                    group.cancelAll()
                    return result.value
                case .unavailable(let failure)?:
                    group.cancelAll()
                    if case .finished(let result)? = try? await group.next() { return result.value }
                    throw CatalogError.unavailable(failure)
                case nil:
                    throw CancellationError()
                }
            }
        }
    }

    /// nil when a new connection could be made and authenticated just now; otherwise why not. One probe at a time,
    /// its answer reused for `probeReuse`.
    private func probe() async -> String? {
        guard let configuration = probeConfiguration else { return nil }
        enum Next {
            case known(String?)
            case wait(Task<String?, Never>)
        }
        let next: Next = health.withLock { health in
            if let last = health.lastProbe, last.at.duration(to: .now) < Self.probeReuse { return .known(last.failure) }
            if let running = health.probe { return .wait(running) }
            let task = Task { await self.connectOnce(configuration) }
            health.probe = task
            return .wait(task)
        }
        switch next {
        case .known(let failure): return failure
        case .wait(let task): return await task.value
        }
    }

    /// One probe; records the server down or back (replacing the pool when it is back, before anyone sees it up).
    private func connectOnce(_ configuration: PostgresConnection.Configuration) async -> String? {
        var failure: String?
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
        } catch  where PostgresCatalogError.sqlState(error) == "53300" {
            // Out of connection slots: the server answers, and the pool's open connections still serve (calls wait
            // for one, as under any load). Not down: no fast 503s, no new pool.
        } catch {
            failure = describe(error)
        }
        let wasDown = health.withLock { $0.down != nil }
        if wasDown, failure == nil { replace(nil) }
        let change: (down: Bool, outage: Duration?) = health.withLock { health in
            defer {
                health.probe = nil
                health.lastProbe = (.now, failure)
            }
            switch (health.down, failure) {
            case (nil, let failure?):
                health.down = failure
                health.downSince = .now
                return (true, nil)
            case (.some, nil):
                let outage = health.downSince.map { $0.duration(to: .now) }
                health.down = nil
                health.downSince = nil
                return (false, outage)
            case (.some, let failure?):
                health.down = failure
                return (false, nil)
            case (nil, nil):
                return (false, nil)
            }
        }
        if change.down {
            logger.error(
                "PostgreSQL unavailable: requests that need the catalogue answer 503 until it is back", metadata: ["error": "\(failure ?? "")"])
        }
        if let outage = change.outage {
            logger.notice("PostgreSQL available again", metadata: ["unavailable_for": "\(outage)"])
        }
        return failure
    }

    /// A new pool in place of `client`'s (of the current one when nil), which is closed: it may be backing off
    /// for up to a minute after an outage. Its queued calls fail with `poolShutdown` and run again on the new one.
    private func replace(_ client: PostgresClient?) {
        let old: Task<Void, Never>? = pool.withLock { pool in
            guard !pool.closed, client == nil || pool.client === client else { return nil }
            let old = pool.runner
            pool = Self.start(configuration, logger: logger)
            return old
        }
        old?.cancel()
    }

    /// The server and the reason, never the URL (it holds the password).
    private func describe(_ error: any Error) -> String {
        if case CatalogError.unavailable(let reason) = error { return reason }
        if let pool = error as? ConnectionPoolError, pool == .connectionCreationCircuitBreakerTripped {
            return "\(url.map { "PostgreSQL at \($0.host):\($0.port)" } ?? "PostgreSQL"): no connection could be made"
        }
        guard let url else { return "PostgreSQL: \(type(of: error))" }
        return "\(PostgresCatalogError.from(error, at: url))"
    }

    private enum Outcome<R>: @unchecked Sendable {
        case finished(Unchecked<R>)
        case unavailable(String)
    }
}

/// A value handed between the task that waits and the child task that computes it, never used by both at once.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
