import API
import Catalog
import Domain
import Foundation
import HTTPTypes
import MediaMTX
import Testing

/// `GET /api/v1/recordings/sessions`: many sources' sessions and online/offline spans in one answer, filtered and
/// paged; bad ranges and ids refused naming the field.
@Suite("GET /api/v1/recordings/sessions: sessions of many sources", .timeLimit(.minutes(3)))
struct RecordingSessionsTests {
    @Test func everySourceWithItsSessionsAndOnlineSpans() async throws {
        try await withStack { stack in
            let bay = try await stack.client.createSource(["name": "Bay", "type": "push"])
            let gate = try await stack.client.createSource(["name": "Gate", "type": "pull", "url": "rtsp://10.0.0.5/stream"])
            let yard = try await stack.client.createSource(["name": "yard", "type": "push"])
            let (bayID, gateID, yardID) = (bay["id"]!.stringValue!, gate["id"]!.stringValue!, yard["id"]!.stringValue!)
            let bayPath = bay["path_name"]!.stringValue!
            let gatePath = gate["path_name"]!.stringValue!
            _ = try await stack.client.call(.post, "/api/v1/assets", json: ["name": "Dock", "source_id": bayID, "tags": ["dock"]])

            // Bay through hooks: online, three touching 2-s segments, a pause, one more, offline.
            let t0: Int64 = 1_795_000_000
            let start = Date(timeIntervalSince1970: Double(t0))
            var events = [hookEvent("online", path: bayPath, at: start.addingTimeInterval(-1))]
            for i in 0..<3 { events += segmentEvents(path: bayPath, start: start.addingTimeInterval(Double(i) * 2), duration: 2) }
            events += segmentEvents(path: bayPath, start: start.addingTimeInterval(20), duration: 2)
            events.append(hookEvent("offline", path: bayPath, at: start.addingTimeInterval(30)))
            try await stack.client.postEvents(events)
            // Gate in bulk: an hour of 2-s segments, one session.
            let catalog = try await openCatalog(stack.config.database, logger: quietLogger)
            try await catalog.insertSegments(
                (0..<1800).map { (path: gatePath, start: (t0 - 600) * 1_000_000 + Int64($0) * 2_000_000, duration: 2.0, size: 10) })
            await catalog.shutdown()

            let range = "from=\(t0 - 60)&to=\(t0 + 60)"
            let all = try await stack.client.call(.get, "/api/v1/recordings/sessions?\(range)", headers: try await TestUser.viewer.bearer)
            #expect(all["from"]?.stringValue == "2026-11-18T11:05:40.000000Z" && all["to"]?.stringValue == "2026-11-18T11:07:40.000000Z")
            #expect(all["total"]?.intValue == 3)
            let items = all["items"]?.arrayValue ?? []
            #expect(items.map { $0["name"]?.stringValue } == ["Bay", "Gate", "yard"])
            let bayItem = items[0]
            #expect(bayItem["source_id"]?.stringValue == bayID && bayItem["type"]?.stringValue == "push" && bayItem["node"]?.stringValue == "default")
            let sessions = bayItem["sessions"]?.arrayValue ?? []
            #expect(sessions.map { $0["segment_count"]?.intValue } == [3, 1])
            #expect(sessions.map { $0["start"]?.stringValue } == ["2026-11-18T11:06:40.000000Z", "2026-11-18T11:07:00.000000Z"])
            #expect(sessions.map { $0["duration"]?.doubleValue } == [6, 2])
            #expect(
                bayItem["online"]?.arrayValue.map { [$0["start"]?.stringValue, $0["end"]?.stringValue] } == [
                    ["2026-11-18T11:06:39.000000Z", "2026-11-18T11:07:10.000000Z"]
                ])
            #expect(
                bayItem["offline"]?.arrayValue.map { [$0["start"]?.stringValue, $0["end"]?.stringValue] } == [
                    ["2026-11-18T11:07:10.000000Z", "2026-11-18T11:07:40.000000Z"]
                ])
            // Gate's one session started before the range and ends after it: given whole.
            let gateSessions = items[1]["sessions"]?.arrayValue ?? []
            #expect(gateSessions.map { $0["segment_count"]?.intValue } == [1800])
            #expect(gateSessions.first?["start"]?.stringValue == "2026-11-18T10:56:40.000000Z")
            #expect(items[1]["online"]?.arrayValue.isEmpty == true && items[1]["offline"]?.arrayValue.isEmpty == true, "nothing known")
            #expect(items[2]["sessions"]?.arrayValue.isEmpty == true)

