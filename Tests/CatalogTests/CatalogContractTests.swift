import Catalog
import CatalogPostgres
import Domain
import Foundation
import PostgresScratch
import Testing

/// The catalogue's contract, run against every backend: the SQLite file and a real PostgreSQL server
/// (`MTX_TEST_POSTGRES_URL`, which scripts/test.sh sets after starting one with scripts/postgres.sh). Each test gets a
/// fresh catalogue: a new SQLite file, or a new PostgreSQL database.
@Suite("Catalogue contract: SQLite and PostgreSQL", .timeLimit(.minutes(3)))
struct CatalogContractTests {
    enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    typealias Store = SourceStore & WebhookSubscriptionStore

    static let postgresURL = ProcessInfo.processInfo.environment["MTX_TEST_POSTGRES_URL"]

    func withStore(_ backend: Backend, _ body: (any Store) async throws -> Void) async throws {
        switch backend {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let database = try AppDatabase.open(path: dir.appendingPathComponent("catalog.sqlite").path)
            try await body(database)
            try database.close()
        case .postgres:
            guard let url = Self.postgresURL else {
                // CI always has one (scripts/test.sh); a local `swift test` without it says so and runs SQLite only.
                if ProcessInfo.processInfo.environment["CI"] == "true" {
                    Issue.record("MTX_TEST_POSTGRES_URL is not set: scripts/test.sh starts PostgreSQL (scripts/postgres.sh)")
                } else {
                    print("skipped the PostgreSQL half: set MTX_TEST_POSTGRES_URL (scripts/postgres.sh start DIR prints one)")
                }
                return
            }
            try await PostgresScratch.withCatalog(url) { catalog, _ in try await body(catalog) }
        }
    }

    /// A source as the catalogue keeps it: its times to the millisecond (the SQLite catalogue's precision).
    static func kept(_ source: MediaSource?) -> MediaSource? {
        guard var s = source else { return nil }
        s.createdAt = time(s.createdAt.timeIntervalSince1970)
        s.updatedAt = time(s.updatedAt.timeIntervalSince1970)
        return s
    }

    /// Whole milliseconds: the SQLite catalogue keeps source times to the millisecond.
    static func time(_ seconds: Double) -> Date { Date(timeIntervalSince1970: (seconds * 1000).rounded() / 1000) }

    static func source(_ name: String, kind: MediaSource.Kind = .push, enabled: Bool = true, at seconds: Double) -> MediaSource {
        let id = UUID()
        return MediaSource(
            id: id, name: name, pathName: PathName.make(name: name, id: id), kind: kind, url: kind == .pull ? "rtsp://cam/\(name)" : nil,
            protocol: kind == .pull ? "rtsp" : "rtmp", enabled: enabled, recordEnabled: false, createdAt: time(seconds), updatedAt: time(seconds))
    }

    @Test(arguments: Backend.allCases)
    func sourcesRoundTripWithTheirRules(backend: Backend) async throws {
        try await withStore(backend) { store in
            let a = Self.source("Front door", kind: .pull, at: 1_764_600_000.123)
            let b = Self.source("OBS", at: 1_764_600_001.5)
            try await store.insertSource(a, announcing: [])
            try await store.insertSource(b, announcing: [])
            #expect(Self.kept(try await store.source(id: a.id)) == Self.kept(a))
            #expect(try await store.source(id: UUID()) == nil)
            #expect(try await store.sourceExists(pathName: a.pathName))
            #expect(try await !store.sourceExists(pathName: "live/nothing"))

            var clash = Self.source("Other", at: 1_764_600_002)
            clash.pathName = a.pathName
            await #expect(throws: CatalogError.pathNameTaken(a.pathName)) { try await store.insertSource(clash, announcing: []) }

            var renamed = a
            renamed.name = "Back door"
            renamed.recordEnabled = true
            renamed.updatedAt = Self.time(1_764_600_010.25)
            try await store.updateSource(renamed)
            #expect(Self.kept(try await store.source(id: a.id)) == Self.kept(renamed))
            await #expect(throws: CatalogError.notFound) { try await store.updateSource(Self.source("Gone", at: 1)) }

            #expect(try await store.sourceIDs(forPaths: [a.pathName, b.pathName, "live/nothing"]) == [a.pathName: a.id, b.pathName: b.id])
            #expect(try await store.sourceIDs(forPaths: []) == [:])
            #expect(try await store.allSources().map(\.id) == [a.id, b.id])

            #expect(try await store.deleteSource(id: a.id, announcing: []))
            #expect(try await !store.deleteSource(id: a.id, announcing: []))
            #expect(try await store.allSources().map(\.id) == [b.id])
        }
    }

