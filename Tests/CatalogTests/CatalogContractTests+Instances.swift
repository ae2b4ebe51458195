import Catalog
import Domain
import Foundation
import HookWire
import PostgresNIO
import PostgresScratch
import Synchronization
import Testing

@testable import CatalogPostgres

/// What several instances on one catalogue need (`MaintenanceStore`, `LeaseStore`, `LoginFailureStore`,
/// `ChangeFeed`) on every backend. SQLite has one instance: its lease is always held and its feed is silent.
extension CatalogContractTests {
    /// The whole backend, and on PostgreSQL its database's URL (to open a second instance on it).
    func withCatalog(_ backend: Backend, _ body: (any CatalogBackend, String?) async throws -> Void) async throws {
        switch backend {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let database = try AppDatabase.open(path: dir.appendingPathComponent("catalog.sqlite").path)
            try await body(database, nil)
            try database.close()
        case .postgres:
            // `withStore` says why when there is no server; its store is this backend's catalogue.
            guard Self.postgresURL != nil else { return try await withStore(backend) { _ in } }
            try await PostgresScratch.withCatalog(try #require(Self.postgresURL)) { catalog, url in try await body(catalog, url) }
        }
    }

    /// Polls `condition` until it holds or `timeout` has passed; returns whether it held.
    static func eventually(within timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    // MARK: - Maintenance

    @Test(arguments: Backend.allCases)
    func sizesCountWhatIsStoredAndCheckWritableTouchesNothingElse(backend: Backend) async throws {
        try await withCatalog(backend) { catalog, _ in
            #expect(catalog.backendName == backend.rawValue)
            let empty = try await catalog.sizes()
            #expect(empty.sources == 0 && empty.segments == [:] && empty.webhooksPending == 0 && empty.databaseBytes > 0)

            let camera = Self.source("Camera", at: 1_764_600_000)
            try await catalog.insertSource(camera, announcing: [])
            try await catalog.insertSource(Self.source("Other", at: 1_764_600_001), announcing: [])
            try await catalog.insertSubscription(
                WebhookSubscription(
                    id: UUID(), url: "https://hooks.example/all", events: ["stream.online", "recording.segment_completed"], sourceIDs: nil,
                    secret: "s", enabled: true, createdAt: 1, updatedAt: 1))
            let t: Int64 = 1_764_600_000_000_000
            let path = camera.pathName
            let result = try await catalog.ingest(
                [
                    Self.event("on", .available, at: t, path: path),
                    Self.event("c1", .segmentCreate, at: t + 1, path: path, segment: Self.segment(t)),
                    Self.event("k1", .segmentComplete, at: t + 2_000_000, path: path, segment: Self.segment(t, duration: 2, size: 10)),
                    Self.event("c2", .segmentCreate, at: t + 2_000_001, path: path, segment: Self.segment(t + 2_000_000)),
                ], receivedAt: t, sessionGap: 1_000_000)
            #expect(result.webhooks == 2)

            let sizes = try await catalog.sizes()
            #expect(sizes.sources == 2 && sizes.segments == ["complete": 1, "recording": 1] && sizes.webhooksPending == 2)

            try await catalog.checkWritable()
            try await catalog.checkWritable()
            var after = try await catalog.sizes()
            after.databaseBytes = sizes.databaseBytes
            #expect(after == sizes)
        }
    }

    /// A server that refuses writes (a standby after a failover, here `default_transaction_read_only`) fails the
    /// check, while reads still work; it passes again once writes are allowed. PostgreSQL only: a SQLite file's
    /// read-only case is the operating system's.
    @Test func checkWritableFailsOnAReadOnlyServer() async throws {
        try await withCatalog(.postgres) { catalog, url in
            let url = try PostgresURL(try #require(url))
            let catalog = try #require(catalog as? PostgresCatalog)
            // Only new sessions take the database's default: each state is seen by a new instance (a new pool).
            func setReadOnly(_ on: Bool) async throws {
                let setting = on ? "SET default_transaction_read_only = on" : "RESET default_transaction_read_only"
                try await catalog.client.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \"\(url.database)\" \(setting)"), logger: quiet)
            }
            func withNewInstance(_ body: (PostgresCatalog) async throws -> Void) async throws {
                let instance = PostgresCatalog(configuration: url.clientConfiguration, url: url, logger: quiet)
                do {
                    try await body(instance)
                } catch {
                    await instance.close()
                    throw error
                }
                await instance.close()
            }

            try await catalog.checkWritable()
            try await setReadOnly(true)
            try await withNewInstance { (readOnly: PostgresCatalog) async throws in
                do {
                    try await readOnly.checkWritable()
                    Issue.record("a read-only server passed the check")
                } catch {
                    // 25006: read_only_sql_transaction.
                    #expect(PostgresCatalogError.sqlState(error) == "25006", "\(String(reflecting: error))")
                }
                #expect(try await readOnly.sizes().sources == 0)
            }
            try await setReadOnly(false)
            try await withNewInstance { writable in try await writable.checkWritable() }
        }
    }

    /// Group commit: the loop asks for the first batch with nil, hands each batch's results to the next call, and
    /// ends when it gets nil; what it wrote is indexed, received now.
    @Test(arguments: Backend.allCases)
    func drainIngestWritesEachBatchAndHandsBackItsResults(backend: Backend) async throws {
        try await withCatalog(backend) { catalog, _ in
            let batches: [[[IngestEvent]]] = [
                [
                    [Self.event("e1", .available, at: 10, path: "live/a"), Self.event("e2", .online, at: 11, path: "live/a")],
                    [Self.event("e3", .read, at: 12, path: "live/a", reader: "r1")],
                ],
                [
                    [
                        Self.event("e1", .available, at: 10, path: "live/a"),
                        Self.event("e4", .segmentCreate, at: 13, path: "live/b", segment: Self.segment(13)),
                    ]
                ],
            ]
            let started = Date().micros
            let outcomes = try await Self.drain(catalog, batches)
            #expect(outcomes.count == 3)
            #expect(outcomes.first.map { $0 == nil } == true)
            let first = try #require(try outcomes[1]?.get())
            #expect(first.count == 2)
            #expect(first[0].accepted == 2 && first[0].duplicates == 0 && first[0].acceptedIDs == ["e1", "e2"])
            #expect(first[1].accepted == 1 && first[1].acceptedIDs == ["e3"])
            let second = try #require(try outcomes[2]?.get())
            #expect(second.count == 1 && second[0].accepted == 1 && second[0].duplicates == 1 && second[0].acceptedIDs == ["e4"])

            #expect(
                try await catalog.pathState("live/a")
                    == PathState(
                        pathName: "live/a", available: true, availableSince: 10, online: true, onlineSince: 11, sourceType: "rtmpConn",
                        sourceID: "conn-1", readers: ["r1": "hlsMuxer"]))
            #expect(try await catalog.history(path: "live/a", limit: 10, before: nil).map(\.eventID) == ["e3", "e2", "e1"])
            #expect(try await catalog.isRecording(path: "live/b"))

            // Once ended, the loop starts again for the next request.
            let again = try await Self.drain(catalog, [[[Self.event("e5", .unread, at: 14, path: "live/a", reader: "r1")]]])
            #expect(try again.last??.get().first?.accepted == 1)
            #expect(try await catalog.pathState("live/a").readers == [:])

            // Received now (µs): none before the loop started, all five by now.
            #expect(try await catalog.pruneHistory(receivedBefore: started) == 0)
            #expect(try await catalog.pruneHistory(receivedBefore: Date().micros + 1) == 5)
        }
    }

