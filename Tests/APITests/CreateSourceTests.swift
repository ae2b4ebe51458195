import Foundation
import MediaMTXSimulator
import Testing

@Suite("POST /api/v1/sources", .timeLimit(.minutes(3)))
struct CreateSourceTests {
    static func isPathName(_ s: String) -> Bool {
        s.wholeMatch(of: /live\/[A-Za-z0-9_-]{1,48}-[0-9a-f]{8}/) != nil
    }

    @Test func pullSourceAddsAPathThatPullsTheURL() async throws {
        try await withStack { stack in
            let reply = try await stack.client.call(
                .post, "/api/v1/sources", json: ["name": "Front Door", "type": "pull", "url": "rtsp://10.0.0.5:554/stream1"])
            #expect(reply.status == .created)
            let path = try #require(reply["path_name"]?.stringValue)
            #expect(Self.isPathName(path))
            #expect(path.hasPrefix("live/Front-Door-"))
            let id = try #require(reply["id"]?.stringValue)
            #expect(path.hasSuffix(String(id.prefix(8))))
            #expect(reply["type"]?.stringValue == "pull")
            #expect(reply["protocol"]?.stringValue == "rtsp")
            #expect(reply["enabled"]?.boolValue == true)
            #expect(reply["record_enabled"]?.boolValue == false)
            #expect(reply["push_url"] == nil)
            #expect(reply["created_at"]?.stringValue?.hasSuffix("Z") == true)

            let conf = try #require(await stack.state.pathConfig(path))
            #expect(conf["source"]?.stringValue == "rtsp://10.0.0.5:554/stream1")
            #expect(conf["record"]?.boolValue == false)
        }
    }

