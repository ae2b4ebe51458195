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

extension RecordingsService {
    /// Which sources `GET /recordings/sessions` covers.
    struct SourceFilter: Sendable {
        var ids: [UUID] = []
        var tag: String?
        var kind: MediaSource.Kind?
        var node: String?
        var nameContains: String?
    }

    /// A source's recording sessions and online/offline spans in a range.
    struct SourceSessions: Sendable {
        var source: MediaSource
        var sessions: [RecordingSession]
        var online: [OnlineHistory.Span]
        var offline: [OnlineHistory.Span]
    }

    /// The sources the filter selects, by name, one page of them, each with its sessions overlapping `[from, to)` and
    /// its online/offline spans there: two index reads for the page, whatever the number of segments.
    func sessions(_ filter: SourceFilter, from: Int64, to: Int64, page: Int, pageSize: Int) async throws -> Page<SourceSessions> {
        var sources: [MediaSource]
        if filter.ids.isEmpty {
            sources = try await database.allSources()
        } else if filter.ids.count <= 20 {
            // A few named: read by key rather than listing every source (one hour of one camera is the common ask).
            sources = []
            for id in Set(filter.ids) { if let source = try await database.source(id: id) { sources.append(source) } }
        } else {
            let wanted = Set(filter.ids)
            sources = try await database.allSources().filter { wanted.contains($0.id) }
        }
        if let tag = filter.tag {
            var tagged = Set<UUID>()
            var page = 1
            while true {
                let found = try await database.assets(AssetQuery(tags: [tag], page: page, pageSize: 500))
                tagged.formUnion(found.items.compactMap(\.sourceID))
                guard page * 500 < found.total else { break }
                page += 1
            }
            sources = sources.filter { tagged.contains($0.id) }
        }
        if let kind = filter.kind { sources = sources.filter { $0.kind == kind } }
        if let node = filter.node { sources = sources.filter { $0.node == node } }
        if let name = filter.nameContains?.lowercased(), !name.isEmpty { sources = sources.filter { $0.name.lowercased().contains(name) } }
        sources.sort { ($0.name, $0.id.uuidString) < ($1.name, $1.id.uuidString) }
        let total = sources.count
        let shown = Array(sources.dropFirst((page - 1) * pageSize).prefix(pageSize))
        let paths = shown.map(\.pathName)
        async let recorded = database.recordingSessions(paths: paths, from: from, to: to)
        async let history = database.onlineHistory(paths: paths, from: from, to: to)
        let (sessions, online) = try await (recorded, history)
        return Page(
            items: shown.map { source in
                let spans = online[source.pathName]?.spans(from: from, to: to) ?? (online: [], offline: [])
                return SourceSessions(source: source, sessions: sessions[source.pathName] ?? [], online: spans.online, offline: spans.offline)
            }, total: total)
    }
}
