import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Inputs that Schemathesis (Tests/fuzz) found, or writing docs/openapi.yaml showed, answered with a 5xx, a crash or
/// outside the document: each now gets a 400 naming the field, and changes nothing.
@Suite("Fuzzer findings: bad input is a 400 naming the field, never a 500", .timeLimit(.minutes(3)))
struct FuzzFindingsTests {
    /// Unix seconds are 1–10 digits and up to 6 decimals (docs/openapi.yaml's `TimeParameter`): `1.3e-306` was read as
    /// a number and answered 200, outside the document.
    @Test func unixSecondsAreDigitsOnly() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            for bad in ["1.3192456723535557e-306", "1e5", "-5", "+5", "12345678901", "5.1234567", ".5", "5.", " 5", "0x10"] {
                let encoded = bad.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? bad
                let reply = try await stack.client.call(.get, "/api/v1/sources/\(id)/record/sessions?from=\(encoded)")
                #expect(reply.status == .badRequest && reply.errorField == "from", "\(bad): \(reply.status)")
            }
            for good in ["1795000000", "1795000000.5", "0", "2026-11-18T11:06:40Z"] {
                #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/sessions?from=\(good)").status == .ok, "\(good)")
            }
        }
    }

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
            let asset = try await stack.client.call(
                .post, "/api/v1/assets", json: ["type": "stream", "source_type": "live", "name": "a", "source_id": sourceID])
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

    /// `format=` (empty) was read as absent and `page_size` given twice took the first value: both answered 200 to
    /// a query outside the document. A number, boolean or choice given empty, and any parameter but `tag` given
    /// twice, is a 400.
    @Test func emptyTypedParametersAndRepeatsAreRefused() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            for (uri, field) in [
                ("/api/v1/sources/\(id)/playback/segments?format=", "format"),
                ("/api/v1/sources/\(id)/record/files?page_size=", "page_size"),
                ("/api/v1/sources/\(id)/record/files?page_size=&page_size=5", "page_size"),
                ("/api/v1/sources/\(id)/record/files?page_size=5&page_size=5", "page_size"),
                ("/api/v1/sources?with_status=", "with_status"),
                ("/api/v1/sources?type=push&type=pull", "type"),
                ("/api/v1/audit?outcome=", "outcome"),
            ] {
                let reply = try await stack.client.call(.get, uri)
                #expect(reply.status == .badRequest, "\(uri): \(reply.status)")
                #expect(reply.errorField == field, "\(uri)")
            }
            // Free text, a time or an id given empty means none (the document says so); `tag` may repeat.
            #expect(try await stack.client.call(.get, "/api/v1/sources?q=")["total"]?.intValue == 1)
            for uri in ["/api/v1/sources/\(id)/events?before=", "/api/v1/assets?source_id=", "/api/v1/recordings?from=&source_id="] {
                #expect(try await stack.client.call(.get, uri).status == .ok, "\(uri)")
            }
            #expect(try await stack.client.call(.get, "/api/v1/assets?tag=a&tag=b").status == .ok)
        }
    }

    /// A clip's `start` in unix seconds was not bounded, and neither was a playback `duration`: both crashed the
    /// server when turned into whole microseconds or seconds.
    @Test func timesAndDurationsTooLargeToCountAreRefused() async throws {
        try await withStack { stack in
            let asset = try await stack.client.createAsset(["type": "stream", "source_type": "live", "name": "cam", "stream_url": "rtsp://cam/s"])
            let id = try #require(asset["id"]?.stringValue)
            let sourceID = try #require(asset["source_id"]?.stringValue)
            let path = try #require(asset["path"]?.stringValue)
            let t0 = Date(timeIntervalSince1970: 1_795_000_000)
            try await stack.client.postEvents(segmentEvents(path: path, start: t0, duration: 10))
            for start in ["1e300", "nan", "inf", "-1", "1e11"] {
                let reply = try await stack.client.call(.post, "/api/v1/assets/\(id)/clips", json: ["name": "x", "start": start, "duration": 5])
                #expect(reply.status == .badRequest, "start \(start): \(reply.status)")
                #expect(reply.errorField == "start")
            }
            for duration in ["1e300", "86401", "inf", "nan"] {
                for uri in ["/api/v1/sources/\(sourceID)/playback", "/api/v1/assets/\(id)/stream/playback"] {
                    let reply = try await stack.client.call(.get, "\(uri)?start=1795000001&duration=\(duration)")
                    #expect(reply.status == .badRequest, "duration \(duration): \(reply.status)")
                    #expect(reply.errorField == "duration")
                }
            }
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(sourceID)/playback?start=1795000001&duration=86400").status == .ok)
            #expect(
                try await stack.client.call(.post, "/api/v1/assets/\(id)/clips", json: ["name": "x", "start": "1795000001", "duration": 5]).status
                    == .created)
        }
    }

    /// A hook's `segment_duration` was not bounded: a segment of 1e300 s was indexed, and listing it crashed the server
    /// (its end in whole microseconds).
    @Test func segmentDurationsTooLargeToCountAreRefused() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let file = segmentFile(path, Date(timeIntervalSince1970: 1_795_000_000))
            for duration in [1e300, 31_622_401] {
                let reply = try await stack.client.postEvents([
                    hookEvent("segment-complete", path: path, extra: ["segment_path": file, "segment_duration": duration])
                ])
                #expect(reply.status == .badRequest, "segment_duration \(duration): \(reply.status)")
                #expect(reply.errorField == "events[0].segment_duration")
                let files = try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files")
                #expect(files.status == .ok)
                #expect(files["total"]?.intValue == 0)
            }
            #expect(
                try await stack.client.postEvents([
                    hookEvent("segment-complete", path: path, extra: ["segment_path": file, "segment_duration": 31_622_400])
                ]).status == .ok)
        }
    }

    /// `null` read as "left out" (Schemathesis with its default checks): refused, naming the field, where it has no
    /// meaning of its own; kept where it has one.
    @Test func nullIsRefusedWhereItMeansNothing() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://10.0.0.9/s"])
            let id = try #require(source["id"]?.stringValue)
            for (uri, method, body, field) in [
                ("/api/v1/sources/\(id)", HTTPRequest.Method.put, #"{"url": null}"#, "url"),
                ("/api/v1/sources/\(id)", .put, #"{"record_enabled": null, "name": "x"}"#, "record_enabled"),
                ("/api/v1/users/viewer", .put, #"{"role": null}"#, "role"),
                ("/api/v1/sources", .post, #"{"name": "x", "type": "push", "url": null}"#, "url"),
            ] {
                let reply = try await stack.client.call(method, uri, raw: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.errorField == field, "\(body)")
            }
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)")["name"]?.stringValue == "cam")
            let hook = try await stack.client.postEvents([hookEvent("online", path: "live/a", extra: ["segment_size": NSNull()])])
            #expect(hook.errorField == "events[0].segment_size")
            // Where null means something, it still does.
            #expect(try await stack.client.call(.put, "/api/v1/sources/\(id)/retention", json: ["retention_days": NSNull()]).status == .ok)
        }
    }
}