    /// Runs `drainIngest` over `batches` until it ends; the outcomes `next` was given, in order.
    static func drain(_ catalog: any CatalogBackend, _ batches: [[[IngestEvent]]]) async throws -> [Result<[IngestResult], any Error>?] {
        let state = Locked<(batches: [[[IngestEvent]]], outcomes: [Result<[IngestResult], any Error>?])>((batches, []))
        return try await withCheckedThrowingContinuation { done in
            catalog.drainIngest(sessionGap: 1_000_000) { outcome in
                let (next, outcomes) = state.withLock { state in
                    state.outcomes.append(outcome)
                    return (state.batches.isEmpty ? nil : state.batches.removeFirst(), state.outcomes)
                }
                if next == nil { done.resume(returning: outcomes) }
                return next
            }
        }
    }

    // MARK: - Leases

    /// A lease is held by one holder until its ttl passes on the database's clock; renewing keeps the fencing token,
    /// a hand-over (after expiry or a release) raises it. SQLite: always held.
    @Test(arguments: Backend.allCases)
    func aLeaseIsHeldByOneHolderUntilItExpiresOrIsReleased(backend: Backend) async throws {
        try await withCatalog(backend) { catalog, _ in
            let long = Duration.seconds(60)
            guard backend == .postgres else {
                #expect(try await catalog.acquireLease("reconciler", holder: "a", ttl: long) != nil)
                #expect(try await catalog.acquireLease("reconciler", holder: "b", ttl: long) != nil)
                try await catalog.releaseLease("reconciler", holder: "a")
                return
            }
            let t = try #require(try await catalog.acquireLease("reconciler", holder: "a", ttl: long))
            #expect(try await catalog.acquireLease("reconciler", holder: "b", ttl: long) == nil)
            // Another name is another lease.
            #expect(try await catalog.acquireLease("retention", holder: "b", ttl: long) != nil)
            // Renewed, shortened to 300 ms: the same token.
            #expect(try await catalog.acquireLease("reconciler", holder: "a", ttl: .milliseconds(300)) == t)
            try await Task.sleep(for: .milliseconds(450))

            let t2 = try #require(try await catalog.acquireLease("reconciler", holder: "b", ttl: long))
            #expect(t2 > t)
            #expect(try await catalog.acquireLease("reconciler", holder: "a", ttl: long) == nil)
            // Only the holder can release it.
            try await catalog.releaseLease("reconciler", holder: "a")
            #expect(try await catalog.acquireLease("reconciler", holder: "a", ttl: long) == nil)
            #expect(try await catalog.acquireLease("reconciler", holder: "b", ttl: long) == t2)

            try await catalog.releaseLease("reconciler", holder: "b")
            let t3 = try #require(try await catalog.acquireLease("reconciler", holder: "a", ttl: long))
            #expect(t3 > t2)
        }
    }

