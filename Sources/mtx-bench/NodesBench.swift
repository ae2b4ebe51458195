import ArgumentParser
import AsyncHTTPClient
import Catalog
import ChildProcess
import Domain
import Foundation
import GRDB
import MediaMTXSimulator
import NIOCore

/// The companion as the control plane of many MediaMTX nodes: `--nodes` simulated nodes (in this process, one
/// simulator each) × `--paths-per-node` sources, every path recording 1-second segments for `--seconds`. Each node's
/// hooks reach the release `mtx-companion serve` through mtx-hook's protocol (`POST /api/v1/hooks/events` with the hook
/// token, `node` = `MTX_COMPANION_NODE`), batched: requests of at most 1,000 events per node and second, sent side by
/// side as a node runs its hooks, and as mtx-hook's spool replays them (spawning 10,000 mtx-hook processes a second is
/// more than the machine can). Measured:
/// sustained ingest (events offered and indexed per second, how far behind schedule the senders fall: a growing lag is
/// a backlog), the index against what the nodes recorded, one full reconciler pass over every node
/// (`mtx-companion reconcile`), and the companion's CPU and RSS. Then the same total on one node, for the ratio.
struct NodesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "Many MediaMTX nodes: ingest, index, reconcile, CPU, RSS.")

    @Option(help: "Simulated MediaMTX nodes.") var nodes = 10
    @Option(help: "Sources (paths) on each node.") var pathsPerNode = 500
    @Option(help: "Seconds of recording.") var seconds = 60

    struct Figures {
        var label: String
        var created: Double = 0
        var offered = 0
        var indexed = 0
        var recorded = 0
        var mismatchedPaths = 0
        var postP50 = 0.0, postP99 = 0.0
        var lagMiddle = 0.0, lagEnd = 0.0, lagMax = 0.0
        var cpu = 0.0
        var rssMB = 0.0, peakRSSMB = 0.0
        var reconcile = 0.0
        var reconcileReport = ""
    }

    func run() async throws {
        let total = nodes * pathsPerNode
        print("nodes bench: \(nodes) nodes × \(pathsPerNode) paths, 1 s segments, \(seconds) s; then 1 node × \(total) paths")
        let many = try await measure(nodes: nodes, perNode: pathsPerNode, label: "\(nodes) nodes")
        let one = try await measure(nodes: 1, perNode: total, label: "1 node")
        for f in [many, one] {
            print("\(f.label): created \(total) sources at \(Int(f.created))/s")
            print(
                "  ingest: \(f.offered) events offered, \(Int(Double(f.offered) / Double(seconds))) events/s; POST of a node's second p50 \(ms(f.postP50)) ms, p99 \(ms(f.postP99)) ms"
            )
            print(
                "  behind schedule: at the middle \(ms(f.lagMiddle)) ms, at the end \(ms(f.lagEnd)) ms, most \(ms(f.lagMax)) ms (a growing lag would be a backlog)"
            )
            print(
                "  index: \(f.indexed) complete segments, nodes recorded \(f.recorded); paths whose index differs: \(f.mismatchedPaths)"
                    + (f.indexed == f.recorded && f.mismatchedPaths == 0 ? " (exactly equal)" : " (NOT EQUAL)"))
            print("  reconciler pass over all nodes and \(total) paths: \(String(format: "%.2f", f.reconcile)) s (\(f.reconcileReport))")
            print(
                "  companion: CPU \(String(format: "%.1f", f.cpu)) s over the run (\(String(format: "%.0f", f.cpu / Double(seconds) * 100))% of a core), "
                    + "CPU per 1,000 events \(ms(f.cpu / Double(max(f.offered, 1)) * 1000)) ms, RSS \(Int(f.rssMB)) MB (peak \(Int(f.peakRSSMB)) MB)")
        }
        func ratio(_ a: Double, _ b: Double) -> String { String(format: "%.2f", b > 0 ? a / b : 0) + "x" }
        print(
            "ratios \(nodes) nodes / 1 node: CPU \(ratio(many.cpu, one.cpu)), peak RSS \(ratio(many.peakRSSMB, one.peakRSSMB)), "
                + "reconcile pass \(ratio(many.reconcile, one.reconcile)), POST p99 \(ratio(many.postP99, one.postP99))")
    }

    func measure(nodes count: Int, perNode: Int, label: String) async throws -> Figures {
        var figures = Figures(label: label)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-bench-nodes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var sims: [MediaMTXSimulator] = []
        defer { for sim in sims { Task { await sim.stop() } } }
        var block = "  node_down_after: 30s\n  nodes:\n"
        for i in 0..<count {
            let sim = MediaMTXSimulator(logLevel: .critical)
            try await sim.start()
            sims.append(sim)
            block += """
                    - name: n\(i)
                      api_address: \(await sim.apiURL)
                      playback_address: \(await sim.playbackURL)
                      rtsp_address: rtsp://n\(i).example:8554
                      rtmp_address: rtmp://n\(i).example:1935
                      hls_address: https://n\(i).example:8888
                      webrtc_address: https://n\(i).example:8889
                      srt_address: srt://n\(i).example:8890
                      max_paths: \(perNode)

                """
        }
        let token = "bench-hook-token"
        let server = try await BenchServer.start(in: dir, settings: "hooks: {token: \(token)}", mediamtx: block)
        defer { server.stop() }
        let admin = try await server.viewerToken(database: dir.appendingPathComponent("bench.sqlite").path, role: .admin)

        // Sources, 16 requests at a time, each placed on its node by name.
        let started = ContinuousClock.now
        let wanted = (0..<count).flatMap { node in (0..<perNode).map { (node, $0) } }
        let paths: [[String]] = try await withThrowingTaskGroup(of: [(Int, String)].self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var made: [(Int, String)] = []
                    for (node, i) in wanted[worker...].enumerated().filter({ $0.offset % 16 == 0 }).map(\.element) {
                        made.append((node, try await createSource(server, admin, name: "cam \(node)-\(i)", node: "n\(node)")))
                    }
                    return made
                }
            }
            var out = [[String]](repeating: [], count: count)
            for try await made in group { for (node, path) in made { out[node].append(path) } }
            return out
        }
        figures.created = Double(count * perNode) / seconds(ContinuousClock.now - started)

        // Recording: every second, each node's hooks: the segment that ended completes, the next one is created.
        let cpuBefore = CPUTime.now(companions: [server.process.pid])
        let base = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 1).rounded(.down))
        let clock = ContinuousClock.now + .seconds(1)
        let results = try await withThrowingTaskGroup(of: NodeRun.self) { group in
            for node in 0..<count {
                let sim = sims[node]
                let nodePaths = paths[node]
                group.addTask {
                    try await recordNode(
                        server: server, token: token, node: "n\(node)", sim: sim, paths: nodePaths, base: base, schedule: clock)
                }
            }
            var runs: [NodeRun] = []
            for try await run in group { runs.append(run) }
            return runs
        }
        let cpuAfter = CPUTime.now(companions: [server.process.pid])
        figures.cpu = cpuAfter.companions - cpuBefore.companions
        (figures.rssMB, figures.peakRSSMB) = Self.rss(server.process.pid)
        figures.offered = results.reduce(0) { $0 + $1.events }
        let posts = stats(results.flatMap(\.posts))
        (figures.postP50, figures.postP99) = (posts.median, posts.p99)
        let middle = seconds / 2
        figures.lagMiddle = results.map { $0.lags[min(middle, $0.lags.count - 1)] }.max() ?? 0
        figures.lagEnd = results.map { $0.lags.last ?? 0 }.max() ?? 0
        figures.lagMax = results.flatMap(\.lags).max() ?? 0

        // The index against what each node recorded.
        var recorded: [String: Int] = [:]
        for (node, sim) in sims.enumerated() {
            for path in paths[node] { recorded[path] = await sim.state.segmentStarts(path: path).count }
        }
        figures.recorded = recorded.values.reduce(0, +)
        let db = try DatabaseQueue(path: dir.appendingPathComponent("bench.sqlite").path)
        let indexed = try await db.read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(
                    db, sql: "SELECT path_name, count(*) AS n FROM segments WHERE state = 'complete' GROUP BY path_name"
                )
                .map { ($0["path_name"] as String, $0["n"] as Int) })
        }
        try await db.close()
        figures.indexed = indexed.values.reduce(0, +)
        figures.mismatchedPaths = recorded.filter { indexed[$0.key] != $0.value }.count

        // One full reconciler pass over every node, as `mtx-companion reconcile` runs it beside the server.
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mtx-companion").path
        let passStart = ContinuousClock.now
        // On a thread of its own: the simulators answering it run on this process's shared threads.
        let arguments = ["reconcile", "--config", dir.appendingPathComponent("bench.yaml").path]
        let (status, output) = try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try ChildProcess.run(bin, arguments, environment: ChildProcess.currentEnvironment) })
            }.start()
        }
        figures.reconcile = seconds(ContinuousClock.now - passStart)
        figures.reconcileReport = status == .exited(0) ? output.split(separator: "\n").first.map(String.init) ?? "" : "failed: \(output)"
        return figures
    }

    struct NodeRun: Sendable {
        var events = 0
        var posts: [Double] = []
        /// How far behind its schedule each second's request started.
        var lags: [Double] = []
    }

    /// One node's recording: second k sends "segment k-1 complete" and "segment k created" for every path, in batches
    /// of at most 1,000 events, and the simulator records segment k-1.
    func recordNode(
        server: BenchServer, token: String, node: String, sim: MediaMTXSimulator, paths: [String], base: Date, schedule: ContinuousClock.Instant
    ) async throws -> NodeRun {
        var run = NodeRun()
        for k in 0...seconds {
            let due = schedule + .seconds(k)
            if ContinuousClock.now < due { try await Task.sleep(until: due) }
            run.lags.append(max(0, NodesBench.seconds(ContinuousClock.now - due)))
            var events: [String] = []
            let now = RFC3339Now()
            for path in paths {
                if k > 0 {
                    let start = base.addingTimeInterval(Double(k - 1))
                    events.append(Self.event("segment-complete", path: path, node: node, at: now, start: start, complete: true))
                    await sim.state.addSegment(path: path, start: start, duration: 1)
                }
                if k < seconds {
                    events.append(
                        Self.event("segment-create", path: path, node: node, at: now, start: base.addingTimeInterval(Double(k)), complete: false))
                }
            }
            // A node runs its hooks side by side (one mtx-hook process per event): its batches go at once.
            let bodies = stride(from: 0, to: events.count, by: 1_000).map {
                #"{"events":["# + events[$0..<min(events.count, $0 + 1_000)].joined(separator: ",") + "]}"
            }
            run.posts += try await withThrowingTaskGroup(of: Double.self) { group in
                for body in bodies {
                    group.addTask {
                        let t0 = ContinuousClock.now
                        var request = HTTPClientRequest(url: server.base + "/api/v1/hooks/events")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: body))
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                        _ = try await response.body.collect(upTo: 1 << 16)
                        guard response.status == .ok else { throw ValidationError("hook batch answered \(response.status)") }
                        return NodesBench.seconds(ContinuousClock.now - t0)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            run.events += events.count
        }
        return run
    }

    static func event(_ type: String, path: String, node: String, at: String, start: Date, complete: Bool) -> String {
        let file = "/srv/rec/\(path)/\(Self.fileTime(start)).mp4"
        let extra = complete ? #","segment_duration":1,"segment_size":250000"# : ""
        return
            #"{"event_id":"\#(UUID().uuidString)","type":"\#(type)","occurred_at":"\#(at)","path":"\#(path)","node":"\#(node)","segment_path":"\#(file)"\#(extra)}"#
    }

    /// `%Y-%m-%d_%H-%M-%S-%f` in UTC.
    static func fileTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d_%02d-%02d-%02d-000000", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    func seconds(_ d: Duration) -> Double { Self.seconds(d) }

    /// VmRSS and VmHWM of a process, in MB.
    static func rss(_ pid: pid_t) -> (Double, Double) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    func createSource(_ server: BenchServer, _ token: String, name: String, node: String) async throws -> String {
        var request = HTTPClientRequest(url: server.base + "/api/v1/sources")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"name":"\#(name)","type":"push","record_enabled":true,"node":"\#(node)"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .created,
            let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any], let path = json["path_name"] as? String
        else { throw ValidationError("creating a source answered \(response.status): \(String(buffer: body))") }
        return path
    }
}
