import Catalog
import Domain
import Foundation
import Hummingbird

/// `GET /api/v1/recordings?path=&source_id=&from=&to=`: indexed segments across sources, for operators.
/// Segments of paths no source manages are listed too, with `managed: false`.
struct RecordingsController {
    let database: AppDatabase

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
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
        var path = q.string("path")
        let (page, pageSize) = try q.paging(defaultSize: 100, maxSize: 1000)
        let from = try SourceValidation.time(q, "from")
        let to = try SourceValidation.time(q, "to")
        if let text = try q.typed("source_id") {
            guard let id = UUID(uuidString: text), let source = try await database.source(id: id) else {
                throw APIError(.notFound, code: "not_found", message: .notFound(.source), field: "source_id")
            }
            if let path, path != source.pathName { return PageResponse(items: [], total: 0, page: page, pageSize: pageSize) }
            path = source.pathName
        }
        let segments = try await database.segments(SegmentQuery(path: path, from: from?.micros, to: to?.micros, page: page, pageSize: pageSize))
        let owners = try await database.sourceIDs(forPaths: Array(Set(segments.items.map(\.pathName))))
        return PageResponse(
            items: segments.items.map { Item(segment: SegmentResponse($0), sourceID: owners[$0.pathName]?.uuidString.lowercased()) },
            total: segments.total, page: page, pageSize: pageSize
        )
    }
}
