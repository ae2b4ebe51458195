import ArgumentParser
import MediaMTXSimulator

/// Runs the MediaMTX simulator: the v3 API and the playback server, for tests and the conformance check.
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mediamtx-sim", abstract: "A MediaMTX stand-in for tests.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port of the v3 control API.") var apiPort = 9997
    @Option(help: "Port of the playback server.") var playbackPort = 9996
    @Option(help: "pathDefaults.recordPath") var recordPath = "./recordings/%path/%Y-%m-%d_%H-%M-%S-%f"
    @Option(help: "pathDefaults.recordSegmentDuration") var recordSegmentDuration = "1h"

    func run() async throws {
        let sim = MediaMTXSimulator(options: .init(recordPath: recordPath, recordSegmentDuration: recordSegmentDuration), logLevel: .info)
        try await sim.start(host: host, apiPort: apiPort, playbackPort: playbackPort)
        print("mediamtx-sim: API on http://\(host):\(await sim.apiPort), playback on http://\(host):\(await sim.playbackPort)")
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
