import Foundation

/// How MediaMTX reaches a pulled stream, derived from the URL scheme (MediaMTX's `source` values).
public enum StreamProtocol {
    /// Values accepted in the `protocol` field.
    public static let known: Set<String> = ["rtsp", "rtsps", "rtmp", "rtmps", "hls", "srt", "webrtc", "mpegts", "rtp", "moq"]

    /// URL schemes MediaMTX can pull from (mediamtx.yml, `pathDefaults.source`), mapped to our protocol names.
    public static let schemes: [String: String] = [
        "rtsp": "rtsp", "rtsp+http": "rtsp", "rtsp+ws": "rtsp",
        "rtsps": "rtsps", "rtsps+http": "rtsps", "rtsps+ws": "rtsps",
        "rtmp": "rtmp", "rtmps": "rtmps",
        "http": "hls", "https": "hls",
        "srt": "srt",
        "whep": "webrtc", "wheps": "webrtc",
        "udp+mpegts": "mpegts", "unix+mpegts": "mpegts",
        "udp+rtp": "rtp",
        "moqt": "moq",
    ]

    /// The protocol for a pull URL, or nil when MediaMTX can't pull from it.
    public static func derive(fromURL url: String) -> String? {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let scheme = url[..<colon].lowercased()
        guard let proto = schemes[scheme] else { return nil }
        let rest = url[url.index(after: colon)...]
        guard rest.hasPrefix("//"), rest.count > 2 else { return nil }
        if scheme != "unix+mpegts" {
            guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else { return nil }
        }
        return proto
    }
}
