import Domain
import Foundation
import Hummingbird

/// `/api/v1/sources` (design §2.3).
struct SourcesController {
    let service: SourcesService
    let urls: NodeURLs
    let access: StreamAccess
    /// `sources.allow_local_urls`.
    let allowLocalURLs: Bool

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
        group.post(use: create)
        group.get(":id", use: show)
        group.put(":id", use: update)
        group.delete(":id", use: delete)
        group.post(":id/enable") { _, context in try await respond(try await service.enable(try context.id(of: .source)), context) }
        group.post(":id/disable") { _, context in try await respond(try await service.disable(try context.id(of: .source)), context) }
        group.post(":id/move", use: move)
        group.post(":id/publish-key/rotate") { _, context in try await rotateKey(try await source(context), context) }
        group.get(":id/status") { _, context in try await status(of: try await source(context)) }
        group.get(":id/preview") { _, context in try await preview(of: try await source(context), context) }
        group.get(":id/preview/ready") { _, context in try await ready(of: try await source(context)) }
        group.post(":id/record/start") { _, context in try await setRecording(try await source(context), true, context) }
        group.post(":id/record/stop") { _, context in try await setRecording(try await source(context), false, context) }
        group.get(":id/record/status") { _, context in try await recordStatus(of: try await source(context)) }
        group.get(":id/record/files") { request, context in try await recordFiles(of: try await source(context), QueryInput(request)) }
        group.get(":id/record/sessions") { request, context in try await recordSessions(of: try await source(context), QueryInput(request)) }
        group.get(":id/playback/segments") { request, context in try await playbackSegments(of: try await source(context), QueryInput(request)) }
        group.get(":id/playback") { request, context in try await playback(of: try await source(context), QueryInput(request)) }
        group.get(":id/events") { request, context in try await events(of: try await source(context), QueryInput(request)) }
    }

    /// The hook events of a source's path, newest first; `before` (a time) pages back, `limit` ≤ 500.
    func events(of source: MediaSource, _ q: QueryInput) async throws -> ItemsResponse<HistoryEventResponse> {
        let limit = try q.int("limit", default: 100, range: 1...500)
        let before = try SourceValidation.time(q, "before")
        let events = try await service.history(of: source, limit: limit, before: before)
        let placements = try await service.nodes.all().count > 1 ? try await service.placements(of: source) : []
        return ItemsResponse(
            pathName: source.pathName,
            items: events.map { e in
                let holder = placements.node(at: e.occurredAt)
                return HistoryEventResponse(e, misplaced: e.node != nil && holder != nil && e.node != holder)
            })
    }

    // MARK: - CRUD

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<SourceResponse> {
        let body = try await request.decodeStrict(CreateSourceRequest.self)
        let name = try SourceValidation.name(body.name, required: true)!
        guard let typeText = body.type else { throw APIError.missingField("type") }
        guard let kind = MediaSource.Kind(rawValue: typeText) else { throw APIError.invalidField("type", .notOneOf("type", ["pull", "push"])) }
        var url: String?
        var proto = try SourceValidation.protocolName(body.protocol)
        switch kind {
        case .pull:
            guard let given = body.url else { throw APIError.missingField("url") }
            url = try SourceValidation.pullURL(given, allowLocal: allowLocalURLs)
            proto = proto ?? StreamProtocol.derive(fromURL: given)
        case .push:
            guard body.url == nil || body.url == "" else { throw APIError.invalidField("url", .pushTakesNoURL) }
            proto = proto ?? "rtmp"
        }
        let node = try body.node.map { try SourceValidation.nodeName($0, field: "node") }
        let labels = try SourceValidation.labels(body.nodeLabels, field: "node_labels")
        let source = try await service.create(
            .init(
                name: name, kind: kind, url: url, protocol: proto, enabled: body.enabled ?? true, recordEnabled: body.recordEnabled ?? false,
                node: node, labels: labels
            ))
        context.audit.target("source", id: source.id.uuidString.lowercased())
        return EditedResponse(status: .created, response: try await respond(source, context))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> PageResponse<SourceResponse> {
        let q = try QueryInput(request)
        var query = SourceQuery(
            kind: try q.oneOf("type", ["pull", "push"]).flatMap(MediaSource.Kind.init(rawValue:)),
            enabled: try q.bool("enabled"),
            nameContains: q.string("q"),
            node: try q.string("node").map { try SourceValidation.nodeName($0, field: "node") }
        )
        (query.page, query.pageSize) = try q.paging()
        let withStatus = try q.bool("with_status") ?? false
        let page = try await service.list(query)
        let states = withStatus ? try await service.indexedStates(of: page.items) : [:]
        let keys = try await access.pushKeys(page.items, for: context.identity)
        let credentials = access.mayReadCredentials(context.identity)
        let book = try await urls.all()
        var items: [SourceResponse] = []
        for s in page.items {
            let nodeURLs = if let known = book[s.node] { known } else { try await urls.of(s) }
            let down = withStatus && nodeURLs.settings.state(downAfter: service.nodes.downAfter, now: Date().micros) == .down
            items.append(
                SourceResponse(
                    s, urls: nodeURLs, pushKey: keys[s.id], credentials: credentials,
                    status: withStatus ? LiveStatusResponse(states[s.pathName] ?? .idle(s.pathName), nodeDown: down) : nil))
        }
        return PageResponse(
            items: items,
            total: page.total, page: query.page, pageSize: query.pageSize
        )
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> SourceResponse {
        let source = try await service.get(try context.id(of: .source))
        let key = try await access.pushKey(source, for: context.identity)
        let credentials = access.mayReadCredentials(context.identity)
        guard try QueryInput(request).bool("with_status") == true else {
            return SourceResponse(source, urls: try await urls.of(source), pushKey: key, credentials: credentials)
        }
        // The index, as in lists; MediaMTX's own view (tracks, bytes) is `GET /:id/status`.
        let state = try await service.indexedStates(of: [source])[source.pathName] ?? .idle(source.pathName)
        let urls = try await urls.of(source)
        let down = service.nodes.state(of: urls.settings) == .down
        return SourceResponse(source, urls: urls, pushKey: key, credentials: credentials, status: LiveStatusResponse(state, nodeDown: down))
    }

    /// Moves the source to another node (`{"node": …}`); a push source's `push_url` changes with it, which the answer
    /// says (`push_url_changed`), so that its encoder can be pointed at the new one.
    @Sendable func move(_ request: Request, context: AppRequestContext) async throws -> MoveResponse {
        let id = try context.id(of: .source)
        let body = try await request.decodeStrict(MoveSourceRequest.self)
        guard let given = body.node else { throw APIError.missingField("node") }
        let target = try SourceValidation.nodeName(given, field: "node")
        _ = try await service.get(id)
        let moved = try await service.move(id, to: target)
        context.audit.target("source", id: id.uuidString.lowercased())
        let response = try await SourceResponse(moved.source, urls: try await urls.of(moved.source), access: access, for: context.identity)
        return MoveResponse(source: response, previousNode: moved.from, pushURLChanged: moved.source.kind == .push)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> SourceResponse {
        let sourceID = try context.id(of: .source)
        _ = try await service.get(sourceID)
        let body = try await request.decodeStrict(UpdateSourceRequest.self)
        if body.type != nil { throw APIError.invalidField("type", .typeIsFixed) }
        let changes = SourcesService.Changes(
            name: try SourceValidation.name(body.name, required: false),
            url: try body.url.map { try SourceValidation.pullURL($0, allowLocal: allowLocalURLs) },
            protocol: try SourceValidation.protocolName(body.protocol),
            enabled: body.enabled,
            recordEnabled: body.recordEnabled
        )
        return try await respond(service.update(sourceID, changes), context)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await service.delete(try context.id(of: .source))
        return Response(status: .noContent)
    }

    // MARK: - Stream endpoints of one source (assets have the same, §4)

    func status(of source: MediaSource) async throws -> StatusResponse {
        StatusResponse(pathName: source.pathName, path: try await service.status(of: source))
    }

    func preview(of source: MediaSource, _ context: AppRequestContext) async throws -> PreviewResponse {
        try await PreviewResponse(source, urls: try await urls.of(source), access: access, for: context.identity)
    }

    func rotateKey(_ source: MediaSource, _ context: AppRequestContext) async throws -> SourceResponse {
        let key = try await service.rotatePublishKey(of: source)
        return SourceResponse(source, urls: try await urls.of(source), pushKey: key, credentials: access.mayReadCredentials(context.identity))
    }

    func ready(of source: MediaSource) async throws -> ReadyResponse {
        ReadyResponse(ready: try await service.isReady(source))
    }

    func setRecording(_ source: MediaSource, _ on: Bool, _ context: AppRequestContext) async throws -> SourceResponse {
        try await respond(try await service.setRecording(source.id, on), context)
    }

    func recordStatus(of source: MediaSource) async throws -> RecordStatusResponse {
        RecordStatusResponse(try await service.recordStatus(source))
    }

    /// Indexed segments; `from`/`to` select those overlapping the range; paged.
    func recordFiles(of source: MediaSource, _ q: QueryInput) async throws -> PageResponse<SegmentResponse> {
        let query = try SegmentsQuery(q)
        let segments = try await service.segments(source, from: query.from, to: query.to, page: query.page, pageSize: query.pageSize)
        return PageResponse(items: segments.items.map(SegmentResponse.init), total: segments.total, page: query.page, pageSize: query.pageSize)
    }

    func recordSessions(of source: MediaSource, _ q: QueryInput) async throws -> ItemsResponse<SessionResponse> {
        let sessions = try await service.sessions(source, from: try SourceValidation.time(q, "from"), to: try SourceValidation.time(q, "to"))
        return ItemsResponse(pathName: source.pathName, items: sessions.map(SessionResponse.init))
    }

    /// Sessions in the shape of MediaMTX's playback `/list`: `start`, `duration`, `url`.
    func playbackSegments(of source: MediaSource, _ q: QueryInput) async throws -> ItemsResponse<PlaybackSegment> {
        let format = try q.oneOf("format", ["fmp4", "mp4"]) ?? "fmp4"
        let sessions = try await service.sessions(source, from: try SourceValidation.time(q, "from"), to: try SourceValidation.time(q, "to"))
        let token = try await access.playbackToken(source.pathName)
        var items: [PlaybackSegment] = []
        for s in sessions {
            let start = Date(micros: s.start)
            let duration = Double(s.end - s.start) / 1_000_000
            let url = try await service.playbackURL(source, start: start, duration: duration, format: format)
            items.append(PlaybackSegment(start: Timestamp.format(start), duration: duration, url: StreamURLs.adding("token", token, to: url)))
        }
        return ItemsResponse(pathName: source.pathName, items: items)
    }

    /// `?start=` must lie in a recorded segment (404 otherwise).
    func playback(of source: MediaSource, _ q: QueryInput) async throws -> PlaybackResponse {
        let query = try PlaybackQuery(q)
        let playback = try await service.playback(source, start: query.start, duration: query.duration, format: query.format)
        return PlaybackResponse(source, query, playback, url: try await access.signedPlayback(playback.url, path: source.pathName))
    }

    // MARK: - Helpers

    func source(_ context: AppRequestContext) async throws -> MediaSource {
        try await service.get(try context.id(of: .source))
    }

    func respond(_ source: MediaSource, _ context: AppRequestContext) async throws -> SourceResponse {
        try await SourceResponse(source, urls: try await urls.of(source), access: access, for: context.identity)
    }
}
