import AsyncHTTPClient
import ChildProcess
import Foundation
import Testing

/// A `mediamtx-sim` process on free-looking ports, for tests whose client must not depend on this test process's
/// few threads (an in-process simulator answers on them, and the other suites running at once keep them busy).
enum SimulatorProcess {
    typealias Addresses = (api: String, playback: String)

    static func with(_ body: (Addresses) async throws -> Void) async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mediamtx-sim")
        let api = Int.random(in: 20_000...40_000), playback = api + 1
        let process = try ChildProcess.start(
            binary.path, ["--api-port", "\(api)", "--playback-port", "\(playback)"], environment: ChildProcess.currentEnvironment)
        defer {
            process.signal(SIGKILL)
            process.wait()
        }
        var up = false
        for _ in 0..<100 where !up {
            try await Task.sleep(for: .milliseconds(100))
            up =
                (try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(api)/v3/info"), timeout: .seconds(1)))?.status == .ok
        }
        try #require(up, "mediamtx-sim did not start")
        try await body(("http://127.0.0.1:\(api)", "http://127.0.0.1:\(playback)"))
    }
}
