import API
import ArgumentParser
import AsyncHTTPClient
import Catalog
import Domain
import Foundation
import NIOCore

/// `GET /api/v1/recordings/export` at `--segments` segments (SQLite): rows/s and the release server's RSS while it
/// streams them (sampled every 50 ms). Baseline, same run: the same rows and encoding held in memory before sending
/// (a buffered export), in this process, its RSS growth.
struct ExportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Streamed export of segments: rows/s, flat RSS.")

    @Option(help: "Segments in the index.") var segments = 1_000_000

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-bench-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bench.sqlite").path
        let seeded = ContinuousClock.now
        let db = try AppDatabase.open(path: file)
        let t0: Int64 = 1_795_000_000_000_000
        let paths = 100, perPath = segments / paths
        for p in 0..<paths {
            for chunk in stride(from: 0, to: perPath, by: 5_000) {
                try await db.insertSegments(
                    (chunk..<min(perPath, chunk + 5_000)).map { i in
                        (path: "live/cam-\(p)", start: t0 + Int64(i) * 2_000_000, duration: 2.0, size: Int64(500_000 + i))
                    })
            }
        }
        print("seeded \(paths * perPath) segments in \(ContinuousClock.now - seeded)")

        let server = try await BenchServer.start(in: dir, settings: "")
        defer { server.stop() }
        let token = try await server.viewerToken(database: file, role: .operator)
        for format in ["csv", "ndjson"] {
            let pid = server.process.pid
            let before = NodesBench.rss(pid).0
            let sampler = Task {
                var peak = before
                while !Task.isCancelled {
                    peak = max(peak, NodesBench.rss(pid).0)
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return peak
            }
            var request = HTTPClientRequest(url: server.base + "/api/v1/recordings/export?format=\(format)")
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let start = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
            var lines = 0, bytes = 0
            for try await chunk in response.body {
                bytes += chunk.readableBytes
                lines += chunk.readableBytesView.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            }
            let elapsed = NodesBench.seconds(ContinuousClock.now - start)
            sampler.cancel()
            let peak = max(await sampler.value, NodesBench.rss(pid).0)
            let rows = lines - (format == "csv" ? 1 : 0)
            print(
                "streamed \(format): \(rows) rows, \(bytes / 1_048_576) MiB in \(String(format: "%.2f", elapsed)) s = \(Int(Double(rows) / elapsed)) rows/s; "
                    + "server RSS \(Int(before)) MB before, peak \(Int(peak)) MB during (+\(Int(peak - before)) MB)")
        }

        // Baseline: the same rows and encoding, all held in memory first.
        let before = NodesBench.rss(getpid()).0
        let start = ContinuousClock.now
        var whole = ByteBuffer()
        try await RecordingsExport(database: db).write(.csv, paths: nil, from: nil, to: nil) { chunk in
            var chunk = chunk
            whole.writeBuffer(&chunk)
        }
        let elapsed = NodesBench.seconds(ContinuousClock.now - start)
        let after = NodesBench.rss(getpid()).0
        let rows = whole.readableBytesView.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 } - 1
        print(
            "buffered csv (baseline, in this process): \(rows) rows in \(String(format: "%.2f", elapsed)) s = \(Int(Double(rows) / elapsed)) rows/s; "
                + "RSS +\(Int(after - before)) MB to hold \(whole.readableBytes / 1_048_576) MiB")
        try db.close()
    }
}
