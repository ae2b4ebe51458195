import Foundation

/// Failed logins per key (a user name, a client address) within a sliding window; a key with too many is locked
/// until its oldest failure leaves the window. Names are throttled whether or not the user exists.
actor LoginThrottle {
    let maxFailures: Int
    let window: TimeInterval
    var failures: [String: [Date]] = [:]

    init(maxFailures: Int, window: Duration) {
        self.maxFailures = maxFailures
        self.window = seconds(window)
    }

    /// Seconds to wait, when any key is locked.
    func retryAfter(_ keys: [String], now: Date = Date()) -> Int? {
        let waits = keys.compactMap { key -> Int? in
            let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[key] = recent.isEmpty ? nil : recent
            guard recent.count >= maxFailures, let oldest = recent.first else { return nil }
            return max(1, Int((oldest.addingTimeInterval(window).timeIntervalSince(now)).rounded(.up)))
        }
        return waits.max()
    }

    func fail(_ keys: [String], now: Date = Date()) {
        for key in keys { failures[key, default: []].append(now) }
        if failures.count > 100_000 { failures = failures.filter { now.timeIntervalSince($0.value.last ?? now) < window } }
    }

    func succeed(_ key: String) {
        failures[key] = nil
    }
}
