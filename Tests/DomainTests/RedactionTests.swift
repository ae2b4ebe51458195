import Domain
import Testing

@Suite("Secrets redacted from hook queries and pull URLs")
struct RedactionTests {
    @Test(arguments: [
        ("key=K1&bitrate=4000", "key=REDACTED&bitrate=4000"),
        ("KEY=K1", "KEY=REDACTED"),
        ("user=u&pass=P&password=Q&pwd=R&passwd=S", "user=u&pass=REDACTED&password=REDACTED&pwd=REDACTED&passwd=REDACTED"),
        ("token=a.b.c&jwt=d.e.f&access_token=x", "token=REDACTED&jwt=REDACTED&access_token=REDACTED"),
        ("%6Bey=K1", "%6Bey=REDACTED"),
        ("key", "key"),
        ("key=", "key=REDACTED"),
        ("a=1&&b=2", "a=1&&b=2"),
        ("", ""),
        ("streamid=publish:live/cam:user:S3cret", "streamid=publish:live/cam:user:REDACTED"),
        ("streamid=publish:live/cam:user:S3cret:key=K1", "streamid=publish:live/cam:user:REDACTED:key=REDACTED"),
        ("streamid=read:live/cam", "streamid=read:live/cam"),
        ("streamid=#!::r=live/cam,m=publish,u=me,s=S3cret", "streamid=#!::r=live/cam,m=publish,u=me,s=REDACTED"),
    ])
    func query(_ given: String, _ expected: String) {
        #expect(Redaction.query(given) == expected)
    }

    @Test(arguments: [
        ("rtsp://admin:S3cret@192.168.1.20:554/stream1", "rtsp://192.168.1.20:554/stream1"),
        ("rtsp://admin@cam/x", "rtsp://cam/x"),
        ("rtsp://a:p@ss@cam/x", "rtsp://cam/x"),
        ("rtsp://cam/x?user=a&password=b#frag", "rtsp://cam/x?user=a&password=REDACTED#frag"),
        ("srt://cam:9000?streamid=read:live:me:pw&passphrase=longpassphrase", "srt://cam:9000?streamid=read:live:me:REDACTED&passphrase=REDACTED"),
        ("rtsp://cam/x/@/y", "rtsp://cam/x/@/y"),
        ("rtsp://cam/x", "rtsp://cam/x"),
        ("unix+mpegts:///tmp/a.sock", "unix+mpegts:///tmp/a.sock"),
        ("not a url", "not a url"),
    ])
    func url(_ given: String, _ expected: String) {
        #expect(Redaction.url(given) == expected)
    }
}
