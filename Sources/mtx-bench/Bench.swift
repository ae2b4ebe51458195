import ArgumentParser
import Catalog
import Domain
import Foundation
import GRDB

/// Benchmarks that print figures (not tests). Run with `swift run -c release mtx-bench <name>`.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mtx-bench", abstract: "Print benchmark figures.",
        subcommands: [
            AssetTags.self, AuthBench.self, BackendsBench.self, ExportBench.self, HooksBench.self, NodesBench.self, SegmentsBench.self,
            SessionsBench.self,
            WebhooksBench.self,
        ]
    )
}

/// Listing assets filtered by tag at 100k assets: the indexed query against a scan of the tag table.
struct AssetTags: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "asset-tags", abstract: "GET /api/v1/assets?tag=… at scale.")

    @Option(help: "Number of assets.") var assets = 100_000
    @Option(help: "Queries per measurement.") var runs = 200

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bench.sqlite").path
        let db = try AppDatabase.open(path: file)
        // SQLite itself, through a connection of our own: the plan of the catalogue's query and the baseline scan.
        let sqlite = try DatabasePool(
            path: file,
            configuration: {
                var c = Configuration()
                c.readonly = true
                return c
            }())

        let seeded = ContinuousClock.now
        let source = try await seed(db)
        print("seeded \(assets) assets (\(Self.vocabulary.count) common tags, 1–4 each, 1 in 1000 tagged 'rare') in \(ContinuousClock.now - seeded)")

        print("plan: " + (try await Self.plan(sqlite, tag: "tag-7")).joined(separator: "; "))
        for (label, tag) in [("common tag (~1% of assets)", "tag-7"), ("rare tag (0.1%)", "rare")] {
            let query = AssetQuery(tags: [tag], pageSize: 50)
            let total = try await db.assets(query).total
            let indexed = try await measure { _ = try await db.assets(query) }
            let scan = try await measure { _ = try await Self.scanQuery(sqlite, tag: tag) }
            print("\(label): \(total) matches")
            print("  indexed  page of 50 + total: median \(Self.ms(indexed.median)) ms, p99 \(Self.ms(indexed.p99)) ms")
            print("  baseline tag-table scan:     median \(Self.ms(scan.median)) ms, p99 \(Self.ms(scan.p99)) ms")
            print("  ratio baseline/indexed (median): \(String(format: "%.1f", scan.median / indexed.median))x")
        }
        _ = source
    }

    static let vocabulary = (0..<250).map { "tag-\($0)" }

    func seed(_ db: AppDatabase) async throws -> MediaSource {
        let now = Date()
        let id = UUID()
        let source = MediaSource(
            id: id, name: "bench", pathName: PathName.make(name: "bench", id: id), kind: .push, url: nil, protocol: "rtmp",
            enabled: true, recordEnabled: false, createdAt: now, updatedAt: now
        )
        try await db.insertSource(source)
        var generator = SystemRandomNumberGenerator()
        let batch = 5_000
        for start in stride(from: 0, to: assets, by: batch) {
            var rows: [MediaAsset] = []
            for i in start..<min(assets, start + batch) {
                var tags = (0..<Int.random(in: 1...4, using: &generator)).map { _ in Self.vocabulary.randomElement(using: &generator)! }
                if i % 1000 == 0 { tags.append("rare") }
                let at = now.addingTimeInterval(Double(i) / 1000)
                rows.append(
                    MediaAsset(
                        id: UUID(), name: "asset \(i)", type: MediaAsset.streamType, sourceType: .live, sourceID: source.id, path: source.pathName,
                        tags: Array(Set(tags)), description: nil, createdAt: at, updatedAt: at
                    ))
            }
            try await db.insertAssets(rows)
        }
        return source
    }

    /// SQLite's plan for the catalogue's tag-filtered page (the query of `AppDatabase.assets` with one tag).
    static func plan(_ sqlite: DatabasePool, tag: String) async throws -> [String] {
        try await sqlite.read { conn in
            try Row.fetchAll(
                conn,
                sql:
                    "EXPLAIN QUERY PLAN SELECT a.* FROM media_asset_tags t JOIN media_assets a ON a.id = t.asset_id WHERE t.tag = ? ORDER BY t.created_at DESC, t.asset_id DESC LIMIT 50",
                arguments: [tag]
            ).map { $0["detail"] }
        }
    }

    /// The same answer without the tag index: what a filter on an unindexed tag column costs.
    static func scanQuery(_ sqlite: DatabasePool, tag: String) async throws -> Int {
        try await sqlite.read { conn in
            let filter = "id IN (SELECT asset_id FROM media_asset_tags NOT INDEXED WHERE tag = ?)"
            let total = try Int.fetchOne(conn, sql: "SELECT COUNT(*) FROM media_assets WHERE \(filter)", arguments: [tag]) ?? 0
            _ = try Row.fetchAll(conn, sql: "SELECT * FROM media_assets WHERE \(filter) ORDER BY created_at DESC, id DESC LIMIT 50", arguments: [tag])
            return total
        }
    }

    func measure(_ body: () async throws -> Void) async throws -> (median: Double, p99: Double) {
        // (median and p99 of `runs` timed calls after 5 warm-ups)
        for _ in 0..<5 { try await body() }
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try await body()
            let d = ContinuousClock.now - start
            samples.append(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))])
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.3f", seconds * 1000) }
}
