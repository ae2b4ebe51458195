import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Inputs Schemathesis (Tests/fuzz) found answered with a 5xx or outside docs/openapi.yaml: each now gets a 400 naming
/// the field, and changes nothing.
@Suite("Fuzzer findings: bad input is a 400 naming the field, never a 500")
struct FuzzFindingsTests {
    /// SQLite's length() stops at a NUL and counts code points, not characters: a name starting with NUL broke the
    /// table's CHECK (500, after MediaMTX had been changed and changed back), and one of 255 characters made of more
    /// code points did too.
    @Test func namesWithNULOrTooManyCodePointsAreRefused() async throws {
        // 255 characters, 510 code points.
        let accented = String(repeating: "e\u{301}", count: 255)
        #expect(accented.count == 255)
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let sourceID = try #require(source["id"]?.stringValue)
            let asset = try await stack.client.call(.post, "/api/v1/assets", json: ["type": "stream", "source_type": "live", "name": "a", "source_id": sourceID])
            let assetID = try #require(asset["id"]?.stringValue)
            let requests = await stack.state.requests.count
            for name in ["\u{0}cam", "ca\u{0}m", accented] {
                for (method, uri, body) in [
                    (HTTPRequest.Method.post, "/api/v1/sources", ["name": name, "type": "push"] as [String: any Sendable]),
                    (.put, "/api/v1/sources/\(sourceID)", ["name": name]),
                    (.post, "/api/v1/assets", ["type": "stream", "source_type": "live", "name": name, "source_id": sourceID]),
                    (.post, "/api/v1/assets", ["type": "stream", "source_type": "live", "name": name, "stream_url": "rtsp://cam/s"]),
                    (.put, "/api/v1/assets/\(assetID)", ["name": name]),
                ] {
                    let reply = try await stack.client.call(method, uri, json: body)
                    #expect(reply.status == .badRequest, "\(method) \(uri) with \(name.unicodeScalars.count) code points: \(reply.status)")
                    #expect(reply.errorField == "name")
                }
            }
            for (uri, body) in [
                ("/api/v1/sources", ["name": "cam", "type": "pull", "url": "unix+mpegts:///tmp/a\u{0}b"] as [String: any Sendable]),
                ("/api/v1/sources", ["name": "cam", "type": "pull", "url": "rtsp://cam/" + String(repeating: "e\u{301}", count: 1000)]),
            ] {
                let reply = try await stack.client.call(.post, uri, json: body)
                #expect(reply.status == .badRequest)
                #expect(reply.errorField == "url")
            }
            for body in [["tags": ["a\u{0}b"]], ["description": "a\u{0}b"]] as [[String: any Sendable]] {
                let reply = try await stack.client.call(.put, "/api/v1/assets/\(assetID)", json: body)
                #expect(reply.status == .badRequest)
                #expect(reply.errorField == body.keys.first)
            }
            // Nothing changed: no MediaMTX call, the rows as they were.
            #expect(await stack.state.requests.count == requests)
            #expect(try await stack.client.call(.get, "/api/v1/sources")["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/assets")["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/assets/\(assetID)")["name"]?.stringValue == "a")
        }
    }

    /// With a `source_id` whose path is not `path`, the answer skipped the checks of `page`, `page_size`, `from` and
    /// `to`, and said `page_size: 0`.
    @Test func recordingsOfAnotherPathStillCheckTheQuery() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let reply = try await stack.client.call(.get, "/api/v1/recordings?source_id=\(id)&path=live/other&page=3&page_size=7")
            #expect(reply.status == .ok)
            #expect(reply["page"]?.intValue == 3)
            #expect(reply["page_size"]?.intValue == 7)
            #expect(reply["total"]?.intValue == 0)
            for (query, field) in [("page_size=0", "page_size"), ("page=x", "page"), ("from=soon", "from"), ("to=later", "to")] {
                let bad = try await stack.client.call(.get, "/api/v1/recordings?source_id=\(id)&path=live/other&\(query)")
                #expect(bad.status == .badRequest, "\(query): \(bad.status)")
                #expect(bad.errorField == field)
            }
        }
    }
}
