import Domain
import Foundation
import MediaMTXSimulator
import Testing

@Suite("path_name rule (design §2.2.1)", .timeLimit(.minutes(3)))
struct PathNameTests {
    @Test(arguments: [
        ("Front Door", "Front-Door"),
        ("cam_01-east", "cam_01-east"),
        ("摄像头1", "she-xiang-tou1"),
        ("大门摄像头", "da-men-she-xiang-tou"),
        ("摄像头1 前门", "she-xiang-tou1-qian-men"),
        ("北京西站 2号口", "bei-jing-xi-zhan-2hao-kou"),
        ("Камера 1", "Kamera-1"),
        ("Κάμερα", "Kamera"),
        ("カメラ", "kamera"),
        ("카메라 1", "kamela-1"),
        ("Ünïcödé", "Unicode"),
        ("📷🎥", "stream"),
        ("cam 📷", "cam"),
        ("  lobby   cam  ", "lobby-cam"),
        ("a/b#c?d e.f", "abcd-ef"),
        ("---", "stream"),
        ("", "stream"),
        ("Café Straße", "Cafe-Strasse"),
    ])
    func slugKeepsOnlyWhatMediaMTXAccepts(name: String, expected: String) {
        #expect(PathName.slug(name) == expected)
    }

    @Test func slugIsCappedAt48() {
        #expect(PathName.slug(String(repeating: "x", count: 200)).count == 48)
        // Transliteration makes a name longer (one hanzi, several letters): still capped, never ending in a dash.
        let long = PathName.slug(String(repeating: "摄像头", count: 40))
        #expect(long.count <= 48 && !long.hasSuffix("-"))
    }

    @Test func pathNameIsLivePlusSlugPlusEightHexOfTheID() {
        let id = UUID(uuidString: "A1B2C3D4-1111-4222-8333-444455556666")!
        #expect(PathName.make(name: "camera 1", id: id) == "live/camera-1-a1b2c3d4")
        // The design's own example (§2.2.1): a readable Latin slug, not `live/1-…`.
        #expect(PathName.make(name: "摄像头1", id: id) == "live/she-xiang-tou1-a1b2c3d4")
        #expect(PathName.make(name: "📷", id: id) == "live/stream-a1b2c3d4")
    }

    @Test func everyPathNamePassesMediaMTXsRule() {
        let names = [
            "x", "摄像头1", "💥", "a b c", String(repeating: "é", count: 300), "../etc", "a\tb\nc", "摄像头1 前门", "Камера №5", "東京タワー",
            "مرحبا", "שלום", "नमस्ते", "🇨🇳 北门", "a\u{0}b", "x\u{200B}y", String(repeating: "监控", count: 100), "ǅemal", "ﬁle", "Ⅻ",
        ]
        for name in names {
            let path = PathName.make(name: name, id: UUID())
            #expect(path.wholeMatch(of: /live\/[A-Za-z0-9_-]{1,48}-[0-9a-f]{8}/) != nil, "\(name) → \(path)")
            #expect(MediaMTXSimulator.pathNameError(path) == nil, "\(name) → \(path)")
        }
    }
}

@Suite("protocol from the URL scheme", .timeLimit(.minutes(3)))
struct StreamProtocolTests {
    @Test(arguments: [
        ("rtsp://cam/s", "rtsp"), ("RTSP://cam/s", "rtsp"), ("rtsps://cam/s", "rtsps"), ("rtsp+http://cam/s", "rtsp"),
        ("rtmp://host/app/key", "rtmp"), ("rtmps://host/app", "rtmps"), ("http://cdn/x.m3u8", "hls"), ("https://cdn/x.m3u8", "hls"),
        ("srt://host:9000?streamid=a", "srt"), ("whep://host/w", "webrtc"), ("wheps://host/w", "webrtc"),
        ("udp+mpegts://238.0.0.1:1234", "mpegts"), ("udp+rtp://0.0.0.0:5004", "rtp"), ("moqt://relay/x", "moq"),
        ("unix+mpegts:///tmp/ts.sock", "mpegts"),
    ])
    func knownSchemes(url: String, expected: String) {
        #expect(StreamProtocol.derive(fromURL: url) == expected)
    }

    @Test(arguments: ["ftp://host/x", "file:///etc/passwd", "rtsp:/missing-slash", "rtsp://", "cam.example/s", "", "javascript:alert(1)"])
    func unpullableURLs(url: String) {
        #expect(StreamProtocol.derive(fromURL: url) == nil)
    }
}
