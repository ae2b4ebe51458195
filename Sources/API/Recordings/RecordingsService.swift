import Catalog
import Domain
import Foundation

/// Indexed segments across sources, each with the source that manages its path (if any).
struct RecordingsService: Sendable {
    let database: any CatalogBackend

    /// A page of segments and the owning source of each path in it.
    struct Listing: Sendable {
        var segments: Page<Segment>
        var owners: [String: UUID]
    }

    /// Segments of `path` (nil: every path) overlapping `from`…`to`; `sourceID` narrows to that source's path
    /// (not found, naming `source_id`, when there is no such source; nothing when `path` is another).
    func segments(path: String?, sourceID: UUID?, from: Date?, to: Date?, page: Int, pageSize: Int) async throws -> Listing {
        var path = path
        if let sourceID {
            guard let source = try await database.source(id: sourceID) else { throw ServiceError.notFound(.source, field: "source_id") }
            if let path, path != source.pathName { return Listing(segments: Page(items: [], total: 0), owners: [:]) }
            path = source.pathName
        }
        var segments = try await database.segments(SegmentQuery(path: path, from: from?.micros, to: to?.micros, page: page, pageSize: pageSize))
        let paths = Array(Set(segments.items.map(\.pathName)))
        let owners = try await database.sourceIDs(forPaths: paths)
        let placements = try await database.placements(paths: paths)
        for i in segments.items.indices {
            segments.items[i].node = placements[segments.items[i].pathName]?.node(at: segments.items[i].start)
        }
        return Listing(segments: segments, owners: owners)
    }
}
