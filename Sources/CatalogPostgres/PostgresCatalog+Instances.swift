import Catalog
import Domain
import Foundation
import Logging
import PostgresNIO
import Synchronization

extension PostgresCatalog {
    /// Leases, failed logins (SQLite's `v10_login_failures`) and the readiness check's row.
    static let instanceMigrations: [(name: String, statements: [String])] = [
        (
            "v7_leases_login_failures",
            [
                // A row outlives its holder (a release only expires it), so the token keeps growing across hand-overs.
                """
                CREATE TABLE leases (
                    name text PRIMARY KEY,
                    holder text NOT NULL,
                    token bigint NOT NULL,
                    expires_at bigint NOT NULL
                )
                """,
                "CREATE TABLE login_failures (key text NOT NULL, at bigint NOT NULL)",
                "CREATE INDEX login_failures_key_at ON login_failures (key, at)",
                // One row that `checkWritable` rewrites: a real committed write that no other table sees.
                """
                CREATE TABLE health_checks (
                    id smallint PRIMARY KEY CHECK (id = 1),
                    checked_at bigint NOT NULL
                )
                """,
            ]
        )
    ]

    /// The database's clock in µs since 1970: lease times are read and written on this one clock, whatever the
    /// instances' clocks say.
    static let databaseNow = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
}

extension PostgresCatalog: MaintenanceStore {
    public var backendName: String { "postgres" }

    public func shutdown() async {
        await close()
    }

    /// One statement, so one snapshot: the counts agree with each other as SQLite's single read does.
    public func sizes() async throws -> AppDatabase.Sizes {
        var sizes = AppDatabase.Sizes(sources: 0, segments: [:], databaseBytes: 0, webhooksPending: 0)
        let rows = try await client.query(
            """
            SELECT 'segment', state, count(*) FROM segments GROUP BY state
            UNION ALL SELECT 'sources', NULL, count(*) FROM media_sources
            UNION ALL SELECT 'pending', NULL, count(*) FROM webhook_deliveries WHERE state = 'pending'
            UNION ALL SELECT 'bytes', NULL, pg_database_size(current_database())
            """, logger: logger
        ).decode((String, String?, Int64).self)
        for try await (kind, state, n) in rows {
            switch kind {
            case "segment": sizes.segments[state ?? "", default: 0] += Int(n)
            case "sources": sizes.sources = Int(n)
            case "pending": sizes.webhooksPending = Int(n)
            default: sizes.databaseBytes = n
            }
        }
        return sizes
    }

    /// Upserts the one `health_checks` row in its own (autocommit) transaction: a read-only server (a standby after a
    /// failover, `default_transaction_read_only`), a full disk or an unreachable server fails here.
    public func checkWritable() async throws {
        try await client.query(
            """
            INSERT INTO health_checks (id, checked_at) VALUES (1, \(unescaped: Self.databaseNow))
            ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
            """, logger: logger)
    }

    /// The group-commit loop of SQLite's writer queue, as one task: each batch is one `ingest(groups:)`
    /// transaction, written one after the other, its outcome handed to `next` (which does not block).
    public func drainIngest(sessionGap: Int64, _ next: @escaping @Sendable (Result<[IngestResult], any Error>?) -> [[IngestEvent]]?) {
        Task {
            var groups = next(nil)
            while let current = groups {
                let outcome: Result<[IngestResult], any Error>
                do {
                    outcome = .success(try await ingest(groups: current, receivedAt: Date().micros, sessionGap: sessionGap))
                } catch {
                    outcome = .failure(error)
                }
                groups = next(outcome)
            }
        }
    }
}

extension PostgresCatalog: LeaseStore {
    /// One statement on the database's clock: a new name is inserted with token 1; a held one is taken over only if
    /// its holder asks (renewal, same token) or it has expired (hand-over, token + 1). Two instances asking at once
    /// are serialised on the row, so at most one gets it.
    public func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> Int64? {
        let (seconds, attoseconds) = ttl.components
        let ttlMicros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return try await client.query(
            """
            WITH now AS (SELECT \(unescaped: Self.databaseNow) AS us)
            INSERT INTO leases AS l (name, holder, token, expires_at)
            SELECT \(name), \(holder), 1, now.us + \(ttlMicros) FROM now
            ON CONFLICT (name) DO UPDATE SET
                holder = excluded.holder,
                expires_at = excluded.expires_at,
                token = CASE WHEN l.holder = excluded.holder THEN l.token ELSE l.token + 1 END
            WHERE l.holder = excluded.holder OR l.expires_at < (SELECT us FROM now)
            RETURNING l.token
            """, logger: logger
        ).decode(Int64.self).reduce(nil) { _, token in token }
    }

    /// Expires the lease rather than deleting it: the next holder's token is still larger.
    public func releaseLease(_ name: String, holder: String) async throws {
        try await client.query("UPDATE leases SET expires_at = 0 WHERE name = \(name) AND holder = \(holder)", logger: logger)
    }
}

extension PostgresCatalog: LoginFailureStore {
    public func loginFailures(keys: [String], since: Int64) async throws -> [String: [Int64]] {
        guard !keys.isEmpty else { return [:] }
        var found: [String: [Int64]] = [:]
        let rows = try await client.query(
            "SELECT key, at FROM login_failures WHERE key = ANY(\(keys)::text[]) AND at >= \(since) ORDER BY at", logger: logger
        ).decode((String, Int64).self)
        for try await (key, at) in rows { found[key, default: []].append(at) }
        return found
    }

