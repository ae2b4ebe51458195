import Foundation
import MediaMTXSimulator
import Testing

@Suite("PUT, enable, disable, DELETE", .timeLimit(.minutes(3)))
struct UpdateSourceTests {
    @Test func newURLIsPatchedIntoMediaMTXThenSaved() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://old/s"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let reply = try await stack.client.call(
                .put, "/api/v1/sources/\(id)", json: ["url": "http://cdn.example/cam/index.m3u8", "name": "Renamed"])
            #expect(reply.status == .ok)
            #expect(reply["url"]?.stringValue == "http://cdn.example/cam/index.m3u8")
            #expect(reply["protocol"]?.stringValue == "hls")
            #expect(reply["name"]?.stringValue == "Renamed")
            #expect(reply["path_name"]?.stringValue == path)
            #expect(reply["updated_at"] != source["updated_at"])
            #expect(await stack.state.pathConfig(path)?["source"]?.stringValue == "http://cdn.example/cam/index.m3u8")
            let patches = await stack.state.requests.filter { $0.method == "PATCH" }
            #expect(patches.map(\.body) == [.object([("source", .string("http://cdn.example/cam/index.m3u8"))])])
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)")["name"]?.stringValue == "Renamed")
        }
    }

    @Test func failedRowUpdateRestoresMediaMTX() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://old/s"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            try await stack.failWrites("UPDATE", on: "media_sources")
            let reply = try await stack.client.call(.put, "/api/v1/sources/\(id)", json: ["url": "rtsp://new/s", "record_enabled": true])
            #expect(reply.status == .internalServerError)
            let conf = try #require(await stack.state.pathConfig(path))
            #expect(conf["source"]?.stringValue == "rtsp://old/s")
            #expect(conf["record"]?.boolValue == false)
            let after = try await stack.client.call(.get, "/api/v1/sources/\(id)")
            #expect(after["url"]?.stringValue == "rtsp://old/s")
            #expect(after["record_enabled"]?.boolValue == false)
        }
    }

    @Test func failedDisableReAddsThePath() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push", "record_enabled": true])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            try await stack.failWrites("UPDATE", on: "media_sources")
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/disable").status == .internalServerError)
            let conf = try #require(await stack.state.pathConfig(path))
            #expect(conf["record"]?.boolValue == true)
            #expect(conf["source"]?.stringValue == "publisher")
        }
    }

    /// Enabling adds the path, recording patches it: when the row cannot be written afterwards, MediaMTX is put back
    /// as it was (no path for a still-disabled source, the old record flag), and the answer is the error.
    @Test func failedEnableAndRecordingSwitchesRestoreMediaMTX() async throws {
        try await withStack { stack in
            let off = try await stack.client.createSource(["name": "off", "type": "push", "enabled": false])
            let offID = try #require(off["id"]?.stringValue)
            let offPath = try #require(off["path_name"]?.stringValue)
            let rec = try await stack.client.createSource(["name": "rec", "type": "push", "record_enabled": false])
            let recID = try #require(rec["id"]?.stringValue)
            let recPath = try #require(rec["path_name"]?.stringValue)
            #expect(await stack.state.pathConfig(offPath) == nil)
            try await stack.failWrites("UPDATE", on: "media_sources")
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(offID)/enable").status == .internalServerError)
            #expect(await stack.state.pathConfig(offPath) == nil, "the path added for the enable is removed again")
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(recID)/record/start").status == .internalServerError)
            #expect(await stack.state.pathConfig(recPath)?["record"]?.boolValue == false, "recording switched back off")

            // And the other way: stopping a recording that cannot be written leaves MediaMTX recording.
            try await stack.allowWrites("UPDATE", on: "media_sources")
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(recID)/record/start").status == .ok)
            try await stack.failWrites("UPDATE", on: "media_sources")
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(recID)/record/stop").status == .internalServerError)
            #expect(await stack.state.pathConfig(recPath)?["record"]?.boolValue == true, "recording switched back on")
            try await stack.allowWrites("UPDATE", on: "media_sources")
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(offID)")["enabled"]?.boolValue == false)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(recID)")["record_enabled"]?.boolValue == true)
        }
    }

    @Test(arguments: [
        (#"{"url":"rtsp://a/b"}"#, "url"), (#"{"type":"pull"}"#, "type"), (#"{"name":""}"#, "name"),
        (#"{"enabled":1}"#, "enabled"), (#"{"path_name":"live/x"}"#, "path_name"), (#"{"protocol":"gopher"}"#, "protocol"),
    ])
    func badUpdateOfAPushSourceChangesNothing(body: String, field: String) async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "enc", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let reply = try await stack.client.call(.put, "/api/v1/sources/\(id)", raw: body)
            #expect(reply.status == .badRequest)
            #expect(reply.errorField == field)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)").json == source)
        }
    }

    @Test func updateOfUnknownSourceIs404() async throws {
        try await withStack { stack in
            let reply = try await stack.client.call(.put, "/api/v1/sources/\(UUID())", json: ["name": "x"])
            #expect(reply.status == .notFound)
        }
    }

    @Test func disableRemovesThePathAndEnableRestoresIt() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://cam/s", "record_enabled": true])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)

            let disabled = try await stack.client.call(.post, "/api/v1/sources/\(id)/disable")
            #expect(disabled.status == .ok)
            #expect(disabled["enabled"]?.boolValue == false)
            #expect(await stack.state.pathConfig(path) == nil)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)")["enabled"]?.boolValue == false)
            let status = try await stack.client.call(.get, "/api/v1/sources/\(id)/status")
            #expect(status.status == .ok)
            #expect(status["ready"]?.boolValue == false)

            // Changes to a disabled source only touch the row.
            #expect(try await stack.client.call(.put, "/api/v1/sources/\(id)", json: ["url": "rtsp://cam/other"]).status == .ok)
            #expect(await stack.state.pathConfig(path) == nil)

            let enabled = try await stack.client.call(.post, "/api/v1/sources/\(id)/enable")
            #expect(enabled["enabled"]?.boolValue == true)
            let conf = try #require(await stack.state.pathConfig(path))
            #expect(conf["source"]?.stringValue == "rtsp://cam/other")
            #expect(conf["record"]?.boolValue == true)
            #expect(conf["recordSegmentDuration"]?.stringValue == "2s")
        }
    }

    @Test func enableReAddsAPathMediaMTXForgot() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            await stack.state.restart()
            #expect(await stack.state.pathConfig(path) == nil)
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/enable").status == .ok)
            #expect(await stack.state.pathConfig(path)?["source"]?.stringValue == "publisher")
            // Enabling again is harmless: the path is re-asserted, not duplicated.
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/enable").status == .ok)
            #expect(await stack.state.configuredPathNames() == [path])
        }
    }

    @Test func patchOfAPathMediaMTXForgotAddsItBack() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://a/s"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            await stack.state.restart()
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/record/start").status == .ok)
            let conf = try #require(await stack.state.pathConfig(path))
            #expect(conf["source"]?.stringValue == "rtsp://a/s")
            #expect(conf["record"]?.boolValue == true)
        }
    }

    @Test func deleteRemovesPathThenRow() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let reply = try await stack.client.call(.delete, "/api/v1/sources/\(id)")
            #expect(reply.status == .noContent)
            #expect(await stack.state.configuredPathNames().isEmpty)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)").status == .notFound)
            #expect(try await stack.client.call(.delete, "/api/v1/sources/\(id)").status == .notFound)
        }
    }

    @Test func deleteSucceedsWhenMediaMTXAlreadyLostThePath() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            await stack.state.restart()
            #expect(try await stack.client.call(.delete, "/api/v1/sources/\(id)").status == .noContent)
            #expect(try await stack.client.call(.get, "/api/v1/sources").json["total"]?.intValue == 0)
        }
    }

    @Test func failedRowDeleteKeepsThePath() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            try await stack.failWrites("DELETE", on: "media_sources")
            #expect(try await stack.client.call(.delete, "/api/v1/sources/\(id)").status == .internalServerError)
            #expect(await stack.state.pathConfig(path)?["source"]?.stringValue == "publisher")
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)").status == .ok)
        }
    }
}
