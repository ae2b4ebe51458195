import ArgumentParser
import AsyncHTTPClient
import Catalog
import ChildProcess
import Domain
import Foundation
import GRDB
import HummingbirdBcrypt
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The real-time path end to end: `mtx-hook` processes against a running `mtx-companion serve` (release builds
/// next to this binary), ingest rates, hook-to-visible latency. Baseline: a shell hook calling curl.
struct HooksBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hooks", abstract: "mtx-hook wall time, RSS, ingest rate, visible latency.")

    @Option(help: "mtx-hook runs to time.") var runs = 1000
    @Option(help: "Seconds of load for each ingest rate (wrk).") var ingestSeconds = 5

    func run() async throws {
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-bench-hooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = "bench-token"
        let server = try await BenchServer.start(in: dir, settings: "hooks: {token: \(token)}")
        defer { server.stop() }
        let base = server.base

        let hook = bin.appendingPathComponent("mtx-hook").path
        var env = [
            "MTX_COMPANION_URL": base, "MTX_COMPANION_HOOK_TOKEN": token, "MTX_COMPANION_SPOOL_DIR": dir.appendingPathComponent("spool").path,
            "MTX_PATH": "live/bench", "MTX_QUERY": "", "MTX_SOURCE_TYPE": "rtspSession", "MTX_SOURCE_ID": "0909ca7f-44a8-4b7c-b2a5-6354c7a23016",
        ]
        print("mtx-hook: \(fileSize(hook) / 1024) KiB, dynamic libraries: \(dynamicLibraries(hook))")

        // 1. mtx-hook wall time and peak RSS, against curl in a shell (what hooks are made of today).
        var times: [Double] = []
        for i in 0..<runs {
            env["MTX_PATH"] = "live/bench-\(i % 50)"
            let (seconds, _, status) = try spawn(hook, [i % 2 == 0 ? "online" : "offline"], env)
            guard status == 0 else { throw ValidationError("mtx-hook exited \(status)") }
            times.append(seconds)
        }
        // Peak RSS of the hook itself, as GNU time reports it (posix_spawn's own accounting includes the parent).
        var peakRSS = 0
        for _ in 0..<20 {
            let out = dir.appendingPathComponent("rss").path
            _ = try spawn("/usr/bin/time", ["-o", out, "-f", "%M", hook, "online"], env)
            peakRSS = max(
                peakRSS, Int((try? String(contentsOfFile: out, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0)
        }
        let curlBody =
            #"{"event_id":"$(cat /proc/sys/kernel/random/uuid)","type":"online","occurred_at":"$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)","path":"$MTX_PATH"}"#
        let script =
            #"curl -s -o /dev/null -X POST -H "Authorization: Bearer $MTX_COMPANION_HOOK_TOKEN" -H 'Content-Type: application/json' -d "\#(curlBody)" "$MTX_COMPANION_URL/api/v1/hooks/events""#
        var curlTimes: [Double] = []
        for _ in 0..<min(runs, 300) {
            let (seconds, _, status) = try spawn("/bin/sh", ["-c", script], env)
            guard status == 0 else { throw ValidationError("curl hook exited \(status)") }
            curlTimes.append(seconds)
        }
        let hookStats = stats(times), curlStats = stats(curlTimes)
        print("mtx-hook per event (\(runs) runs, server up): median \(ms(hookStats.median)) ms, p99 \(ms(hookStats.p99)) ms, peak RSS \(peakRSS) KiB")
        print("baseline sh + curl per event (\(curlTimes.count) runs): median \(ms(curlStats.median)) ms, p99 \(ms(curlStats.p99)) ms")
        print("ratio curl/mtx-hook (median): \(String(format: "%.1f", curlStats.median / hookStats.median))x")

        // 2. Ingest rates, loaded by wrk (a C load generator, so the client does not eat the 2 cores the server needs).
        // Hooks are separate processes, so several deliver at once: 16 connections is the realistic case.
        let client = HTTPClient.shared
        if let wrk = which("wrk") {
            let database = dir.appendingPathComponent("bench.sqlite").path
            // On this machine's disk (ext4 on virtio), the kernel holds back the writes of a brand-new database for
            // its first ~15 s of load: the same build with its database on tmpfs runs ~1.7x faster from the first
            // second. Shown once; the figures after it are of a catalogue in service.
            let cold = try ingestRate(wrk: wrk, base: base, token: token, dir: dir, prefix: "cold", connections: 16, batch: 1)
            print("ingest, one event per request, 16 connections, first \(ingestSeconds) s on a fresh database: \(Int(cold.events)) events/s")
            for (label, connections, batch, warmUp) in [
                ("one event per request, 1 connection", 1, 1, 0), ("one event per request, 16 connections", 16, 1, 15),
                ("batches of 100, 4 connections", 4, 100, 0),
            ] {
                let prefix = "wrk\(connections)x\(batch)"
                if warmUp > 0 {
                    _ = try ingestRate(
                        wrk: wrk, base: base, token: token, dir: dir, prefix: "warm-\(prefix)", connections: connections, batch: batch,
                        seconds: warmUp)
                }
                let rate = try ingestRate(wrk: wrk, base: base, token: token, dir: dir, prefix: prefix, connections: connections, batch: batch)
                let stored = try storedEvents(database, prefix: prefix)
                print(
                    "ingest, \(label): \(Int(rate.events)) events/s (\(rate.errors) errors; \(stored) events stored for \(rate.requests * batch) acknowledged)"
                )
            }
        } else {
            print("ingest: skipped, wrk is not installed (scripts/install-deps.sh --bench)")
        }

        // 3. From starting mtx-hook to the segment being visible in the API.
        let viewer = try await server.viewerToken(database: dir.appendingPathComponent("bench.sqlite").path)
        var visible: [Double] = []
        for i in 0..<200 {
            env["MTX_PATH"] = "live/visible"
            env["MTX_SEGMENT_PATH"] = "/srv/rec/live/visible/2026-11-25_20-00-\(String(format: "%02d", i % 60))-\(String(format: "%06d", i)).mp4"
            let t0 = ContinuousClock.now
            _ = try spawn(hook, ["segment-create"], env)
            var request = HTTPClientRequest(url: base + "/api/v1/recordings?path=live/visible&page_size=1")
            request.method = .GET
            request.headers.add(name: "Authorization", value: "Bearer \(viewer)")
            while true {
                let response = try await client.execute(request, timeout: .seconds(5))
                let body = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .ok else { throw ValidationError("GET /api/v1/recordings answered \(response.status)") }
                if String(buffer: body).contains("\"total\":\(i + 1)") { break }
            }
            visible.append(seconds(ContinuousClock.now - t0))
        }
        let v = stats(visible)
        print("hook start → visible in GET /api/v1/recordings (200 runs): p50 \(ms(v.median)) ms, p99 \(ms(v.p99)) ms")
    }

    /// Runs wrk against the ingest endpoint: events/s, wrk's completed requests, and non-2xx/socket errors.
    func ingestRate(
        wrk: String, base: String, token: String, dir: URL, prefix: String, connections: Int, batch: Int, seconds: Int? = nil
    ) throws -> (events: Double, requests: Int, errors: Int) {
        let script = dir.appendingPathComponent("\(prefix).lua")
        try """
        local threads = 0
        function setup(thread) thread:set("tid", threads); threads = threads + 1 end
        local counter = 0
        local function event()
          counter = counter + 1
          return '{"event_id":"\(prefix)-' .. tid .. '-' .. counter .. '","type":"' .. (counter % 2 == 0 and 'online' or 'offline')
            .. '","occurred_at":"2026-11-25T20:00:00Z","path":"live/ingest-' .. (counter % 100) .. '"}'
        end
        function request()
          local body
          if \(batch) == 1 then body = event() else
            local items = {}
            for i = 1, \(batch) do items[i] = event() end
            body = '{"events":[' .. table.concat(items, ",") .. ']}'
          end
          return wrk.format("POST", "/api/v1/hooks/events", {["Authorization"] = "Bearer \(token)", ["Content-Type"] = "application/json"}, body)
        end
        """.write(to: script, atomically: true, encoding: .utf8)
        let threads = min(2, connections)
        let (termination, output) = try ChildProcess.run(
            wrk, ["-t\(threads)", "-c\(connections)", "-d\(seconds ?? ingestSeconds)s", "-s", script.path, base],
            environment: ChildProcess.currentEnvironment
        )
        guard termination == .exited(0), let rateLine = output.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
            let rate = Double(rateLine.split(separator: " ").last ?? ""),
            let countLine = output.split(separator: "\n").first(where: { $0.contains(" requests in ") }),
            let requests = Int(countLine.split(separator: " ").first ?? "")
        else { throw ValidationError("wrk failed: \(output)") }
        func count(_ marker: String) -> Int {
            output.split(separator: "\n").filter { $0.contains(marker) }
                .compactMap { line in line.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }.reduce(0, +) }
                .reduce(0, +)
        }
        return (rate * Double(batch), requests, count("Non-2xx") + count("Socket errors"))
    }

    func storedEvents(_ database: String, prefix: String) throws -> Int {
        try DatabaseQueue(path: database).read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM hook_events WHERE event_id LIKE ?", arguments: ["\(prefix)-%"]) ?? 0
        }
    }

    func which(_ program: String) -> String? {
        (ChildProcess.currentEnvironment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// posix_spawn + wait4: wall time, peak RSS (KiB) and exit status of one child.
    func spawn(_ path: String, _ arguments: [String], _ environment: [String: String]) throws -> (Double, Int, Int32) {
        let started = ContinuousClock.now
        let (termination, usage) = try ChildProcess.start(path, arguments, environment: environment).waitWithUsage()
        return (seconds(ContinuousClock.now - started), usage.ru_maxrss, termination.status)
    }

    func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    func dynamicLibraries(_ path: String) -> String {
        let text = (try? ChildProcess.run("/usr/bin/ldd", [path], environment: [:]).output) ?? ""
        return text.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }.filter { !$0.contains("vdso") }.joined(
            separator: " ")
    }
}

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func stats(_ samples: [Double]) -> (median: Double, p99: Double) {
    let s = samples.sorted()
    return (s[s.count / 2], s[min(s.count - 1, Int(Double(s.count) * 0.99))])
}

func ms(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1000) }

/// The release `mtx-companion serve` next to this binary, on a temp SQLite file, with MediaMTX nowhere (the
/// benchmarks never need it) and the reconciler off.
struct BenchServer {
    let process: ChildProcess
    let base: String

    /// `databaseURL`: the catalogue on PostgreSQL instead of a SQLite file in `dir`.
    /// `mediamtx`: the `mediamtx` section's lines (two-space indented) instead of one node at a closed port.
    static func start(in dir: URL, settings: String, databaseURL: String? = nil, mediamtx: String? = nil) async throws -> BenchServer {
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let port = try freePort()
        try """
        server: {host: 127.0.0.1, port: \(port)}
        database: {path: \(dir.path)/bench.sqlite, url: "\(databaseURL ?? "")"}
        mediamtx:
        \(mediamtx ?? """
              api_address: http://127.0.0.1:1
              rtsp_address: rtsp://127.0.0.1:8554
              rtmp_address: rtmp://127.0.0.1:1935
              hls_address: http://127.0.0.1:8888
              webrtc_address: http://127.0.0.1:8889
              srt_address: srt://127.0.0.1:8890
              playback_address: http://127.0.0.1:9996
            """)
          record_path: /srv/rec/%path/%Y-%m-%d_%H-%M-%S-%f
          record_format: fmp4
          segment_duration: 2s
          reconcile_interval: \(mediamtx == nil ? "0" : "30s")
        auth: {jwt_secret: bench-jwt-secret-0123456789abcdef0123456789, bcrypt_cost: 10}
        \(settings)
        """.write(to: dir.appendingPathComponent("bench.yaml"), atomically: true, encoding: .utf8)
        let process = try ChildProcess.start(
            bin.appendingPathComponent("mtx-companion").path, ["serve", "--config", dir.appendingPathComponent("bench.yaml").path],
            environment: ChildProcess.currentEnvironment
        )
        let server = BenchServer(process: process, base: "http://127.0.0.1:\(port)")
        do {
            try await server.waitUntilUp()
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    func waitUntilUp() async throws {
        for _ in 0..<100 {
            // Any answer means it is up (the sources list itself wants a token).
            if (try? await HTTPClient.shared.execute(HTTPClientRequest(url: self.base + "/api/v1/sources"), timeout: .seconds(1))) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("mtx-companion did not start")
    }

    func stop() {
        process.signal(SIGTERM)
        process.wait()
    }

    /// An access token of a new viewer (or another role), the way a client gets one: a user in the catalogue, then a login.
    func viewerToken(database: String, role: User.Role = .viewer) async throws -> String {
        let name = "bench-\(role.rawValue)"
        try await AppDatabase.open(path: database).addUser(User(username: name, role: role, passwordHash: Bcrypt.hash("bench password", cost: 10)))
        return try await login(name)
    }

    /// Logs `name` in (password "bench password"): its access token.
    func login(_ name: String) async throws -> String {
        var request = HTTPClientRequest(url: base + "/api/v1/auth/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"username":"\#(name)","password":"bench password"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard let token = try JSONDecoder().decode([String: StringField].self, from: Data(body.readableBytesView))["access_token"]?.string else {
            throw ValidationError("login failed: \(response.status)")
        }
        return token
    }
}
