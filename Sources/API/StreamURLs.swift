/// The URLs handed to players and encoders, built from the configured public addresses and a path name (§1.2).
struct StreamURLs: Sendable {
    let settings: AppConfig.MediaMTX

    func hls(_ path: String) -> String { "\(settings.hlsAddress)/\(path)/index.m3u8" }
    func hlsPlayer(_ path: String) -> String { "\(settings.hlsAddress)/\(path)/" }
    func rtsp(_ path: String) -> String { "\(settings.rtspAddress)/\(path)" }
    func rtmp(_ path: String) -> String { "\(settings.rtmpAddress)/\(path)" }
    /// WHEP endpoint of MediaMTX's WebRTC server.
    func whep(_ path: String) -> String { "\(settings.webrtcAddress)/\(path)/whep" }
    func webrtcPlayer(_ path: String) -> String { "\(settings.webrtcAddress)/\(path)/" }
    /// MediaMTX reads SRT streams by `streamid=read:{path}`.
    func srt(_ path: String) -> String { "\(settings.srtAddress)?streamid=read:\(path)" }
    /// Where OBS and other encoders publish a push source (design §2.3: `{rtmp_address}/{path_name}`).
    func push(_ path: String) -> String { "\(settings.rtmpAddress)/\(path)" }
}