    @Test(arguments: Backend.allCases)
    func sourceListsFilterAndPageNewestFirst(backend: Backend) async throws {
        try await withStore(backend) { store in
            var made: [MediaSource] = []
            for (index, name) in ["Gate 1", "gate_2", "Dock 100%", "DOCK north", "Lobby"].enumerated() {
                let source = Self.source(name, kind: index.isMultiple(of: 2) ? .pull : .push, enabled: index != 4, at: 1_764_600_000 + Double(index))
                try await store.insertSource(source, announcing: [])
                made.append(source)
            }
            let all = try await store.sources(SourceQuery())
            #expect(all.total == 5 && all.items.map(\.name) == ["Lobby", "DOCK north", "Dock 100%", "gate_2", "Gate 1"])
            #expect(try await store.sources(SourceQuery(kind: .pull)).items.map(\.name) == ["Lobby", "Dock 100%", "Gate 1"])
            #expect(try await store.sources(SourceQuery(enabled: false)).items.map(\.name) == ["Lobby"])
            // Case-insensitive; % and _ are literal characters, not patterns.
            #expect(try await store.sources(SourceQuery(nameContains: "dock")).items.map(\.name) == ["DOCK north", "Dock 100%"])
            #expect(try await store.sources(SourceQuery(nameContains: "0%")).items.map(\.name) == ["Dock 100%"])
            #expect(try await store.sources(SourceQuery(nameContains: "_")).items.map(\.name) == ["gate_2"])
            let second = try await store.sources(SourceQuery(kind: .pull, page: 2, pageSize: 2))
            #expect(second.total == 3 && second.items.map(\.name) == ["Gate 1"])
            #expect(try await store.sources(SourceQuery(page: 4, pageSize: 2)).items.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func subscriptionsAndTheEventsAChangeAnnounces(backend: Backend) async throws {
        try await withStore(backend) { store in
            let camera = Self.source("Camera", at: 1_764_600_000)
            let other = UUID()
            let all = WebhookSubscription(
                id: UUID(), url: "https://hooks.example/all", events: ["source.created", "source.deleted"], sourceIDs: nil, secret: "s1",
                enabled: true,
                createdAt: 1, updatedAt: 1)
            let elsewhere = WebhookSubscription(
                id: UUID(), url: "https://hooks.example/other", events: ["source.created"], sourceIDs: [other], secret: "s2", enabled: true,
                createdAt: 2, updatedAt: 2)
            var disabled = WebhookSubscription(
                id: UUID(), url: "https://hooks.example/off", events: ["source.created"], sourceIDs: nil, secret: "s3", previousSecret: "old",
                previousSecretExpiresAt: 99, enabled: false, disabledReason: "failing", failingSince: 5, createdAt: 3, updatedAt: 3)
            for s in [all, elsewhere, disabled] { try await store.insertSubscription(s) }
            #expect(try await store.subscription(id: disabled.id) == disabled)
            #expect(try await store.subscription(id: elsewhere.id) == elsewhere)
            let page = try await store.subscriptions(page: 1, pageSize: 2)
            #expect(page.total == 3 && page.items.map(\.id) == [all.id, elsewhere.id])

            // The change and its events in one transaction; only the subscriptions that want them get a delivery.
            try await store.insertSource(
                camera, announcing: [ServiceEvent(type: "source.created", occurredAt: 1_764_600_000_000_000, source: camera, data: [:])])
            let created = try await store.deliveries(subscriptionID: all.id, state: nil, page: 1, pageSize: 10)
            #expect(created.total == 1)
            let delivery = try #require(created.items.first)
            #expect(
                delivery.eventType == "source.created" && delivery.orderKey == camera.pathName && delivery.state == .pending && delivery.attempts == 0
            )
            let decoded = try JSONSerialization.jsonObject(with: Data(delivery.payload.utf8))
            let payload = try #require(decoded as? [String: Any])
            #expect(payload["type"] as? String == "source.created" && payload["id"] as? String == delivery.eventID)
            #expect((payload["source"] as? [String: Any])?["path_name"] as? String == camera.pathName)
            #expect(payload["occurred_at"] as? String == "2025-12-01T14:40:00.000000Z")
            #expect(try await store.deliveries(subscriptionID: elsewhere.id, state: nil, page: 1, pageSize: 10).total == 0)
            #expect(try await store.deliveries(subscriptionID: disabled.id, state: nil, page: 1, pageSize: 10).total == 0)

            // A change that fails writes no event: a duplicate path name.
            var clash = Self.source("Clash", at: 1_764_600_001)
            clash.pathName = camera.pathName
            await #expect(throws: CatalogError.pathNameTaken(camera.pathName)) {
                try await store.insertSource(clash, announcing: [ServiceEvent(type: "source.created", source: clash, data: [:])])
            }
            #expect(try await store.deliveries(subscriptionID: all.id, state: nil, page: 1, pageSize: 10).total == 1)

            #expect(try await store.deleteSource(id: camera.id, announcing: [ServiceEvent(type: "source.deleted", source: camera, data: [:])]))
            let log = try await store.deliveries(subscriptionID: all.id, state: .pending, page: 1, pageSize: 10)
            #expect(log.items.map(\.eventType) == ["source.deleted", "source.created"])
            #expect(try await store.deliveries(subscriptionID: all.id, state: .delivered, page: 1, pageSize: 10).total == 0)
            #expect(try await store.deliveries(subscriptionID: all.id, state: nil, page: 2, pageSize: 1).items.map(\.eventType) == ["source.created"])

            disabled.enabled = true
            disabled.disabledReason = nil
            disabled.updatedAt = 10
            try await store.updateSubscription(disabled)
            #expect(try await store.subscription(id: disabled.id) == disabled)
            var gone = all
            gone.id = UUID()
            await #expect(throws: CatalogError.notFound) { try await store.updateSubscription(gone) }

            // Deleting a subscription deletes its deliveries.
            #expect(try await store.deleteSubscription(id: all.id))
            #expect(try await !store.deleteSubscription(id: all.id))
            #expect(try await store.deliveries(subscriptionID: all.id, state: nil, page: 1, pageSize: 10).total == 0)
            #expect(try await store.subscription(id: all.id) == nil)
        }
    }
}
