import Hummingbird
import Synchronization

/// Decisions counted by action and outcome: `GET /api/v1/mediamtx/auth/stats` (admin).
final class AuthDecisionStats: Sendable {
    private let counts = Mutex<[String: [String: Int]]>([:])

    func count(_ action: String, _ outcome: String) {
        let action = ["publish", "read", "playback", "api", "metrics", "pprof"].contains(action) ? action : "other"
        counts.withLock { $0[action, default: [:]][outcome, default: 0] += 1 }
    }

    struct Snapshot: ResponseEncodable {
        var decisions: [String: [String: Int]]
    }

    func snapshot() -> Snapshot {
        Snapshot(decisions: counts.withLock { $0 })
    }
}
