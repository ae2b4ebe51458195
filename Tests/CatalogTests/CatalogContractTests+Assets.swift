import Catalog
import Domain
import Foundation
import Testing

/// The assets capability (`AssetStore`) on every backend.
extension CatalogContractTests {
    /// An asset as the catalogue keeps it: its times to the millisecond (the SQLite catalogue's precision).
    static func kept(_ asset: MediaAsset?) -> MediaAsset? {
        guard var a = asset else { return nil }
        a.createdAt = time(a.createdAt.timeIntervalSince1970)
        a.updatedAt = time(a.updatedAt.timeIntervalSince1970)
        a.clipStart = a.clipStart.map { time($0.timeIntervalSince1970) }
        return a
    }

    static func asset(
        _ name: String, of source: MediaSource?, sourceType: MediaAsset.SourceType = .live, tags: [String] = [], at seconds: Double
    ) -> MediaAsset {
        MediaAsset(
            id: UUID(), name: name, type: source == nil ? "image" : MediaAsset.streamType, sourceType: sourceType, sourceID: source?.id,
            path: source?.pathName, tags: tags, description: nil, createdAt: time(seconds), updatedAt: time(seconds))
    }

    /// The backend's assets, and its sources and webhook subscriptions.
    func withAssetStore(_ backend: Backend, _ body: (any AssetStore, any Store) async throws -> Void) async throws {
        try await withStore(backend) { store in
            let assets = try #require(store as? any AssetStore)
            try await body(assets, store)
        }
    }