            // Filters: each alone, and together.
            func names(_ query: String) async throws -> [String?] {
                try await stack.client.call(.get, "/api/v1/recordings/sessions?\(range)&\(query)")["items"]?.arrayValue.map {
                    $0["name"]?.stringValue
                } ?? []
            }
            #expect(try await names("tag=dock") == ["Bay"])
            #expect(try await names("type=pull") == ["Gate"])
            #expect(try await names("q=GAT") == ["Gate"])
            #expect(try await names("node=default").count == 3)
            #expect(try await names("node=elsewhere").isEmpty)
            #expect(try await names("source_id=\(yardID),\(gateID)") == ["Gate", "yard"])
            #expect(try await names("source_id=\(yardID)&type=pull").isEmpty)
            #expect(try await names("tag=none").isEmpty)
            let paged = try await stack.client.call(.get, "/api/v1/recordings/sessions?\(range)&page=2&page_size=1")
            #expect(paged["total"]?.intValue == 3 && paged["items"]?.arrayValue.map { $0["name"]?.stringValue } == ["Gate"])

            // The last 24 hours unless given.
            let recent = try await stack.client.call(.get, "/api/v1/recordings/sessions")
            let from = try #require(RFC3339.parse(recent["from"]?.stringValue ?? ""))
            let to = try #require(RFC3339.parse(recent["to"]?.stringValue ?? ""))
            #expect(abs(to.timeIntervalSinceNow) < 60 && to.timeIntervalSince(from) == 86_400)
            #expect(recent["items"]?.arrayValue.allSatisfy { $0["sessions"]?.arrayValue.isEmpty == true } == true)
        }
    }

    @Test func badRangesAndIdsAreRefusedNamingTheField() async throws {
        try await withStack { stack in
            func refused(_ query: String, _ status: HTTPResponse.Status, _ field: String, language: String = "en") async throws -> String? {
                var headers = try await TestUser.viewer.bearer
                headers[.acceptLanguage] = language
                let reply = try await stack.raw.call(.get, "/api/v1/recordings/sessions?\(query)", headers: headers)
                #expect(reply.status == status, "\(query)")
                #expect(reply.json["error"]?["field"]?.stringValue == field, "\(query)")
                return reply.json["error"]?["message"]?.stringValue
            }
            let m1 = try await refused("from=1795000000&to=1795000000", .badRequest, "to")
            #expect(m1 == "to must be after from.")
            let m2 = try await refused("from=1795000000&to=1794999999", .badRequest, "to", language: "zh")
            #expect(m2 == "to 必须晚于 from。")
            let m3 = try await refused("from=1790000000&to=1795000000", .badRequest, "from")
            #expect(m3 != nil)
            let m4 = try await refused("from=yesterday", .badRequest, "from")
            #expect(m4 != nil)
            let m5 = try await refused("to=1e9", .badRequest, "to")
            #expect(m5 != nil)
            let m6 = try await refused("source_id=nope", .notFound, "source_id")
            #expect(m6 != nil)
            let m7 = try await refused("type=camera", .badRequest, "type")
            #expect(m7 != nil)
            let m8 = try await refused("page_size=1001", .badRequest, "page_size")
            #expect(m8 != nil)
            #expect(try await stack.raw.call(.get, "/api/v1/recordings/sessions").status == .unauthorized)
        }
    }
}
