import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import MediaMTXSimulator
import NIOCore
import NIOFoundationCompat
import Testing

@Suite("POST /api/v1/hooks/events", .timeLimit(.minutes(3)))
struct HookIngestTests {
    func count(_ stack: TestStack, _ table: String) async throws -> Int {
        try await stack.integer("SELECT COUNT(*) FROM \(table)")
    }

    @Test func theHookTokenIsRequired() async throws {
        try await withStack { stack in
            let event = hookEvent("available", path: "live/a")
            #expect(try await stack.client.call(.post, "/api/v1/hooks/events", json: event).status == .unauthorized)
            #expect(try await stack.client.postEvents([event], token: "wrong").status == .unauthorized)
            #expect(try await stack.client.postEvents([event], token: hookToken + "x").status == .unauthorized)
            #expect(try await stack.client.call(.post, "/api/v1/hooks/events?token=\(hookToken)", json: event).status == .unauthorized)
            #expect(try await count(stack, "hook_events") == 0)
            let ok = try await stack.client.call(.post, "/api/v1/hooks/events", json: event, headers: [.authorization: "Bearer \(hookToken)"])
            #expect(ok.status == .ok)
            #expect(ok["accepted"]?.intValue == 1)
        }
    }

    /// Concurrent single-event requests share transactions (group commit); each still gets its own answer. Sent over
    /// AsyncHTTPClient's pool of connections: the test client has one connection, on which 300 requests were served
    /// one after another (no group commit at all) and, on a loaded machine, ran past its 20 s read timeout.
    @Test func concurrentRequestsAreEachAnsweredForTheirOwnEvents() async throws {
        try await withStack { stack in
            let port = try #require(stack.client.port)
            let ids = (0..<150).map { "concurrent-\($0)" }
            // Every id twice, all at once: exactly one delivery of each is accepted, the other is a duplicate.
            let replies = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for id in ids + ids {
                    group.addTask {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/hooks/events")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(hookToken)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        let body = try JSONSerialization.data(withJSONObject: hookEvent("online", path: "live/c\(id.suffix(1))", id: id))
                        request.body = .bytes(ByteBuffer(data: body))
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                        let reply =
                            try JSONSerialization.jsonObject(with: Data(buffer: try await response.body.collect(upTo: 1 << 16))) as? [String: Any]
                        return ((reply?["accepted"] as? Int) ?? -1, (reply?["duplicates"] as? Int) ?? -1)
                    }
                }
                return try await group.reduce(into: [(Int, Int)]()) { $0.append($1) }
            }
            #expect(replies.count == 300)
            #expect(replies.allSatisfy { $0 == (1, 0) || $0 == (0, 1) })
            #expect(replies.map(\.0).reduce(0, +) == 150)
            #expect(try await count(stack, "hook_events") == 150)
            #expect(try await count(stack, "path_status") == 10)
        }
    }

    @Test func redeliveredEventsAndRepeatedSegmentsCountOnce() async throws {
        try await withStack { stack in
            let t0 = Date(timeIntervalSince1970: 1_795_000_000.5)
            let events = segmentEvents(path: "live/a", start: t0, duration: 2)
            #expect(try await stack.client.postEvents(events)["accepted"]?.intValue == 2)
            let again = try await stack.client.postEvents(events)
            #expect(again["accepted"]?.intValue == 0)
            #expect(again["duplicates"]?.intValue == 2)
            // The same segment reported once more under a new event id (as the reconciler would).
            var late = events[1]
            late["event_id"] = UUID().uuidString
            try await stack.client.postEvents([late])
            #expect(try await count(stack, "segments") == 1)
            #expect(try await count(stack, "hook_events") == 3)
        }
    }

    @Test func completeBeforeCreateIsOneCompleteSegment() async throws {
        try await withStack { stack in
            let events = segmentEvents(path: "live/a", start: Date(timeIntervalSince1970: 1_795_000_000), duration: 2, size: 4096)
            try await stack.client.postEvents([events[1]])
            try await stack.client.postEvents([events[0]])
            #expect(try await count(stack, "segments") == 1)
            #expect(try await stack.integer("SELECT count(*) FROM segments WHERE state = 'complete' AND duration = 2 AND size = 4096") == 1)
        }
    }

    @Test func aLateAvailableDoesNotFlipAStreamBackOnline() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let path = try #require(source["path_name"]?.stringValue)
            let t = Date()
            try await stack.client.postEvents([hookEvent("unavailable", path: path, at: t)])
            try await stack.client.postEvents([hookEvent("available", path: path, at: t.addingTimeInterval(-5), extra: ["source_type": "rtmpConn"])])
            var status = try await stack.client.call(.get, "/api/v1/sources?with_status=true")["items"]?.arrayValue.first?["status"]
            #expect(status?["ready"]?.boolValue == false)
            try await stack.client.postEvents([hookEvent("available", path: path, at: t.addingTimeInterval(1), extra: ["source_type": "rtmpConn"])])
            status = try await stack.client.call(.get, "/api/v1/sources?with_status=true")["items"]?.arrayValue.first?["status"]
            #expect(status?["ready"]?.boolValue == true)
            #expect(status?["source_type"]?.stringValue == "rtmpConn")
        }
    }

    @Test func readersAreCountedAndEndWithTheStream() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let path = try #require(source["path_name"]?.stringValue)
            let t = Date()
            try await stack.client.postEvents([
                hookEvent("available", path: path, at: t),
                hookEvent("read", path: path, at: t.addingTimeInterval(1), extra: ["reader_id": "r1", "reader_type": "hlsMuxer"]),
                hookEvent("read", path: path, at: t.addingTimeInterval(2), extra: ["reader_id": "r2", "reader_type": "webRTCSession"]),
                hookEvent("unread", path: path, at: t.addingTimeInterval(3), extra: ["reader_id": "r1"]),
                // A late `read` of r1 from before its `unread` changes nothing.
                hookEvent("read", path: path, at: t.addingTimeInterval(1.5), extra: ["reader_id": "r1"]),
            ])
            func readers() async throws -> Int? {
                try await stack.client.call(.get, "/api/v1/sources?with_status=true")["items"]?.arrayValue.first?["status"]?["readers"]?.intValue
            }
            #expect(try await readers() == 1)
            try await stack.client.postEvents([hookEvent("unavailable", path: path, at: t.addingTimeInterval(4))])
            #expect(try await readers() == 0)
        }
    }

    @Test func eventsOfUnmanagedPathsAreIndexedAndMarked() async throws {
        try await withStack { stack in
            try await stack.client.postEvents(segmentEvents(path: "other/cam", start: Date(timeIntervalSince1970: 1_795_000_000), duration: 3))
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let path = try #require(source["path_name"]?.stringValue)
            try await stack.client.postEvents(segmentEvents(path: path, start: Date(timeIntervalSince1970: 1_795_000_100), duration: 3))
            let all = try await stack.client.call(.get, "/api/v1/recordings")
            #expect(all["total"]?.intValue == 2)
            let byPath = Dictionary(uniqueKeysWithValues: all["items"]!.arrayValue.map { ($0["path_name"]!.stringValue!, $0) })
            #expect(byPath["other/cam"]?["managed"]?.boolValue == false)
            #expect(byPath[path]?["managed"]?.boolValue == true)
            #expect(byPath[path]?["source_id"] == source["id"])
            let one = try await stack.client.call(.get, "/api/v1/recordings?source_id=\(source["id"]!.stringValue!)")
            #expect(one["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/recordings?path=other/cam&from=2026-11-18T11:06:41Z")["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/recordings?path=other/cam&from=2026-11-18T11:06:44Z")["total"]?.intValue == 0)

            let history = try await stack.client.call(.get, "/api/v1/sources/\(source["id"]!.stringValue!)/events")
            #expect(history["items"]?.arrayValue.map { $0["type"]?.stringValue } == ["segment-complete", "segment-create"])
            #expect(history["items"]?.arrayValue.first?["data"]?["segment_duration"]?.doubleValue == 3)
        }
    }

    @Test(
        arguments: [
            (["segment_path": "/srv/mediamtx/recordings/live/a/../../../etc/2026-11-18_11-06-40-000000.mp4"], "events[1].segment_path"),
            (["segment_path": "/tmp/live/a/2026-11-18_11-06-40-000000.mp4"], "events[1].segment_path"),
            (["segment_path": "/srv/mediamtx/recordings/live/a/holiday.mp4"], "events[1].segment_path"),
            (["segment_path": "/srv/mediamtx/recordings/live/a/2026-11-18_11-06-40-000000.mkv"], "events[1].segment_path"),
            (["type": "teleport"], "events[1].type"),
            (["occurred_at": "yesterday"], "events[1].occurred_at"),
            (["event_id": ""], "events[1].event_id"),
            (["path": ""], "events[1].path"),
            (["segment_duration": "2"], "events[1].segment_duration"),
        ] as [([String: String], String)])
    func aBadEventRefusesTheWholeBatch(change: [String: String], field: String) async throws {
        try await withStack { stack in
            let events = segmentEvents(path: "live/a", start: Date(timeIntervalSince1970: 1_795_000_000), duration: 2)
            var bad = events[1]
            for (k, v) in change { bad[k] = v }
            let reply = try await stack.client.postEvents([events[0], bad])
            #expect(reply.status == .badRequest)
            #expect(reply.errorField == field)
            #expect(try await count(stack, "hook_events") == 0)
            #expect(try await count(stack, "segments") == 0)
        }
    }

    @Test func readWithoutReaderIDAndCompleteWithoutDurationAreRefused() async throws {
        try await withStack { stack in
            let read = try await stack.client.postEvents([hookEvent("read", path: "live/a")])
            #expect(read.errorField == "events[0].reader_id")
            let file = segmentFile("live/a", Date(timeIntervalSince1970: 1_795_000_000))
            let complete = try await stack.client.postEvents([hookEvent("segment-complete", path: "live/a", extra: ["segment_path": file])])
            #expect(complete.errorField == "events[0].segment_duration")
        }
    }
}
