import Domain

/// The URLs handed to players and encoders, built from the public addresses of the path's node and its name (§1.2).
struct StreamURLs: Sendable {
    let settings: MediaNode

    func hls(_ path: String) -> String { "\(settings.hlsAddress)/\(path)/index.m3u8" }
    func hlsPlayer(_ path: String) -> String { "\(settings.hlsAddress)/\(path)/" }
    func rtsp(_ path: String) -> String { "\(settings.rtspAddress)/\(path)" }
    func rtmp(_ path: String) -> String { "\(settings.rtmpAddress)/\(path)" }
    /// WHEP endpoint of MediaMTX's WebRTC server.
    func whep(_ path: String) -> String { "\(settings.webrtcAddress)/\(path)/whep" }
    func webrtcPlayer(_ path: String) -> String { "\(settings.webrtcAddress)/\(path)/" }
    /// MediaMTX reads SRT streams by `streamid=read:{path}`; credentials follow as `:user:pass`, and MediaMTX passes
    /// the pass to `authHTTPAddress` as `password`.
    func srt(_ path: String, token: String? = nil) -> String {
        "\(settings.srtAddress)?streamid=read:\(path)" + (token.map { ":token:\($0)" } ?? "")
    }
    /// Where OBS and other encoders publish a push source (design §2.3: `{rtmp_address}/{path_name}`), with the
    /// source's publish key as `?key=` when the caller may see it.
    func push(_ path: String, key: String? = nil) -> String {
        let url = "\(settings.rtmpAddress)/\(path)"
        return key.map { Self.adding("key", $0, to: url) } ?? url
    }

    /// `url` with `name=value` added to its query.
    static func adding(_ name: String, _ value: String, to url: String) -> String {
        url + (url.contains("?") ? "&" : "?") + name + "=" + value
    }
}

/// The `StreamURLs` of each source's node.
struct NodeURLs: Sendable {
    let nodes: MediaNodes

    func of(_ source: MediaSource) async throws -> StreamURLs {
        StreamURLs(settings: try await nodes.node(source.node))
    }

    /// Every node's, for a list of sources (one catalogue read).
    func all() async throws -> [String: StreamURLs] {
        Dictionary(uniqueKeysWithValues: try await nodes.all().map { ($0.name, StreamURLs(settings: $0)) })
    }
}
