import API
import ArgumentParser
import AsyncHTTPClient
import Catalog
import CatalogPostgres
import Domain
import Foundation
import HookWire
import Logging
import NIOCore

/// `GET /api/v1/recordings/sessions` at `--sources` × `--days` of 2-s segments (100 × 7 days: 30 million), generated in
/// bulk, with a minute's outage every 6 hours and an online/offline event around each: the 24-hour sessions of every
/// source, and one hour of one source, over HTTP against the release server, p50/p99. Baseline, same run and data: the
/// same answers made by merging the segments at query time (`allSegments` + `mergeSessions`, in this process, so
/// without HTTP: it is flattered).
struct SessionsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "Recording sessions of many sources: stored against merged.")

    @Option(help: "Sources.") var sources = 100
    @Option(help: "Days of 2-s segments per source.") var days = 7
    @Option(help: "Requests per measurement over HTTP.") var runs = 200
    @Option(help: "Runs of the (slow) merging baseline for all sources.") var baselineRuns = 5
    @Option(help: "A PostgreSQL URL: the catalogue there instead of a SQLite file (already seeded with as many sources: used as is).")
    var databaseURL: String?

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-bench-sessions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bench.sqlite").path
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let db: any CatalogBackend =
            if let databaseURL { try await PostgresCatalog.open(url: databaseURL, logger: logger) } else { try AppDatabase.open(path: file) }
        let perDay = 43_200
        let end: Int64 = 1_795_000_000_000_000
        let t0 = end - Int64(days) * 86_400_000_000
        let outage: Int64 = 60_000_000
        // The i-th segment's start: every 2 s, and a minute later after each 6 hours.
        func start(_ i: Int) -> Int64 { t0 + Int64(i) * 2_000_000 + Int64(i / (perDay / 4)) * outage }
        let seeded = ContinuousClock.now
        var paths: [String] = []
        let now = Date()
        // A PostgreSQL catalogue seeded by an earlier run (the same sizes) is used as it is: seeding takes minutes.
        let existing = try await db.allSources().sorted { $0.name < $1.name }
        if databaseURL != nil, existing.count == sources {
            paths = existing.map(\.pathName)
            print("using the \(sources) sources seeded before")
        }
        for s in paths.isEmpty ? 0..<sources : 0..<0 {
            let id = UUID()
            let source = MediaSource(
                id: id, name: String(format: "cam %03d", s), pathName: PathName.make(name: "cam", id: id), kind: .pull, url: "rtsp://cam/\(s)",
                protocol: "rtsp", enabled: true, recordEnabled: true, createdAt: now, updatedAt: now)
            try await db.insertSource(source, announcing: [])
            paths.append(source.pathName)
            let count = perDay * days
            try await db.insertSegments((0..<count).map { (path: source.pathName, start: start($0), duration: 2.0, size: 500_000) })
            var events: [IngestEvent] = []
            for i in stride(from: perDay / 4, to: count, by: perDay / 4) {
                let down = start(i - 1) + 2_000_000
                for (n, (type, at)) in [(HookEvent.offline, down), (.online, down + outage)].enumerated() {
                    events.append(
                        IngestEvent(
                            eventID: "\(source.pathName)-\(i)-\(n)", type: type, occurredAt: at, node: nil, path: source.pathName, sourceType: nil,
                            sourceID: nil, readerType: nil, readerID: nil, segment: nil, payload: "{}"))
                }
            }
            _ = try await db.ingest(events, receivedAt: end, sessionGap: 1_000_000)
        }
        print("seeded \(sources) sources × \(days) days = \(sources * perDay * days) segments in \(ContinuousClock.now - seeded)")

        let server = try await BenchServer.start(in: dir, settings: "", databaseURL: databaseURL)
        defer { server.stop() }
        let token: String
        if let pg = db as? PostgresCatalog {
            // The viewer of an earlier run over the same catalogue logs in again.
            if let fresh = try? await server.token(adding: pg) { token = fresh } else { token = try await server.login("bench-viewer") }
        } else {
            token = try await server.viewerToken(database: file)
        }
        let dayFrom = (end - 86_400_000_000) / 1_000_000, dayTo = end / 1_000_000
        let hourFrom = dayTo - 3600 - 1234
        let one = try await sourceID(server, token, path: paths[sources / 2])

        func http(_ query: String, check: (Data) throws -> Void) async throws -> (median: Double, p99: Double) {
            var times: [Double] = []
            for n in 0..<(runs + 5) {
                var request = HTTPClientRequest(url: server.base + "/api/v1/recordings/sessions?" + query)
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                let start = ContinuousClock.now
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                let body = try await response.body.collect(upTo: 64 << 20)
                let elapsed = NodesBench.seconds(ContinuousClock.now - start)
                guard response.status == .ok else { throw ValidationError("\(query): \(response.status)") }
                if n == 0 { try check(Data(body.readableBytesView)) }
                if n >= 5 { times.append(elapsed) }
            }
            return quantiles(times)
        }
        func sessionsPerSource(_ data: Data) throws -> [Int] {
            let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            return (answer?["items"] as? [[String: Any]] ?? []).map { ($0["sessions"] as? [Any])?.count ?? -1 }
        }
        var daySessions = 0
        let day = try await http("from=\(dayFrom)&to=\(dayTo)&page_size=\(sources)") { data in
            let counts = try sessionsPerSource(data)
            guard counts.count == sources, counts.allSatisfy({ $0 == counts[0] && $0 > 1 }) else {
                throw ValidationError("24 h: sessions per source \(counts)")
            }
            daySessions = counts.reduce(0, +)
        }
        let hour = try await http("from=\(hourFrom)&to=\(hourFrom + 3600)&source_id=\(one)") { data in
            guard try sessionsPerSource(data) == [1] else { throw ValidationError("1 h: \(String(decoding: data, as: UTF8.self).prefix(300))") }
        }
        print("stored, over HTTP: 24 h of \(sources) sources: median \(ms(day.median)) ms, p99 \(ms(day.p99)) ms (\(runs) requests)")
        print("stored, over HTTP: 1 h of one source: median \(ms(hour.median)) ms, p99 \(ms(hour.p99)) ms (\(runs) requests)")

        // Baseline: merging at query time, the same ranges, in this process.
        func merged(_ paths: [String], from: Int64, to: Int64, runs: Int) async throws -> (median: Double, p99: Double, sessions: Int) {
            var times: [Double] = []
            var sessions = 0
            for _ in 0..<runs {
                let start = ContinuousClock.now
                sessions = 0
                for path in paths {
                    sessions += mergeSessions(try await db.allSegments(path: path, from: from, to: to), gap: 1_000_000).count
                }
                times.append(NodesBench.seconds(ContinuousClock.now - start))
            }
            let q = quantiles(times)
            return (q.median, q.p99, sessions)
        }
        let mergedDay = try await merged(paths, from: dayFrom * 1_000_000, to: dayTo * 1_000_000, runs: baselineRuns)
        let mergedHour = try await merged([paths[sources / 2]], from: hourFrom * 1_000_000, to: (hourFrom + 3600) * 1_000_000, runs: runs)
        guard mergedDay.sessions == daySessions, mergedHour.sessions == 1 else { throw ValidationError("the baseline found other sessions") }
        print(
            "merged at query time (baseline, in process): 24 h of \(sources) sources: median \(ms(mergedDay.median)) ms, p99 \(ms(mergedDay.p99)) ms (\(baselineRuns) runs); "
                + "1 h of one source: median \(ms(mergedHour.median)) ms, p99 \(ms(mergedHour.p99)) ms")
        print(
            String(
                format: "ratio merged/stored: 24 h all sources %.0fx (median), 1 h one source %.1fx (median)", mergedDay.median / day.median,
                mergedHour.median / hour.median))
        await db.shutdown()
    }

    func sourceID(_ server: BenchServer, _ token: String, path: String) async throws -> String {
        var request = HTTPClientRequest(url: server.base + "/api/v1/sources?page_size=500")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        let items = (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
        guard let id = items.first(where: { $0["path_name"] as? String == path })?["id"] as? String else {
            throw ValidationError("no source \(path)")
        }
        return id
    }

    func quantiles(_ times: [Double]) -> (median: Double, p99: Double) {
        let sorted = times.sorted()
        return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)])
    }
}
