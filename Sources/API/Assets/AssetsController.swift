import Domain
import Foundation
import Hummingbird

/// `/api/v1/assets` (design §3, §4). Stream endpoints resolve asset → source, then answer as the source's own do.
struct AssetsController {
    let service: AssetsService
    /// The stream of an asset is its source's.
    let sources: SourcesService
    let urls: NodeURLs
    let access: StreamAccess
    /// `sources.allow_local_urls`.
    let allowLocalURLs: Bool

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
        group.post(use: create)
        group.get(":id") { _, context in try await respond(try await asset(context)) }
        group.put(":id", use: update)
        group.delete(":id") { _, context in
            try await service.delete(try context.id(of: .asset))
            return Response(status: .noContent)
        }
        group.post(":id/clips", use: createClip)
        group.get(":id/preview") { _, context in
            let source = try await live(context)
            return try await PreviewResponse(source, urls: try await urls.of(source), access: access, for: context.identity)
        }
        group.get(":id/stream/status") { _, context in
            let source = try await live(context)
            return StatusResponse(pathName: source.pathName, path: try await sources.status(of: source))
        }
        group.post(":id/stream/record/start") { _, context in try await setRecording(try await live(context), true, context) }
        group.post(":id/stream/record/stop") { _, context in try await setRecording(try await live(context), false, context) }
        group.get(":id/stream/record/status") { _, context in RecordStatusResponse(try await sources.recordStatus(try await live(context))) }
        group.get(":id/stream/recordings") { request, context in try await recordings(of: try await live(context), QueryInput(request)) }
        group.get(":id/stream/playback") { request, context in try await playback(of: try await live(context), QueryInput(request)) }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<AssetResponse> {
        let body = try await request.decodeStrict(CreateAssetRequest.self)
        // Both of the design's entries make a live stream asset: the two fields may be left out.
        if let type = body.type, type != MediaAsset.streamType { throw APIError.invalidField("type", .notOneOf("type", [MediaAsset.streamType])) }
        if let sourceType = body.sourceType, sourceType != "live" {
            throw APIError.invalidField("source_type", .notOneOf("source_type", ["live"]))
        }
        let details = AssetsService.Details(
            name: try SourceValidation.name(body.name, required: true)!,
            tags: try AssetValidation.tags(body.tags) ?? [],
            description: try AssetValidation.description(body.description)
        )
        let asset: MediaAsset
        switch (body.streamURL, body.sourceID) {
        case (let url?, nil):
            // The new source's path_name is made by the server: there is none to give.
            if body.path != nil { throw APIError.invalidField("path", .pathWithStreamURL) }
            let streamURL = try SourceValidation.pullURL(url, allowLocal: allowLocalURLs, field: "stream_url")
            let node = try body.node.map { try SourceValidation.nodeName($0, field: "node") }
            asset = try await service.createFromURL(details, streamURL: streamURL, node: node)
        case (nil, let sourceID?):
            // An existing source stays on its node (POST /api/v1/sources/:id/move moves it).
            if body.node != nil { throw APIError.invalidField("node", .fieldIsFixed("node")) }
            asset = try await service.createFromSource(details, sourceID: try AssetValidation.sourceID(sourceID), path: body.path)
        case (nil, nil):
            throw APIError(.badRequest, code: "invalid_argument", message: .streamURLOrSourceID, field: "stream_url")
        case (_?, _?):
            throw APIError(.badRequest, code: "invalid_argument", message: .streamURLOrSourceID, field: "source_id")
        }
        context.audit.target("asset", id: asset.id.uuidString.lowercased())
        return EditedResponse(status: .created, response: try await respond(asset))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> PageResponse<AssetResponse> {
        let q = try QueryInput(request, repeatable: ["tag"])
        var tags: [String] = []
        for (key, value) in request.uri.queryParameters where key == "tag" {
            let tag = String(value).trimmingCharacters(in: .whitespaces)
            guard !tag.isEmpty else { throw APIError.invalidField("tag", .mustNotBeEmpty("tag")) }
            tags.append(tag)
        }
        var query = AssetQuery(
            type: q.string("type"),
            sourceType: try q.oneOf("source_type", ["live", "vod"]).flatMap(MediaAsset.SourceType.init(rawValue:)),
            sourceID: try q.uuid("source_id"),
            tags: tags,
            nameContains: q.string("q")
        )
        (query.page, query.pageSize) = try q.paging()
        let page = try await service.list(query)
        var items: [AssetResponse] = []
        for asset in page.items { items.append(try await respond(asset)) }
        return PageResponse(items: items, total: page.total, page: query.page, pageSize: query.pageSize)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> AssetResponse {
        let assetID = try context.id(of: .asset)
        _ = try await service.get(assetID)
        let body = try await request.decodeStrict(UpdateAssetRequest.self)
        for (field, value) in [("type", body.type), ("source_type", body.sourceType), ("path", body.path)] where value != nil {
            throw APIError.invalidField(field, .fieldIsFixed(field))
        }
        let changes = AssetsService.Changes(
            name: try SourceValidation.name(body.name, required: false),
            tags: try AssetValidation.tags(body.tags),
            description: try body.description.map { try AssetValidation.description($0) },
            sourceID: try body.sourceID.map(AssetValidation.sourceID)
        )
        return try await respond(try await service.update(assetID, changes))
    }

    /// `{name, start, duration, tags}` → a vod asset on the same source, for a recorded range.
    @Sendable func createClip(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<AssetResponse> {
        let parent = try await asset(context)
        let body = try await request.decodeStrict(CreateClipRequest.self)
        let name = try SourceValidation.name(body.name, required: true)!
        guard let startText = body.start else { throw APIError.missingField("start") }
        let start = try SourceValidation.time(startText, "start")
        guard let duration = body.duration else { throw APIError.missingField("duration") }
        guard duration > 0, duration.isFinite, duration <= 86_400 else { throw APIError.invalidField("duration", .notPositiveSeconds("duration")) }
        let format = body.format ?? "mp4"
        guard ["mp4", "fmp4"].contains(format) else { throw APIError.invalidField("format", .notOneOf("format", ["mp4", "fmp4"])) }
        let clip = try await service.createClip(
            of: parent,
            .init(name: name, tags: try AssetValidation.tags(body.tags) ?? [], description: try AssetValidation.description(body.description)),
            start: start, duration: duration, format: format
        )
        context.audit.record("clip.create", target: "asset", id: clip.id.uuidString.lowercased(), detail: "from=\(parent.id.uuidString.lowercased())")
        return EditedResponse(status: .created, response: try await respond(clip))
    }

    // MARK: - The stream of a live asset

    func setRecording(_ source: MediaSource, _ on: Bool, _ context: AppRequestContext) async throws -> SourceResponse {
        let changed = try await sources.setRecording(source.id, on)
        return try await SourceResponse(changed, urls: try await urls.of(changed), access: access, for: context.identity)
    }

    /// The source's indexed segments; `from`/`to` select those overlapping the range; paged.
    func recordings(of source: MediaSource, _ q: QueryInput) async throws -> PageResponse<SegmentResponse> {
        let query = try SegmentsQuery(q)
        let segments = try await sources.segments(source, from: query.from, to: query.to, page: query.page, pageSize: query.pageSize)
        return PageResponse(items: segments.items.map(SegmentResponse.init), total: segments.total, page: query.page, pageSize: query.pageSize)
    }

    func playback(of source: MediaSource, _ q: QueryInput) async throws -> PlaybackResponse {
        let query = try PlaybackQuery(q)
        let playback = try await sources.playback(source, start: query.start, duration: query.duration, format: query.format)
        return PlaybackResponse(source, query, playback, url: try await access.signedPlayback(playback.url, path: source.pathName))
    }

    // MARK: - Helpers

    func asset(_ context: AppRequestContext) async throws -> MediaAsset {
        try await service.get(try context.id(of: .asset))
    }

    func live(_ context: AppRequestContext) async throws -> MediaSource {
        try await service.liveSource(of: try await asset(context))
    }

    func respond(_ asset: MediaAsset) async throws -> AssetResponse {
        var token: String?
        var playbackAddress = ""
        var node: MediaNode?
        if let path = asset.path {
            // A live asset is where its source is now; a clip plays from the node that recorded its start.
            node = try await sources.recordingNode(path: path, at: asset.clipStart?.micros ?? Date().micros)
        }
        if asset.clipStart != nil, let path = asset.path {
            token = try await access.playbackToken(path)
            playbackAddress = node?.playbackAddress ?? ""
        }
        return AssetResponse(asset, playbackAddress: playbackAddress, playbackToken: token, node: node?.name)
    }
}
