import Domain
import Foundation
import GRDB
import HookWire
import Testing

@testable import Catalog

@Suite("SQLite catalogue", .timeLimit(.minutes(3)))
struct AppDatabaseTests {
    func withDatabase(_ body: (AppDatabase, String) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("nested/catalog.sqlite").path
        try await body(try AppDatabase.open(path: path), path)
    }

    func source(_ name: String, kind: MediaSource.Kind = .push, enabled: Bool = true, at: Date = Date()) -> MediaSource {
        let id = UUID()
        return MediaSource(
            id: id, name: name, pathName: PathName.make(name: name, id: id), kind: kind, url: kind == .pull ? "rtsp://a/b" : nil,
            protocol: kind == .pull ? "rtsp" : "rtmp", enabled: enabled, recordEnabled: false, createdAt: at, updatedAt: at
        )
    }

    /// Root (an operator with sudo) opening the catalogue of the packaged server's user would leave SQLite's WAL files
    /// root's and lock the server out: refused, naming the owner and how to run it instead; nothing is created.
    @Test(.enabled(if: geteuid() == 0, "needs root: CI runs as root")) func rootMayNotOpenAnotherUsersCatalogue() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("catalog.sqlite").path
        try AppDatabase.open(path: path).close()
        #expect(chown(path, 65534, 65534) == 0)
        #expect(throws: CatalogError.ownedByAnotherUser(path: path, owner: String(cString: getpwuid(65534)!.pointee.pw_name))) {
            try AppDatabase.open(path: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect("\(CatalogError.ownedByAnotherUser(path: path, owner: "mtx-companion"))".contains("runuser -u mtx-companion --"))
    }

