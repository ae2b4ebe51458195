import Foundation
import HummingbirdTesting
import MediaMTXSimulator
import Testing

extension TestClientProtocol {
    func createAsset(_ body: [String: any Sendable], sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let reply = try await call(.post, "/api/v1/assets", json: body)
        #expect(reply.status == .created, "create asset answered \(reply.status): \(reply.json.serialized())", sourceLocation: sourceLocation)
        return reply.json
    }
}

@Suite("Stream assets: creation (design §3.2)", .timeLimit(.minutes(3)))
struct AssetCreationTests {
    @Test func newStreamCreatesPathSourceAndAssetInOneCall() async throws {
        try await withStack { stack in
            let asset = try await stack.client.createAsset([
                "type": "stream", "source_type": "live", "name": "Loading bay", "stream_url": "rtsp://10.0.0.9/live",
                "tags": ["dock", "north", "dock"],
            ])
            #expect(asset["type"]?.stringValue == "stream")
            #expect(asset["source_type"]?.stringValue == "live")
            #expect(asset["name"]?.stringValue == "Loading bay")
            #expect(asset["tags"]?.arrayValue == [.string("dock"), .string("north")])
            let path = try #require(asset["path"]?.stringValue)
            #expect(path.hasPrefix("live/Loading-bay-"))
            let sourceID = try #require(asset["source_id"]?.stringValue)
            let source = try await stack.client.call(.get, "/api/v1/sources/\(sourceID)")
            #expect(source["type"]?.stringValue == "pull")
            #expect(source["url"]?.stringValue == "rtsp://10.0.0.9/live")
            #expect(source["path_name"]?.stringValue == path)
            #expect(await stack.state.pathConfig(path)?["source"]?.stringValue == "rtsp://10.0.0.9/live")
            let id = try #require(asset["id"]?.stringValue)
            #expect(try await stack.client.call(.get, "/api/v1/assets/\(id)").json == asset)
        }
    }

