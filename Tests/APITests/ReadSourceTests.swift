import Foundation
import MediaMTXSimulator
import Testing

@Suite("GET /api/v1/sources", .timeLimit(.minutes(3)))
struct ReadSourceTests {
    @Test func detailAndUnknownIDs() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://cam/s"])
            let id = try #require(source["id"]?.stringValue)
            let detail = try await stack.client.call(.get, "/api/v1/sources/\(id)")
            #expect(detail.status == .ok)
            #expect(detail.json == source)

            let missing = try await stack.client.call(.get, "/api/v1/sources/\(UUID().uuidString.lowercased())")
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
            #expect(try await stack.client.call(.get, "/api/v1/sources/not-a-uuid").status == .notFound)
            #expect(try await stack.client.call(.delete, "/api/v1/sources/not-a-uuid").status == .notFound)
            #expect(try await stack.client.call(.post, "/api/v1/sources/12/enable").status == .notFound)
        }
    }

    @Test func filtersAndPaging() async throws {
        try await withStack { stack in
            for i in 0..<3 { _ = try await stack.client.createSource(["name": "Gate \(i)", "type": "pull", "url": "rtsp://gate/\(i)"]) }
            _ = try await stack.client.createSource(["name": "OBS 100%_done", "type": "push"])
            _ = try await stack.client.createSource(["name": "spare", "type": "push", "enabled": false])

            let all = try await stack.client.call(.get, "/api/v1/sources")
            #expect(all["total"]?.intValue == 5)
            #expect(all["page"]?.intValue == 1)
            #expect(all["page_size"]?.intValue == 50)
            #expect(all["items"]?.arrayValue.first?["name"]?.stringValue == "spare")

            #expect(try await stack.client.call(.get, "/api/v1/sources?type=pull")["total"]?.intValue == 3)
            #expect(try await stack.client.call(.get, "/api/v1/sources?type=push&enabled=true")["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/sources?enabled=false")["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/sources?q=gate")["total"]?.intValue == 3)
            // LIKE wildcards in q are literal.
            #expect(try await stack.client.call(.get, "/api/v1/sources?q=100%25_")["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/sources?q=%25")["total"]?.intValue == 1)

            let page2 = try await stack.client.call(.get, "/api/v1/sources?page=2&page_size=2")
            #expect(page2["items"]?.arrayValue.count == 2)
            #expect(page2["total"]?.intValue == 5)
            let page3 = try await stack.client.call(.get, "/api/v1/sources?page=3&page_size=2")
            #expect(page3["items"]?.arrayValue.count == 1)
            let names = try await [1, 2, 3].asyncMap { p in
                try await stack.client.call(.get, "/api/v1/sources?page=\(p)&page_size=2")["items"]!.arrayValue.compactMap { $0["name"]?.stringValue }
            }.flatMap { $0 }
            #expect(Set(names).count == 5)
        }
    }

    @Test(arguments: [
        ("type=relay", "type"), ("enabled=maybe", "enabled"), ("page=0", "page"), ("page=x", "page"),
        ("page_size=501", "page_size"), ("page_size=0", "page_size"), ("with_status=yes", "with_status"),
    ])
    func badQueryIs400NamingTheParameter(query: String, field: String) async throws {
        try await withStack { stack in
            let reply = try await stack.client.call(.get, "/api/v1/sources?\(query)")
            #expect(reply.status == .badRequest)
            #expect(reply.errorField == field)
        }
    }

    @Test func withStatusIsAnsweredFromTheIndex() async throws {
        try await withStack { stack in
            let live = try await stack.client.createSource(["name": "live", "type": "push"])
            _ = try await stack.client.createSource(["name": "idle", "type": "pull", "url": "rtsp://idle/s"])
            _ = try await stack.client.createSource(["name": "off", "type": "push", "enabled": false])
            let path = try #require(live["path_name"]?.stringValue)
            try await stack.client.postEvents([
                hookEvent("available", path: path, extra: ["source_type": "rtmpConn", "source_id": "c0ffee"]),
                hookEvent("online", path: path),
                hookEvent("read", path: path, extra: ["reader_type": "webRTCSession", "reader_id": "r1"]),
            ])
            let before = await stack.state.requests.count

            let reply = try await stack.client.call(.get, "/api/v1/sources?with_status=true")
            let items = try #require(reply["items"]?.arrayValue)
            let byName = Dictionary(uniqueKeysWithValues: items.map { ($0["name"]!.stringValue!, $0["status"]!) })
            #expect(byName["live"]?["ready"]?.boolValue == true)
            #expect(byName["live"]?["online"]?.boolValue == true)
            #expect(byName["live"]?["readers"]?.intValue == 1)
            #expect(byName["live"]?["reader_types"]?.arrayValue == [.string("webRTCSession")])
            #expect(byName["live"]?["source_type"]?.stringValue == "rtmpConn")
            #expect(byName["idle"]?["ready"]?.boolValue == false)
            #expect(byName["off"]?["ready"]?.boolValue == false)
            #expect(await stack.state.requests.count == before, "no MediaMTX call for with_status")

            #expect(try await stack.client.call(.get, "/api/v1/sources")["items"]?.arrayValue.first?["status"] == nil)
        }
    }

    @Test func unknownRouteIsAJSON404() async throws {
        try await withStack { stack in
            let reply = try await stack.client.call(.get, "/api/v1/nothing-here")
            #expect(reply.status == .notFound)
            #expect(reply.errorCode == "not_found")
            // A known path, a method it does not take: 405 saying which it takes.
            let patch = try await stack.client.call(.patch, "/api/v1/sources")
            #expect(patch.status == .methodNotAllowed && patch.errorCode == "method_not_allowed")
            #expect(patch.headers[.allow] == "GET, POST")
            let trace = try await stack.client.call(.init("TRACE")!, "/api/v1/sources/6f1c1f4e-0000-4000-8000-000000000000/record/start")
            #expect(trace.status == .methodNotAllowed && trace.headers[.allow] == "POST")
        }
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