    @Test(arguments: Backend.allCases)
    func assetsRoundTripWithTheirRules(backend: Backend) async throws {
        try await withAssetStore(backend) { store, sources in
            let camera = Self.source("Camera", at: 1_764_600_000)
            let other = Self.source("Other", at: 1_764_600_001)
            try await sources.insertSource(camera, announcing: [])
            try await sources.insertSource(other, announcing: [])

            // Every column, tags in their given order (not sorted), a clip's range.
            var clip = Self.asset("Goal", of: camera, sourceType: .vod, tags: ["zeta", "alpha", "Mid dle"], at: 1_764_600_100.123)
            clip.description = "The second half's goal"
            clip.clipStart = Self.time(1_764_599_000.456)
            clip.clipDuration = 12.75
            clip.clipFormat = "mp4"
            clip.updatedAt = Self.time(1_764_600_101.5)
            try await store.insertAsset(clip, withNewSource: nil, announcing: [])
            #expect(Self.kept(try await store.asset(id: clip.id)) == Self.kept(clip))
            #expect(try await store.asset(id: UUID()) == nil)

            // A non-stream asset needs no source; every optional column empty.
            let image = Self.asset("Poster", of: nil, at: 1_764_600_102)
            try await store.insertAsset(image, withNewSource: nil, announcing: [])
            #expect(Self.kept(try await store.asset(id: image.id)) == Self.kept(image))

            // A stream asset always points at a source; a source that is not there is `notFound`; nothing is kept.
            var orphan = Self.asset("Orphan", of: camera, at: 1_764_600_103)
            orphan.sourceID = UUID()
            await #expect(throws: CatalogError.notFound) { try await store.insertAsset(orphan, withNewSource: nil, announcing: []) }
            #expect(try await store.asset(id: orphan.id) == nil)
            var sourceless = Self.asset("Sourceless", of: camera, at: 1_764_600_104)
            sourceless.sourceID = nil
            await #expect(throws: (any Error).self) { try await store.insertAsset(sourceless, withNewSource: nil, announcing: []) }
            #expect(try await store.asset(id: sourceless.id) == nil)
            var pathless = Self.asset("Pathless", of: camera, at: 1_764_600_105)
            pathless.path = nil
            await #expect(throws: (any Error).self) { try await store.insertAsset(pathless, withNewSource: nil, announcing: []) }

            // Update: every column, the tags replaced (order kept), a relink to another source.
            var edited = clip
            edited.name = "Goal (edited)"
            edited.tags = ["new", "alpha"]
            edited.description = nil
            edited.sourceID = other.id
            edited.path = other.pathName
            edited.clipStart = nil
            edited.clipDuration = nil
            edited.clipFormat = nil
            edited.sourceType = .live
            edited.updatedAt = Self.time(1_764_600_200.25)
            try await store.updateAsset(edited)
            #expect(Self.kept(try await store.asset(id: clip.id)) == Self.kept(edited))
            #expect(try await store.assets(AssetQuery(tags: ["zeta"])).total == 0)
            #expect(try await store.assets(AssetQuery(tags: ["new"])).items.map(\.id) == [clip.id])

            // An update to a source that is not there, or of an asset that is gone: `notFound`, nothing changed.
            var relinkedNowhere = edited
            relinkedNowhere.sourceID = UUID()
            relinkedNowhere.tags = ["lost"]
            await #expect(throws: CatalogError.notFound) { try await store.updateAsset(relinkedNowhere) }
            #expect(Self.kept(try await store.asset(id: clip.id)) == Self.kept(edited))
            let gone = Self.asset("Gone", of: camera, tags: ["gone"], at: 1_764_600_300)
            await #expect(throws: CatalogError.notFound) { try await store.updateAsset(gone) }
            #expect(try await store.asset(id: gone.id) == nil)
            #expect(try await store.assets(AssetQuery(tags: ["gone"])).total == 0)

            // Delete: the row and its tags; the source stays.
            #expect(try await store.deleteAsset(id: clip.id))
            #expect(try await !store.deleteAsset(id: clip.id))
            #expect(try await store.asset(id: clip.id) == nil)
            #expect(try await store.assets(AssetQuery(tags: ["new"])).total == 0)
            #expect(try await store.assets(AssetQuery()).items.map(\.id) == [image.id])
            #expect(try await sources.source(id: other.id) != nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func assetListsFilterAndPageNewestFirst(backend: Backend) async throws {
        try await withAssetStore(backend) { store, sources in
            let cam = Self.source("Cam", at: 1_764_600_000)
            let dock = Self.source("Dock", at: 1_764_600_001)
            try await sources.insertSource(cam, announcing: [])
            try await sources.insertSource(dock, announcing: [])
            let names = ["Gate 1", "gate_2", "Dock 100%", "DOCK north", "Lobby", "Yard", "Roof", "Hall", "Lift", "Ramp"]
            var made: [MediaAsset] = []
            for (i, name) in names.enumerated() {
                let tags = ["all"] + (i.isMultiple(of: 2) ? ["even"] : ["odd"]) + (i.isMultiple(of: 3) ? ["three"] : [])
                var asset = Self.asset(name, of: i < 7 ? cam : dock, sourceType: i == 9 ? .vod : .live, tags: tags, at: 1_764_600_100 + Double(i))
                if i == 8 { asset = Self.asset(name, of: nil, tags: tags, at: 1_764_600_108) }
                made.append(asset)
            }
            try await store.insertAssets(made)
            func ids(_ query: AssetQuery) async throws -> [UUID] { try await store.assets(query).items.map(\.id) }
            func picked(_ indices: Int...) -> [UUID] { indices.map { made[$0].id } }

            let all = try await store.assets(AssetQuery())
            #expect(all.total == 10 && all.items.map(\.id) == picked(9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
            #expect(all.items.first?.tags == ["all", "odd", "three"])
            #expect(all.items.last?.tags == ["all", "even", "three"])

            // Each filter alone.
            #expect(try await ids(AssetQuery(type: "image")) == picked(8))
            #expect(try await ids(AssetQuery(type: MediaAsset.streamType)).count == 9)
            #expect(try await ids(AssetQuery(type: "nothing")).isEmpty)
            #expect(try await ids(AssetQuery(sourceType: .vod)) == picked(9))
            #expect(try await store.assets(AssetQuery(sourceType: .live)).total == 9)
            #expect(try await ids(AssetQuery(sourceID: dock.id)) == picked(9, 7))
            #expect(try await ids(AssetQuery(sourceID: UUID())).isEmpty)
            // Case-insensitive; % and _ are literal characters, not patterns; an empty string does not filter.
            #expect(try await ids(AssetQuery(nameContains: "dock")) == picked(3, 2))
            #expect(try await ids(AssetQuery(nameContains: "0%")) == picked(2))
            #expect(try await ids(AssetQuery(nameContains: "_")) == picked(1))
            #expect(try await ids(AssetQuery(nameContains: "%")) == picked(2))
            #expect(try await store.assets(AssetQuery(nameContains: "")).total == 10)

            // Tags: every tag must be present, a repeated tag counts once; the count is of matches, not the page.
            let even = try await store.assets(AssetQuery(tags: ["even"], pageSize: 2))
            #expect(even.total == 5 && even.items.map(\.id) == picked(8, 6))
            #expect(even.items.first?.tags == ["all", "even"])
            #expect(try await ids(AssetQuery(tags: ["even"], page: 3, pageSize: 2)) == picked(0))
            #expect(try await ids(AssetQuery(tags: ["even", "three"])) == picked(6, 0))
            #expect(try await ids(AssetQuery(tags: ["three", "even", "all"])) == picked(6, 0))
            #expect(try await ids(AssetQuery(tags: ["odd", "three"])) == picked(9, 3))
            #expect(try await store.assets(AssetQuery(tags: ["three", "three"])).total == 4)
            #expect(try await store.assets(AssetQuery(tags: ["even", "odd"])).total == 0)
            #expect(try await store.assets(AssetQuery(tags: ["none"])).total == 0)
            #expect(try await store.assets(AssetQuery(tags: ["Even"])).total == 0)

            // Filters together, with and without tags.
            let liveOdd = try await store.assets(AssetQuery(sourceType: .live, tags: ["odd"]))
            #expect(liveOdd.total == 4 && liveOdd.items.map(\.id) == picked(7, 5, 3, 1))
            #expect(try await ids(AssetQuery(sourceID: cam.id, tags: ["three"], nameContains: "o")) == picked(6, 3))
            #expect(try await ids(AssetQuery(type: MediaAsset.streamType, tags: ["even", "all"])) == picked(6, 4, 2, 0))
            let page = try await store.assets(AssetQuery(type: MediaAsset.streamType, sourceType: .live, sourceID: cam.id, page: 2, pageSize: 3))
            #expect(page.total == 7 && page.items.map(\.id) == picked(3, 2, 1))
            let tagged = try await store.assets(AssetQuery(sourceID: cam.id, tags: ["all"], nameContains: "O", page: 2, pageSize: 2))
            #expect(tagged.total == 4 && tagged.items.map(\.id) == picked(3, 2))
            #expect(try await store.assets(AssetQuery(page: 6, pageSize: 2)).items.isEmpty)
            #expect(try await store.assets(AssetQuery(tags: ["all"], page: 6, pageSize: 2)).total == 10)

            // The same time: the greater id first.
            let twins = (0..<2).map { _ in Self.asset("Twin", of: cam, tags: ["twin"], at: 1_764_600_500) }
            try await store.insertAssets(twins)
            let greaterIDFirst = twins.map(\.id).sorted { $0.uuidString.lowercased() > $1.uuidString.lowercased() }
            #expect(try await ids(AssetQuery(pageSize: 2)) == greaterIDFirst)
            #expect(try await ids(AssetQuery(tags: ["twin"])) == greaterIDFirst)
        }
    }

    @Test(arguments: Backend.allCases)
    func bulkInsertsAreAllOrNone(backend: Backend) async throws {
        try await withAssetStore(backend) { store, sources in
            let cam = Self.source("Cam", at: 1_764_600_000)
            try await sources.insertSource(cam, announcing: [])
            try await store.insertAssets([])
            // More than one statement's worth on PostgreSQL (1,000 assets a statement).
            let many = (0..<1_201).map { i in
                Self.asset("bulk \(i)", of: cam, tags: i.isMultiple(of: 100) ? ["hundred", "all"] : ["all"], at: 1_764_600_000 + Double(i))
            }
            try await store.insertAssets(many)
            let newest = try await store.assets(AssetQuery(pageSize: 3))
            #expect(newest.total == 1_201 && newest.items.map(\.name) == ["bulk 1200", "bulk 1199", "bulk 1198"])
            let hundreds = try await store.assets(AssetQuery(tags: ["hundred"]))
            #expect(hundreds.total == 13 && hundreds.items.first?.name == "bulk 1200" && hundreds.items.last?.name == "bulk 0")
            #expect(hundreds.items.first?.tags == ["hundred", "all"])
            #expect(try await store.assets(AssetQuery(tags: ["all", "hundred"])).total == 13)

            // One bad asset (its source is not there): none of the batch is kept.
            var batch = (0..<3).map { i in Self.asset("batch \(i)", of: cam, tags: ["batch"], at: 1_764_700_000 + Double(i)) }
            batch[2].sourceID = UUID()
            await #expect(throws: (any Error).self) { try await store.insertAssets(batch) }
            #expect(try await store.assets(AssetQuery()).total == 1_201)
            #expect(try await store.assets(AssetQuery(tags: ["batch"])).total == 0)
            #expect(try await store.asset(id: batch[0].id) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func assetsUsingASourceAndDeletingIt(backend: Backend) async throws {
        try await withAssetStore(backend) { store, sources in
            let cam = Self.source("Cam", at: 1_764_600_000)
            let spare = Self.source("Spare", at: 1_764_600_001)
            try await sources.insertSource(cam, announcing: [])
            try await sources.insertSource(spare, announcing: [])
            // Inserted out of time order: the oldest come first.
            let times: [Double] = [40, 10, 30, 20, 50]
            let made = times.enumerated().map { i, t in Self.asset("use \(i)", of: cam, tags: ["t"], at: 1_764_600_000 + t) }
            for asset in made { try await store.insertAsset(asset, withNewSource: nil, announcing: []) }
            try await store.insertAsset(Self.asset("elsewhere", of: spare, at: 1_764_600_002), withNewSource: nil, announcing: [])

            let using = try await store.assetsUsing(sourceID: cam.id, limit: 3)
            #expect(using.count == 5 && using.first.map(\.name) == ["use 1", "use 3", "use 2"])
            #expect(using.first.map(\.id) == [made[1].id, made[3].id, made[2].id])
            #expect(try await store.assetsUsing(sourceID: cam.id, limit: 10).first.count == 5)
            let none = try await store.assetsUsing(sourceID: UUID(), limit: 5)
            #expect(none.count == 0 && none.first.isEmpty)

            // A source that assets point at is not deleted, nor its events written; once they are gone it is.
            let subscription = WebhookSubscription(
                id: UUID(), url: "https://hooks.example/all", events: ["source.deleted"], sourceIDs: nil, secret: "s", enabled: true,
                createdAt: 1, updatedAt: 1)
            try await sources.insertSubscription(subscription)
            await #expect(throws: CatalogError.sourceHasAssets) {
                try await sources.deleteSource(id: cam.id, announcing: [ServiceEvent(type: "source.deleted", source: cam, data: [:])])
            }
            #expect(try await sources.source(id: cam.id) != nil)
            #expect(try await sources.deliveries(subscriptionID: subscription.id, state: nil, page: 1, pageSize: 10).total == 0)
            #expect(try await store.assetsUsing(sourceID: cam.id, limit: 1).count == 5)

            // Relinking moves the asset's use to the other source.
            var moved = made[0]
            moved.sourceID = spare.id
            moved.path = spare.pathName
            try await store.updateAsset(moved)
            #expect(try await store.assetsUsing(sourceID: cam.id, limit: 10).count == 4)
            #expect(try await store.assetsUsing(sourceID: spare.id, limit: 10).first.map(\.name) == ["elsewhere", "use 0"])

            for asset in made.dropFirst() { #expect(try await store.deleteAsset(id: asset.id)) }
            #expect(try await store.assetsUsing(sourceID: cam.id, limit: 10).count == 0)
            #expect(try await sources.deleteSource(id: cam.id, announcing: [ServiceEvent(type: "source.deleted", source: cam, data: [:])]))
            #expect(try await sources.deliveries(subscriptionID: subscription.id, state: nil, page: 1, pageSize: 10).total == 1)
            await #expect(throws: CatalogError.sourceHasAssets) { try await sources.deleteSource(id: spare.id, announcing: []) }
        }
    }

    @Test(arguments: Backend.allCases)
    func anAssetWithANewSourceIsOneTransactionWithItsEvents(backend: Backend) async throws {
        try await withAssetStore(backend) { store, sources in
            let subscription = WebhookSubscription(
                id: UUID(), url: "https://hooks.example/all", events: ["source.created", "clip.created"], sourceIDs: nil, secret: "s",
                enabled: true, createdAt: 1, updatedAt: 1)
            try await sources.insertSubscription(subscription)
            func log() async throws -> [WebhookDelivery] {
                try await sources.deliveries(subscriptionID: subscription.id, state: nil, page: 1, pageSize: 10).items
            }

            // A stream made from a URL: the source, the asset and the event together.
            let camera = Self.source("Camera", kind: .pull, at: 1_764_600_000.25)
            let stream = Self.asset("Camera", of: camera, tags: ["street"], at: 1_764_600_000.25)
            try await store.insertAsset(
                stream, withNewSource: camera, announcing: [ServiceEvent(type: "source.created", source: camera, data: [:])])
            #expect(Self.kept(try await sources.source(id: camera.id)) == Self.kept(camera))
            #expect(Self.kept(try await store.asset(id: stream.id)) == Self.kept(stream))
            #expect(try await log().map(\.eventType) == ["source.created"])
            #expect(try await log().first?.orderKey == camera.pathName)

            // Its path name taken: neither row, no event.
            var clash = Self.source("Clash", kind: .pull, at: 1_764_600_001)
            clash.pathName = camera.pathName
            let lost = Self.asset("Clash", of: clash, tags: ["lost"], at: 1_764_600_001)
            await #expect(throws: CatalogError.pathNameTaken(camera.pathName)) {
                try await store.insertAsset(lost, withNewSource: clash, announcing: [ServiceEvent(type: "source.created", source: clash, data: [:])])
            }
            #expect(try await store.asset(id: lost.id) == nil)
            #expect(try await sources.source(id: clash.id) == nil)
            #expect(try await store.assets(AssetQuery(tags: ["lost"])).total == 0)
            #expect(try await log().count == 1)

            // The asset failing (a stream asset without a path) takes the new source with it.
            let fresh = Self.source("Fresh", kind: .pull, at: 1_764_600_002)
            var broken = Self.asset("Fresh", of: fresh, at: 1_764_600_002)
            broken.path = nil
            await #expect(throws: (any Error).self) {
                try await store.insertAsset(
                    broken, withNewSource: fresh, announcing: [ServiceEvent(type: "source.created", source: fresh, data: [:])])
            }
            #expect(try await sources.source(id: fresh.id) == nil)
            #expect(try await !sources.sourceExists(pathName: fresh.pathName))
            #expect(try await log().count == 1)

            // A clip on an existing source announces itself; its data reaches the delivery's payload.
            let clip = Self.asset("Clip", of: camera, sourceType: .vod, tags: [], at: 1_764_600_010)
            try await store.insertAsset(
                clip, withNewSource: nil,
                announcing: [
                    ServiceEvent(
                        type: "clip.created", occurredAt: 1_764_600_010_000_000, source: camera,
                        data: ["asset_id": .string(clip.id.uuidString.lowercased()), "duration": .number(30)])
                ])
            let delivery = try #require(try await log().first)
            #expect(delivery.eventType == "clip.created" && delivery.state == .pending && delivery.orderKey == camera.pathName)
            let decoded = try JSONSerialization.jsonObject(with: Data(delivery.payload.utf8))
            let payload = try #require(decoded as? [String: Any])
            let data = try #require(payload["data"] as? [String: Any])
            #expect(data["asset_id"] as? String == clip.id.uuidString.lowercased() && (data["duration"] as? NSNumber)?.doubleValue == 30)
            #expect((payload["source"] as? [String: Any])?["id"] as? String == camera.id.uuidString.lowercased())
            #expect(try await log().map(\.eventType) == ["clip.created", "source.created"])

            // Events of an asset that is not kept (its source is not there) are not written either.
            var orphan = Self.asset("Orphan", of: camera, at: 1_764_600_011)
            orphan.sourceID = UUID()
            await #expect(throws: CatalogError.notFound) {
                try await store.insertAsset(orphan, withNewSource: nil, announcing: [ServiceEvent(type: "clip.created", source: camera, data: [:])])
            }
            #expect(try await log().count == 2)
        }
    }
}