    @Test func pushSourceWaitsForAPublisherAndCarriesPushURL() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "OBS studio", "type": "push"])
            let path = try #require(source["path_name"]?.stringValue)
            // The push URL carries the source's publish key (64 hex characters) for operators and admins.
            let pushURL = try #require(source["push_url"]?.stringValue)
            let key = try #require(pushURL.components(separatedBy: "?key=").last)
            #expect(pushURL == "rtmp://media.example:1935/\(path)?key=\(key)")
            #expect(key.count == 64 && key.allSatisfy(\.isHexDigit))
            #expect(source["url"]?.isNull == true)
            #expect(source["protocol"]?.stringValue == "rtmp")
            #expect(await stack.state.pathConfig(path)?["source"]?.stringValue == "publisher")

            let id = try #require(source["id"]?.stringValue)
            let detail = try await stack.client.call(.get, "/api/v1/sources/\(id)")
            #expect(detail["push_url"]?.stringValue == pushURL)
            let preview = try await stack.client.call(.get, "/api/v1/sources/\(id)/preview")
            #expect(preview["push_url"]?.stringValue == pushURL)
            // Viewers may not publish: they see the design's plain {rtmp_address}/{path_name}.
            let viewed = try await stack.client.call(.get, "/api/v1/sources/\(id)", headers: try await TestUser.viewer.bearer)
            #expect(viewed["push_url"]?.stringValue == "rtmp://media.example:1935/\(path)")
        }
    }

    @Test func recordingSourceGetsTheConfiguredRecordSettings() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource([
                "name": "cam", "type": "pull", "url": "rtmp://encoder/live/key", "record_enabled": true,
            ])
            let path = try #require(source["path_name"]?.stringValue)
            let conf = try #require(await stack.state.pathConfig(path))
            #expect(conf["record"]?.boolValue == true)
            #expect(conf["recordPath"]?.stringValue == "/srv/mediamtx/recordings/%path/%Y-%m-%d_%H-%M-%S-%f")
            #expect(conf["recordFormat"]?.stringValue == "fmp4")
            #expect(conf["recordSegmentDuration"]?.stringValue == "2s")
            #expect(source["protocol"]?.stringValue == "rtmp")
        }
    }

    @Test func disabledSourceIsCataloguedWithoutAPath() async throws {
        try await withStack { stack in
            _ = try await stack.client.createSource(["name": "later", "type": "push", "enabled": false])
            #expect(await stack.state.configuredPathNames().isEmpty)
            #expect(try await stack.client.call(.get, "/api/v1/sources")["total"]?.intValue == 1)
        }
    }

    @Test(arguments: [
        ("http://cdn.example/live/index.m3u8", "hls"), ("srt://10.0.0.1:9000?streamid=x", "srt"),
        ("whep://10.0.0.1:8889/cam/whep", "webrtc"), ("rtsps://cam.example/s", "rtsps"), ("udp+mpegts://238.0.0.1:1234", "mpegts"),
    ])
    func protocolIsDerivedFromTheScheme(url: String, expected: String) async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "x", "type": "pull", "url": url])
            #expect(source["protocol"]?.stringValue == expected)
        }
    }

    @Test func chineseNamesGiveReadablePathNames() async throws {
        try await withStack { stack in
            let one = try await stack.client.createSource(["name": "摄像头1", "type": "push"])
            #expect(one["path_name"]?.stringValue?.hasPrefix("live/she-xiang-tou1-") == true)
            #expect(one["name"]?.stringValue == "摄像头1")
            let two = try await stack.client.createSource(["name": "大门摄像头", "type": "pull", "url": "rtsp://10.0.0.2/s"])
            #expect(two["path_name"]?.stringValue?.hasPrefix("live/da-men-she-xiang-tou-") == true)
            let none = try await stack.client.createSource(["name": "📷", "type": "push"])
            #expect(none["path_name"]?.stringValue?.hasPrefix("live/stream-") == true)
            // MediaMTX took each of them.
            #expect(await stack.state.configuredPathNames().count == 3)
        }
    }

    @Test func thousandSourcesWithTheSameNameGetUniquePathNames() async throws {
        try await withStack { stack in
            let paths = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var out: [String] = []
                        for _ in 0..<125 {
                            let reply = try await stack.client.call(.post, "/api/v1/sources", json: ["name": "Lobby camera", "type": "push"])
                            guard reply.status == .created, let path = reply["path_name"]?.stringValue else {
                                Issue.record("create failed: \(reply.status) \(reply.json.serialized())")
                                continue
                            }
                            out.append(path)
                        }
                        return out
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(paths.count == 1000)
            #expect(Set(paths).count == 1000)
            #expect(paths.allSatisfy { Self.isPathName($0) && $0.hasPrefix("live/Lobby-camera-") })
            #expect(await stack.state.configuredPathNames().count == 1000)
        }
    }

    @Test func insertFailureRemovesThePathFromMediaMTX() async throws {
        try await withStack { stack in
            try await stack.failWrites("INSERT", on: "media_sources")
            let reply = try await stack.client.call(.post, "/api/v1/sources", json: ["name": "cam", "type": "pull", "url": "rtsp://cam/s"])
            #expect(reply.status == .internalServerError)
            #expect(reply.errorCode == "internal")
            #expect(await stack.state.configuredPathNames().isEmpty)
            let calls = await stack.state.requests.map { "\($0.method) \($0.path)" }
            #expect(calls.count == 2)
            #expect(calls.first?.hasPrefix("POST /v3/config/paths/add/live/cam-") == true)
            #expect(calls.last?.hasPrefix("DELETE /v3/config/paths/delete/live/cam-") == true)
        }
    }

    @Test func pathAlreadyInMediaMTXIsAConflict() async throws {
        let fixed = UUID(uuidString: "1A2B3C4D-0000-4000-8000-000000000000")!
        try await withStack(makeSourceID: { fixed }) { stack in
            let taken = await stack.state.addPath("live/cam-1a2b3c4d", body: Data(#"{"source":"publisher"}"#.utf8))
            #expect(taken.status == 200)
            let reply = try await stack.client.call(.post, "/api/v1/sources", json: ["name": "cam", "type": "push"])
            #expect(reply.status == .conflict)
            #expect(reply.errorCode == "conflict")
            #expect(try await stack.client.call(.get, "/api/v1/sources")["total"]?.intValue == 0)
        }
    }
}

@Suite("Bad input to POST /api/v1/sources changes nothing", .timeLimit(.minutes(3)))
struct CreateSourceValidationTests {
    @Test(arguments: [
        (#"{"type":"pull","url":"rtsp://a/b"}"#, "name", "invalid_argument"),
        (#"{"name":"   ","type":"push"}"#, "name", "invalid_argument"),
        (#"{"name":"a"}"#, "type", "invalid_argument"),
        (#"{"name":"a","type":"relay"}"#, "type", "invalid_argument"),
        (#"{"name":"a","type":"pull"}"#, "url", "invalid_argument"),
        (#"{"name":"a","type":"pull","url":""}"#, "url", "invalid_argument"),
        (#"{"name":"a","type":"pull","url":"ftp://example/x"}"#, "url", "invalid_argument"),
        (#"{"name":"a","type":"pull","url":"not a url"}"#, "url", "invalid_argument"),
        (#"{"name":"a","type":"push","url":"rtsp://a/b"}"#, "url", "invalid_argument"),
        (#"{"name":"a","type":"push","protocol":"carrier-pigeon"}"#, "protocol", "invalid_argument"),
        (#"{"name":"a","type":"push","enabled":"yes"}"#, "enabled", "invalid_argument"),
        (#"{"name":7,"type":"push"}"#, "name", "invalid_argument"),
        (#"{"name":"a","type":"push","recordEnabled":true}"#, "recordEnabled", "invalid_argument"),
        (#"{"name":"a","type":"push""#, "body", "invalid_json"),
        (#"["name","a"]"#, "body", "invalid_json"),
        ("", "body", "invalid_json"),
    ])
    func refusedWithTheFieldNamed(body: String, field: String, code: String) async throws {
        try await withStack { stack in
            let reply = try await stack.client.call(.post, "/api/v1/sources", raw: body)
            #expect(reply.status == .badRequest)
            #expect(reply.errorField == field)
            #expect(reply.errorCode == code)
            #expect(reply.errorMessage?.isEmpty == false)
            #expect(try await stack.client.call(.get, "/api/v1/sources")["total"]?.intValue == 0)
            #expect(await stack.state.configuredPathNames().isEmpty)
        }
    }

    @Test func nameLongerThan255IsRefused() async throws {
        try await withStack { stack in
            let reply = try await stack.client.call(.post, "/api/v1/sources", json: ["name": String(repeating: "a", count: 256), "type": "push"])
            #expect(reply.status == .badRequest)
            #expect(reply.errorField == "name")
        }
    }

    @Test func bodyOverOneMebibyteIs413() async throws {
        try await withStack { stack in
            let name = String(repeating: "a", count: 1 << 20)
            let reply = try await stack.client.call(.post, "/api/v1/sources", json: ["name": name, "type": "push"])
            #expect(reply.status == .contentTooLarge)
            #expect(reply.errorCode == "payload_too_large")
            #expect(await stack.state.configuredPathNames().isEmpty)
        }
    }

    @Test func messagesFollowAcceptLanguage() async throws {
        try await withStack { stack in
            let zh = try await stack.client.call(
                .post, "/api/v1/sources", json: ["type": "push"], headers: [.acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8"])
            #expect(zh.errorMessage == "缺少必填字段 name。")
            #expect(zh.errorCode == "invalid_argument")
            #expect(zh.headers[.contentLanguage] == "zh")
            let en = try await stack.client.call(.post, "/api/v1/sources", json: ["type": "push"])
            #expect(en.errorMessage == "The field name is required.")
            let preferEnglish = try await stack.client.call(
                .post, "/api/v1/sources", json: ["type": "push"], headers: [.acceptLanguage: "zh;q=0.5, en"])
            #expect(preferEnglish.errorMessage == "The field name is required.")
        }
    }
}
