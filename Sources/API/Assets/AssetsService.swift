import Catalog
import Domain
import Foundation
import Logging
import MediaMTX

/// Stream assets (design §3, §4): catalogue entries that point at a media source. Everything that touches
/// MediaMTX goes through `SourcesService`.
public struct AssetsService: Sendable {
    let database: any CatalogBackend
    let sources: SourcesService
    let logger: Logger

    public struct Details: Sendable {
        var name: String
        var tags: [String]
        var description: String?
    }

    // MARK: - Create

    /// New stream: path_name → AddPath(stream_url) → source and asset rows in one transaction;
    /// if that transaction fails, DeletePath, so nothing is left behind (§3.2).
    public func createFromURL(_ details: Details, streamURL: String, node: String? = nil) async throws -> MediaAsset {
        let now = SourcesService.now()
        let assetID = UUID()
        let asset = { @Sendable (source: MediaSource) in
            MediaAsset(
                id: assetID, name: details.name, type: MediaAsset.streamType, sourceType: .live, sourceID: source.id,
                path: source.pathName, tags: details.tags, description: details.description, createdAt: now, updatedAt: now
            )
        }
        let source = try await sources.create(
            .init(
                name: details.name, kind: .pull, url: streamURL, protocol: StreamProtocol.derive(fromURL: streamURL), enabled: true,
                recordEnabled: false, node: node)
        ) { source, created in
            try await database.insertAsset(asset(source), withNewSource: source, announcing: [created])
        }
        return asset(source)
    }

    /// From an existing source: the asset's `path` is the source's path_name.
    /// `path`, when the caller gives it (design §3.2: `path=source.path_name`), must be the source's path_name.
    public func createFromSource(_ details: Details, sourceID: UUID, path: String? = nil) async throws -> MediaAsset {
        guard let source = try await database.source(id: sourceID) else {
            throw ServiceError.notFound(.source, field: "source_id")
        }
        if let path, path != source.pathName { throw ServiceError.invalid("path", .pathIsNotTheSources(source.pathName)) }
        let now = SourcesService.now()
        let asset = MediaAsset(
            id: UUID(), name: details.name, type: MediaAsset.streamType, sourceType: .live, sourceID: source.id,
            path: source.pathName, tags: details.tags, description: details.description, createdAt: now, updatedAt: now
        )
        do {
            try await database.insertAsset(asset)
        } catch CatalogError.notFound {
            throw ServiceError.notFound(.source, field: "source_id")
        }
        return asset
    }

    /// A clip: a vod asset on the same source for a recorded time range (404 when nothing was recorded then).
    public func createClip(of parent: MediaAsset, _ details: Details, start: Date, duration: Double, format: String) async throws -> MediaAsset {
        let source = try await source(of: parent)
        let recorded = try await sources.sessions(source, from: start, to: start.addingTimeInterval(duration))
        guard !recorded.isEmpty else {
            throw ServiceError(.noRecording, .noRecording, field: "start")
        }
        let now = SourcesService.now()
        let clip = MediaAsset(
            id: UUID(), name: details.name, type: MediaAsset.streamType, sourceType: .vod, sourceID: source.id, path: source.pathName,
            tags: details.tags, description: details.description, clipStart: start, clipDuration: duration, clipFormat: format,
            createdAt: now, updatedAt: now
        )
        try await database.insertAsset(
            clip,
            announcing: [
                ServiceEvent(
                    type: "clip.created", source: source,
                    data: [
                        "asset_id": .string(clip.id.uuidString.lowercased()), "name": .string(clip.name), "start": .string(Timestamp.format(start)),
                        "duration": .number(duration), "format": .string(format),
                    ])
            ])
        return clip
    }

    // MARK: - Read, update, delete

    public func get(_ id: UUID) async throws -> MediaAsset {
        guard let asset = try await database.asset(id: id) else { throw ServiceError.notFound(.asset) }
        return asset
    }

    public func list(_ query: AssetQuery) async throws -> Page<MediaAsset> {
        try await database.assets(query)
    }

    public struct Changes: Sendable {
        var name: String?
        var tags: [String]?
        var description: String??
        var sourceID: UUID?
    }

    /// A new `source_id` relinks a live stream asset and updates `path` with it.
    public func update(_ id: UUID, _ changes: Changes) async throws -> MediaAsset {
        var asset = try await get(id)
        if let name = changes.name { asset.name = name }
        if let tags = changes.tags { asset.tags = tags }
        if let description = changes.description { asset.description = description }
        if let sourceID = changes.sourceID, sourceID != asset.sourceID {
            guard asset.type == MediaAsset.streamType, asset.sourceType == .live else {
                throw ServiceError.invalid("source_id", .relinkOnlyLive)
            }
            guard let source = try await database.source(id: sourceID) else {
                throw ServiceError.notFound(.source, field: "source_id")
            }
            asset.sourceID = source.id
            asset.path = source.pathName
        }
        asset.updatedAt = SourcesService.now()
        do {
            try await database.updateAsset(asset)
        } catch CatalogError.notFound {
            throw ServiceError.notFound(.asset)
        }
        return asset
    }

    /// Only the row: the source and its MediaMTX path stay (§3.3).
    public func delete(_ id: UUID) async throws {
        guard try await database.deleteAsset(id: id) else { throw ServiceError.notFound(.asset) }
    }

    // MARK: - Streams

    /// asset → source_id → the source (§4); only stream assets have one.
    public func source(of asset: MediaAsset) async throws -> MediaSource {
        guard asset.type == MediaAsset.streamType, let sourceID = asset.sourceID else {
            throw ServiceError(.notAStreamAsset, .notAStreamAsset(asset.type))
        }
        return try await sources.get(sourceID)
    }

    /// The source of a live stream asset; clips (vod) have a playback URL instead.
    public func liveSource(of asset: MediaAsset) async throws -> MediaSource {
        let source = try await source(of: asset)
        guard asset.sourceType == .live else { throw ServiceError(.notALiveStream, .notALiveStream) }
        return source
    }
}
