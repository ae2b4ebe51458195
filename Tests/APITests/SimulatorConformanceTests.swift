import AsyncHTTPClient
import ChildProcess
import Foundation
import MediaMTXSimulator
import NIOCore
import NIOFoundationCompat
import Testing

/// `../shared/reference/mediamtx`, next to the repository; absent in a lone clone, present in CI.
let referenceDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("../shared/reference/mediamtx").standardized
let conformanceScript = referenceDirectory.appendingPathComponent("../../tools/mediamtx-conformance.py").standardized
let haveReference = FileManager.default.fileExists(atPath: referenceDirectory.appendingPathComponent("transcript.json").path)

/// Objects compared as dictionaries; everything else exactly.
func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case let (.object(x), .object(y)):
        let dy = Dictionary(y, uniquingKeysWith: { first, _ in first })
        return x.count == y.count && x.allSatisfy { key, value in dy[key].map { sameJSON(value, $0) } ?? false }
    case let (.array(x), .array(y)):
        return x.count == y.count && zip(x, y).allSatisfy(sameJSON)
    default:
        return a == b
    }
}

@Suite(
    "The simulator answers like the real MediaMTX", .timeLimit(.minutes(3)),
    .available(haveReference, "needs ../shared/reference/mediamtx"), .requires(haveReference, "../shared/reference/mediamtx"))
struct SimulatorConformanceTests {
    /// Replays `transcript.json` (exchanges recorded from a real MediaMTX) in order.
    @Test func replaysTheRecordedTranscript() async throws {
        let transcript = try JSONValue.parse(Data(contentsOf: referenceDirectory.appendingPathComponent("transcript.json"))).arrayValue
        let options = SimulatorState.Options(
            recordPath: "/srv/mediamtx/recordings/%path/%Y-%m-%d_%H-%M-%S-%f", recordSegmentDuration: "2s", recordDeleteAfter: "")
        try await MediaMTXSimulator.with(options: options) { sim in
            let base = await sim.apiURL
            for step in transcript {
                guard let method = step["method"]?.stringValue, let path = step["path"]?.stringValue, let note = step["note"]?.stringValue else {
                    continue
                }
                var request = HTTPClientRequest(url: base + path)
                request.method = .init(rawValue: method)
                switch step["request_body"] {
                case .string(var raw)?:
                    // Raw bodies were stored as Python reprs: b'{not json'.
                    if raw.hasPrefix("b'"), raw.hasSuffix("'") { raw = String(raw.dropFirst(2).dropLast()) }
                    request.body = .bytes(ByteBuffer(string: raw))
                case let body? where body != .null: request.body = .bytes(ByteBuffer(string: body.serialized()))
                default: break
                }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
                let body = try JSONValue.parse(Data(buffer: try await response.body.collect(upTo: 1 << 20)))
                #expect(Int(response.status.code) == step["status"]?.intValue, "\(note)")
                #expect(response.headers.first(name: "Content-Type") == step["content_type"]?.stringValue, "\(note)")
                let expected = try #require(step["body"])
                if path.contains("/list") {
                    // The recording MediaMTX had one more path configured in its yml; compare what we share.
                    let names = body["items"]?.arrayValue.compactMap { $0["name"]?.stringValue }
                    #expect(names == expected["items"]?.arrayValue.compactMap { $0["name"]?.stringValue }, "\(note)")
                } else if path == "/v3/info" {
                    #expect(body["version"]?.stringValue != nil && body["started"]?.stringValue != nil)
                } else {
                    #expect(sameJSON(body, expected), "\(note): \(body.serialized())")
                }
            }
        }
    }

    /// Runs `../shared/tools/mediamtx-conformance.py` (the check CI also runs) against a fresh `mediamtx-sim`
    /// process, as scripts/conformance.sh does: an in-process simulator answered on this test process's few
    /// threads, which the other suites running at once could keep busy past the script's 10 s timeout.
    @Test func passesTheConformanceScript() async throws {
        try await SimulatorProcess.with { sim in
            let arguments = [conformanceScript.path, sim.api, sim.playback]
            // Spawn and wait on a GCD thread, not on one of Swift concurrency's few threads.
            let (status, text) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int32, String), any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(
                        with: Result {
                            let (termination, output) = try ChildProcess.run("python3", arguments, environment: ChildProcess.currentEnvironment)
                            return (termination.status, output)
                        })
                }
            }
            #expect(status == 0, "\(text)")
            #expect(text.contains(" 0 failed"), "\(text)")
        }
    }
}
