import Catalog
import CatalogPostgres
import Domain
import Foundation
import HookWire
import PostgresScratch
import Testing

/// `mtx-companion migrate-to`: a SQLite catalogue with rows in every table, copied into an empty PostgreSQL one.
@Suite("migrate-to: SQLite into PostgreSQL", .timeLimit(.minutes(3)))
struct MigrateToTests {
    static let t: Int64 = 1_764_600_000_000_000

    /// What the fixture made, to read back.
    struct Fixture {
        var camera: MediaSource
        var gate: MediaSource
        var assets: [UUID]
        var user: User
        var subscriptions: [UUID]
        var paths: [String]
        var publishKey: String
        var loginKeys: [String]
    }

    func withSQLite(_ body: (AppDatabase) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-to-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try AppDatabase.open(path: dir.appendingPathComponent("catalog.sqlite").path)
        try await body(database)
        try database.close()
    }

    func withPostgres(_ body: (PostgresCatalog) async throws -> Void) async throws {
        try await PostgresScratch.withCatalog(try #require(CatalogContractTests.postgresURL)) { catalog, _ in try await body(catalog) }
    }

    static func event(
        _ id: String, _ type: HookEvent, at: Int64, path: String, reader: String? = nil, segment: IngestEvent.SegmentInfo? = nil
    ) -> IngestEvent {
        IngestEvent(
            eventID: id, type: type, occurredAt: at, node: "node-1", path: path, sourceType: type == .available ? "rtmpConn" : nil,
            sourceID: type == .available ? "conn-1" : nil, readerType: reader.map { _ in "hlsMuxer" }, readerID: reader, segment: segment,
            payload: #"{"type":"\#(type.rawValue)","id":"\#(id)","path":"\#(path)","n":[1,2.5,true,null]}"#)
    }

    static func segment(_ start: Int64, duration: Double? = nil, size: Int64? = nil) -> IngestEvent.SegmentInfo {
        IngestEvent.SegmentInfo(filePath: "/rec/\(start).mp4", start: start, duration: duration, size: size)
    }

    /// At least one row in every table, through the catalogue's own writes.
    static func fill(_ db: AppDatabase) async throws -> Fixture {
        let camera = CatalogContractTests.source("Camera", kind: .push, at: 1_764_600_000.123)
        var gate = CatalogContractTests.source("Gate", kind: .pull, enabled: false, at: 1_764_600_001.5)
        gate.recordEnabled = true
        let everything = WebhookSubscription(
            id: UUID(), url: "https://hooks.example/all",
            events: ["source.created", "stream.online", "reader.joined", "recording.session_started", "recording.segment_completed"],
            sourceIDs: nil, secret: "s1", enabled: true, createdAt: 1, updatedAt: 1)
        let cameraOnly = WebhookSubscription(
            id: UUID(), url: "https://hooks.example/camera", events: ["stream.online"], sourceIDs: [camera.id, gate.id], secret: "s2",
            previousSecret: "old", previousSecretExpiresAt: t + 99, enabled: true, failingSince: t - 5, createdAt: 2, updatedAt: 3)
        let none = WebhookSubscription(
            id: UUID(), url: "https://hooks.example/none", events: [], sourceIDs: [], secret: "s3", enabled: false, disabledReason: "failing",
            createdAt: 4, updatedAt: 4)
        for s in [everything, cameraOnly, none] { try await db.insertSubscription(s) }
        try await db.insertSource(camera, announcing: [ServiceEvent(type: "source.created", occurredAt: t, source: camera, data: [:])])
        try await db.insertSource(gate, announcing: [])
        // A second node with observed health; the gate moved to it (a second placement).
        var north = MediaNode(
            name: "north", apiAddress: "http://10.0.0.2:9997", playbackAddress: "http://10.0.0.2:9996", rtspAddress: "rtsp://n.example:8554",
            rtmpAddress: "rtmp://n.example:1935", hlsAddress: "https://n.example:8888", webrtcAddress: "https://n.example:8889",
            srtAddress: "srt://n.example:8890", labels: ["site": "north"], maxPaths: 500, authToken: "north-token-0123456789",
            createdAt: Date(micros: t), updatedAt: Date(micros: t))
        try await db.insertNode(north)
        north.health = NodeHealth(checkedAt: t)
        try await db.saveNodeHealth("north", try #require(north.health))
        var moved = gate
        moved.node = "north"
        moved.updatedAt = Date(micros: t + 10)
        try await db.updateSource(moved)

        let created = CatalogContractTests.time(1_764_600_002.25)
        let stream = MediaAsset(
            id: UUID(), name: "Camera stream", type: MediaAsset.streamType, sourceType: .live, sourceID: camera.id, path: camera.pathName,
            tags: ["lobby", "front"], description: "the lobby", createdAt: created, updatedAt: created)
        let clip = MediaAsset(
            id: UUID(), name: "Clip", type: MediaAsset.streamType, sourceType: .vod, sourceID: camera.id, path: camera.pathName, tags: ["clip"],
            description: nil, clipStart: CatalogContractTests.time(1_764_600_000.5), clipDuration: 30.25, clipFormat: "mp4",
            createdAt: created.addingTimeInterval(1), updatedAt: created.addingTimeInterval(2))
        try await db.insertAsset(stream)
        try await db.insertAssets([clip])

        let alice = User(
            username: "Alice", role: .admin, passwordHash: "$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01",
            createdAt: created, updatedAt: created)
        try await db.addUser(alice)
        try await db.addUser(User(username: "bob", role: .viewer, passwordHash: "$2b$12$bob", createdAt: created, updatedAt: created))
        try await db.endSessions(userID: alice.id)
        let key = try await db.publishKey(sourceID: camera.id)
        try await db.appendAudit(
            AuditEntry(
                at: created, userID: alice.id, username: "Alice", action: "source.create", targetType: "source",
                targetID: camera.id.uuidString.lowercased(), outcome: "ok", status: 201, ip: "203.0.113.9", detail: "name=Camera"))
        try await db.appendAudit(
            AuditEntry(
                at: created.addingTimeInterval(1), userID: nil, username: nil, action: "login", targetType: nil, targetID: nil, outcome: "denied",
                status: 401, ip: nil, detail: nil))
        try await db.setRetentionDays(sourceID: camera.id, 7)

        // Status, readers, segments (one still recording: its session stays open), history, and their deliveries.
        let path = camera.pathName
        let events = [
            event("on", .available, at: t, path: path),
            event("up", .online, at: t + 1, path: path),
            event("r", .read, at: t + 2, path: path, reader: "x"),
            event("c1", .segmentCreate, at: t + 3, path: path, segment: segment(t)),
            event("k1", .segmentComplete, at: t + 2_000_000, path: path, segment: segment(t, duration: 2, size: 10)),
            event("c2", .segmentCreate, at: t + 2_000_001, path: path, segment: segment(t + 2_000_000)),
            event("g-on", .available, at: t + 5, path: "live/other"),
            event("g-off", .unavailable, at: t + 6, path: "live/other"),
        ]
        let result = try await db.ingest(events, receivedAt: t + 3_000_000, sessionGap: 1_000_000)
        #expect(result.accepted == events.count && result.webhooks > 0)

        // A test ping already attempted, and an outbox delivery that failed for good.
        _ = try await db.recordDelivery(
            subscriptionID: everything.id, eventID: "ping-1", type: "ping", payload: #"{"type":"ping"}"#,
            attempt: WebhookAttempt(outcome: .delivered, at: t + 4_000_000, status: 200, error: nil, latencyMs: 12.5))
        let pending = try await db.deliveries(subscriptionID: cameraOnly.id, state: .pending, page: 1, pageSize: 10).items
        let first = try #require(pending.first)
        try await db.recordAttempts(
            [(first, WebhookAttempt(outcome: .failed, at: t + 5_000_000, status: 500, error: "HTTP 500", latencyMs: 3))], disableAfter: 1 << 40)

        let loginKeys = ["user:alice", "ip:203.0.113.9"]
        try await db.recordLoginFailure(keys: loginKeys, at: t + 7)
        return Fixture(
            camera: camera, gate: gate, assets: [stream.id, clip.id], user: alice, subscriptions: [everything.id, cameraOnly.id, none.id],
            paths: [path, "live/other"], publishKey: key, loginKeys: loginKeys)
    }

    /// The tables of the SQLite catalogue: a new one must get a fixture row above and a mapping in
    /// PostgresCatalog+Import.swift.
    static let tables = [
        "audit_log", "hook_events", "login_failures", "media_asset_tags", "media_assets", "media_sources", "nodes", "path_readers", "path_status",
        "publish_keys", "recording_session_gap", "recording_sessions", "segments", "source_placements", "source_retention", "users",
        "webhook_deliveries", "webhook_open_sessions", "webhook_subscriptions",
    ]

    @Test func theFixtureFillsEveryTableAndTheExportReadsEveryRow() async throws {
        try await withSQLite { db in
            _ = try await Self.fill(db)
            let counts = try await db.rowCounts()
            #expect(counts.keys.sorted() == Self.tables, "GRDB's and SQLite's own tables are left out; every other table is listed")
            for (table, rows) in counts.sorted(by: { $0.key < $1.key }) {
                #expect(rows > 0, "\(table) is empty: MigrateToTests.fill must write a row to every table")
            }
            let exported = try await db.exportTables()
            #expect(Dictionary(uniqueKeysWithValues: exported.map { ($0.name, $0.rows.count) }) == counts)
            #expect(exported.allSatisfy { table in table.rows.allSatisfy { $0.count == table.columns.count } })
            let sources = try #require(exported.first { $0.name == "media_sources" })
            let created = try #require(sources.columns.firstIndex(of: "created_at"))
            // GRDB's Date text, read back as the SQLite catalogue reads it.
            #expect(sources.rows.compactMap { $0[created].sqliteDate?.micros }.sorted() == [1_764_600_000_123_000, 1_764_600_001_500_000])
        }
    }

    /// Rows equal, their JSON payloads compared by meaning: jsonb keeps neither the key order nor the spacing of the text.
    static func sameJSON<Row: JSONPayloadRow>(_ a: [Row], _ b: [Row]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            var (x, y) = (x, y)
            guard (try? CatalogContractTests.sameJSON(x.payload, y.payload)) == true else { return false }
            (x.payload, y.payload) = ("", "")
            return x == y
        }
    }

    /// An asset as both catalogues keep it: times to the millisecond.
    static func kept(_ asset: MediaAsset?) -> MediaAsset? {
        guard var a = asset else { return nil }
        a.createdAt = CatalogContractTests.time(a.createdAt.timeIntervalSince1970)
        a.updatedAt = CatalogContractTests.time(a.updatedAt.timeIntervalSince1970)
        a.clipStart = a.clipStart.map { CatalogContractTests.time($0.timeIntervalSince1970) }
        return a
    }

    /// Everything the fixture wrote reads back the same through each catalogue's public reads.
    /// `segmentIDs`: false once new segments were written, as PostgreSQL's upsert takes an id also when it updates
    /// (ids are each backend's own; copied ones are kept).
    static func expectSameReads(_ sqlite: AppDatabase, _ pg: PostgresCatalog, _ f: Fixture, segmentIDs: Bool = true) async throws {
        func ids(_ segments: [Segment]) -> [Segment] {
            segmentIDs
                ? segments
                : segments.map {
                    Segment(
                        id: 0, pathName: $0.pathName, filePath: $0.filePath, start: $0.start, duration: $0.duration, size: $0.size, state: $0.state)
                }
        }
        for id in [f.camera.id, f.gate.id] {
            #expect(CatalogContractTests.kept(try await pg.source(id: id)) == CatalogContractTests.kept(try await sqlite.source(id: id)))
        }
        #expect(try await pg.source(id: f.camera.id) != nil)
        #expect(try await pg.allSources().map(\.id) == sqlite.allSources().map(\.id))
        #expect(try await pg.nodes() == sqlite.nodes())
        #expect(try await pg.nodes().map(\.name) == ["north"])
        let paths = [f.camera.pathName, f.gate.pathName]
        #expect(try await pg.placements(paths: paths) == sqlite.placements(paths: paths))
        #expect(try await pg.placements(paths: paths)[f.gate.pathName]?.map(\.node) == ["default", "north"])
        for id in f.assets {
            let asset = try await pg.asset(id: id)
            let expected = try await sqlite.asset(id: id)
            #expect(asset != nil)
            #expect(kept(asset) == kept(expected))
        }
        #expect(try await pg.assets(AssetQuery(tags: ["lobby"])).items.map(\.id) == sqlite.assets(AssetQuery(tags: ["lobby"])).items.map(\.id))

        let user = try #require(try await pg.user(named: "alice"))
        #expect(user.passwordHash == f.user.passwordHash && user.id == f.user.id && user.tokenVersion == 1)
        #expect(CatalogContractTests.kept(user) == CatalogContractTests.kept(try await sqlite.user(named: "alice")))
        #expect(try await pg.users().map(\.username) == ["Alice", "bob"])
        #expect(try await pg.publishKey(sourceID: f.camera.id) == f.publishKey)
        #expect(try await pg.publishTarget(path: f.camera.pathName)?.key == f.publishKey)
        let audit = try await pg.audit(AuditQuery()).items
        let expectedAudit = try await sqlite.audit(AuditQuery()).items
        #expect(audit.count >= 2)
        #expect(audit.map(CatalogContractTests.kept) == expectedAudit.map(CatalogContractTests.kept))
        #expect(try await pg.retentionDays(sourceID: f.camera.id) == 7)
        #expect(try await pg.retentionOverrides() == sqlite.retentionOverrides())

        for path in f.paths {
            #expect(try await pg.pathState(path) == sqlite.pathState(path))
            let segments = try await pg.allSegments(path: path, from: nil, to: nil)
            let expectedSegments = try await sqlite.allSegments(path: path)
            #expect(ids(segments) == ids(expectedSegments))
            #expect(try await pg.isRecording(path: path) == sqlite.isRecording(path: path))
            let sessions = try await pg.recordingSessions(paths: [path], from: .min, to: .max)
            #expect(sessions == (try await sqlite.recordingSessions(paths: [path], from: .min, to: .max)))
            #expect((sessions[path] ?? []) == mergeSessions(expectedSegments, gap: 1_000_000))
            let history = try await pg.history(path: path, limit: 100, before: nil)
            let expectedHistory = try await sqlite.history(path: path, limit: 100)
            #expect(!history.isEmpty)
            #expect(sameJSON(history, expectedHistory))
        }
        #expect(try await pg.pathState(f.camera.pathName).readers == ["x": "hlsMuxer"])
        let all = SegmentQuery(includeDeleted: true, pageSize: 1000)
        let segments = try await pg.segments(all).items
        let expectedSegments = try await sqlite.segments(all).items
        #expect(segments.count >= 2)
        #expect(ids(segments) == ids(expectedSegments))
        #expect(try await pg.storage() == sqlite.storage())

        #expect(try await pg.subscriptions(page: 1, pageSize: 10).items == sqlite.subscriptions(page: 1, pageSize: 10).items)
        for id in f.subscriptions {
            #expect(try await pg.subscription(id: id) == sqlite.subscription(id: id))
            let deliveries = try await pg.deliveries(subscriptionID: id, state: nil, page: 1, pageSize: 100)
            let expected = try await sqlite.deliveries(subscriptionID: id, state: nil, page: 1, pageSize: 100)
            #expect(deliveries.total == expected.total && sameJSON(deliveries.items, expected.items))
        }
        #expect(try await pg.deliveries(subscriptionID: f.subscriptions[0], state: nil, page: 1, pageSize: 100).total > 1)

        // The login throttle's failures, once the PostgreSQL catalogue keeps them.
        if let failures = (pg as Any) as? any LoginFailureStore {
            #expect(try await failures.loginFailures(keys: f.loginKeys, since: 0) == sqlite.loginFailures(keys: f.loginKeys, since: 0))
        }
    }

    @Test(.enabled(if: CatalogContractTests.postgresURL != nil, "set MTX_TEST_POSTGRES_URL (scripts/postgres.sh start DIR prints one)"))
    func everyRowArrivesReadsBackTheSameAndASecondCopyIsRefused() async throws {
        try await withSQLite { sqlite in
            let fixture = try await Self.fill(sqlite)
            let tables = try await sqlite.exportTables()
            let counts = try await sqlite.rowCounts()
            try await withPostgres { pg in
                #expect(try await pg.rowCounts().values.allSatisfy { $0 == 0 })
                let copied = try await pg.importCatalog(from: tables)
                #expect(copied == counts)
                #expect(try await pg.rowCounts() == counts)
                try await Self.expectSameReads(sqlite, pg, fixture)

                // Again: refused, nothing changes.
                await #expect(throws: CatalogImportError.notEmpty(counts)) { try await pg.importCatalog(from: tables) }
                do {
                    _ = try await pg.importCatalog(from: tables)
                } catch {
                    #expect("\(error)".hasPrefix("the PostgreSQL catalogue is not empty"))
                }
                #expect(try await pg.rowCounts() == counts)

                // Writes after the copy: the identities go on past the copied ids, and the open recording session
                // came along (the next segment of the session announces no new session).
                let path = fixture.camera.pathName
                let next = [
                    Self.event("k2", .segmentComplete, at: Self.t + 4_000_000, path: path, segment: Self.segment(Self.t + 2_000_000, duration: 2)),
                    Self.event("c3", .segmentCreate, at: Self.t + 4_000_001, path: path, segment: Self.segment(Self.t + 4_000_000)),
                ]
                let a = try await sqlite.ingest(next, receivedAt: Self.t + 9_000_000, sessionGap: 1_000_000)
                let b = try await pg.ingest(next, receivedAt: Self.t + 9_000_000, sessionGap: 1_000_000)
                #expect(a == b && a.webhooks == 1)
                let entry = AuditEntry(
                    at: Date(timeIntervalSince1970: 1_764_600_100), userID: nil, username: "cli", action: "user.add", targetType: "user",
                    targetID: "carol", outcome: "ok", status: nil, ip: nil, detail: nil)
                try await sqlite.appendAudit(entry)
                try await pg.appendAudit(entry)
                _ = try await sqlite.redeliver(id: 1, now: Self.t + 10_000_000)
                _ = try await pg.redeliver(id: 1, now: Self.t + 10_000_000)
                try await Self.expectSameReads(sqlite, pg, fixture, segmentIDs: false)
                #expect(try await pg.rowCounts() == sqlite.rowCounts())
            }
        }
    }

    /// A table or column the mapping does not know, or a value that does not convert: refused, nothing written.
    @Test(.enabled(if: CatalogContractTests.postgresURL != nil, "set MTX_TEST_POSTGRES_URL (scripts/postgres.sh start DIR prints one)"))
    func whatTheMappingDoesNotKnowIsRefused() async throws {
        try await withSQLite { sqlite in
            _ = try await Self.fill(sqlite)
            let tables = try await sqlite.exportTables()
            try await withPostgres { pg in
                let empty = try await pg.rowCounts()
                #expect(empty.values.allSatisfy { $0 == 0 })

                let added = tables + [ExportedTable(name: "new_table", columns: ["x"], rows: [[.integer(1)]])]
                await #expect(throws: CatalogImportError.unmappedTable("new_table")) { try await pg.importCatalog(from: added) }

                var widened = tables
                let users = try #require(widened.firstIndex { $0.name == "users" })
                widened[users].columns.append("nickname")
                widened[users].rows = widened[users].rows.map { $0 + [.text("al")] }
                let differs = await #expect(throws: CatalogImportError.self) { try await pg.importCatalog(from: widened) }
                guard case .columnsDiffer(let table, _, let found) = differs else { throw try #require(differs) }
                #expect(table == "users" && found.contains("nickname"))

                // Fails half-way (users come after sources and assets): rolled back.
                var broken = tables
                let id = try #require(broken[users].columns.firstIndex(of: "id"))
                broken[users].rows[0][id] = .text("not-a-uuid")
                do {
                    _ = try await pg.importCatalog(from: broken)
                    Issue.record("copied a row whose id is not a uuid")
                } catch let error as CatalogImportError {
                    guard case .badValue(let table, let column, let row, _) = error else { throw error }
                    #expect(table == "users" && column == "id" && row == 1)
                }
                #expect(try await pg.rowCounts() == empty)

                // Still empty: the real copy goes through.
                #expect(try await pg.importCatalog(from: tables) == sqlite.rowCounts())
            }
        }
    }
}

/// A catalogue row with a JSON payload (`MigrateToTests.sameJSON`).
protocol JSONPayloadRow: Equatable {
    var payload: String { get set }
}

extension WebhookDelivery: JSONPayloadRow {}
extension HistoryEvent: JSONPayloadRow {}
