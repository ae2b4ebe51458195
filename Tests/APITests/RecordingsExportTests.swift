import API
import Catalog
import Domain
import Foundation
import HTTPTypes
import Testing

/// `GET /api/v1/recordings/export`: every segment, streamed in (path, start) order, across batches.
@Suite("GET /api/v1/recordings/export: streamed NDJSON and CSV", .timeLimit(.minutes(3)))
struct RecordingsExportTests {
    /// More than two of the export's batches (5,000) for one source, a few through hooks for another.
    static let bulk = 12_001

    func raw(_ stack: TestStack, _ uri: String, role: TestUser = .operator) async throws -> (status: HTTPResponse.Status, text: String, type: String?)
    {
        let reply = try await stack.raw.call(.get, uri, headers: try await role.bearer)
        return (reply.status, reply.json.stringValue ?? reply.json.serialized(), reply.headers[.contentType])
    }

    @Test func everySegmentOnceInOrderAsNDJSONAndCSV() async throws {
        try await withStack { stack in
            let a = try await stack.client.createSource(["name": "bay", "type": "push"])
            let b = try await stack.client.createSource(["name": "gate", "type": "push"])
            let pathA = try #require(a["path_name"]?.stringValue)
            let pathB = try #require(b["path_name"]?.stringValue)
            let idB = try #require(b["id"]?.stringValue)
            let t0: Int64 = 1_795_000_000_000_000
            let catalog = try await openCatalog(stack.config.database, logger: quietLogger)
            try await catalog.insertSegments(
                (0..<Self.bulk).map { (path: pathA, start: t0 + Int64($0) * 2_000_000, duration: 2.0, size: Int64(1000 + $0)) })
            await catalog.shutdown()
            let start = Date(micros: t0)
            try await stack.client.postEvents(
                segmentEvents(path: pathB, start: start, duration: 2, size: 10)
                    + segmentEvents(path: pathB, start: start.addingTimeInterval(2), duration: 2))

            let all = try await raw(stack, "/api/v1/recordings/export")
            #expect(all.status == .ok && all.type == "application/x-ndjson")
            let lines = all.text.split(separator: "\n")
            #expect(lines.count == Self.bulk + 2)
            let rows = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            let keys = rows.map { "\($0["path_name"] as? String ?? "")|\($0["start"] as? String ?? "")" }
            #expect(Set(keys).count == keys.count, "no row twice across batches")
            #expect(keys == keys.sorted(), "by path, then start")
            #expect(rows.filter { $0["path_name"] as? String == pathA }.count == Self.bulk)
            let firstB = try #require(rows.first { $0["path_name"] as? String == pathB })
            #expect(firstB["source_id"] as? String == idB && firstB["node"] as? String == "default")
            #expect(firstB["start"] as? String == "2026-11-18T11:06:40.000000Z" && firstB["size"] as? Int == 10)
            #expect((firstB["file_path"] as? String)?.hasSuffix(".mp4") == true && firstB["state"] as? String == "complete")

            let csv = try await raw(stack, "/api/v1/recordings/export?format=csv&source_id=\(idB)")
            #expect(csv.status == .ok && csv.type == "text/csv; charset=utf-8")
            let csvLines = csv.text.split(separator: "\r\n")
            #expect(csvLines.first == "path_name,source_id,node,start,end,duration,size,state,file_path")
            #expect(
                csvLines.count == 3
                    && csvLines[1].hasPrefix("\(pathB),\(idB),default,2026-11-18T11:06:40.000000Z,2026-11-18T11:06:42.000000Z,2.0,10,complete,"))

            // A range: segments overlapping [t0 + 10 s, t0 + 20 s) of A, and B's two.
            let ranged = try await raw(stack, "/api/v1/recordings/export?from=\(t0 / 1_000_000 + 10)&to=\(t0 / 1_000_000 + 20)")
            #expect(ranged.text.split(separator: "\n").count == 5)

            #expect(try await raw(stack, "/api/v1/recordings/export?source_id=\(UUID())").status == .notFound)
            #expect(try await raw(stack, "/api/v1/recordings/export?source_id=nope").status == .notFound)
            #expect(try await raw(stack, "/api/v1/recordings/export?format=xml").status == .badRequest)
            #expect(try await raw(stack, "/api/v1/recordings/export", role: .viewer).status == .forbidden)
        }
    }
}
