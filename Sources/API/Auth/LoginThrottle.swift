import Catalog
import Foundation

/// Failed logins per key (a user name, a client address) within a sliding window; a key with too many is locked
/// until its oldest failure leaves the window. Names are throttled whether or not the user exists. The failures are
/// in the catalogue, so that every instance on one PostgreSQL counts them together.
struct LoginThrottle: Sendable {
    let database: any LoginFailureStore
    let maxFailures: Int
    let window: Int64

    init(database: any LoginFailureStore, maxFailures: Int, window: Duration) {
        self.database = database
        self.maxFailures = maxFailures
        self.window = micros(window)
    }

    /// Seconds to wait, when any key is locked.
    func retryAfter(_ keys: [String], now: Date = Date()) async throws -> Int? {
        let now = now.micros
        let failures = try await database.loginFailures(keys: keys, since: now - window + 1)
        let waits = failures.values.compactMap { recent -> Int? in
            guard recent.count >= maxFailures, let oldest = recent.first else { return nil }
            return max(1, Int((Double(oldest + window - now) / 1_000_000).rounded(.up)))
        }
        return waits.max()
    }

    func fail(_ keys: [String], now: Date = Date()) async throws {
        let now = now.micros
        try await database.recordLoginFailure(keys: keys, at: now)
        // Old failures go now and then (1 in 64 failures), so the table stays the size of one window.
        if Int.random(in: 0..<64) == 0 { try await database.pruneLoginFailures(before: now - window) }
    }

    func succeed(_ key: String) async throws {
        try await database.clearLoginFailures(key: key)
    }
}
