import Domain
import Foundation
import Hummingbird

/// `GET /api/v1/recordings?path=&source_id=&from=&to=`: indexed segments across sources, for operators.
/// Segments of paths no source manages are listed too, with `managed: false`.
struct RecordingsController {
    let service: RecordingsService
    let export: RecordingsExport

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
        group.get("export", use: exportSegments)
        group.get("sessions", use: sessions)
    }

    /// At most this long a range of `GET /recordings/sessions`.
    static let longestSessionsRange: Int64 = 31 * 86_400_000_000

    /// `?from=&to=&source_id=ID[,ID…]&tag=&type=&node=&q=&page=&page_size=`: each source the filters select (by
    /// name) with its recording sessions overlapping the range and its online/offline spans in it. The range is the
    /// last 24 hours unless given, at most 31 days.
    @Sendable func sessions(_ request: Request, context: AppRequestContext) async throws -> SessionsResponse {
        let q = try QueryInput(request)
        let (page, pageSize) = try q.paging(defaultSize: 100, maxSize: 1000)
        let to = try SourceValidation.time(q, "to") ?? Date()
        let from = try SourceValidation.time(q, "from") ?? to.addingTimeInterval(-86_400)
        guard to.micros > from.micros else { throw APIError.invalidField("to", .notAfter("to", "from")) }
        guard to.micros - from.micros <= Self.longestSessionsRange else {
            throw APIError.invalidField("from", .tooManySeconds("to - from", max: Int(Self.longestSessionsRange / 1_000_000)))
        }
        var filter = RecordingsService.SourceFilter()
        filter.ids = try Self.sourceIDs(q)
        filter.tag = q.string("tag")
        filter.kind = try q.oneOf("type", ["pull", "push"]).flatMap(MediaSource.Kind.init(rawValue:))
        filter.node = try q.string("node").map { try SourceValidation.nodeName($0, field: "node") }
        filter.nameContains = q.string("q")
        let found = try await service.sessions(filter, from: from.micros, to: to.micros, page: page, pageSize: pageSize)
        return SessionsResponse(
            from: Timestamp.format(from), to: Timestamp.format(to), items: found.items.map(SessionsResponse.Item.init), total: found.total,
            page: page, pageSize: pageSize)
    }

    /// `source_id=ID[,ID…]`, at most 1,000; one that is not a UUID names no source (404).
    static func sourceIDs(_ q: QueryInput) throws -> [UUID] {
        var ids: [UUID] = []
        for text in (q.string("source_id") ?? "").split(separator: ",") {
            guard let id = UUID(uuidString: text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError(.notFound, code: "not_found", message: .notFound(.source), field: "source_id")
            }
            ids.append(id)
        }
        guard ids.count <= 1000 else { throw APIError.invalidField("source_id", .tooMany("source_id", max: 1000)) }
        return ids
    }

    /// `?format=ndjson|csv&from=&to=&source_id=ID[,ID…]&path=`: streamed, as a download.
    @Sendable func exportSegments(_ request: Request, context: AppRequestContext) async throws -> Response {
        let q = try QueryInput(request)
        let format = RecordingsExport.Format(rawValue: try q.oneOf("format", RecordingsExport.Format.allCases.map(\.rawValue)) ?? "ndjson")!
        let from = try SourceValidation.time(q, "from")
        let to = try SourceValidation.time(q, "to")
        let ids = try Self.sourceIDs(q)
        let paths = try await export.paths(sourceIDs: ids, path: q.string("path"))
        let name = "recordings-\(Timestamp.format(from ?? Date(timeIntervalSince1970: 0)).prefix(10)).\(format.rawValue)"
        return Response(
            status: .ok,
            headers: [.contentType: format.contentType, .contentDisposition: "attachment; filename=\"\(name)\""],
            body: export.body(format, paths: paths, from: from?.micros, to: to?.micros))
    }

    struct Item: Encodable, Sendable {
        var segment: SegmentResponse
        var sourceID: String?

        func encode(to encoder: any Encoder) throws {
            try segment.encode(to: encoder)
            enum Keys: String, CodingKey { case sourceID = "source_id", managed }
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(sourceID, forKey: .sourceID)
            try c.encode(sourceID != nil, forKey: .managed)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> PageResponse<Item> {
        let q = try QueryInput(request)
        let path = q.string("path")
        let query = try SegmentsQuery(q)
        var sourceID: UUID?
        if let text = try q.string("source_id") {
            // Not a UUID: no source has it.
            guard let id = UUID(uuidString: text) else {
                throw APIError(.notFound, code: "not_found", message: .notFound(.source), field: "source_id")
            }
            sourceID = id
        }
        let listing = try await service.segments(
            path: path, sourceID: sourceID, from: query.from, to: query.to, page: query.page, pageSize: query.pageSize)
        return PageResponse(
            items: listing.segments.items.map { Item(segment: SegmentResponse($0), sourceID: listing.owners[$0.pathName]?.uuidString.lowercased()) },
            total: listing.segments.total, page: query.page, pageSize: query.pageSize
        )
    }
}

/// `GET /recordings/sessions`: a page of sources with their sessions and online/offline spans in `from`…`to`.
struct SessionsResponse: ResponseEncodable {
    struct Span: Encodable, Sendable {
        var start: String
        var end: String
    }

    struct Item: Encodable, Sendable {
        var sourceID: String
        var name: String
        var pathName: String
        var type: String
        var node: String
        var recordEnabled: Bool
        var sessions: [SessionResponse]
        var online: [Span]
        var offline: [Span]

        enum CodingKeys: String, CodingKey {
            case name, type, node, sessions, online, offline
            case sourceID = "source_id"
            case pathName = "path_name"
            case recordEnabled = "record_enabled"
        }

        init(_ s: RecordingsService.SourceSessions) {
            let span = { (x: OnlineHistory.Span) in Span(start: Timestamp.format(Date(micros: x.start)), end: Timestamp.format(Date(micros: x.end))) }
            sourceID = s.source.id.uuidString.lowercased()
            name = s.source.name
            pathName = s.source.pathName
            type = s.source.kind.rawValue
            node = s.source.node
            recordEnabled = s.source.recordEnabled
            sessions = s.sessions.map(SessionResponse.init)
            online = s.online.map(span)
            offline = s.offline.map(span)
        }
    }

    var from: String
    var to: String
    var items: [Item]
    var total: Int
    var page: Int
    var pageSize: Int

    enum CodingKeys: String, CodingKey {
        case from, to, items, total, page
        case pageSize = "page_size"
    }
}
