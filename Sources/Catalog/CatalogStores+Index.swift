import Domain
import Foundation

/// The hook index: MediaMTX's hook events, the live state of paths (available, online, readers), the recorded
/// segments, and the webhook events the hook events make. Times are microseconds since 1970.
///
/// Ingest is idempotent and order-tolerant: an event id is stored once however often it arrives (also when two
/// companion instances ingest it at the same time), a segment once per (path, start), and a state only moves to an
/// event at least as recent as the one that set it (`PathStatusModel`), so any arrival order of the same events ends
/// in the same state.
public protocol IndexStore: Sendable {
    /// Indexes a batch in one transaction: stores each event not stored yet in the history (by event id; the others
    /// count as `duplicates`, by type in `duplicatesByType`), applies it to the path's state and segments, and writes
    /// the webhook deliveries its events make (`WebhookEvents`; `sessionGap` µs tells recording sessions apart) to
    /// every enabled subscription that wants them, in the same transaction. `receivedAt` is the history's receive
    /// time; `paths` lists, sorted, the paths of the events accepted; `webhooks` counts the deliveries written.
    func ingest(_ events: [IngestEvent], receivedAt: Int64, sessionGap: Int64) async throws -> IngestResult
    /// Indexes several requests' batches in one transaction (group commit), one result each, in order: all are
    /// stored, or none is. An event repeated in a later batch counts as a duplicate there.
    func ingest(groups: [[IngestEvent]], receivedAt: Int64, sessionGap: Int64) async throws -> [IngestResult]

    /// The path's indexed state, `.idle(path)` when nothing is indexed for it.
    func pathState(_ path: String) async throws -> PathState
    /// The indexed state of each path that has one (active readers only); paths with nothing indexed are left out.
    func pathStates(_ paths: [String]) async throws -> [String: PathState]
    /// Segments overlapping `[from, to)` (a segment with no duration yet is open-ended), by path then start;
    /// deleted ones only with `includeDeleted`. `total` counts every match, not only the page.
    func segments(_ query: SegmentQuery) async throws -> Page<Segment>
    /// Up to `limit` live segments after `cursor` in (path, start) order, of `paths` (nil: every path), overlapping
    /// `[from, to)`: a listing streamed batch by batch, each batch one short read (no transaction held between them).
    func segmentBatch(after cursor: SegmentCursor?, paths: [String]?, from: Int64?, to: Int64?, limit: Int) async throws -> [Segment]
    /// Every live (not deleted) segment of a path overlapping `[from, to)`, oldest first, for merging into sessions.
    func allSegments(path: String, from: Int64?, to: Int64?) async throws -> [Segment]
    /// The recording sessions of each path (as `mergeSessions` makes them of its live segments with the gap set by
    /// `prepareSessions`) that overlap `[from, to)`, or are still open, oldest first; paths with none are left out.
    /// Kept in the index as segments are written, so this reads a few rows per path.
    func recordingSessions(paths: [String], from: Int64, to: Int64) async throws -> [String: [RecordingSession]]
    /// Sets the gap (µs) that separates recording sessions; a gap other than the stored one rebuilds every session.
    /// Returns true when it did.
    @discardableResult
    func prepareSessions(gap: Int64) async throws -> Bool
    /// Each path's online/offline events in `[from, to)` and the last one before (paths with none left out).
    func onlineHistory(paths: [String], from: Int64, to: Int64) async throws -> [String: OnlineHistory]
    /// True while a segment of the path is open (created, not yet complete).
    func isRecording(path: String) async throws -> Bool
    /// The path's events, newest first (by occurrence), at most `limit`, those that occurred before `before` if given;
    /// `payload` is the event as received (as JSON: the PostgreSQL store gives it back normalised).
    func history(path: String, limit: Int, before: Int64?) async throws -> [HistoryEvent]

    /// Brings indexed live state in line with what MediaMTX reports at `at`: paths indexed as available that are not
    /// observed become unavailable and offline, their readers inactive; an observed path whose availability differs
    /// takes the observed one; a path whose active readers differ gets the observed readers. A state set by an event
    /// newer than `at` is kept. Returns the paths healed (each once).
    func reconcileStates(_ observed: [AppDatabase.ObservedPath], at: Int64) async throws -> [String]
    /// Makes a path's indexed segments match the starts MediaMTX lists: adds the ones never indexed (complete, no
    /// file, duration or size), marks deleted the live ones not listed that start before `olderThan`.
    /// Returns (added, deleted).
    func reconcileSegments(path: String, starts: [Int64], olderThan: Int64, now: Int64) async throws -> (added: Int, deleted: Int)
    /// Inserts complete segments in one transaction (imports, benchmarks); a (path, start) already indexed is kept.
    /// The paths' sessions are rebuilt.
    func insertSegments(_ rows: [(path: String, start: Int64, duration: Double, size: Int64)]) async throws
    /// Drops the history's events received before `before` (µs); the state they set stays. Returns how many.
    @discardableResult
    func pruneHistory(receivedBefore before: Int64) async throws -> Int
    /// The paths that have live (not deleted) segments.
    func pathsWithSegments() async throws -> [String]
}

extension AppDatabase: IndexStore {}
