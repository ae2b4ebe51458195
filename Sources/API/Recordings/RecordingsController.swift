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
    }

    /// `?format=ndjson|csv&from=&to=&source_id=ID[,ID…]&path=`: streamed, as a download.
    @Sendable func exportSegments(_ request: Request, context: AppRequestContext) async throws -> Response {
        let q = try QueryInput(request)
        let format = RecordingsExport.Format(rawValue: try q.oneOf("format", RecordingsExport.Format.allCases.map(\.rawValue)) ?? "ndjson")!
        let from = try SourceValidation.time(q, "from")
        let to = try SourceValidation.time(q, "to")
        var ids: [UUID] = []
        for text in (q.string("source_id") ?? "").split(separator: ",") {
            // Not a UUID: no source has it.
            guard let id = UUID(uuidString: text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError(.notFound, code: "not_found", message: .notFound(.source), field: "source_id")
            }
            ids.append(id)
        }
        guard ids.count <= 1000 else { throw APIError.invalidField("source_id", .tooMany("source_id", max: 1000)) }
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