    @Test func fromAnExistingSource() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "OBS", "type": "push"])
            let sourceID = try #require(source["id"]?.stringValue)
            let asset = try await stack.client.createAsset(["type": "stream", "source_type": "live", "name": "Keynote", "source_id": sourceID])
            #expect(asset["source_id"]?.stringValue == sourceID)
            #expect(asset["path"] == source["path_name"])
            #expect(asset["tags"]?.arrayValue == [])
            #expect(await stack.state.configuredPathNames().count == 1)

            let missing = try await stack.client.call(
                .post, "/api/v1/assets", json: ["type": "stream", "source_type": "live", "name": "x", "source_id": UUID().uuidString])
            #expect(missing.status == .notFound)
            #expect(missing.errorField == "source_id")
        }
    }

    /// Design §3.2 and §7: "source_id + name" (optionally with `path=source.path_name`) and "stream URL + name", with
    /// `type`/`source_type` left out.
    @Test func theDesignsBodiesAsWritten() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "OBS", "type": "push"])
            let sourceID = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            for body: [String: any Sendable] in [
                ["source_id": sourceID, "name": "Keynote"],
                ["source_id": sourceID, "name": "Keynote 2", "path": path, "tags": ["stage"]],
                ["source_id": sourceID, "name": "Keynote 3", "path": path, "type": "stream", "source_type": "live"],
            ] {
                let asset = try await stack.client.createAsset(body)
                #expect(asset["type"]?.stringValue == "stream")
                #expect(asset["source_type"]?.stringValue == "live")
                #expect(asset["source_id"]?.stringValue == sourceID)
                #expect(asset["path"]?.stringValue == path)
            }
            let fromURL = try await stack.client.createAsset(["stream_url": "rtsp://10.0.0.9/live", "name": "Dock"])
            #expect(fromURL["type"]?.stringValue == "stream" && fromURL["source_type"]?.stringValue == "live")
            #expect(await stack.state.configuredPathNames().count == 2)

            let before = try await stack.client.call(.get, "/api/v1/assets")["total"]?.intValue
            for (body, field): ([String: any Sendable], String) in [
                (["source_id": sourceID, "name": "x", "path": "live/someone-else-12345678"], "path"),
                (["source_id": sourceID, "name": "x", "path": ""], "path"),
                (["source_id": sourceID, "name": "x", "type": "image"], "type"),
                (["source_id": sourceID, "name": "x", "source_type": "vod"], "source_type"),
                (["source_id": sourceID], "name"),
            ] {
                let reply = try await stack.client.call(.post, "/api/v1/assets", json: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.errorField == field, "\(body)")
            }
            #expect(try await stack.client.call(.get, "/api/v1/assets")["total"]?.intValue == before)
            let zh = try await stack.client.call(
                .post, "/api/v1/assets", json: ["source_id": sourceID, "name": "x", "path": "live/x"], headers: [.acceptLanguage: "zh"]
            )
            #expect(zh.errorMessage?.contains(path) == true && zh.errorMessage?.contains("必须") == true)
        }
    }

    /// Each failure point of the one-step entry leaves no MediaMTX path, no source row, no asset row.
    @Test(arguments: ["media_sources", "media_assets", "media_asset_tags"])
    func failureAfterAddPathLeavesNothing(table: String) async throws {
        try await withStack { stack in
            try await stack.failWrites("INSERT", on: table)
            let reply = try await stack.client.call(
                .post, "/api/v1/assets",
                json: [
                    "type": "stream", "source_type": "live", "name": "cam", "stream_url": "rtsp://cam/s", "tags": ["a"],
                ])
            #expect(reply.status == .internalServerError)
            #expect(await stack.state.configuredPathNames().isEmpty)
            let calls = await stack.state.requests.map(\.method)
            #expect(calls == ["POST", "DELETE"])
            try await expectEmptyCatalogue(stack)
        }
    }

    @Test func mediamtxDownOrConflictLeavesNothing() async throws {
        try await withStack { stack in
            await stack.state.setMode(.failing(status: 503))
            let down = try await stack.client.call(
                .post, "/api/v1/assets", json: ["type": "stream", "source_type": "live", "name": "cam", "stream_url": "rtsp://cam/s"])
            #expect(down.status == .serviceUnavailable)
            await stack.state.setMode(.normal)
            try await expectEmptyCatalogue(stack)
        }
        let fixed = UUID(uuidString: "0BADC0DE-0000-4000-8000-000000000000")!
        try await withStack(makeSourceID: { fixed }) { stack in
            _ = await stack.state.addPath("live/cam-0badc0de", body: Data(#"{"source":"publisher"}"#.utf8))
            let conflict = try await stack.client.call(
                .post, "/api/v1/assets", json: ["type": "stream", "source_type": "live", "name": "cam", "stream_url": "rtsp://cam/s"])
            #expect(conflict.status == .conflict)
            try await expectEmptyCatalogue(stack)
            #expect(await stack.state.configuredPathNames() == ["live/cam-0badc0de"])
        }
    }

    func expectEmptyCatalogue(_ stack: TestStack, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(try await stack.client.call(.get, "/api/v1/sources")["total"]?.intValue == 0, sourceLocation: sourceLocation)
        #expect(try await stack.client.call(.get, "/api/v1/assets")["total"]?.intValue == 0, sourceLocation: sourceLocation)
        let tags = try await stack.integer("SELECT COUNT(*) FROM media_asset_tags")
        #expect(tags == 0, sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        (#"{"type":"image","source_type":"live","name":"a","stream_url":"rtsp://a/b"}"#, "type"),
        (#"{"type":"image","name":"a","stream_url":"rtsp://a/b"}"#, "type"),
        (#"{"name":"a","source_type":"vod","stream_url":"rtsp://a/b"}"#, "source_type"),
        (#"{"name":"a","stream_url":"rtsp://a/b","path":"live/a-12345678"}"#, "path"),
        (#"{"name":"a"}"#, "stream_url"),
        (#"{"type":"stream","source_type":"vod","name":"a","stream_url":"rtsp://a/b"}"#, "source_type"),
        (#"{"type":"stream","source_type":"live","stream_url":"rtsp://a/b"}"#, "name"),
        (#"{"type":"stream","source_type":"live","name":"a"}"#, "stream_url"),
        (#"{"type":"stream","source_type":"live","name":"a","stream_url":"rtsp://a/b","source_id":"0a1b"}"#, "source_id"),
        (#"{"type":"stream","source_type":"live","name":"a","stream_url":"ftp://a/b"}"#, "stream_url"),
        (#"{"type":"stream","source_type":"live","name":"a","stream_url":"rtsp://a/b","tags":"x"}"#, "tags"),
        (#"{"type":"stream","source_type":"live","name":"a","stream_url":"rtsp://a/b","tags":[" "]}"#, "tags"),
        (#"{"type":"stream","source_type":"live","name":"a","stream_url":"rtsp://a/b","url":"rtsp://a/b"}"#, "url"),
    ])
    func badInputIs400NamingTheField(body: String, field: String) async throws {
        try await withStack { stack in
            let reply = try await stack.client.call(.post, "/api/v1/assets", raw: body)
            #expect(reply.status == .badRequest)
            #expect(reply.errorField == field)
            try await expectEmptyCatalogue(stack)
            #expect(await stack.state.configuredPathNames().isEmpty)
        }
    }
}

@Suite("Stream assets: listing, relinking, deleting (design §3.3)", .timeLimit(.minutes(3)))
struct AssetCatalogueTests {
    @Test func tagFiltersAllMustMatch() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let sourceID = try #require(source["id"]?.stringValue)
            let tagSets: [[String]] = [["a", "b"], ["a"], ["b", "c"], ["a", "b", "c"], []]
            for (i, tags) in tagSets.enumerated() {
                _ = try await stack.client.createAsset([
                    "type": "stream", "source_type": "live", "name": "asset \(i)", "source_id": sourceID, "tags": tags,
                ])
            }
            func names(_ query: String) async throws -> [String] {
                try await stack.client.call(.get, "/api/v1/assets?\(query)")["items"]!.arrayValue.compactMap { $0["name"]?.stringValue }.sorted()
            }
            #expect(try await names("tag=a") == ["asset 0", "asset 1", "asset 3"])
            #expect(try await names("tag=a&tag=b") == ["asset 0", "asset 3"])
            #expect(try await names("tag=a&tag=b&tag=c") == ["asset 3"])
            #expect(try await names("tag=zzz") == [])
            #expect(try await names("q=SSET%201") == ["asset 1"])
            #expect(try await names("source_id=\(sourceID)&type=stream&source_type=live").count == 5)
            #expect(try await names("source_type=vod") == [])
            #expect(try await stack.client.call(.get, "/api/v1/assets?page_size=2&page=3")["items"]?.arrayValue.count == 1)
            #expect(try await stack.client.call(.get, "/api/v1/assets?source_id=nope").errorField == "source_id")
            #expect(try await stack.client.call(.get, "/api/v1/assets?source_type=x").errorField == "source_type")
        }
    }

    @Test func relinkUpdatesPathAndDeleteKeepsTheSource() async throws {
        try await withStack { stack in
            let a = try await stack.client.createSource(["name": "A", "type": "push"])
            let b = try await stack.client.createSource(["name": "B", "type": "pull", "url": "rtsp://b/s"])
            let asset = try await stack.client.createAsset([
                "type": "stream", "source_type": "live", "name": "show", "source_id": a["id"]!.stringValue!, "tags": ["x"],
            ])
            let id = try #require(asset["id"]?.stringValue)

            let relinked = try await stack.client.call(
                .put, "/api/v1/assets/\(id)", json: ["source_id": b["id"]!.stringValue!, "tags": ["y", "z"], "name": "show 2"])
            #expect(relinked.status == .ok)
            #expect(relinked["source_id"] == b["id"])
            #expect(relinked["path"] == b["path_name"])
            #expect(relinked["tags"]?.arrayValue == [.string("y"), .string("z")])
            #expect(try await stack.client.call(.get, "/api/v1/assets?tag=x")["total"]?.intValue == 0)
            #expect(try await stack.client.call(.put, "/api/v1/assets/\(id)", json: ["source_id": UUID().uuidString]).status == .notFound)
            #expect(try await stack.client.call(.put, "/api/v1/assets/\(id)", json: ["path": "live/x"]).errorField == "path")
            #expect(try await stack.client.call(.put, "/api/v1/assets/\(id)", json: ["type": "image"]).errorField == "type")

            #expect(try await stack.client.call(.delete, "/api/v1/assets/\(id)").status == .noContent)
            #expect(try await stack.client.call(.get, "/api/v1/assets/\(id)").status == .notFound)
            #expect(try await stack.client.call(.delete, "/api/v1/assets/\(id)").status == .notFound)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(b["id"]!.stringValue!)").status == .ok)
            #expect(await stack.state.configuredPathNames().count == 2)
        }
    }

    @Test func deletingASourceWithAssetsIs409AndChangesNothing() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let sourceID = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let asset = try await stack.client.createAsset(["type": "stream", "source_type": "live", "name": "Lobby feed", "source_id": sourceID])
            let before = await stack.state.requests.count

            let reply = try await stack.client.call(.delete, "/api/v1/sources/\(sourceID)")
            #expect(reply.status == .conflict)
            #expect(reply.errorCode == "source_has_assets")
            #expect(reply.errorMessage?.contains("Lobby feed") == true)
            #expect(reply.errorMessage?.contains("PUT /api/v1/assets/") == true)
            let zh = try await stack.client.call(.delete, "/api/v1/sources/\(sourceID)", headers: [.acceptLanguage: "zh-CN"])
            #expect(zh.errorMessage?.hasPrefix("存在 1 个关联的流媒体资产") == true)

            #expect(await stack.state.requests.count == before)
            #expect(await stack.state.pathConfig(path) != nil)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(sourceID)").status == .ok)

            #expect(try await stack.client.call(.delete, "/api/v1/assets/\(asset["id"]!.stringValue!)").status == .noContent)
            #expect(try await stack.client.call(.delete, "/api/v1/sources/\(sourceID)").status == .noContent)
            #expect(await stack.state.pathConfig(path) == nil)
        }
    }
}

@Suite("Stream assets: stream endpoints and clips (design §4)", .timeLimit(.minutes(3)))
struct AssetStreamTests {
    @Test func streamEndpointsResolveTheSource() async throws {
        try await withStack { stack in
            let asset = try await stack.client.createAsset(["type": "stream", "source_type": "live", "name": "cam", "stream_url": "rtsp://cam/s"])
            let id = try #require(asset["id"]?.stringValue)
            let path = try #require(asset["path"]?.stringValue)

            let preview = try await stack.client.call(.get, "/api/v1/assets/\(id)/preview")
            #expect(preview["path_name"]?.stringValue == path)
            #expect(splitToken(preview["hls_url"]?.stringValue).url == "https://media.example:8888/\(path)/index.m3u8")

            #expect(try await stack.client.call(.get, "/api/v1/assets/\(id)/stream/status")["ready"]?.boolValue == false)
            await stack.state.publish(path: path, sourceType: "rtspSource")
            let status = try await stack.client.call(.get, "/api/v1/assets/\(id)/stream/status")
            #expect(status["ready"]?.boolValue == true)
            #expect(status["source_type"]?.stringValue == "rtspSource")

            #expect(try await stack.client.call(.post, "/api/v1/assets/\(id)/stream/record/start").status == .ok)
            #expect(await stack.state.pathConfig(path)?["record"]?.boolValue == true)
            let t0 = Date(timeIntervalSince1970: 1_795_000_000)
            let events = segmentEvents(path: path, start: t0, duration: 2)
            try await stack.client.postEvents([events[0]])
            let recordStatus = try await stack.client.call(.get, "/api/v1/assets/\(id)/stream/record/status")
            #expect(recordStatus["record_enabled"]?.boolValue == true)
            #expect(recordStatus["recording"]?.boolValue == true)
            try await stack.client.postEvents([events[1]])
            let recordings = try await stack.client.call(.get, "/api/v1/assets/\(id)/stream/recordings")
            #expect(recordings["items"]?.arrayValue.map { $0["start"]?.stringValue } == ["2026-11-18T11:06:40.000000Z"])
            let playback = try await stack.client.call(.get, "/api/v1/assets/\(id)/stream/playback?start=1795000000&duration=2")
            #expect(playback["url"]?.stringValue?.contains("start=2026-11-18T11%3A06%3A40Z&duration=2&format=fmp4") == true)
            #expect(try await stack.client.call(.get, "/api/v1/assets/\(id)/stream/playback").errorField == "start")

            #expect(try await stack.client.call(.post, "/api/v1/assets/\(id)/stream/record/stop").status == .ok)
            #expect(await stack.state.pathConfig(path)?["record"]?.boolValue == false)
            #expect(try await stack.client.call(.get, "/api/v1/assets/\(UUID())/stream/status").status == .notFound)
        }
    }

    @Test func clipsAreVodAssetsOfRecordedRanges() async throws {
        try await withStack { stack in
            let asset = try await stack.client.createAsset(["type": "stream", "source_type": "live", "name": "cam", "stream_url": "rtsp://cam/s"])
            let id = try #require(asset["id"]?.stringValue)
            let path = try #require(asset["path"]?.stringValue)
            let t0 = Date(timeIntervalSince1970: 1_795_000_000)
            try await stack.client.postEvents(
                (0..<5).flatMap { segmentEvents(path: path, start: t0.addingTimeInterval(Double($0) * 2), duration: 2) })

            let clip = try await stack.client.call(
                .post, "/api/v1/assets/\(id)/clips",
                json: [
                    "name": "Goal", "start": "2026-11-18T11:06:42Z", "duration": 5, "tags": ["highlight"],
                ])
            #expect(clip.status == .created)
            #expect(clip["source_type"]?.stringValue == "vod")
            #expect(clip["type"]?.stringValue == "stream")
            #expect(clip["source_id"] == asset["source_id"])
            #expect(clip["path"]?.stringValue == path)
            #expect(clip["start"]?.stringValue == "2026-11-18T11:06:42.000000Z")
            #expect(clip["duration"]?.doubleValue == 5)
            let base = await stack.sim.playbackURL
            #expect(
                splitToken(clip["playback_url"]?.stringValue).url
                    == "\(base)/get?path=\(path.replacingOccurrences(of: "/", with: "%2F"))&start=2026-11-18T11%3A06%3A42Z&duration=5&format=mp4")
            #expect(try await stack.client.call(.get, "/api/v1/assets?source_type=vod&tag=highlight")["total"]?.intValue == 1)

            let outside = try await stack.client.call(
                .post, "/api/v1/assets/\(id)/clips", json: ["name": "x", "start": "2026-11-18T12:00:00Z", "duration": 5])
            #expect(outside.status == .notFound)
            #expect(outside.errorCode == "no_recording")
            for (body, field) in [
                (["name": "x", "duration": 5] as [String: any Sendable], "start"), (["name": "x", "start": "soon", "duration": 5], "start"),
                (["name": "x", "start": "2026-11-18T11:06:42Z"], "duration"),
                (["name": "x", "start": "2026-11-18T11:06:42Z", "duration": -1], "duration"),
                (["start": "2026-11-18T11:06:42Z", "duration": 1], "name"),
            ] {
                let reply = try await stack.client.call(.post, "/api/v1/assets/\(id)/clips", json: body)
                #expect(reply.status == .badRequest)
                #expect(reply.errorField == field)
            }
            #expect(try await stack.client.call(.get, "/api/v1/assets?source_type=vod")["total"]?.intValue == 1)

            // A clip is not a live stream.
            let clipID = try #require(clip["id"]?.stringValue)
            let notLive = try await stack.client.call(.get, "/api/v1/assets/\(clipID)/stream/status")
            #expect(notLive.status == .badRequest)
            #expect(notLive.errorCode == "not_a_live_stream")
            // Nor can a clip be relinked.
            #expect(try await stack.client.call(.put, "/api/v1/assets/\(clipID)", json: ["source_id": UUID().uuidString]).errorField == "source_id")
        }
    }

    @Test func assetsOfAnotherTypeHaveNoStream() async throws {
        try await withStack { stack in
            let id = UUID().uuidString.lowercased()
            // Times as each backend keeps them: SQLite text, PostgreSQL µs since 1970.
            let created = TestBackend.isPostgres ? "1767225600000000" : "'2026-01-01 00:00:00.000'"
            try await stack.execute(
                "INSERT INTO media_assets (id, name, type, source_type, created_at, updated_at) VALUES ('\(id)', 'Manual', 'document', 'live', \(created), \(created))"
            )
            let reply = try await stack.client.call(.get, "/api/v1/assets/\(id)/preview")
            #expect(reply.status == .badRequest)
            #expect(reply.errorCode == "not_a_stream_asset")
            #expect(
                try await stack.client.call(.post, "/api/v1/assets/\(id)/clips", json: ["name": "x", "start": "2026-01-01T00:00:00Z", "duration": 1])
                    .errorCode == "not_a_stream_asset")
        }
    }
}
