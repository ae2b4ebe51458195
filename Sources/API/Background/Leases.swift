import Catalog
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The work that must run on one instance at a time, each under its own lease in the catalogue: the reconciler
/// (with history pruning), retention, and webhook delivery. Every instance tries to take each lease and the one that
/// has it renews it every third of `timeout`; killing it hands the work to another instance within `timeout`.
/// An instance that cannot renew (the database is unreachable) stops the work itself once its lease may have
/// expired, so two instances never both believe they hold it for longer than a clock's drift. On SQLite the
/// lease is always held.
public final class Leases: Service, Sendable {
    public enum Name: String, CaseIterable, Sendable {
        case reconciler, retention, webhooks
    }

    struct State {
        /// The fencing token of each lease held, and until when (this process's clock) it may be trusted.
        var held: [Name: (token: Int64, trustedUntil: ContinuousClock.Instant)] = [:]
        /// First round done: before it, `holds` waits instead of answering "no".
        var started = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    let database: any CatalogBackend
    /// This instance's name (`server.instance`).
    public let instance: String
    /// This process among the instances: `instance` and a random suffix, so a restarted instance is a new holder.
    public let holder: String
    let timeout: Duration
    let logger: Logger
    private let state = Mutex(State())

    public init(database: any CatalogBackend, instance: String, timeout: Duration, logger: Logger) {
        self.database = database
        self.instance = instance
        holder = "\(instance)/\(UUID().uuidString.prefix(8).lowercased())"
        self.timeout = timeout
        self.logger = logger
    }

    /// Whether this instance holds `name` now; waits for the first round of acquisitions at start.
    public func holds(_ name: Name) async -> Bool {
        let ready = state.withLock { $0.started }
        if !ready {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.started { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        return state.withLock { state in
            guard let lease = state.held[name] else { return false }
            return ContinuousClock.now < lease.trustedUntil
        }
    }

    /// The fence of `name` while this instance holds it: the work done under it binds it (`LeaseFence.$current`), so
    /// that its writes are refused once another instance has taken the lease over.
    public func fence(_ name: Name) -> LeaseFence? {
        state.withLock { state in
            guard let lease = state.held[name], ContinuousClock.now < lease.trustedUntil else { return nil }
            return LeaseFence(name: name.rawValue, token: lease.token)
        }
    }

    /// The leases held, for `/readyz`: name → fencing token.
    public func snapshot() -> [String: Int64] {
        state.withLock { state in
            Dictionary(
                uniqueKeysWithValues: state.held.filter { ContinuousClock.now < $0.value.trustedUntil }.map { ($0.key.rawValue, $0.value.token) })
        }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await round()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.timeout / 3) }
        }
        for name in state.withLock({ Array($0.held.keys) }) {
            try? await database.releaseLease(name.rawValue, holder: holder)
        }
        // Stopped before its first round (a short-lived app): those waiting in `holds` hear "no" instead of waiting
        // for ever, so that their services can end too.
        let waiting = state.withLock { state in
            state.held = [:]
            state.started = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Takes or renews every lease once.
    func round() async {
        for name in Name.allCases {
            // Counted from before the request: the database's expiry is at least this late.
            let asked = ContinuousClock.now
            do {
                let token = try await database.acquireLease(name.rawValue, holder: holder, ttl: timeout)
                let gained = state.withLock { state -> Bool in
                    let had = state.held[name]
                    if let token {
                        state.held[name] = (token, asked + timeout)
                    } else {
                        state.held[name] = nil
                    }
                    return token != nil && had?.token != token
                }
                if gained { logger.notice("lease taken", metadata: ["lease": "\(name.rawValue)", "token": "\(token ?? 0)", "holder": "\(holder)"]) }
            } catch {
                // Kept until it may have expired (trustedUntil), then dropped by `holds`.
                logger.warning("lease not renewed", metadata: ["lease": "\(name.rawValue)", "error": "\(error)"])
            }
        }
        let waiting = state.withLock { state in
            state.started = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
