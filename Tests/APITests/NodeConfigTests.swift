import API
import Domain
import Foundation
import Testing

/// `mediamtx.nodes`, and today's single `mediamtx` block as the one node `default`.
@Suite("configs: mediamtx.nodes", .timeLimit(.minutes(1)))
struct NodeConfigTests {
    static let head = """
        server:
          host: 127.0.0.1
          port: 8080
        database:
          path: data/x.sqlite
        auth:
          jwt_secret: test-jwt-secret-0123456789abcdef0123456789
        mediamtx:
          record_path: ./recordings/%path/%Y-%m-%d_%H-%M-%S-%f
          record_format: fmp4
          segment_duration: 1h

        """

    static func node(_ name: String, host: String, extra: String = "") -> String {
        """
            - name: \(name)
              api_address: http://\(host):9997/
              playback_address: http://\(host):9996
              rtsp_address: rtsp://\(host):8554
              rtmp_address: rtmp://\(host):1935
              hls_address: https://\(host):8888
              webrtc_address: https://\(host):8889
              srt_address: srt://\(host):8890
        \(extra)
        """
    }

    static func config(_ nodes: String, more: String = "") -> String {
        head + "  nodes:\n" + nodes + more
    }

    @Test func threeNodesAreRead() throws {
        let yaml = Self.config(
            Self.node(
                "north", host: "10.0.0.1",
                extra: "      labels: {site: north, rack: a1}\n      max_paths: 400\n      auth_token: north-token-0123456789\n")
                + Self.node("south", host: "10.0.0.2") + Self.node("east", host: "10.0.0.3"),
            more: "  node_down_after: 45s\n  failover: true\n")
        let config = try AppConfig.parse(yaml: yaml, file: "c.yaml")
        #expect(config.mediamtx.declaredNodes.map(\.name) == ["north", "south", "east"])
        let north = try #require(config.mediamtx.nodes.first)
        #expect(north.apiAddress == "http://10.0.0.1:9997" && north.srtAddress == "srt://10.0.0.1:8890")
        #expect(north.labels == ["site": "north", "rack": "a1"] && north.maxPaths == 400 && north.authToken == "north-token-0123456789")
        #expect(config.mediamtx.nodes[1].maxPaths == nil && config.mediamtx.nodes[1].authToken == nil)
        #expect(config.mediamtx.nodeDownAfter == .seconds(45) && config.mediamtx.failover)
    }

    @Test func theSingleBlockIsTheNodeDefault() throws {
        let config = try AppConfig.parse(yaml: AppConfigTests.valid, file: "c.yaml")
        #expect(config.mediamtx.nodes.isEmpty)
        let only = try #require(config.mediamtx.declaredNodes.first)
        #expect(config.mediamtx.declaredNodes.count == 1 && only.name == MediaNode.defaultName)
        #expect(only.apiAddress == "http://127.0.0.1:9997" && only.playbackAddress == "http://127.0.0.1:9996")
        #expect(config.mediamtx.nodeDownAfter == .seconds(30) && !config.mediamtx.failover)
    }

    @Test func badDeclarationsNameTheKey() throws {
        func refusal(_ yaml: String) -> ConfigError? {
            do {
                _ = try AppConfig.parse(yaml: yaml, file: "c.yaml")
                return nil
            } catch let error as ConfigError {
                return error
            } catch {
                return nil
            }
        }
        let a = Self.node("a", host: "h")
        #expect(refusal(Self.config(a + Self.node("a", host: "g")))?.key == "mediamtx.nodes[1].name")
        #expect(refusal(Self.config(Self.node("Bad Name", host: "h")))?.key == "mediamtx.nodes[0].name")
        #expect(
            refusal(Self.config(a.replacingOccurrences(of: "      srt_address: srt://h:8890\n", with: "")))?.key == "mediamtx.nodes[0].srt_address")
        #expect(refusal(Self.config(a.replacingOccurrences(of: "http://h:9997/", with: "ftp://h")))?.key == "mediamtx.nodes[0].api_address")
        #expect(refusal(Self.config(Self.node("a", host: "h", extra: "      colour: red")))?.key == "mediamtx.nodes[0].colour")
        #expect(refusal(Self.config(Self.node("a", host: "h", extra: "      max_paths: 0")))?.key == "mediamtx.nodes[0].max_paths")
        #expect(refusal(Self.config(Self.node("a", host: "h", extra: "      auth_token: short")))?.key == "mediamtx.nodes[0].auth_token")
        #expect(refusal(Self.config(Self.node("a", host: "h", extra: "      labels: [x]")))?.key == "mediamtx.nodes[0].labels")
        #expect(refusal(Self.head + "  nodes: []\n")?.key == "mediamtx.nodes")
        // The single block's addresses and a node list don't mix: which one would be meant?
        #expect(refusal(Self.config(a, more: "  api_address: http://127.0.0.1:9997\n"))?.key == "mediamtx.api_address")
        // Without nodes, the single block's addresses are required as before.
        #expect(refusal(Self.head)?.key == "mediamtx.api_address")
    }
}
