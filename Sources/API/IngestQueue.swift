import Catalog
import Foundation

/// Group commit for hook events: requests that arrive while a transaction is being written wait and go into the
/// next one together, each answered after that commit. One request alone is written at once (no added delay);
/// under load, many single-event requests share a transaction instead of queueing for one each.
actor IngestQueue {
    let database: AppDatabase
    /// At most this many events per transaction.
    let maxEvents: Int
    private var pending: [(events: [IngestEvent], reply: CheckedContinuation<IngestResult, any Error>)] = []
    private var writing = false

    init(database: AppDatabase, maxEvents: Int = 5_000) {
        self.database = database
        self.maxEvents = maxEvents
    }

    func ingest(_ events: [IngestEvent]) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { reply in
            pending.append((events, reply))
            if !writing {
                writing = true
                Task { await self.writeAll() }
            }
        }
    }

    private func writeAll() async {
        while !pending.isEmpty {
            // The oldest requests, up to maxEvents events (always at least one request).
            var count = pending[0].events.count
            var take = 1
            while take < pending.count, count + pending[take].events.count <= maxEvents {
                count += pending[take].events.count
                take += 1
            }
            let group = Array(pending.prefix(take))
            pending.removeFirst(take)
            do {
                let results = try await database.ingest(groups: group.map(\.events))
                for (request, result) in zip(group, results) { request.reply.resume(returning: result) }
            } catch {
                for request in group { request.reply.resume(throwing: error) }
            }
        }
        writing = false
    }
}
