import ArgumentParser
import AsyncHTTPClient
import Catalog
import CatalogPostgres
import Domain
import Foundation
import HummingbirdBcrypt
import Logging
import NIOCore
import PostgresNIO

/// The catalogue backends side by side, in one run: SQLite (the default) against PostgreSQL with one instance and
/// with two instances on one database. Segment window query at scale (catalogue calls), hook ingest through the
/// real server (wrk: one event per request and batches; with two instances, one wrk per instance at once), and
/// hook-to-visible latency (POST an event to one instance, read it from the SSE stream of the other).
/// `--postgres URL` names a server where the benchmark may create and drop databases (scripts/postgres.sh start DIR).
struct BackendsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backends", abstract: "SQLite vs PostgreSQL (1 and 2 instances).")

    @Option(help: "A PostgreSQL server URL whose user may create databases.") var postgres: String
    @Option(help: "Segments in the index for the window query.") var segments = 1_000_000
    @Option(help: "Seconds of load for each ingest figure.") var ingestSeconds = 5
    @Option(help: "Samples of hook-to-visible latency.") var samples = 200
    @Option(
        help: """
            Also measure PostgreSQL x1 and x2 with each companion held to this share of one core (a CPU cgroup each, \
            as if each ran on a small machine of its own; PostgreSQL not held); 0 leaves it out. Needs root.
            """)
    var instanceCPU = 0.5

    func run() async throws {
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let admin = PostgresClient(configuration: try PostgresURL(postgres).clientConfiguration, backgroundLogger: logger)
        let runner = Task { await admin.run() }
        defer { runner.cancel() }
        func scratch() async throws -> String {
            let name = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            var url = URLComponents(string: postgres)!
            url.path = "/" + name
            return url.string!
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-bench-backends-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        // 1. Window query at `segments` segments.
        let sqlite = try AppDatabase.open(path: dir.appendingPathComponent("window.sqlite").path)
        let windowURL = try await scratch()
        let pg = try await PostgresCatalog.open(url: windowURL, logger: logger)
        var window: [String: (median: Double, p99: Double)] = [:]
        for (name, store) in [("sqlite", sqlite as any IndexStore), ("postgres", pg as any IndexStore)] {
            let seeded = ContinuousClock.now
            try await seedSegments(store)
            if name == "postgres" {
                // What autovacuum does to a table in service after a bulk insert (planner statistics, visibility map
                // for index-only counts); done at once here instead of waiting for it.
                let vacuum = PostgresClient(configuration: try PostgresURL(windowURL).clientConfiguration, backgroundLogger: logger)
                let task = Task { await vacuum.run() }
                try await vacuum.query("VACUUM ANALYZE segments", logger: logger)
                task.cancel()
            }
            let w = try await windowQuery(store)
            window[name] = w
            print(
                "window query, \(name), \(segments) segments (seeded in \(ContinuousClock.now - seeded)): median \(ms(w.median)) ms, p99 \(ms(w.p99)) ms"
            )
        }
        print("window query ratio postgres/sqlite (p99): \(String(format: "%.2f", window["postgres"]!.p99 / window["sqlite"]!.p99))x")
        try sqlite.close()
        await pg.close()

        // 2 and 3. Servers: SQLite, PostgreSQL ×1, PostgreSQL ×2.
        guard let wrk = HooksBench().which("wrk") else { throw ValidationError("wrk is not installed (scripts/install-deps.sh --bench)") }
        let token = "bench-token"
        var rates: [String: [String: Double]] = [:]
        let capped = instanceCPU > 0 ? " (\(instanceCPU) core each)" : ""
        var setups = ["sqlite", "postgres x1", "postgres x2"]
        if instanceCPU > 0 { setups += ["postgres x1\(capped)", "postgres x2\(capped)"] }
        for setup in setups {
            let sub = dir.appendingPathComponent(setup.filter { $0.isLetter || $0.isNumber })
            var servers: [BenchServer] = []
            var limits: [CPULimit] = []
            defer {
                for s in servers { s.stop() }
                for l in limits { l.remove() }
            }
            let url = setup == "sqlite" ? nil : try await scratch()
            for i in 0..<(setup.hasPrefix("postgres x2") ? 2 : 1) {
                let home = sub.appendingPathComponent("\(i)")
                try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
                servers.append(try await BenchServer.start(in: home, settings: "hooks: {token: \(token)}", databaseURL: url))
                if !capped.isEmpty, setup.hasSuffix(capped) {
                    limits.append(try CPULimit(pid: servers[i].process.pid, cores: instanceCPU, name: "mtx-bench-\(i)"))
                }
            }
            for (label, connections, batch) in [("one event per request, 16 connections", 16, 1), ("batches of 100, 4 connections", 4, 100)] {
                // A warm-up, then every instance loaded at once, each by its own wrk (what a load balancer spreads).
                let prefix = "\(setup.prefix(2))\(connections)x\(batch)"
                _ = try await load(wrk, servers, token, sub, "warm-\(prefix)", connections, batch, seconds: 3)
                let before = CPUTime.now(companions: servers.map(\.process.pid))
                let rate = try await load(wrk, servers, token, sub, prefix, connections, batch, seconds: ingestSeconds)
                let used = CPUTime.now(companions: servers.map(\.process.pid)) - before
                rates[label, default: [:]][setup] = rate
                let events = rate * Double(ingestSeconds) / 1_000
                print(
                    "ingest, \(setup), \(label): \(Int(rate)) events/s; CPU per 1,000 events: companion\(servers.count == 2 ? "s" : "") \(ms(used.companions / events)) ms"
                        + (url == nil ? "" : ", PostgreSQL \(ms(used.postgres / events)) ms")
                )
            }
            guard limits.isEmpty else { continue }
            let latency = try await visibleLatency(servers, token: token, databaseURL: url, home: sub.appendingPathComponent("0"))
            print(
                "hook → visible on the SSE stream of \(servers.count == 2 ? "the other" : "the same") instance, \(setup) (\(samples) runs): p50 \(ms(latency.median)) ms, p99 \(ms(latency.p99)) ms"
            )
        }
        for (label, bySetup) in rates.sorted(by: { $0.key < $1.key }) {
            let one = bySetup["postgres x1"] ?? 1, two = bySetup["postgres x2"] ?? 0, lite = bySetup["sqlite"] ?? 1
            var line =
                "ratios, \(label): postgres x1 / sqlite \(String(format: "%.2f", one / lite))x, postgres x2 / postgres x1 \(String(format: "%.2f", two / one))x"
            if let oneCapped = bySetup["postgres x1\(capped)"], let twoCapped = bySetup["postgres x2\(capped)"] {
                line += ", with \(instanceCPU) core each: postgres x2 / postgres x1 \(String(format: "%.2f", twoCapped / oneCapped))x"
            }
            print(line)
        }
    }

    func seedSegments(_ store: any IndexStore) async throws {
        let paths = 100, perPath = segments / paths
        let t0: Int64 = 1_795_000_000_000_000
        for p in 0..<paths {
            for chunk in stride(from: 0, to: perPath, by: 5_000) {
                try await store.insertSegments(
                    (chunk..<min(perPath, chunk + 5_000)).map { i in
                        (path: "live/cam-\(p)", start: t0 + Int64(i) * 2_000_000, duration: 2.0, size: Int64(500_000))
                    })
            }
        }
    }

    /// One hour in the middle of one path's recordings: first page of 100 plus the total, 200 times.
    func windowQuery(_ store: any IndexStore) async throws -> (median: Double, p99: Double) {
        let perPath = segments / 100
        let from: Int64 = 1_795_000_000_000_000 + Int64(perPath / 2) * 2_000_000
        let query = SegmentQuery(path: "live/cam-42", from: from, to: from + 3_600_000_000, page: 1, pageSize: 100)
        var times: [Double] = []
        for _ in 0..<205 {
            let start = ContinuousClock.now
            _ = try await store.segments(query)
            times.append(seconds(ContinuousClock.now - start))
        }
        return stats(Array(times.dropFirst(5)))
    }

    /// Events/s over every instance, each loaded by its own wrk at the same time.
    func load(
        _ wrk: String, _ servers: [BenchServer], _ token: String, _ dir: URL, _ prefix: String, _ connections: Int, _ batch: Int, seconds: Int
    ) async throws -> Double {
        try await withThrowingTaskGroup(of: Double.self) { group in
            for (i, server) in servers.enumerated() {
                group.addTask {
                    try HooksBench().ingestRate(
                        wrk: wrk, base: server.base, token: token, dir: dir, prefix: "\(prefix)-\(i)", connections: connections, batch: batch,
                        seconds: seconds
                    ).events
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// POST one event to the first instance; time until it arrives on the last instance's SSE stream.
    func visibleLatency(_ servers: [BenchServer], token: String, databaseURL: String?, home: URL) async throws -> (median: Double, p99: Double) {
        let viewer: String
        if let databaseURL {
            let catalog = try await PostgresCatalog.open(url: databaseURL, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
            viewer = try await servers[0].token(adding: catalog)
            await catalog.close()
        } else {
            viewer = try await servers[0].viewerToken(database: home.appendingPathComponent("bench.sqlite").path)
        }
        var request = HTTPClientRequest(url: servers[servers.count - 1].base + "/api/v1/events/stream")
        request.headers.add(name: "Authorization", value: "Bearer \(viewer)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
        var lines = response.body.makeAsyncIterator()
        var times: [Double] = []
        for i in 0..<samples {
            let id = "visible-\(UUID().uuidString)"
            var post = HTTPClientRequest(url: servers[0].base + "/api/v1/hooks/events")
            post.method = .POST
            post.headers.add(name: "Authorization", value: "Bearer \(token)")
            post.headers.add(name: "Content-Type", value: "application/json")
            post.body = .bytes(
                ByteBuffer(
                    string:
                        #"{"event_id":"\#(id)","type":"\#(i % 2 == 0 ? "online" : "offline")","occurred_at":"\#(RFC3339Now())","path":"live/visible"}"#
                ))
            let t0 = ContinuousClock.now
            _ = try await HTTPClient.shared.execute(post, timeout: .seconds(5))
            var seen = ""
            while !seen.contains(id) {
                guard let chunk = try await lines.next() else { throw ValidationError("the event stream ended") }
                seen += String(buffer: chunk)
            }
            times.append(seconds(ContinuousClock.now - t0))
        }
        return stats(times)
    }
}

/// CPU time (user + system, seconds) used so far by the companions and by every PostgreSQL server process, from
/// /proc: where an ingest figure's time goes, and so what more instances can gain (the database's share does not
/// shrink with them).
struct CPUTime {
    var companions = 0.0, postgres = 0.0

    static func now(companions pids: [pid_t]) -> CPUTime {
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        func seconds(_ pid: String) -> Double? {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") else { return nil }
            // Fields after the command's closing parenthesis: state is the 3rd of the line, utime the 14th, stime the 15th.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            return (user + system) / tick
        }
        var time = CPUTime()
        for pid in pids { time.companions += seconds(String(pid)) ?? 0 }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
            if (try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8))?.hasPrefix("postgres") == true {
                time.postgres += seconds(entry) ?? 0
            }
        }
        return time
    }

    static func - (a: CPUTime, b: CPUTime) -> CPUTime {
        CPUTime(companions: a.companions - b.companions, postgres: a.postgres - b.postgres)
    }
}

/// A process held to a share of one core: a CPU cgroup of its own (cgroup v2 `cpu.max`, or v1's `cpu` controller).
struct CPULimit {
    let directory: String

    init(pid: pid_t, cores: Double, name: String) throws {
        let period = 100_000
        let quota = Int(Double(period) * cores)
        let fm = FileManager.default
        func write(_ text: String, _ file: String) throws {
            guard let handle = FileHandle(forWritingAtPath: file) else { throw ValidationError("cannot write \(file) (--instance-cpu needs root)") }
            defer { try? handle.close() }
            try handle.write(contentsOf: Data(text.utf8))
        }
        if (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8))?.contains("cpu") == true {
            try? write("+cpu", "/sys/fs/cgroup/cgroup.subtree_control")
            directory = "/sys/fs/cgroup/\(name)"
            try? fm.createDirectory(atPath: directory, withIntermediateDirectories: false)
            try write("\(quota) \(period)", directory + "/cpu.max")
        } else if fm.fileExists(atPath: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us") {
            directory = "/sys/fs/cgroup/cpu/\(name)"
            try? fm.createDirectory(atPath: directory, withIntermediateDirectories: false)
            try write("\(period)", directory + "/cpu.cfs_period_us")
            try write("\(quota)", directory + "/cpu.cfs_quota_us")
        } else {
            throw ValidationError("no CPU cgroup controller here: run with --instance-cpu 0")
        }
        try write("\(pid)", directory + "/cgroup.procs")
    }

    /// The group, once its process has exited.
    func remove() {
        var tries = 0
        while rmdir(directory) != 0, errno == EBUSY, tries < 50 {
            tries += 1
            usleep(20_000)
        }
    }
}

func RFC3339Now() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: Date())
}

extension BenchServer {
    /// An admin's access token, the user added to `catalog` (PostgreSQL), then a login.
    func token(adding catalog: PostgresCatalog) async throws -> String {
        try await catalog.addUser(User(username: "bench-viewer", role: .viewer, passwordHash: Bcrypt.hash("bench password", cost: 10)))
        return try await login("bench-viewer")
    }
}
