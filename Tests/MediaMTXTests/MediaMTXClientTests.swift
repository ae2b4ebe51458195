import AsyncHTTPClient
import Foundation
import Logging
import MediaMTX
import MediaMTXSimulator
import NIOCore
import Testing

/// The client against the simulator, over loopback HTTP.
func withClient(timeout: TimeAmount = .seconds(5), apiAddress: String? = nil, _ body: (MediaMTXClient, MediaMTXSimulator) async throws -> Void)
    async throws
{
    try await MediaMTXSimulator.with { sim in
        let http = MediaMTXClient.makeHTTPClient(connectTimeout: .seconds(1))
        let simAPI = await sim.apiURL
        let client = MediaMTXClient(
            apiAddress: apiAddress ?? simAPI, playbackAddress: await sim.playbackURL,
            httpClient: http, requestTimeout: timeout, logger: Logger(label: "test")
        )
        do {
            try await body(client, sim)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }
}

@Suite("MediaMTXClient", .timeLimit(.minutes(3)))
struct MediaMTXClientTests {
    @Test func configPathLifecycleWithSlashInTheName() async throws {
        try await withClient { client, sim in
            try await client.addPath(
                "live/cam-1a2b3c4d",
                PathConf(source: "rtsp://cam/s", record: true, recordPath: "/rec/%path/%s", recordFormat: "mpegts", recordSegmentDuration: "10s"))
            var conf = try await client.getPathConfig("live/cam-1a2b3c4d")
            #expect(conf.name == "live/cam-1a2b3c4d")
            #expect(conf.source == "rtsp://cam/s")
            #expect(conf.record == true)
            #expect(conf.recordFormat == "mpegts")
            #expect(conf.recordSegmentDuration == "10s")

            try await client.patchPath("live/cam-1a2b3c4d", PathConf(source: "rtmp://other/app"))
            conf = try await client.getPathConfig("live/cam-1a2b3c4d")
            #expect(conf.source == "rtmp://other/app")
            #expect(conf.record == true)

            try await client.replacePath("live/cam-1a2b3c4d", PathConf(source: "publisher"))
            conf = try await client.getPathConfig("live/cam-1a2b3c4d")
            #expect(conf.record == false)
            #expect(conf.recordFormat == "fmp4")

            try await client.enableRecording(
                "live/cam-1a2b3c4d", recordPath: "/rec/%path/%Y-%m-%d_%H-%M-%S-%f", recordFormat: "fmp4", segmentDuration: "2s")
            #expect(try await client.getPathConfig("live/cam-1a2b3c4d").record == true)
            try await client.disableRecording("live/cam-1a2b3c4d")
            #expect(try await client.getPathConfig("live/cam-1a2b3c4d").record == false)

            // The request went out with the slash plain, as MediaMTX expects.
            #expect(await sim.state.requests.first?.path == "/v3/config/paths/add/live/cam-1a2b3c4d")

            try await client.deletePath("live/cam-1a2b3c4d")
            await #expect(throws: MediaMTXError.notFound("path configuration not found")) { try await client.getPathConfig("live/cam-1a2b3c4d") }
            await #expect(throws: MediaMTXError.notFound("path not found")) { try await client.deletePath("live/cam-1a2b3c4d") }
            await #expect(throws: MediaMTXError.notFound("path not found")) { try await client.patchPath("live/nope", PathConf(record: true)) }
        }
    }

    @Test func errorsAreMappedByMeaning() async throws {
        try await withClient { client, _ in
            try await client.addPath("live/a", PathConf(source: "publisher"))
            await #expect(throws: MediaMTXError.conflict("path already exists")) { try await client.addPath("live/a", PathConf(source: "publisher")) }
            await #expect(throws: MediaMTXError.rejected(status: 400, message: "invalid source: 'ftp://example/x'")) {
                try await client.addPath("live/b", PathConf(source: "ftp://example/x"))
            }
        }
    }

    @Test func listsFollowEveryPage() async throws {
        try await withClient { client, sim in
            for i in 0..<7 { try await client.addPath("live/p\(i)", PathConf(source: "publisher")) }
            let page = try await client.listPathConfigs(page: 1, itemsPerPage: 3)
            #expect(page.itemCount == 8)
            #expect(page.pageCount == 3)
            #expect(page.items.map(\.name) == ["live/p2", "live/p3", "live/p4"])
            #expect(try await client.listAllPathConfigs().count == 8)

            await sim.state.publish(path: "live/p1", sourceType: "rtmpConn")
            await sim.state.publish(path: "unconfigured/x")
            let paths = try await client.listAllPaths()
            #expect(paths.count == 8)
            let p1 = try #require(paths.first { $0.name == "live/p1" })
            #expect(p1.ready && p1.available == true && p1.online == true)
            #expect(p1.source?.type == "rtmpConn")
            #expect(p1.source?.id?.isEmpty == false)
            #expect(paths.first { $0.name == "unconfigured/x" }?.confName == "all_others")
            #expect(try await client.isPathReady("live/p1"))
            #expect(try await client.isPathReady("live/p2") == false)
            #expect(try await client.isPathReady("no/such/path") == false)
        }
    }

    @Test func recordingsAndPlaybackList() async throws {
        try await withClient { client, sim in
            let t0 = try #require(RFC3339.parse("2026-11-25T20:02:47.294696Z"))
            for i in 0..<3 { await sim.state.addSegment(path: "live/test", start: t0.addingTimeInterval(Double(i) * 2), duration: 2) }
            let recording = try await client.getRecordings("live/test")
            #expect(recording.segments.map(\.start) == ["2026-11-25T20:02:47.294696Z", "2026-11-25T20:02:49.294696Z", "2026-11-25T20:02:51.294696Z"])
            #expect(try await client.getRecordings("nope").segments.isEmpty)
            #expect(try await client.listRecordings().items.map(\.name) == ["live/test"])

            let spans = try await client.playbackList(path: "live/test")
            #expect(spans.count == 1)
            #expect(spans.first?.duration == 6)
            #expect(try await client.playbackList(path: "live/never").isEmpty)

            try await client.deleteRecordingSegment(path: "live/test", start: "2026-11-25T20:02:51.294696Z")
            #expect(try await client.getRecordings("live/test").segments.count == 2)
            await #expect(throws: MediaMTXError.self) {
                try await client.deleteRecordingSegment(path: "live/test", start: "2026-11-25T20:02:51.294696Z")
            }
        }
    }

    /// The simulator's playback `/get` (playback.openapi.yaml): 400 for missing parameters, 404 where nothing was
    /// recorded, 200 `video/mp4` without byte ranges where something was.
    @Test func simulatorPlaybackGetAnswersLikeMediaMTX() async throws {
        try await withClient { client, sim in
            let t0 = try #require(RFC3339.parse("2026-11-25T20:02:47.294696Z"))
            await sim.state.addSegment(path: "live/test", start: t0, duration: 2)
            func get(_ query: String) async throws -> HTTPClientResponse {
                try await HTTPClient.shared.execute(HTTPClientRequest(url: await sim.playbackURL + "/get?" + query), timeout: .seconds(5))
            }
            let ok = try await get("path=live%2Ftest&start=2026-11-25T20%3A02%3A48Z&duration=10&format=mp4")
            #expect(ok.status == .ok)
            #expect(ok.headers.first(name: "Content-Type") == "video/mp4")
            #expect(ok.headers.first(name: "Accept-Ranges") == "none")
            #expect(try await get("path=live%2Ftest&start=2026-11-25T21%3A00%3A00Z&duration=10").status == .notFound)
            #expect(try await get("path=live%2Ftest&duration=10").status == .badRequest)
            #expect(try await get("start=2026-11-25T20%3A02%3A48Z&duration=10").status == .badRequest)
        }
    }

    @Test func playbackURLMatchesMediaMTXsOwnForm() throws {
        let start = try #require(RFC3339.parse("2026-11-25T20:02:47.294696Z"))
        #expect(
            MediaMTXClient.playbackURL(base: "http://127.0.0.1:9996/", path: "live/test", start: start, duration: 15.016069, format: "mp4")
                == "http://127.0.0.1:9996/get?path=live%2Ftest&start=2026-11-25T20%3A02%3A47.294696Z&duration=15.016069&format=mp4")
    }

    @Test func refusedConnectionIsUnavailable() async throws {
        try await withClient(apiAddress: "http://127.0.0.1:1") { client, _ in
            await #expect {
                try await client.info()
            } throws: { error in
                guard case MediaMTXError.unavailable = error else { return false }
                return true
            }
        }
    }

    @Test func hangingServerIsUnavailableWithinTheDeadline() async throws {
        try await withClient(timeout: .milliseconds(200)) { client, sim in
            await sim.state.setMode(.hanging)
            // The simulator hangs for as long as it is in this mode: only the 200 ms deadline can end the call, and the
            // error says it did. A hang would fail the suite's time limit; no wall-clock bound here (load only delays).
            await #expect(throws: MediaMTXError.unavailable("getPath: request timed out")) { try await client.getPath("live/a") }
        }
    }

    @Test func serverErrorIsUnavailable() async throws {
        try await withClient { client, sim in
            await sim.state.setMode(.failing(status: 500))
            await #expect {
                try await client.addPath("live/a", PathConf(source: "publisher"))
            } throws: { error in
                guard case MediaMTXError.unavailable(let message) = error else { return false }
                return message.contains("500")
            }
        }
    }
}