    @Test func schemaIsMigratedWithWALAndForeignKeys() async throws {
        try await withDatabase { db, path in
            #expect(
                try db.appliedMigrations() == [
                    "v1_media_sources", "v2_media_assets", "v3_hook_index", "v4_users_keys_audit", "v5_hook_events_rowid", "v6_source_retention",
                    "v7_webhooks", "v8_user_token_version", "v9_redact_hook_queries", "v10_login_failures", "v11_nodes", "v12_recording_sessions",
                ])
            try await db.writer.read { conn in
                #expect(try String.fetchOne(conn, sql: "PRAGMA journal_mode") == "wal")
                #expect(try Bool.fetchOne(conn, sql: "PRAGMA foreign_keys") == true)
                let columns = try conn.columns(in: "media_sources").map(\.name)
                #expect(
                    columns == [
                        "id", "name", "path_name", "type", "url", "protocol", "enabled", "record_enabled", "created_at", "updated_at", "node",
                    ])
                let unique = try conn.indexes(on: "media_sources").filter(\.isUnique).map(\.columns)
                #expect(unique.contains(["path_name"]))
            }
            // Opening again does not re-run migrations.
            #expect(
                try AppDatabase.open(path: path).appliedMigrations() == [
                    "v1_media_sources", "v2_media_assets", "v3_hook_index", "v4_users_keys_audit", "v5_hook_events_rowid", "v6_source_retention",
                    "v7_webhooks", "v8_user_token_version", "v9_redact_hook_queries", "v10_login_failures", "v11_nodes", "v12_recording_sessions",
                ])
        }
    }

    @Test func historyKeepsItsEventsThroughTheRowidMigration() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("old.sqlite").path
        // A catalogue written before v5: the history keyed by event id.
        let old = try DatabaseQueue(path: path)
        try AppDatabase.migrator.migrate(old, upTo: "v4_users_keys_audit")
        try await old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO hook_events (event_id, type, path_name, occurred_at, received_at, node, payload)
                    VALUES ('e1', 'online', 'cam', 1, 10, 'n1', '{"type":"online"}'), ('e2', 'offline', 'cam', 2, 11, NULL, '{"type":"offline"}')
                    """)
        }
        try old.close()

        let db = try AppDatabase.open(path: path)
        #expect(try db.appliedMigrations().contains("v5_hook_events_rowid"))
        let history = try await db.history(path: "cam", limit: 10)
        #expect(history.map(\.eventID) == ["e2", "e1"])
        #expect(history.last?.node == "n1")
        #expect(history.last?.payload == #"{"type":"online"}"#)
        // Event ids stay unique: a redelivered one is still a duplicate.
        let again = IngestEvent(
            eventID: "e1", type: .online, occurredAt: 1, node: nil, path: "cam", sourceType: nil, sourceID: nil,
            readerType: nil, readerID: nil, segment: nil, payload: "{}"
        )
        let result = try await db.ingest([again])
        #expect(result.accepted == 0 && result.duplicates == 1)
    }

    @Test func historyStoredVerbatimLosesItsSecretsInTheV9Migration() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("old.sqlite").path
        // A catalogue written before v9 kept MTX_QUERY as the hook sent it.
        let old = try DatabaseQueue(path: path)
        try AppDatabase.migrator.migrate(old, upTo: "v8_user_token_version")
        try await old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO hook_events (event_id, type, path_name, occurred_at, received_at, node, payload) VALUES
                    ('e1', 'available', 'cam', 1, 10, NULL, '{"type":"available","query":"key=0123abcd&br=1"}'),
                    ('e2', 'read', 'cam', 2, 11, NULL, '{"type":"read","query":"token=a.b.c"}'),
                    ('e3', 'online', 'cam', 3, 12, NULL, '{"type":"online","query":"br=1"}')
                    """)
        }
        try old.close()

        let history = try await AppDatabase.open(path: path).history(path: "cam", limit: 10)
        let queries = try history.map { e -> String? in
            (try JSONSerialization.jsonObject(with: Data(e.payload.utf8)) as? [String: Any])?["query"] as? String
        }
        #expect(queries == ["br=1", "token=REDACTED", "key=REDACTED&br=1"])
        #expect(history.last?.payload.contains("0123abcd") == false)
    }

    @Test func roundTripAndUniquePathName() async throws {
        try await withDatabase { db, _ in
            let at = Date(timeIntervalSince1970: 1_795_000_000.123)
            let a = source("cam", kind: .pull, at: at)
            try await db.insertSource(a)
            // Times are stored to the millisecond.
            var read = try #require(try await db.source(id: a.id))
            #expect(abs(read.createdAt.timeIntervalSince(a.createdAt)) < 0.000_5)
            read.createdAt = a.createdAt
            read.updatedAt = a.updatedAt
            #expect(read == a)
            #expect(try await db.sourceExists(pathName: a.pathName))

            var clash = source("other")
            clash.pathName = a.pathName
            await #expect(throws: CatalogError.pathNameTaken(a.pathName)) { try await db.insertSource(clash) }

            var changed = a
            changed.name = "renamed"
            try await db.updateSource(changed)
            #expect(try await db.source(id: a.id)?.name == "renamed")
            await #expect(throws: CatalogError.notFound) { try await db.updateSource(clash) }

            #expect(try await db.deleteSource(id: a.id))
            #expect(try await db.deleteSource(id: a.id) == false)
            #expect(try await db.source(id: a.id) == nil)
        }
    }

    @Test func storedValuesAreChecked() async throws {
        try await withDatabase { db, _ in
            await #expect(throws: (any Error).self) {
                try await db.writer.write {
                    try $0.execute(
                        sql:
                            "INSERT INTO media_sources (id, name, path_name, type, enabled, record_enabled, created_at, updated_at) VALUES ('x', 'n', 'p', 'relay', 1, 0, 0, 0)"
                    )
                }
            }
        }
    }

    @Test func listFiltersPagesNewestFirst() async throws {
        try await withDatabase { db, _ in
            let base = Date(timeIntervalSince1970: 1_795_000_000)
            for i in 0..<7 {
                try await db.insertSource(
                    source("cam \(i)", kind: i % 2 == 0 ? .pull : .push, enabled: i != 3, at: base.addingTimeInterval(Double(i))))
            }
            let all = try await db.sources(SourceQuery(pageSize: 3))
            #expect(all.total == 7)
            #expect(all.items.map(\.name) == ["cam 6", "cam 5", "cam 4"])
            #expect(try await db.sources(SourceQuery(page: 3, pageSize: 3)).items.map(\.name) == ["cam 0"])
            #expect(try await db.sources(SourceQuery(kind: .pull)).total == 4)
            #expect(try await db.sources(SourceQuery(enabled: false)).items.map(\.name) == ["cam 3"])
            #expect(try await db.sources(SourceQuery(nameContains: "CAM 5")).total == 1)
            #expect(try await db.sources(SourceQuery(nameContains: "%")).total == 0)
        }
    }

    @Test func assetTagFiltersPageNewestFirst() async throws {
        try await withDatabase { db, _ in
            let cam = source("cam")
            try await db.insertSource(cam)
            let base = Date(timeIntervalSince1970: 1_795_000_000)
            var assets: [MediaAsset] = []
            for i in 0..<10 {
                let tags = ["all"] + (i % 2 == 0 ? ["even"] : ["odd"]) + (i % 3 == 0 ? ["three"] : [])
                let at = base.addingTimeInterval(Double(i))
                assets.append(
                    MediaAsset(
                        id: UUID(), name: "a\(i)", type: MediaAsset.streamType, sourceType: i == 9 ? .vod : .live, sourceID: cam.id,
                        path: cam.pathName, tags: tags, description: nil, createdAt: at, updatedAt: at
                    ))
            }
            try await db.insertAssets(assets)
            let even = try await db.assets(AssetQuery(tags: ["even"], pageSize: 2))
            #expect(even.total == 5)
            #expect(even.items.map(\.name) == ["a8", "a6"])
            #expect(even.items.first?.tags == ["all", "even"])
            #expect(try await db.assets(AssetQuery(tags: ["even"], page: 3, pageSize: 2)).items.map(\.name) == ["a0"])
            #expect(try await db.assets(AssetQuery(tags: ["even", "three"])).items.map(\.name) == ["a6", "a0"])
            #expect(try await db.assets(AssetQuery(tags: ["three", "three"])).total == 4)
            let liveOdd = try await db.assets(AssetQuery(sourceType: .live, tags: ["odd"]))
            #expect(liveOdd.total == 4)
            #expect(liveOdd.items.map(\.name) == ["a7", "a5", "a3", "a1"])
            #expect(try await db.assets(AssetQuery(tags: ["none"])).total == 0)

            // Tags are replaced on update; the source can't be deleted while assets use it.
            var first = assets[0]
            first.tags = ["renamed"]
            try await db.updateAsset(first)
            #expect(try await db.asset(id: first.id)?.tags == ["renamed"])
            #expect(try await db.assets(AssetQuery(tags: ["three"])).total == 3)
            await #expect(throws: CatalogError.sourceHasAssets) { try await db.deleteSource(id: cam.id) }
            #expect(try await db.assetsUsing(sourceID: cam.id).count == 10)
        }
    }
}
