import Catalog
import Domain
import Synchronization

/// Group commit for hook events: requests that arrive while a transaction is being written wait and go into the
/// next one together, each answered after that commit. One request alone is written at once (no added delay);
/// under load, many single-event requests share a transaction instead of queueing for one each. The loop runs on
/// the database's writer queue and hands requests over under a lock: no actor or task between a request and
/// its transaction.
final class IngestQueue: Sendable {
    typealias Reply = CheckedContinuation<IngestResult, any Error>
    struct State {
        var pending: [(events: [IngestEvent], reply: Reply)] = []
        /// Requests in the transaction being written.
        var writing: [Reply] = []
        var draining = false
    }

    let database: AppDatabase
    /// At most this many events per transaction.
    let maxEvents: Int
    /// Segments further apart (µs) are separate recording sessions (webhook session events).
    let sessionGap: Int64
    private let state = Mutex(State())

    init(database: AppDatabase, sessionGap: Int64, maxEvents: Int = 5_000) {
        self.database = database
        self.sessionGap = sessionGap
        self.maxEvents = maxEvents
    }

    func ingest(_ events: [IngestEvent]) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { reply in
            let start = state.withLock { state in
                state.pending.append((events, reply))
                defer { state.draining = true }
                return !state.draining
            }
            if start { database.drainIngest(sessionGap: sessionGap) { self.next($0) } }
        }
    }

    /// Answers the requests of the transaction just written, then takes the oldest waiting ones, up to
    /// `maxEvents` events (always at least one request); nil, and the loop ends, when none is waiting.
    private func next(_ outcome: Result<[IngestResult], any Error>?) -> [[IngestEvent]]? {
        let done = state.withLock { state in
            defer { state.writing = [] }
            return state.writing
        }
        switch outcome {
        case .success(let results)?:
            for (reply, result) in zip(done, results) { reply.resume(returning: result) }
        case .failure(let error)?:
            for reply in done { reply.resume(throwing: error) }
        case nil:
            break
        }
        return state.withLock { state -> [[IngestEvent]]? in
            guard !state.pending.isEmpty else {
                state.draining = false
                return nil
            }
            var count = state.pending[0].events.count
            var take = 1
            while take < state.pending.count, count + state.pending[take].events.count <= maxEvents {
                count += state.pending[take].events.count
                take += 1
            }
            state.writing = state.pending.prefix(take).map(\.reply)
            let group = state.pending.prefix(take).map(\.events)
            state.pending.removeFirst(take)
            return group
        }
    }
}