@Suite("RFC 3339 as MediaMTX writes it", .timeLimit(.minutes(3)))
struct RFC3339Tests {
    @Test(arguments: [
        ("2026-11-25T20:02:47.294696Z", 1_795_636_967.294696), ("2026-11-25T20:02:47Z", 1_795_636_967.0),
        ("2026-11-25T20:02:47.288763593Z", 1_795_636_967.288763593), ("2026-11-26T04:02:47+08:00", 1_795_636_967.0),
    ])
    func parses(text: String, seconds: Double) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_001)
    }

    @Test(arguments: ["", "2026-11-25", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-25T20:02:47", "2026-11-25T20:02:47.Z", "yesterday"])
    func refuses(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsWithMicroseconds() throws {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_636_967.294696)) == "2026-11-25T20:02:47.294696Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_636_967)) == "2026-11-25T20:02:47Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_636_967.5), fixedFraction: true) == "2026-11-25T20:02:47.500000Z")
        func at(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
        #expect(RFC3339.format(at(1_795_636_967_050_000)) == "2026-11-25T20:02:47.05Z")
        #expect(RFC3339.format(at(1_795_636_967_000_001)) == "2026-11-25T20:02:47.000001Z")
        #expect(RFC3339.format(at(1_795_636_967_000_001), fixedFraction: true) == "2026-11-25T20:02:47.000001Z")
        #expect(RFC3339.format(at(0), fixedFraction: true) == "1970-01-01T00:00:00.000000Z")
        #expect(RFC3339.format(at(-1)) == "1969-12-31T23:59:59.999999Z")
        #expect(RFC3339.format(at(4_102_444_799_999_999)) == "2099-12-31T23:59:59.999999Z")
        // Every format reads back as the same instant.
        for micros in stride(from: Int64(-86_400_000_000), to: 4_102_444_800_000_000, by: 97_654_321_987) {
            #expect(RFC3339.parse(RFC3339.format(at(micros))).map { Int64(($0.timeIntervalSince1970 * 1_000_000).rounded()) } == micros)
        }
    }
}
