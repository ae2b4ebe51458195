import Catalog
import Foundation
import Hummingbird
import MediaMTX

/// `/api/v1/sources` (design §2.3).
struct SourcesController {
    let service: SourcesService
    let urls: StreamURLs

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
        group.post(use: create)
        group.get(":id", use: show)
        group.put(":id", use: update)
        group.delete(":id", use: delete)
        group.post(":id/enable") { _, context in respond(try await service.enable(try id(context))) }
        group.post(":id/disable") { _, context in respond(try await service.disable(try id(context))) }
        group.get(":id/status") { _, context in try await status(of: try await source(context)) }
        group.get(":id/preview") { _, context in preview(of: try await source(context)) }
        group.get(":id/preview/ready") { _, context in try await ready(of: try await source(context)) }
        group.post(":id/record/start") { _, context in try await setRecording(try await source(context), true) }
        group.post(":id/record/stop") { _, context in try await setRecording(try await source(context), false) }
        group.get(":id/record/status") { _, context in try await recordStatus(of: try await source(context)) }
        group.get(":id/record/files") { _, context in try await recordFiles(of: try await source(context)) }
        group.get(":id/record/sessions") { request, context in try await recordSessions(of: try await source(context), QueryInput(request)) }
        group.get(":id/playback/segments") { request, context in try await playbackSegments(of: try await source(context), QueryInput(request)) }
        group.get(":id/playback") { request, context in try await playback(of: try await source(context), QueryInput(request)) }
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
            url = try SourceValidation.pullURL(given)
            proto = proto ?? StreamProtocol.derive(fromURL: given)
        case .push:
            guard body.url == nil || body.url == "" else { throw APIError.invalidField("url", .pushTakesNoURL) }
            proto = proto ?? "rtmp"
        }
        let source = try await service.create(.init(
            name: name, kind: kind, url: url, protocol: proto, enabled: body.enabled ?? true, recordEnabled: body.recordEnabled ?? false
        ))
        return EditedResponse(status: .created, response: SourceResponse(source, urls: urls))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> PageResponse<SourceResponse> {
        let q = QueryInput(request)
        let query = SourceQuery(
            kind: try q.oneOf("type", ["pull", "push"]).flatMap(MediaSource.Kind.init(rawValue:)),
            enabled: try q.bool("enabled"),
            nameContains: q.string("q"),
            page: try q.int("page", default: 1, range: 1...1_000_000),
            pageSize: try q.int("page_size", default: 50, range: 1...500)
        )
        let withStatus = try q.bool("with_status") ?? false
        let page = try await service.list(query)
        let statuses = withStatus ? try await service.statuses(of: page.items) : [:]
        return PageResponse(
            items: page.items.map { s in
                SourceResponse(s, urls: urls, status: withStatus ? StatusResponse(pathName: s.pathName, path: statuses[s.id] ?? nil) : nil)
            },
            total: page.total, page: query.page, pageSize: query.pageSize
        )
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> SourceResponse {
        let source = try await service.get(try id(context))
        guard try QueryInput(request).bool("with_status") == true else { return SourceResponse(source, urls: urls) }
        return SourceResponse(source, urls: urls, status: StatusResponse(pathName: source.pathName, path: try await service.status(of: source)))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> SourceResponse {
        let sourceID = try id(context)
        _ = try await service.get(sourceID)
        let body = try await request.decodeStrict(UpdateSourceRequest.self)
        if body.type != nil { throw APIError.invalidField("type", .typeIsFixed) }
        let changes = SourcesService.Changes(
            name: try SourceValidation.name(body.name, required: false),
            url: try body.url.map(SourceValidation.pullURL),
            protocol: try SourceValidation.protocolName(body.protocol),
            enabled: body.enabled,
            recordEnabled: body.recordEnabled
        )
        return try await respond(service.update(sourceID, changes))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await service.delete(try id(context))
        return Response(status: .noContent)
    }

    // MARK: - Stream endpoints of one source (assets reuse them, §4)

    func status(of source: MediaSource) async throws -> StatusResponse {
        StatusResponse(pathName: source.pathName, path: try await service.status(of: source))
    }

    func preview(of source: MediaSource) -> PreviewResponse {
        PreviewResponse(source, urls: urls)
    }

    func ready(of source: MediaSource) async throws -> ReadyResponse {
        ReadyResponse(ready: try await service.isReady(source))
    }

    func setRecording(_ source: MediaSource, _ on: Bool) async throws -> SourceResponse {
        respond(try await service.setRecording(source.id, on))
    }

    func recordStatus(of source: MediaSource) async throws -> RecordStatusResponse {
        RecordStatusResponse(try await service.recordStatus(source))
    }

    func recordFiles(of source: MediaSource) async throws -> ItemsResponse<RecordFile> {
        let starts = try await service.recordFiles(source)
        return ItemsResponse(pathName: source.pathName, items: starts.map { RecordFile(start: Timestamp.format($0)) })
    }

    func recordSessions(of source: MediaSource, _ q: QueryInput) async throws -> ItemsResponse<RecordSession> {
        let spans = try await service.recordSpans(source, from: try SourceValidation.time(q, "from"), to: try SourceValidation.time(q, "to"))
        return ItemsResponse(pathName: source.pathName, items: spans.map {
            RecordSession(start: Timestamp.format($0.start), end: Timestamp.format($0.start.addingTimeInterval($0.duration)), duration: $0.duration)
        })
    }

    func playbackSegments(of source: MediaSource, _ q: QueryInput) async throws -> ItemsResponse<PlaybackSegment> {
        let format = try q.oneOf("format", ["fmp4", "mp4"]) ?? "fmp4"
        let spans = try await service.recordSpans(source, from: try SourceValidation.time(q, "from"), to: try SourceValidation.time(q, "to"))
        return ItemsResponse(pathName: source.pathName, items: spans.map {
            PlaybackSegment(start: Timestamp.format($0.start), duration: $0.duration, url: service.playbackURL(source, start: $0.start, duration: $0.duration, format: format))
        })
    }

    /// `?start=` (RFC 3339 or unix seconds, required), `duration` (seconds, default 3600: MediaMTX returns at most what exists), `format`.
    func playback(of source: MediaSource, _ q: QueryInput) async throws -> PlaybackResponse {
        guard let start = try SourceValidation.time(q, "start") else { throw APIError.missingField("start") }
        let duration = try SourceValidation.seconds(q, "duration") ?? 3600
        let format = try q.oneOf("format", ["fmp4", "mp4"]) ?? "fmp4"
        return PlaybackResponse(
            pathName: source.pathName, url: service.playbackURL(source, start: start, duration: duration, format: format),
            start: Timestamp.format(start), duration: duration, format: format
        )
    }

    // MARK: - Helpers

    /// Ids that are not UUIDs can't name a source: 404, like any unknown id.
    func id(_ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else { throw APIError.notFound(.source) }
        return id
    }

    func source(_ context: AppRequestContext) async throws -> MediaSource {
        try await service.get(try id(context))
    }

    func respond(_ source: MediaSource) -> SourceResponse {
        SourceResponse(source, urls: urls)
    }
}

/// Input rules for sources, shared by create and update.
enum SourceValidation {
    static func name(_ value: String?, required: Bool) throws -> String? {
        guard let value else {
            if required { throw APIError.missingField("name") }
            return nil
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw APIError.invalidField("name", .mustNotBeEmpty("name")) }
        guard trimmed.count <= 255 else { throw APIError.invalidField("name", .tooLong("name", max: 255)) }
        return trimmed
    }

    static func pullURL(_ value: String) throws -> String {
        let url = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !url.isEmpty else { throw APIError.invalidField("url", .mustNotBeEmpty("url")) }
        guard url.count <= 1024 else { throw APIError.invalidField("url", .tooLong("url", max: 1024)) }
        guard StreamProtocol.derive(fromURL: url) != nil else { throw APIError.invalidField("url", .unsupportedURL(url)) }
        return url
    }

    static func protocolName(_ value: String?) throws -> String? {
        guard let value else { return nil }
        guard StreamProtocol.known.contains(value) else { throw APIError.invalidField("protocol", .notOneOf("protocol", StreamProtocol.known.sorted())) }
        return value
    }

    /// A number of seconds greater than 0.
    static func seconds(_ q: QueryInput, _ name: String) throws -> Double? {
        guard let text = q.string(name) else { return nil }
        guard let d = Double(text), d > 0, d.isFinite else { throw APIError.invalidField(name, .notPositiveSeconds(name)) }
        return d
    }

    /// RFC 3339 or unix seconds.
    static func time(_ q: QueryInput, _ name: String) throws -> Date? {
        guard let text = q.string(name) else { return nil }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds < 1e11 { return Date(timeIntervalSince1970: seconds) }
        guard let date = RFC3339.parse(text) else { throw APIError.invalidField(name, .notATime(name)) }
        return date
    }
}
