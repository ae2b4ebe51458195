import Foundation
import MediaMTXSimulator
import Testing

@Suite("Status, preview and recording of a source", .timeLimit(.minutes(3)))
struct StreamEndpointTests {
    @Test func statusFollowsThePublisherAndReaders() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)

            let idle = try await stack.client.call(.get, "/api/v1/sources/\(id)/status")
            #expect(idle.status == .ok)
            #expect(idle["ready"]?.boolValue == false)
            #expect(idle["online"]?.boolValue == false)
            #expect(idle["readers"]?.intValue == 0)
            #expect(idle["source_type"]?.isNull == true)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/preview/ready")["ready"]?.boolValue == false)

            await stack.state.publish(path: path, sourceType: "rtmpConn", tracks: ["H264", "MPEG-4 Audio"])
            await stack.state.addReader(path: path, type: "hlsMuxer")
            await stack.state.addReader(path: path, type: "webRTCSession")
            let live = try await stack.client.call(.get, "/api/v1/sources/\(id)/status")
            #expect(live["ready"]?.boolValue == true)
            #expect(live["available"]?.boolValue == true)
            #expect(live["online"]?.boolValue == true)
            #expect(live["ready_time"]?.stringValue != nil)
            #expect(live["readers"]?.intValue == 2)
            #expect(live["reader_types"]?.arrayValue == [.string("hlsMuxer"), .string("webRTCSession")])
            #expect(live["source_type"]?.stringValue == "rtmpConn")
            #expect(live["tracks"]?.arrayValue == [.string("H264"), .string("MPEG-4 Audio")])
            #expect(live["bytes_received"]?.intValue == 204_876)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/preview/ready")["ready"]?.boolValue == true)

            // One source's with_status answers the index (what the hooks reported), in the list's shape; MediaMTX's
            // own view, with tracks and bytes, stays at /status.
            try await stack.client.postEvents([
                hookEvent("available", path: path, extra: ["source_type": "rtmpConn"]),
                hookEvent("read", path: path, extra: ["reader_id": "r1", "reader_type": "hlsMuxer"]),
                hookEvent("read", path: path, extra: ["reader_id": "r2", "reader_type": "webRTCSession"]),
            ])
            let detail = try await stack.client.call(.get, "/api/v1/sources/\(id)?with_status=true")
            let listed = try await stack.client.call(.get, "/api/v1/sources?with_status=true")["items"]?.arrayValue.first { $0["id"] == detail["id"] }
            #expect(detail["status"] != nil && detail["status"] == listed?["status"])
            #expect(detail["status"]?["readers"]?.intValue == 2)
            #expect(detail["status"]?["ready"]?.boolValue == true)
            #expect(detail["status"]?["tracks"] == nil)
        }
    }

    @Test func previewURLsAreBuiltFromTheConfiguredAddresses() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://cam/s"])
            let id = try #require(source["id"]?.stringValue)
            let p = try #require(source["path_name"]?.stringValue)
            let preview = try await stack.client.call(.get, "/api/v1/sources/\(id)/preview")
            // Every URL carries the same read token for this path (MediaMTX checks it with us).
            let split = splitToken(preview["hls_url"]?.stringValue)
            let token = try #require(split.token)
            #expect(
                preview.json
                    == .object([
                        ("hls_player_url", .string("https://media.example:8888/\(p)/?token=\(token)")),
                        ("hls_url", .string("https://media.example:8888/\(p)/index.m3u8?token=\(token)")),
                        ("path_name", .string(p)),
                        ("rtmp_url", .string("rtmp://media.example:1935/\(p)?token=\(token)")),
                        ("rtsp_url", .string("rtsp://media.example:8554/\(p)?token=\(token)")),
                        ("srt_url", .string("srt://media.example:8890?streamid=read:\(p):token:\(token)")),
                        ("webrtc_player_url", .string("https://media.example:8889/\(p)/?token=\(token)")),
                        ("webrtc_url", .string("https://media.example:8889/\(p)/whep?token=\(token)")),
                    ]))
        }
    }

    @Test func recordStartAndStopPatchMediaMTXAndTheRow() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)

            let started = try await stack.client.call(.post, "/api/v1/sources/\(id)/record/start")
            #expect(started["record_enabled"]?.boolValue == true)
            let conf = try #require(await stack.state.pathConfig(path))
            #expect(conf["record"]?.boolValue == true)
            #expect(conf["recordPath"]?.stringValue == "/srv/mediamtx/recordings/%path/%Y-%m-%d_%H-%M-%S-%f")
            #expect(conf["recordFormat"]?.stringValue == "fmp4")
            #expect(conf["recordSegmentDuration"]?.stringValue == "2s")

            var status = try await stack.client.call(.get, "/api/v1/sources/\(id)/record/status")
            #expect(
                status.json
                    == .object([
                        ("record_enabled", .bool(true)), ("record_format", .string("fmp4")),
                        ("record_path", .string("/srv/mediamtx/recordings/%path/%Y-%m-%d_%H-%M-%S-%f")),
                        ("recording", .bool(false)), ("segment_duration", .string("2s")),
                    ]))
            let file = segmentFile(path, Date())
            try await stack.client.postEvents([hookEvent("segment-create", path: path, extra: ["segment_path": file])])
            status = try await stack.client.call(.get, "/api/v1/sources/\(id)/record/status")
            #expect(status["recording"]?.boolValue == true)
            try await stack.client.postEvents([hookEvent("segment-complete", path: path, extra: ["segment_path": file, "segment_duration": 1.5])])

            let stopped = try await stack.client.call(.post, "/api/v1/sources/\(id)/record/stop")
            #expect(stopped["record_enabled"]?.boolValue == false)
            #expect(await stack.state.pathConfig(path)?["record"]?.boolValue == false)
            status = try await stack.client.call(.get, "/api/v1/sources/\(id)/record/status")
            #expect(status["recording"]?.boolValue == false)
            #expect(status["record_enabled"]?.boolValue == false)
        }
    }

    @Test func recordingsAndPlaybackFromTheIndex() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push", "record_enabled": true])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)

            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/sessions")["items"]?.arrayValue == [])
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files")["items"]?.arrayValue == [])

            let t0 = Date(timeIntervalSince1970: 1_795_000_000.294696)
            var events: [[String: any Sendable]] = []
            for i in 0..<3 { events += segmentEvents(path: path, start: t0.addingTimeInterval(Double(i) * 2), duration: 2) }
            events += segmentEvents(path: path, start: t0.addingTimeInterval(60), duration: 2.5)
            #expect(try await stack.client.postEvents(events).status == .ok)

            let files = try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files")
            #expect(files["total"]?.intValue == 4)
            let first = try #require(files["items"]?.arrayValue.first)
            #expect(first["start"]?.stringValue == "2026-11-18T11:06:40.294696Z")
            #expect(first["end"]?.stringValue == "2026-11-18T11:06:42.294696Z")
            #expect(first["duration"]?.doubleValue == 2)
            #expect(first["size"]?.intValue == 1000)
            #expect(first["state"]?.stringValue == "complete")
            #expect(first["file_path"]?.stringValue == "/srv/mediamtx/recordings/\(path)/2026-11-18_11-06-40-294696.mp4")
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files?from=2026-11-18T11:07:00Z")["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files?to=2026-11-18T11:06:41Z")["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/files?page_size=3&page=2")["items"]?.arrayValue.count == 1)

            let sessions = try #require(try await stack.client.call(.get, "/api/v1/sources/\(id)/record/sessions")["items"]?.arrayValue)
            #expect(sessions.count == 2)
            #expect(sessions.first?["start"]?.stringValue == "2026-11-18T11:06:40.294696Z")
            #expect(sessions.first?["end"]?.stringValue == "2026-11-18T11:06:46.294696Z")
            #expect(sessions.first?["duration"]?.doubleValue == 6)
            #expect(sessions.first?["segment_count"]?.intValue == 3)
            #expect(sessions.last?["duration"]?.doubleValue == 2.5)

            let segments = try await stack.client.call(.get, "/api/v1/sources/\(id)/playback/segments?format=mp4")
            let playbackBase = await stack.sim.playbackURL
            let encodedPath = path.replacingOccurrences(of: "/", with: "%2F")
            #expect(
                splitToken(segments["items"]?.arrayValue.first?["url"]?.stringValue).url
                    == "\(playbackBase)/get?path=\(encodedPath)&start=2026-11-18T11%3A06%3A40.294696Z&duration=6&format=mp4")

            let playback = try await stack.client.call(.get, "/api/v1/sources/\(id)/playback?start=2026-11-18T11:06:41Z&duration=30.5&format=mp4")
            #expect(playback.status == .ok)
            #expect(
                splitToken(playback["url"]?.stringValue).url
                    == "\(playbackBase)/get?path=\(encodedPath)&start=2026-11-18T11%3A06%3A41Z&duration=30.5&format=mp4")
            // Without a duration: the rest of the session.
            let rest = try await stack.client.call(.get, "/api/v1/sources/\(id)/playback?start=1795000001.294696")
            #expect(rest["start"]?.stringValue == "2026-11-18T11:06:41.294696Z")
            #expect(rest["format"]?.stringValue == "fmp4")
            #expect(rest["duration"]?.doubleValue == 5)
            // Nothing recorded then: 404.
            let gap = try await stack.client.call(.get, "/api/v1/sources/\(id)/playback?start=2026-11-18T11:07:00Z")
            #expect(gap.status == .notFound)
            #expect(gap.errorCode == "no_recording")
        }
    }

    @Test(arguments: [
        ("", "start"), ("?start=yesterday", "start"), ("?start=2026-11-18T11:06:41Z&duration=-1", "duration"),
        ("?start=2026-11-18T11:06:41Z&duration=abc", "duration"), ("?start=2026-11-18T11:06:41Z&format=avi", "format"),
    ])
    func badPlaybackQueryIs400(query: String, field: String) async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let reply = try await stack.client.call(.get, "/api/v1/sources/\(id)/playback\(query)")
            #expect(reply.status == .badRequest)
            #expect(reply.errorField == field)
        }
    }
}
