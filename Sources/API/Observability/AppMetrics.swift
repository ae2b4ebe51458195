import Catalog
import Domain
import Foundation
import HTTPTypes
import HookWire
import Hummingbird
import Logging
import MediaMTX
import Metrics
import Prometheus
import Synchronization

/// The server's Prometheus metrics: recorded through swift-metrics, kept in this app's own swift-prometheus registry
/// (not the process-wide `MetricsSystem`, so each app — and each test's app — counts on its own), scraped at
/// `GET /metrics`. Names and labels are listed in docs/operations.md; labels never carry ids or path names, so
/// their number stays bounded.
public final class AppMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory

    /// Counters and timers already made, by label and dimensions: making one goes through the registry (name
    /// checks, a lock, lookups), which cost ~15% of a hook event's time when done on every request.
    private let counters = Mutex<[String: Metrics.Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])

    /// Every series carries `instance` (`server.instance`), so several instances' series stay apart when one
    /// Prometheus scrapes them all.
    let instance: String

    public init(instance: String = "") {
        self.instance = instance
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000].map { .microseconds(Int64($0 * 1000)) }
        self.factory = factory
    }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.reduce(into: label) { $0 += "\u{1}\($1.0)=\($1.1)" }
    }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Metrics.Counter {
        let dimensions = dimensions + [("instance", instance)]
        let key = Self.key(label, dimensions)
        if let known = counters.withLock({ $0[key] }) { return known }
        let made = Metrics.Counter(label: label, dimensions: dimensions, factory: factory)
        counters.withLock { $0[key] = made }
        return made
    }

    func timer(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Timer {
        let dimensions = dimensions + [("instance", instance)]
        let key = Self.key(label, dimensions)
        if let known = timers.withLock({ $0[key] }) { return known }
        let made = Metrics.Timer(label: label, dimensions: dimensions, factory: factory)
        timers.withLock { $0[key] = made }
        return made
    }

    func request(route: String, method: String, status: Int, duration: Duration) {
        counter("mtx_companion_http_requests_total", [("route", route), ("method", method), ("status", String(status))])
            .increment()
        timer("mtx_companion_http_request_duration_seconds", [("route", route), ("method", method)])
            .record(duration: duration)
    }

    /// Hook events by type and outcome: `accepted`, `duplicate` (already indexed) or `rejected` (the request was refused).
    func hookEvents(type: String, outcome: String, count: Int = 1) {
        counter("mtx_companion_hook_events_total", [("type", type), ("outcome", outcome)])
            .increment(by: count)
    }

    func heals(_ report: Reconciler.Report) {
        for (kind, count) in [
            ("path_readded", report.pathsReadded.count), ("segment_added", report.segmentsAdded), ("segment_deleted", report.segmentsDeleted),
            ("status_healed", report.statusHealed.count), ("hooks_installed", report.hooksInstalled.count),
        ] where count > 0 {
            counter("mtx_companion_reconciler_heals_total", [("kind", kind)]).increment(by: count)
        }
    }

    /// A hook event from a node that does not hold its path.
    func misplacedHookEvent(node: String) {
        counter("mtx_companion_hook_events_misplaced_total", [("node", node)]).increment()
    }

    /// Called by `MediaMTXClient` after each call to MediaMTX.
    func mediamtx(operation: String, outcome: String, duration: Duration) {
        counter("mtx_companion_mediamtx_requests_total", [("operation", operation), ("outcome", outcome)])
            .increment()
        timer("mtx_companion_mediamtx_request_duration_seconds", [("operation", operation)])
            .record(duration: duration)
    }

    /// MediaMTX's auth calls by action (its six; anything else as `other`) and outcome.
    func authDecision(action: String, outcome: String) {
        let action = ["publish", "read", "playback", "api", "metrics", "pprof"].contains(action) ? action : "other"
        counter("mtx_companion_auth_decisions_total", [("action", action), ("outcome", outcome)]).increment()
    }

    func retention(deletedSegments: Int, bytes: Int64) {
        counter("mtx_companion_retention_segments_deleted_total").increment(by: deletedSegments)
        counter("mtx_companion_retention_bytes_reclaimed_total").increment(by: Int(bytes))
    }

    /// The catalogue's sizes, read when scraped.
    func catalogue(_ sizes: AppDatabase.Sizes) {
        let at = [("instance", instance)]
        Gauge(label: "mtx_companion_sources", dimensions: at, factory: factory).record(sizes.sources)
        for (state, count) in sizes.segments {
            Gauge(label: "mtx_companion_segments", dimensions: [("state", state)] + at, factory: factory).record(count)
        }
        Gauge(label: "mtx_companion_database_size_bytes", dimensions: at, factory: factory).record(sizes.databaseBytes)
        Gauge(label: "mtx_companion_webhook_deliveries_pending", dimensions: at, factory: factory).record(sizes.webhooksPending)
    }

    /// One webhook attempt: `delivered`, `retry` (to be tried again) or `failed` (parked), and its round trip.
    func webhookAttempt(outcome: String, duration: Duration) {
        counter("mtx_companion_webhook_attempts_total", [("outcome", outcome)]).increment()
        timer("mtx_companion_webhook_attempt_duration_seconds", []).record(duration: duration)
    }

    /// The Prometheus text format, with the catalogue's current `sizes`.
    func scrape(catalogue sizes: AppDatabase.Sizes) -> Response {
        catalogue(sizes)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
        )
    }
}
