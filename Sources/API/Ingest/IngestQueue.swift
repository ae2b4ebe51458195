import Catalog
import Domain
import Synchronization

/// Group commit for hook events: requests that arrive while a transaction is being written wait and go into the
/// next one together, each answered after that commit. One request alone is written at once (no added delay);
/// under load, many single-event requests share a transaction instead of queueing for one each. Each loop runs on
/// the catalogue's writer (`drainIngest`) and takes requests over under a lock: no actor or task between a request
/// and its transaction. SQLite has one writer loop; PostgreSQL runs `ingestWriters` at once.
final class IngestQueue: Sendable {
    typealias Reply = CheckedContinuation<IngestResult, any Error>
    struct State {
        var pending: [(events: [IngestEvent], reply: Reply)] = []
        /// Loops running.
        var writers = 0
    }

    let database: any CatalogBackend
    /// At most this many events per transaction.
    let maxEvents: Int
    /// Segments further apart (µs) are separate recording sessions (webhook session events).
    let sessionGap: Int64
    private let state = Mutex(State())

    init(database: any CatalogBackend, sessionGap: Int64, maxEvents: Int = 5_000) {
        self.database = database
        self.sessionGap = sessionGap
        self.maxEvents = maxEvents
    }

    func ingest(_ events: [IngestEvent]) async throws -> IngestResult {
        let writers = database.ingestWriters
        return try await withCheckedThrowingContinuation { reply in
            let start = state.withLock { state in
                state.pending.append((events, reply))
                guard state.writers < writers else { return false }
                state.writers += 1
                return true
            }
            if start {
                let loop = Loop(queue: self)
                database.drainIngest(sessionGap: sessionGap) { loop.next($0) }
            }
        }
    }

    /// One writer loop: the requests of the transaction it is writing.
    final class Loop: Sendable {
        let queue: IngestQueue
        private let writing = Mutex<[Reply]>([])

        init(queue: IngestQueue) {
            self.queue = queue
        }

        /// Answers the requests of the transaction just written, then takes the oldest waiting ones, up to
        /// `maxEvents` events (always at least one request); nil, and the loop ends, when none is waiting.
        func next(_ outcome: Result<[IngestResult], any Error>?) -> [[IngestEvent]]? {
            let done = writing.withLock { writing in
                defer { writing = [] }
                return writing
            }
            switch outcome {
            case .success(let results)?:
                for (reply, result) in zip(done, results) { reply.resume(returning: result) }
            case .failure(let error)?:
                for reply in done { reply.resume(throwing: error) }
            case nil:
                break
            }
            let taken = queue.state.withLock { state -> [(events: [IngestEvent], reply: Reply)]? in
                guard !state.pending.isEmpty else {
                    state.writers -= 1
                    return nil
                }
                var count = state.pending[0].events.count
                var take = 1
                while take < state.pending.count, count + state.pending[take].events.count <= queue.maxEvents {
                    count += state.pending[take].events.count
                    take += 1
                }
                defer { state.pending.removeFirst(take) }
                return Array(state.pending.prefix(take))
            }
            guard let taken else { return nil }
            writing.withLock { $0 = taken.map(\.reply) }
            return taken.map(\.events)
        }
    }
}