    public func recordLoginFailure(keys: [String], at: Int64) async throws {
        guard !keys.isEmpty else { return }
        try await client.query("INSERT INTO login_failures (key, at) SELECT k, \(at) FROM unnest(\(keys)::text[]) AS k", logger: logger)
    }

    public func clearLoginFailures(key: String) async throws {
        try await client.query("DELETE FROM login_failures WHERE key = \(key)", logger: logger)
    }

    @discardableResult
    public func pruneLoginFailures(before: Int64) async throws -> Int {
        try await client.query(
            "WITH gone AS (DELETE FROM login_failures WHERE at < \(before) RETURNING 1) SELECT count(*) FROM gone", logger: logger
        ).decode(Int.self).reduce(0, +)
    }
}

extension PostgresCatalog: ChangeFeed {
    public var reachesOtherInstances: Bool { true }

    /// `NOTIFY` through the pool: delivered at commit (at once here, autocommit) to every session listening, this
    /// instance's own listener included.
    public func broadcast(_ message: String) async throws {
        let bytes = message.utf8.count
        guard bytes <= maxBroadcastBytes else {
            throw PostgresCatalogError(
                description: "a broadcast message is at most \(maxBroadcastBytes) bytes of UTF-8, this one has \(bytes)")
        }
        try await client.query("SELECT pg_notify(\(ChangeListener.channel), \(message))", logger: logger)
    }

    public func changes() -> AsyncStream<String> {
        feed.subscribe()
    }
}

/// The catalogue's one `LISTEN` connection, apart from the pool (a pooled connection would go back to the pool
/// still listening, or be closed under the listener). Started by the first `changes()`, it fans each notification
/// out to every current stream and reconnects when the connection drops, until `stop()`.
final class ChangeListener: Sendable {
    static let channel = "mtx_companion"
    /// Shown in `pg_stat_activity.application_name`, so operators (and the tests) can tell the connection apart.
    static let applicationName = "mtx-companion change feed"
    /// A stream whose reader falls this far behind loses its oldest messages rather than growing without bound.
    static let streamBuffer = 10_000
    /// How often the idle connection is checked: a connection dropped without a FIN or RST (a dead peer, a NAT
    /// that forgot it) would otherwise look alive for as long as TCP retransmits.
    static let pingInterval = Duration.seconds(15)
    static let pingTimeout = Duration.seconds(10)

    private struct State {
        var streams: [Int: AsyncStream<String>.Continuation] = [:]
        var nextID = 0
        var task: Task<Void, Never>?
        var stopped = false
    }

    private let url: PostgresURL?
    private let logger: Logger
    private let state = Mutex(State())

    init(url: PostgresURL?, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    func subscribe() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(Self.streamBuffer))
        let id: Int? = state.withLock { state in
            guard !state.stopped, url != nil else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.streams[id] = continuation
            if state.task == nil { state.task = Task { await self.run() } }
            return id
        }
        guard let id else {
            // Closed (or made without a URL): nothing will ever arrive.
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends the listener and every stream; later `subscribe()` calls get finished streams.
    func stop() async {
        let (task, streams) = state.withLock { state in
            state.stopped = true
            defer { state.streams = [:] }
            return (state.task, Array(state.streams.values))
        }
        task?.cancel()
        await task?.value
        // Outside the lock: `finish()` runs `onTermination`, which takes it.
        for stream in streams { stream.finish() }
    }

    private func fanOut(_ message: String) {
        let streams = state.withLock { Array($0.streams.values) }
        for stream in streams { stream.yield(message) }
    }

    /// Connects, listens until the connection fails, waits (100 ms doubling to 1 s; reset once listening) and
    /// connects again. Notifications sent while no connection listens are lost: `NOTIFY` keeps nothing.
    private func run() async {
        guard let url else { return }
        let server = "\(url.host):\(url.port)"
        var backoff = Duration.milliseconds(100)
        var failing = false
        var connectionID = 0
        while !Task.isCancelled {
            do {
                var configuration = try url.connectionConfiguration()
                configuration.options.additionalStartupParameters = [("application_name", Self.applicationName)]
                connectionID += 1
                let connection = try await PostgresConnection.connect(configuration: configuration, id: connectionID, logger: logger)
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        if failing { logger.info("change feed listening again", metadata: ["server": "\(server)"]) }
                        failing = false
                        backoff = .milliseconds(100)
                        try await withThrowingTaskGroup { group in
                            group.addTask {
                                for try await notification in notifications { self.fanOut(notification.payload) }
                            }
                            group.addTask { try await self.ping(connection) }
                            // Either ending (the connection failed, or the task was cancelled) ends both.
                            try await group.next()
                            group.cancelAll()
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                // The server and its reason, never the URL (it holds the password).
                let reason = PostgresCatalogError.from(error, at: url)
                if failing {
                    logger.debug("change feed still not connected", metadata: ["error": "\(reason)"])
                } else {
                    logger.warning("change feed lost its connection, reconnecting", metadata: ["error": "\(reason)"])
                }
                failing = true
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(1))
        }
    }

    /// `SELECT 1` every `pingInterval`; one unanswered within `pingTimeout` closes the connection, which fails the
    /// notification sequence and so reconnects.
    private func ping(_ connection: PostgresConnection) async throws {
        while true {
            try await Task.sleep(for: Self.pingInterval)
            let watchdog = Task {
                try await Task.sleep(for: Self.pingTimeout)
                try? await connection.close()
            }
            defer { watchdog.cancel() }
            _ = try await connection.query("SELECT 1", logger: logger).collect()
        }
    }
}
