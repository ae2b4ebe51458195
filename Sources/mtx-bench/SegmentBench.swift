import ArgumentParser
import Catalog
import Domain
import Foundation

/// A time-range query of one path's segments at 1,000,000 indexed segments, against answering the same question by
/// scanning that path's recordings directory (how MediaMTX's recordings and playback listings work).
struct SegmentsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "segments", abstract: "Segment range query at scale vs a directory scan.")

    @Option(help: "Segments in the index.") var segments = 1_000_000
    @Option(help: "Paths they are spread over (the scanned directory holds segments/paths files).") var paths = 100
    @Option(help: "Queries per measurement.") var runs = 200

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-bench-segments-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try AppDatabase.open(path: dir.appendingPathComponent("bench.sqlite").path)
        let pattern = RecordPathPattern(dir.path + "/rec/%path/%Y-%m-%d_%H-%M-%S-%f")
        let t0: Int64 = 1_795_000_000_000_000
        let perPath = segments / paths

        let seeding = ContinuousClock.now
        for p in 0..<paths {
            try await db.insertSegments(
                (0..<perPath).map { i in
                    (path: "live/cam-\(p)", start: t0 + Int64(i) * 2_000_000, duration: 2.0, size: Int64(500_000))
                })
        }
        print("seeded \(segments) segments over \(paths) paths in \(ContinuousClock.now - seeding)")

        // The scanned path's directory, with a file per segment named as MediaMTX names them.
        let target = "live/cam-42"
        let folder = dir.appendingPathComponent("rec/\(target)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for i in 0..<perPath {
            let date = Date(micros: t0 + Int64(i) * 2_000_000)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let name = String(format: "%04d-%02d-%02d_%02d-%02d-%02d-000000.mp4", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: nil)
        }

        // One hour in the middle of the path's recordings: 1,800 segments, first page of 100 plus the total.
        let from = t0 + Int64(perPath / 2) * 2_000_000
        let to = from + 3_600_000_000
        let query = SegmentQuery(path: target, from: from, to: to, page: 1, pageSize: 100)
        let total = try await db.segments(query).total
        var indexed: [Double] = []
        for _ in 0..<(runs + 5) {
            let start = ContinuousClock.now
            _ = try await db.segments(query)
            indexed.append(seconds(ContinuousClock.now - start))
        }
        indexed.removeFirst(5)

        var scanned: [Double] = []
        var scanTotal = 0
        for _ in 0..<max(10, runs / 10) {
            let start = ContinuousClock.now
            var found: [Int64] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
                if let parsed = try? pattern.parse(folder.appendingPathComponent(name).path), parsed.start < to, parsed.start + 2_000_000 > from {
                    found.append(parsed.start)
                }
            }
            found.sort()
            scanTotal = found.count
            _ = found.prefix(100)
            scanned.append(seconds(ContinuousClock.now - start))
        }
        let i = stats(indexed), s = stats(scanned)
        print(
            "range query (1 h of \(target), \(total) matches, page of 100 + total) at \(segments) segments: median \(ms(i.median)) ms, p99 \(ms(i.p99)) ms"
        )
        print("baseline: scan of \(perPath) files in its directory (\(scanTotal) matches): median \(ms(s.median)) ms, p99 \(ms(s.p99)) ms")
        print("ratio scan/index (median): \(String(format: "%.0f", s.median / i.median))x")
    }
}
