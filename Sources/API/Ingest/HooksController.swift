import Domain
import Foundation
import HookWire
import Hummingbird
import MediaMTX

/// `POST /api/v1/hooks/events`: what `mtx-hook` reports, indexed in one transaction; 200 only after commit.
struct HooksController {
    let service: HookIngestService
    let token: String
    let pattern: RecordPathPattern
    let live: LiveFeed
    /// `hooks.max_clock_skew`: how far in the future an event may be dated.
    let maxClockSkew: Duration
    /// Which node holds each path: events from another node are counted as misplaced.
    let nodes: MediaNodes
    let metrics: AppMetrics

    func addRoutes(to router: AppRouter) {
        router.post(RouterPath(HookJSON.endpoint), use: ingest)
    }

    static let decoder = JSONDecoder()

    struct Batch: Decodable {
        var events: [HookWireEvent]
    }

    /// `{"accepted":N,"duplicates":M}`, written directly: this answer goes out once per hook run, and a JSON
    /// encoder for two integers costs more than the rest of the answer.
    struct IngestResponse: ResponseGenerator {
        var accepted: Int
        var duplicates: Int

        func response(from request: Request, context: some RequestContext) -> Response {
            let body = #"{"accepted":\#(accepted),"duplicates":\#(duplicates)}"#
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }

    @Sendable func ingest(_ request: Request, context: AppRequestContext) async throws -> IngestResponse {
        guard authorized(request) else {
            throw APIError(.unauthorized, code: "unauthorized", message: .hookTokenRequired)
        }
        var request = request
        let data = Data(buffer: try await request.collectBody(upTo: AppRequestContext.maxBodySize))
        try JSONLimits.check(data)
        // mtx-hook leaves out what it has not; a null would otherwise read as "left out" (only looked for when there is one).
        if data.range(of: Data("null".utf8)) != nil { try Self.refuseNulls(data) }
        let decoder = Self.decoder
        let wire: [HookWireEvent]
        let prefix: String
        do {
            // A batch is `{"events": [...]}`; one event never has that key.
            if data.range(of: Data("\"\(HookJSON.events)\"".utf8)) != nil, let batch = try? decoder.decode(Batch.self, from: data) {
                wire = batch.events
                prefix = HookJSON.events
            } else if data.range(of: Data("\"\(HookJSON.events)\"".utf8)) != nil,
                (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?[HookJSON.events] != nil
            {
                // A malformed batch: decode again to name the bad field.
                wire = try decoder.decode(Batch.self, from: data).events
                prefix = HookJSON.events
            } else {
                wire = [try decoder.decode(HookWireEvent.self, from: data)]
                prefix = ""
            }
        } catch let error as DecodingError {
            throw Request.map(error)
        }
        guard wire.count <= 1000 else { throw APIError.invalidField("events", .tooMany("events", max: 1000)) }
        let events = try wire.enumerated().map { index, event in
            try check(event, body: prefix.isEmpty ? data : nil, field: { prefix.isEmpty ? $0 : "\(prefix)[\(index)].\($0)" })
        }
        let result = try await service.ingest(events)
        context.logger.debug("hook events indexed", metadata: ["accepted": "\(result.accepted)", "duplicates": "\(result.duplicates)"])
        if result.accepted > 0 || result.webhooks > 0 { await live.indexed(events, result) }
        try await countMisplaced(events, context)
        return IngestResponse(accepted: result.accepted, duplicates: result.duplicates)
    }

    /// Events whose node (`MTX_COMPANION_NODE`) did not hold the path when they happened: indexed like any other
    /// (the path's history shows them with `misplaced: true`), counted per node, and logged. Only looked for while
    /// there are several nodes.
    func countMisplaced(_ events: [IngestEvent], _ context: AppRequestContext) async throws {
        guard events.contains(where: { $0.node != nil }) else { return }
        let known = try await nodes.recent()
        guard known.count > 1 else { return }
        let placements = try await nodes.database.placements(paths: Array(Set(events.filter { $0.node != nil }.map(\.path))))
        for event in events {
            guard let node = event.node, let expected = placements[event.path]?.node(at: event.occurredAt), expected != node else { continue }
            // Only known node names become a label; anything else is one "unknown".
            metrics.misplacedHookEvent(node: known.contains { $0.name == node } ? node : "unknown")
            context.logger.notice(
                "hook event from a node that does not hold the path",
                metadata: ["path": "\(event.path)", "node": "\(node)", "path_node": "\(expected)", "type": "\(event.type.rawValue)"])
        }
    }

    static func refuseNulls(_ data: Data) throws {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return }
        let batch = (object[HookJSON.events] as? [Any]).map { $0.compactMap { $0 as? [String: Any] } }
        for (index, event) in (batch ?? [object]).enumerated() {
            guard let key = event.keys.sorted().first(where: { event[$0] is NSNull }) else { continue }
            let field = batch == nil ? key : "\(HookJSON.events)[\(index)].\(key)"
            throw APIError.invalidField(field, .mustNotBeNull(field))
        }
    }

