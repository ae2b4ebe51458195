import ArgumentParser
import AsyncHTTPClient
import Catalog
import ChildProcess
import Domain
import Foundation
import NIOCore

/// MediaMTX's auth calls (`POST /api/v1/mediamtx/auth`) at a steady rate against the release server, as MediaMTX
/// makes them: publish with the right key, read with a token from a preview URL, and refusals. Baseline, same run
/// and rate: an answer that does no work (a 404), so the ratio is what deciding costs over a bare round trip.
struct AuthBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "auth", abstract: "MediaMTX auth decisions: latency at a steady rate.")

    @Option(help: "Decisions per second.") var rate = 1000
    @Option(name: .customLong("seconds"), help: "Seconds of load for each measurement.") var loadSeconds = 10

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-bench-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = dir.appendingPathComponent("bench.sqlite").path

        // A push source, a pull source and a viewer, straight into the catalogue.
        let db = try AppDatabase.open(path: database)
        let now = Date()
        var paths: [String] = []
        for kind in [MediaSource.Kind.push, .pull] {
            let id = UUID()
            let source = MediaSource(
                id: id, name: "bench-\(kind)", pathName: PathName.make(name: "bench", id: id), kind: kind, url: kind == .pull ? "rtsp://cam/s" : nil,
                protocol: "rtsp", enabled: true, recordEnabled: false, createdAt: now, updatedAt: now
            )
            try await db.insertSource(source)
            paths.append(source.pathName)
        }
        let pushSource = try await db.publishTarget(path: paths[0])!.source
        let key = try await db.publishKey(sourceID: pushSource.id)

        let server = try await BenchServer.start(in: dir, settings: "")
        defer { server.stop() }
        let base = server.base

        // A read token, the way a player gets one: log in, ask for the preview URLs.
        let accessToken = try await server.viewerToken(database: database)
        var previewRequest = HTTPClientRequest(url: base + "/api/v1/sources/\(try await sourceID(db, paths[1]))/preview")
        previewRequest.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        let preview = try await HTTPClient.shared.execute(previewRequest, timeout: .seconds(5))
        let previewBody = try await preview.body.collect(upTo: 1 << 20)
        let hls = try JSONDecoder().decode([String: StringField].self, from: Data(previewBody.readableBytesView))["hls_url"]?.string ?? ""
        let readToken = String(hls.split(separator: "=").last ?? "")

        func body(_ action: String, _ path: String, password: String = "", query: String = "") -> String {
            #"{"ip":"127.0.0.1","user":"","password":"\#(password)","token":"","action":"\#(action)","path":"\#(path)","protocol":"rtsp","id":"x","query":"\#(query)","userAgent":"bench"}"#
        }
        // 40 % publish with the key, 40 % read with the token, 10 % wrong key, 10 % without credentials.
        let mix: [(String, Int)] = [
            (body("publish", paths[0], password: key), 200), (body("read", paths[1], query: "token=\(readToken)"), 200),
            (body("publish", paths[0], password: key), 200), (body("read", paths[1], query: "token=\(readToken)"), 200),
            (body("publish", paths[0], password: key), 200), (body("read", paths[1], query: "token=\(readToken)"), 200),
            (body("publish", paths[0], password: key), 200), (body("read", paths[1], query: "token=\(readToken)"), 200),
            (body("publish", paths[0], password: "wrong"), 403), (body("read", paths[1]), 401),
        ]
        for (text, expected) in mix {
            let status = try await call(base + "/api/v1/mediamtx/auth", body: text).status
            guard status == expected else { throw ValidationError("auth answered \(status) instead of \(expected) for \(text)") }
        }

        _ = try await paced(base + "/api/v1/mediamtx/auth", bodies: mix.map(\.0), seconds: 2)  // warm-up
        let decisions = try await paced(base + "/api/v1/mediamtx/auth", bodies: mix.map(\.0), seconds: loadSeconds)
        let baseline = try await paced(base + "/api/v1/nothing-here", bodies: mix.map(\.0), seconds: loadSeconds)
        let d = stats(decisions.latencies)
        let b = stats(baseline.latencies)
        print(
            "auth decisions at \(rate)/s for \(loadSeconds) s (\(decisions.latencies.count) calls, achieved \(Int(decisions.achieved))/s): median \(ms(d.median)) ms, p99 \(ms(d.p99)) ms"
        )
        print("baseline 404 at the same rate (\(baseline.latencies.count) calls): median \(ms(b.median)) ms, p99 \(ms(b.p99)) ms")
        print("ratio decision/baseline: median \(String(format: "%.2f", d.median / b.median))x, p99 \(String(format: "%.2f", d.p99 / b.p99))x")
    }

    func call(_ url: String, body: String) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let data = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), Data(data.readableBytesView))
    }

    func sourceID(_ db: AppDatabase, _ path: String) async throws -> String {
        try await db.publishTarget(path: path)!.source.id.uuidString.lowercased()
    }

    /// Starts one call every 1/rate s for `seconds` (not waiting for answers), and times each from its start.
    func paced(_ url: String, bodies: [String], seconds duration: Int) async throws -> (latencies: [Double], achieved: Double) {
        let total = rate * duration
        let interval = Duration.nanoseconds(1_000_000_000 / rate)
        let clock = ContinuousClock()
        let start = clock.now
        let latencies = try await withThrowingTaskGroup(of: Double.self) { group in
            for i in 0..<total {
                try await clock.sleep(until: start + interval * i)
                let body = bodies[i % bodies.count]
                group.addTask {
                    let t0 = clock.now
                    _ = try await call(url, body: body)
                    return seconds(clock.now - t0)
                }
            }
            return try await group.reduce(into: [Double]()) { $0.append($1) }
        }
        return (latencies, Double(total) / seconds(clock.now - start))
    }
}

/// Just enough JSON to read a string field of an answer.
struct StringField: Decodable {
    let string: String?

    init(from decoder: any Decoder) throws {
        string = try? decoder.singleValueContainer().decode(String.self)
    }
}
