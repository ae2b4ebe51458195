import Catalog
import Domain
import Foundation
import HookWire

/// Indexes checked hook events (group commit through the ingest queue), counts them, wakes the webhook worker
/// when they made deliveries.
struct HookIngestService: Sendable {
    let queue: IngestQueue
    let metrics: AppMetrics
    let webhooks: WebhookWorker

    /// Writes `events` in one transaction; returns after the commit.
    func ingest(_ events: [IngestEvent]) async throws -> IngestResult {
        let result: IngestResult
        do {
            result = try await queue.ingest(events)
        } catch {
            for event in events { metrics.hookEvents(type: event.type.rawValue, outcome: "failed") }
            throw error
        }
        var byType: [HookEvent: Int] = [:]
        for event in events { byType[event.type, default: 0] += 1 }
        for (type, count) in byType {
            let duplicates = result.duplicatesByType[type] ?? 0
            if count > duplicates { metrics.hookEvents(type: type.rawValue, outcome: "accepted", count: count - duplicates) }
            if duplicates > 0 { metrics.hookEvents(type: type.rawValue, outcome: "duplicate", count: duplicates) }
        }
        if result.webhooks > 0 { webhooks.wake() }
        return result
    }
}
