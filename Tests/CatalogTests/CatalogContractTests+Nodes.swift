import Catalog
import Domain
import Foundation
import Testing

/// Nodes and placements (`NodeStore`) on every backend.
extension CatalogContractTests {
    func withNodeStore(_ backend: Backend, _ body: (any NodeStore, any Store) async throws -> Void) async throws {
        try await withStore(backend) { store in
            try await body(try #require(store as? any NodeStore), store)
        }
    }

    static func node(_ name: String, labels: [String: String] = [:], maxPaths: Int? = nil, at micros: Int64 = 1_764_600_000_000_000) -> MediaNode {
        MediaNode(
            name: name, apiAddress: "http://\(name):9997", playbackAddress: "http://\(name):9996", rtspAddress: "rtsp://\(name):8554",
            rtmpAddress: "rtmp://\(name):1935", hlsAddress: "https://\(name):8888", webrtcAddress: "https://\(name):8889",
            srtAddress: "srt://\(name):8890", labels: labels, maxPaths: maxPaths, authToken: "\(name)-token-0123456789",
            createdAt: Date(micros: micros), updatedAt: Date(micros: micros))
    }

    @Test(arguments: Backend.allCases)
    func nodesRoundTripAndANodeWithSourcesStays(backend: Backend) async throws {
        try await withNodeStore(backend) { nodes, sources in
            let north = Self.node("north", labels: ["site": "north", "rack": "a1"], maxPaths: 500)
            try await nodes.insertNode(north)
            try await nodes.insertNode(Self.node("east"))
            await #expect(throws: CatalogError.nameTaken("north")) { try await nodes.insertNode(Self.node("north")) }
            #expect(try await nodes.nodes().map(\.name) == ["east", "north"])
            #expect(try await nodes.node(named: "north") == north)
            #expect(try await nodes.node(named: "west") == nil)

            var changed = north
            changed.draining = true
            changed.maxPaths = nil
            changed.labels = [:]
            changed.updatedAt = Date(micros: 1_764_600_001_000_000)
            try await nodes.updateNode(changed)
            #expect(try await nodes.node(named: "north") == changed)
            await #expect(throws: CatalogError.notFound) { try await nodes.updateNode(Self.node("west")) }

            var health = NodeHealth(checkedAt: 5)
            health.unreachableSince = 4
            health.version = "v1.20.1"
            health.bytesReceived = 1 << 40
            try await nodes.saveNodeHealth("north", health)
            #expect(try await nodes.node(named: "north")?.health == health)
            #expect(try await nodes.node(named: "north")?.draining == true, "health leaves the settings alone")

            var camera = Self.source("Camera", at: 1_764_600_000)
            camera.node = "north"
            try await sources.insertSource(camera, announcing: [])
            try await sources.insertSource(Self.source("Other", at: 1_764_600_001), announcing: [])
            #expect(try await nodes.sourceCountsByNode() == ["north": 1, "default": 1])
            await #expect(throws: CatalogError.nodeHasSources(1)) { _ = try await nodes.deleteNode(named: "north") }
            #expect(try await nodes.deleteNode(named: "east"))
            #expect(try await !nodes.deleteNode(named: "east"))
            #expect(try await sources.sources(SourceQuery(node: "north")).items.map(\.id) == [camera.id])
        }
    }

    @Test(arguments: Backend.allCases)
    func aSourcesPlacementsFollowItsNode(backend: Backend) async throws {
        try await withNodeStore(backend) { nodes, sources in
            var camera = Self.source("Camera", at: 1_764_600_000)
            try await sources.insertSource(camera, announcing: [])
            #expect(try await nodes.placements(paths: [camera.pathName]) == [camera.pathName: [Placement(node: "default", since: 0)]])
            // A change that keeps the node adds no placement; a move adds one from its time.
            camera.name = "Camera 2"
            camera.updatedAt = Self.time(1_764_600_010)
            try await sources.updateSource(camera)
            camera.node = "north"
            camera.updatedAt = Self.time(1_764_600_020)
            try await sources.updateSource(camera)
            camera.node = "default"
            camera.updatedAt = Self.time(1_764_600_030)
            try await sources.updateSource(camera)
            let placements = try #require(try await nodes.placements(paths: [camera.pathName, "live/none"])[camera.pathName])
            #expect(placements.map(\.node) == ["default", "north", "default"])
            #expect(placements.map(\.since) == [0, 1_764_600_020_000_000, 1_764_600_030_000_000])
            #expect(placements.node(at: 1_764_600_019_000_000) == "default")
            #expect(placements.node(at: 1_764_600_025_000_000) == "north")
            #expect(placements.node(at: 1_764_600_031_000_000) == "default")
            #expect(try await nodes.placements(paths: []) == [:])
            #expect(try await sources.source(id: camera.id)?.node == "default")
        }
    }
}