    /// Bearer token, compared in constant time; never taken from the URL.
    func authorized(_ request: Request) -> Bool {
        guard !token.isEmpty, let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        return constantTimeEquals(String(header.dropFirst(7)), token)
    }

    /// Validates one event; a bad field fails the whole request, naming it, with nothing written.
    /// `body` is the request's body when it is this one event: stored as received unless its type is an alias.
    func check(_ e: HookWireEvent, body: Data?, field: (String) -> String) throws -> IngestEvent {
        guard let id = e.event_id, !id.isEmpty, id.count <= 100 else { throw APIError.missingField(field("event_id")) }
        guard let typeText = e.type, let type = HookEvent(argument: typeText) else {
            throw APIError.invalidField(field("type"), .notOneOf(field("type"), HookEvent.allCases.map(\.rawValue)))
        }
        guard let occurredText = e.occurred_at, let occurred = RFC3339.parse(occurredText) else {
            throw APIError.invalidField(field("occurred_at"), .notATime(field("occurred_at")))
        }
        // An event from the future would make every later event of its path look stale (order tolerance).
        guard occurred.micros <= Date().micros + micros(maxClockSkew) else {
            throw APIError.invalidField(field("occurred_at"), .inTheFuture(field("occurred_at"), maxSkew: Int(seconds(maxClockSkew))))
        }
        guard let path = e.path, !path.isEmpty, path.count <= 255 else { throw APIError.missingField(field("path")) }
        if type.isReader, e.reader_id?.isEmpty ?? true { throw APIError.missingField(field("reader_id")) }
        // Checked whatever the type (a stored payload keeps them): what the document allows, nothing more.
        if let d = e.segment_duration, !(d.isFinite && d >= 0) {
            throw APIError.invalidField(field("segment_duration"), .notPositiveSeconds(field("segment_duration")))
        }
        // A year: longer ones are no recording, and their end would overflow the index's microseconds.
        if let d = e.segment_duration, d > 31_622_400 {
            throw APIError.invalidField(field("segment_duration"), .tooManySeconds(field("segment_duration"), max: 31_622_400))
        }
        if let size = e.segment_size, size < 0 {
            throw APIError.invalidField(field("segment_size"), .wrongType(field("segment_size"), expected: "a byte count"))
        }
        var segment: IngestEvent.SegmentInfo?
        if type.isSegment {
            guard let file = e.segment_path, !file.isEmpty else { throw APIError.missingField(field("segment_path")) }
            let parsed: (path: String, start: Int64)
            do {
                parsed = try pattern.parse(file)
            } catch .outsideRoot {
                throw APIError.invalidField(field("segment_path"), .segmentOutsideRoot(pattern.root))
            } catch {
                throw APIError.invalidField(field("segment_path"), .notASegmentName(pattern.pattern))
            }
            // record_path always has %path: the file must lie in this path's own recordings.
            guard parsed.path == path else { throw APIError.invalidField(field("segment_path"), .segmentOfAnotherPath(path: path)) }
            if type == .segmentComplete, e.segment_duration == nil { throw APIError.missingField(field("segment_duration")) }
            segment = .init(filePath: file, start: parsed.start, duration: e.segment_duration, size: e.segment_size)
        }
        // Publish keys and tokens in the query (MTX_QUERY) are never stored: history, live events and webhooks
        // are read by people who may not hold them.
        let query = e.query.map(Redaction.query)
        let payload: String
        if let body, typeText == type.rawValue, query == e.query {
            payload = String(decoding: body, as: UTF8.self)
        } else {
            var normalized = e
            normalized.type = type.rawValue
            normalized.query = query
            payload = String(decoding: try JSONEncoder.api.encode(normalized), as: UTF8.self)
        }
        return IngestEvent(
            eventID: id, type: type, occurredAt: occurred.micros, node: e.node, path: path, sourceType: e.source_type,
            sourceID: e.source_id, readerType: e.reader_type, readerID: e.reader_id, segment: segment,
            payload: payload
        )
    }
}