    /// Work under a lease (`LeaseFence`) writes while the lease has its token; once another instance has taken it
    /// over, the old holder's writes are refused and change nothing, the new holder's go through. SQLite's lease is
    /// always held, so its writes always go through.
    @Test(arguments: Backend.allCases)
    func writesUnderALeaseAreRefusedOnceItIsHandedOver(backend: Backend) async throws {
        try await withCatalog(backend) { catalog, _ in
            let path = "live/fenced"
            try await catalog.insertSegments([
                (path: path, start: 1_000_000, duration: 2, size: 10), (path: path, start: 5_000_000, duration: 2, size: 10),
            ])
            func deleted() async throws -> [Int64] {
                try await catalog.segments(SegmentQuery(path: path, includeDeleted: true)).items.filter { $0.state == .deleted }.map(\.start)
            }
            let a = try #require(try await catalog.acquireLease("retention", holder: "a", ttl: .seconds(60)))
            try await LeaseFence.$current.withValue(LeaseFence(name: "retention", token: a)) {
                try await catalog.markSegmentDeleted(path: path, start: 1_000_000, at: 10)
            }
            #expect(try await deleted() == [1_000_000])
            // Renewed for a millisecond (the same token), so that it expires.
            #expect(try await catalog.acquireLease("retention", holder: "a", ttl: .milliseconds(1)) == a)
            try await Task.sleep(for: .milliseconds(50))
            let b = try #require(try await catalog.acquireLease("retention", holder: "b", ttl: .seconds(60)))
            let stale = LeaseFence(name: "retention", token: a)
            guard backend == .postgres else {
                try await LeaseFence.$current.withValue(stale) { try await catalog.markSegmentDeleted(path: path, start: 5_000_000, at: 20) }
                #expect(try await deleted() == [1_000_000, 5_000_000])
                return
            }
            #expect(b > a)
            await #expect(throws: CatalogError.leaseLost("retention")) {
                try await LeaseFence.$current.withValue(stale) { try await catalog.markSegmentDeleted(path: path, start: 5_000_000, at: 20) }
            }
            await #expect(throws: CatalogError.leaseLost("retention")) {
                try await LeaseFence.$current.withValue(stale) { _ = try await catalog.pruneHistory(receivedBefore: .max) }
            }
            #expect(try await deleted() == [1_000_000])
            try await LeaseFence.$current.withValue(LeaseFence(name: "retention", token: b)) {
                try await catalog.markSegmentDeleted(path: path, start: 5_000_000, at: 20)
            }
            #expect(try await deleted() == [1_000_000, 5_000_000])
            // An expired lease fences too, even with its last token.
            _ = try await catalog.acquireLease("retention", holder: "b", ttl: .milliseconds(1))
            try await Task.sleep(for: .milliseconds(50))
            await #expect(throws: CatalogError.leaseLost("retention")) {
                try await LeaseFence.$current.withValue(LeaseFence(name: "retention", token: b)) {
                    try await catalog.markSegmentDeleted(path: path, start: 1_000_000, at: 30)
                }
            }
        }
    }

    /// Instances asking for a free lease at once: exactly one gets it.
    @Test func aLeaseAskedForAtOnceGoesToOneHolder() async throws {
        try await withCatalog(.postgres) { catalog, _ in
            for round in 0..<5 {
                let tokens = try await withThrowingTaskGroup { group in
                    for holder in 0..<8 {
                        group.addTask { try await catalog.acquireLease("race-\(round)", holder: "h\(holder)", ttl: .seconds(60)) }
                    }
                    return try await group.reduce(into: [Int64?]()) { $0.append($1) }
                }
                #expect(tokens.compactMap(\.self) == [1], "round \(round): \(tokens)")
            }
        }
    }

    // MARK: - Login failures

    @Test(arguments: Backend.allCases)
    func loginFailuresAreKeptPerKeyOldestFirst(backend: Backend) async throws {
        try await withCatalog(backend) { catalog, _ in
            #expect(try await catalog.loginFailures(keys: ["user:alice"], since: 0) == [:])
            try await catalog.recordLoginFailure(keys: ["user:alice", "ip:10.0.0.1"], at: 100)
            try await catalog.recordLoginFailure(keys: ["user:alice"], at: 200)
            try await catalog.recordLoginFailure(keys: ["ip:10.0.0.1", "user:bob"], at: 300)
            // Recorded late, read in time order.
            try await catalog.recordLoginFailure(keys: ["ip:10.0.0.1"], at: 50)
            try await catalog.recordLoginFailure(keys: [], at: 400)

            let keys = ["user:alice", "ip:10.0.0.1", "user:nobody"]
            #expect(try await catalog.loginFailures(keys: keys, since: 0) == ["user:alice": [100, 200], "ip:10.0.0.1": [50, 100, 300]])
            // `since` is inclusive.
            #expect(try await catalog.loginFailures(keys: keys, since: 200) == ["user:alice": [200], "ip:10.0.0.1": [300]])
            #expect(try await catalog.loginFailures(keys: keys, since: 301) == [:])
            #expect(try await catalog.loginFailures(keys: [], since: 0) == [:])

            try await catalog.clearLoginFailures(key: "user:alice")
            let all = ["user:alice", "ip:10.0.0.1", "user:bob"]
            #expect(try await catalog.loginFailures(keys: all, since: 0) == ["ip:10.0.0.1": [50, 100, 300], "user:bob": [300]])

            #expect(try await catalog.pruneLoginFailures(before: 300) == 2)
            #expect(try await catalog.loginFailures(keys: all, since: 0) == ["ip:10.0.0.1": [300], "user:bob": [300]])
            #expect(try await catalog.pruneLoginFailures(before: 300) == 0)
        }
    }

    // MARK: - Change feed

    /// Two instances on one database: a message from either reaches every `changes()` stream of both (the sender's
    /// own too), over one listening connection per instance, which comes back after it is cut; closing an instance
    /// ends its streams. SQLite: nothing is sent.
    @Test(arguments: Backend.allCases)
    func broadcastsReachEveryInstance(backend: Backend) async throws {
        try await withCatalog(backend) { a, url in
            guard backend == .postgres else {
                try await a.broadcast("nobody listens")
                return
            }
            let a = try #require(a as? PostgresCatalog)
            let b = try await PostgresCatalog.open(url: try #require(url), logger: quiet)
            do {
                try await Self.checkFeed(a, b)
            } catch {
                await b.close()
                throw error
            }
            await b.close()
        }
    }

    static func checkFeed(_ a: PostgresCatalog, _ b: PostgresCatalog) async throws {
        let inboxA = Inbox(a.changes())
        let inboxB = Inbox(b.changes())
        defer {
            inboxA.stop()
            inboxB.stop()
        }
        // Listening starts with the first `changes()`, a moment later: sent until both hear it.
        #expect(
            try await eventually {
                try await a.broadcast("warm-up")
                return inboxA.messages.contains("warm-up") && inboxB.messages.contains("warm-up")
            })

        // From either instance to both, in the order sent.
        for n in 1...3 { try await a.broadcast("from a \(n)") }
        try await b.broadcast("from b")
        // Each instance hears all four, its own included, before their order is checked.
        #expect(await eventually { [inboxA, inboxB].allSatisfy { $0.messages.contains("from b") && $0.messages.contains("from a 3") } })
        for inbox in [inboxA, inboxB] {
            #expect(inbox.messages.filter { $0.hasPrefix("from ") } == ["from a 1", "from a 2", "from a 3", "from b"])
        }

        // Every stream of an instance gets every message, over the instance's one listening connection.
        let inboxA2 = Inbox(a.changes())
        defer { inboxA2.stop() }
        #expect(
            try await eventually {
                try await b.broadcast("to every stream")
                return inboxA2.messages.contains("to every stream")
            })
        #expect(inboxA.messages.contains("to every stream"))
        #expect(try await feedConnections(a) == 2)

        // The limit is in bytes of UTF-8: 3,951 "é" are 7,902 bytes, refused; 7,900 ASCII bytes go through whole.
        await #expect(throws: PostgresCatalogError.self) { try await a.broadcast(String(repeating: "é", count: 3_951)) }
        let largest = String(repeating: "x", count: maxBroadcastBytes)
        try await a.broadcast(largest)
        #expect(await eventually { inboxB.messages.contains(largest) })

        // The listening connections cut under both: each instance listens again, its streams go on.
        let cut = try await a.client.query(
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = \(ChangeListener.applicationName)
            """, logger: quiet
        ).collect()
        #expect(cut.count == 2)
        var n = 0
        #expect(
            try await eventually {
                n += 1
                try await b.broadcast("after the cut \(n)")
                return inboxA.messages.contains("after the cut \(n)") && inboxB.messages.contains("after the cut \(n)")
            })
        #expect(!inboxA.ended && !inboxB.ended)
        #expect(try await eventually { try await feedConnections(a) == 2 })

        // Closing an instance ends its streams and its connection; a stream asked for afterwards ends at once.
        await b.close()
        #expect(await eventually { inboxB.ended })
        let late = Inbox(b.changes())
        #expect(await eventually { late.ended })
        #expect(try await eventually { try await feedConnections(a) == 1 })
        try await a.broadcast("after b closed")
        #expect(await eventually { inboxA.messages.contains("after b closed") })
        #expect(!inboxA.ended)
    }

    /// The change-feed connections on the catalogue's database, every instance's.
    static func feedConnections(_ catalog: PostgresCatalog) async throws -> Int {
        try await catalog.client.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = \(ChangeListener.applicationName)",
            logger: quiet
        ).decode(Int.self).reduce(0, +)
    }
}

/// A value behind a lock, for closures that outlive the test's scope.
private final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout sending Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// Reads a `changes()` stream into a list as it comes.
private final class Inbox: Sendable {
    private let state = Mutex<(messages: [String], ended: Bool)>(([], false))
    private let reader = Mutex<Task<Void, Never>?>(nil)

    init(_ stream: AsyncStream<String>) {
        reader.withLock {
            $0 = Task { [self] in
                for await message in stream { state.withLock { $0.messages.append(message) } }
                state.withLock { $0.ended = true }
            }
        }
    }

    var messages: [String] { state.withLock { $0.messages } }
    var ended: Bool { state.withLock { $0.ended } }

    func stop() { reader.withLock { $0?.cancel() } }
}
