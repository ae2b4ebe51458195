import API
import AsyncHTTPClient
import Catalog
import Domain
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import MediaMTXSimulator
import NIOCore
import Testing

/// The findings of the security review (issue 13), one test each: every one failed before its fix.
@Suite("Security review findings", .timeLimit(.minutes(3)))
struct SecurityFindingsTests {
    static let newAdmin = #"{"username":"evil","password":"EvilPass-123","role":"admin"}"#

    // 1. Authentication skipped for `//api/...`.
    @Test func aDoubleSlashDoesNotSkipAuthentication() async throws {
        try await withStack { stack in
            let port = try #require(stack.raw.port)
            for uri in ["//api/v1/users", "///api/v1/users", "http://127.0.0.1:\(port)//api/v1/users", "/./api/v1/users", "/api/v1/../v1/users"] {
                let reply = try await stack.raw.call(.post, uri, raw: Self.newAdmin)
                #expect(reply.status == .notFound, "\(uri): \(reply.status)")
                #expect(reply.errorMessage?.contains("not canonical") == true, "\(uri)")
            }
            // Absolute form with a canonical path is an ordinary request: it needs a token like any other.
            let absolute = try await stack.raw.call(.post, "http://127.0.0.1:\(port)/api/v1/users", raw: Self.newAdmin)
            #expect(absolute.status == .unauthorized)
            let login = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "evil", "password": "EvilPass-123"])
            #expect(login.status == .unauthorized)
            let users = try await stack.client.call(.get, "/api/v1/users")
            #expect(users["items"]?.arrayValue.count == 3)
        }
    }

    // 2. Viewers read publish keys in the event history.
    @Test(.disabled(if: TestBackend.isPostgres, "writes an event with a key into the SQLite file"))
    func theEventHistoryNeverShowsAPublishKey() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "obs", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let key = try #require(source["push_url"]?.stringValue?.components(separatedBy: "?key=").last)
            // What MediaMTX passes to the hook (MTX_QUERY) after a publish through push_url.
            try await stack.client.postEvents([
                hookEvent("available", path: path, extra: ["query": "key=\(key)&bitrate=4000", "source_type": "rtmpConn"]),
                hookEvent("read", path: path, extra: ["query": "token=abc.def.ghi", "reader_id": "r1", "reader_type": "hlsMuxer"]),
            ])
            // An event stored verbatim by an older version is redacted when read.
            let old = hookEvent("online", path: path, at: Date().addingTimeInterval(-60), extra: ["query": "pass=\(key)"])
            let payload = String(decoding: try JSONSerialization.data(withJSONObject: old), as: UTF8.self)
            try await stack.database().write { db in
                try db.execute(
                    sql:
                        "INSERT INTO hook_events (event_id, type, path_name, occurred_at, received_at, node, payload) VALUES (?, 'online', ?, ?, ?, NULL, ?)",
                    arguments: ["old-1", path, Date().addingTimeInterval(-60).micros, Date().micros, payload]
                )
            }
            for user in TestUser.allCases {
                let reply = try await stack.raw.call(.get, "/api/v1/sources/\(id)/events", headers: try await user.bearer)
                #expect(reply.status == .ok)
                let text = reply.json.serialized()
                #expect(!text.contains(key), "\(user) sees the publish key")
                #expect(!text.contains("abc.def.ghi"), "\(user) sees a read token")
                let queries = reply["items"]?.arrayValue.compactMap { $0["data"]?["query"]?.stringValue }
                #expect(Set(queries ?? []) == ["key=REDACTED&bitrate=4000", "token=REDACTED", "pass=REDACTED"])
            }
            // Stored redacted, not only shown so.
            let stored = try await stack.database().read { db in
                try String.fetchAll(db, sql: "SELECT payload FROM hook_events WHERE event_id <> 'old-1'")
            }
            #expect(stored.count == 2)
            #expect(stored.allSatisfy { !$0.contains(key) && !$0.contains("abc.def.ghi") })
        }
    }

    // 3. Camera passwords shown to viewers.
    @Test func cameraCredentialsAreForOperatorsAndAdminsOnly() async throws {
        try await withStack { stack in
            let url = "rtsp://admin:S3cret@192.168.1.20:554/stream1?passphrase=p4ss&channel=1"
            let source = try await stack.client.createSource(["name": "door", "type": "pull", "url": url])
            let id = try #require(source["id"]?.stringValue)
            #expect(source["url"]?.stringValue == url)
            for user in TestUser.allCases {
                let one = try await stack.raw.call(.get, "/api/v1/sources/\(id)", headers: try await user.bearer)
                let list = try await stack.raw.call(.get, "/api/v1/sources?with_status=true", headers: try await user.bearer)
                let shown = [one["url"]?.stringValue, list["items"]?.arrayValue.first?["url"]?.stringValue]
                let expected = user == .viewer ? "rtsp://192.168.1.20:554/stream1?passphrase=REDACTED&channel=1" : url
                #expect(shown == [expected, expected], "\(user)")
            }
        }
    }

    // 4. Per-user lockout bypassed with a NUL suffix; one normal form for names.
    @Test func userNamesHaveOneNormalForm() async throws {
        try await withStack { stack in
            for name in ["viewer\u{0}", "viewer\u{0}\u{0}", "vie\u{200B}wer", "viewer\r\n\u{7}"] {
                let login = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": name, "password": testPassword])
                #expect(login.status == .badRequest, "\(name.debugDescription): \(login.status)")
                #expect(login.errorField == "username")
                let add = try await stack.client.call(
                    .post, "/api/v1/users", json: ["username": name, "password": "long enough pw", "role": "viewer"])
                #expect(add.status == .badRequest, "\(name.debugDescription): \(add.status)")
                #expect(add.errorField == "username")
            }
            // Surrounding white space is not part of a name.
            #expect(try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "  viewer\n", "password": testPassword]).status == .ok)
            let bob = try await stack.client.call(
                .post, "/api/v1/users", json: ["username": " bob ", "password": "long enough pw", "role": "viewer"])
            #expect(bob["username"]?.stringValue == "bob")
        }
    }

    @Test func aLockedNameStaysLockedInEveryForm() async throws {
        try await withStack(configure: { $0.auth.loginMaxFailures = 3 }) { stack in
            for _ in 0..<3 {
                _ = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "viewer", "password": "wrong password"])
            }
            for name in ["viewer", " viewer", "VIEWER", "viewer\t"] {
                let login = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": name, "password": testPassword])
                #expect(login.status == .tooManyRequests, "\(name.debugDescription): \(login.status)")
            }
            #expect(
                try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "viewer\u{0}", "password": testPassword]).status
                    == .badRequest)
        }
    }

    // 5. Error answers without the security headers.
    @Test func everyAnswerCarriesTheSecurityHeaders() async throws {
        try await withStack(configure: { $0.auth.loginMaxFailures = 1 }) { stack in
            let big = String(repeating: "x", count: AppRequestContext.maxBodySize + 10)
            let answers: [(HTTPResponse.Status, Reply)] = [
                (.ok, try await stack.client.call(.get, "/api/v1/sources")),
                (.badRequest, try await stack.client.call(.get, "/api/v1/sources?page=zero")),
                (.badRequest, try await stack.raw.call(.get, "/js/app.js%00.html")),
                (.notFound, try await stack.raw.call(.get, "//api/v1/sources")),
                (.unauthorized, try await stack.raw.call(.get, "/api/v1/sources")),
                (.forbidden, try await stack.raw.call(.get, "/api/v1/users", headers: try await TestUser.viewer.bearer)),
                (.notFound, try await stack.client.call(.get, "/api/v1/no-such-route")),
                (.notFound, try await stack.client.call(.get, "/api/v1/sources/6f1c1f4e-0000-4000-8000-000000000000")),
                (.contentTooLarge, try await stack.client.call(.post, "/api/v1/sources", raw: big)),
                (.unauthorized, try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "viewer", "password": "wrong password"])),
                (
                    .tooManyRequests,
                    try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "viewer", "password": "wrong password"])
                ),
            ]
            for (status, reply) in answers {
                #expect(reply.status == status)
                #expect(reply.headers[.xContentTypeOptions] == "nosniff", "\(status)")
                #expect(reply.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(status)")
                #expect(reply.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(status)")
                #expect(reply.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true, "\(status)")
                #expect(reply.headers[.cacheControl] == "no-store", "\(status)")
                #expect(reply.headers[HTTPField.Name("X-Request-Id")!] != nil, "\(status)")
            }
        }
    }

    // 6. A MediaMTX auth body between 64 KiB and 1 MiB was a 500.
    @Test func anOversizedMediaMTXAuthBodyIs413() async throws {
        try await withStack { stack in
            let body = #"{"action":"read","path":"live/x","query":""# + String(repeating: "a", count: 100 * 1024) + #""}"#
            let reply = try await stack.raw.call(.post, "/api/v1/mediamtx/auth", raw: body)
            #expect(reply.status == .contentTooLarge)
            #expect(reply.errorCode == "payload_too_large")
        }
    }

    // 7. Webhook targets in reserved ranges, address by address.
    @Test func webhookTargetsInSpecialPurposeRangesAreRefused() async throws {
        let refused = [
            "0.0.0.0", "10.1.2.3", "100.64.0.1", "127.0.0.1", "127.1", "2130706433", "169.254.169.254", "172.16.0.1", "192.0.0.8",
            "192.0.2.1", "192.31.196.1", "192.52.193.1", "192.88.99.1", "192.168.1.1", "192.175.48.1", "198.18.0.1", "198.19.255.254",
            "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
            "[::]", "[::1]", "[::127.0.0.1]", "[::10.0.0.1]", "[::8.8.8.8]", "[::ffff:127.0.0.1]", "[::ffff:192.168.0.1]",
            "[64:ff9b::7f00:1]", "[64:ff9b::a00:1]", "[64:ff9b::c000:201]", "[64:ff9b:1::808:808]", "[100::1]", "[2001::1]",
            "[2001:2::1]", "[2001:db8::1]", "[2002:7f00:1::1]", "[2002:c0a8:101::1]", "[2002:a9fe:a9fe::1]", "[2620:4f:8000::1]",
            "[3fff::1]", "[5f00::1]", "[fc00::1]", "[fd12:3456::1]", "[fe80::1]", "[fec0::1]", "[ff02::1]",
        ]
        let allowed = ["8.8.8.8", "1.1.1.1", "[2606:4700:4700::1111]", "[64:ff9b::808:808]", "[2002:808:808::1]", "[::ffff:8.8.4.4]"]
        try await withStack(webhooks: testWebhookSettings { $0.allowPrivateTargets = false }) { stack in
            for host in refused {
                let reply = try await stack.client.call(
                    .post, "/api/v1/webhooks", json: ["url": "http://\(host):9/hook", "events": ["stream.online"]])
                #expect(reply.status == .badRequest, "\(host): \(reply.status)")
                #expect(reply.errorField == "url", "\(host)")
            }
            for host in allowed {
                let reply = try await stack.client.call(
                    .post, "/api/v1/webhooks", json: ["url": "http://\(host):9/hook", "events": ["stream.online"]])
                #expect(reply.status == .created, "\(host): \(reply.status) \(reply.json.serialized())")
            }
        }
    }

    // 8. Events from the future froze a path; a segment of another path's directory was accepted.
    @Test func futureEventsAndForeignSegmentsAreRefused() async throws {
        try await withStack { stack in
            let future = try await stack.client.postEvents([hookEvent("available", path: "live/a", at: Date(timeIntervalSince1970: 253_402_214_400))])
            #expect(future.status == .badRequest)
            #expect(future.errorField == "events[0].occurred_at")
            let soon = try await stack.client.postEvents([hookEvent("available", path: "live/a", at: Date().addingTimeInterval(10 * 60))])
            #expect(soon.errorField == "events[0].occurred_at")
            // Within the allowed skew (5 min): accepted, and a later unavailable still applies.
            #expect(try await stack.client.postEvents([hookEvent("available", path: "live/a", at: Date().addingTimeInterval(60))]).status == .ok)
            #expect(try await stack.client.postEvents([hookEvent("unavailable", path: "live/a", at: Date().addingTimeInterval(61))]).status == .ok)

            let start = Date().addingTimeInterval(-30)
            let foreign = hookEvent("segment-create", path: "live/a", at: start, extra: ["segment_path": segmentFile("live/b", start)])
            let reply = try await stack.client.postEvents([foreign])
            #expect(reply.status == .badRequest)
            #expect(reply.errorField == "events[0].segment_path")
            let own = hookEvent("segment-create", path: "live/a", at: start, extra: ["segment_path": segmentFile("live/a", start)])
            #expect(try await stack.client.postEvents([own]).status == .ok)
            let count = try await stack.integer("SELECT count(*) FROM segments")
            #expect(count == 1)
        }
    }

    // 9. Access tokens kept working after a password change.
    @Test func aPasswordChangeOrLogoutEndsOlderTokens() async throws {
        try await withStack { stack in
            func login(_ password: String) async throws -> HTTPFields {
                let reply = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "operator", "password": password])
                return [.authorization: "Bearer \(try #require(reply["access_token"]?.stringValue))"]
            }
            let before = try await login(testPassword)
            #expect(try await stack.raw.call(.get, "/api/v1/auth/me", headers: before).status == .ok)
            #expect(try await stack.client.call(.put, "/api/v1/users/operator", json: ["password": "a new long password"]).status == .ok)
            #expect(try await stack.raw.call(.get, "/api/v1/auth/me", headers: before).status == .unauthorized)
            // A role change alone keeps tokens (the role is read on each request).
            let after = try await login("a new long password")
            #expect(try await stack.client.call(.put, "/api/v1/users/operator", json: ["role": "viewer"]).status == .ok)
            #expect(try await stack.raw.call(.get, "/api/v1/auth/me", headers: after)["role"]?.stringValue == "viewer")
            // Log out everywhere: this token and every other one of the user.
            let other = try await login("a new long password")
            #expect(try await stack.raw.call(.post, "/api/v1/auth/logout", headers: after).status == .noContent)
            #expect(try await stack.raw.call(.get, "/api/v1/auth/me", headers: after).status == .unauthorized)
            #expect(try await stack.raw.call(.get, "/api/v1/auth/me", headers: other).status == .unauthorized)
            #expect(try await stack.raw.call(.get, "/api/v1/auth/me", headers: try await login("a new long password")).status == .ok)
            let audit = try await stack.client.call(.get, "/api/v1/audit?action=auth.logout")
            #expect(audit["items"]?.arrayValue.first?["username"]?.stringValue == "operator")
        }
    }

    // 10. Pull sources on loopback, link-local or unix sockets.
    @Test func localPullURLsNeedTheSetting() async throws {
        let local = [
            "rtsp://127.0.0.1:554/x", "rtsp://127.1/x", "rtsp://2130706433/x", "rtsp://0x7f.0.0.1/x", "rtsp://localhost/x",
            "rtsp://cam.localhost/x", "rtsp://LOCALHOST./x", "http://169.254.169.254/latest/meta-data/", "rtsp://0.0.0.0/x", "rtsp://[::1]/x",
            "rtsp://[::]/x", "rtsp://[::ffff:127.0.0.1]/x", "rtsp://[fe80::1%25eth0]/x", "rtmp://user:pw@127.0.0.1/live", "srt://127.0.0.1:8890",
            "whep://[::1]:8889/x/whep", "unix+mpegts:///tmp/socket.sock", "rtsp://%31%32%37.0.0.1/x",
        ]
        let fine = [
            "rtsp://192.168.1.20/x", "rtsp://10.0.0.5/x", "rtsp://172.16.3.4/x", "rtsp://cam.example/x", "udp+mpegts://0.0.0.0:1234",
            "rtsp://[fd00::5]/x",
        ]
        try await withStack { stack in
            for url in local {
                let reply = try await stack.client.call(.post, "/api/v1/sources", json: ["name": "cam", "type": "pull", "url": url])
                #expect(reply.status == .badRequest, "\(url): \(reply.status)")
                #expect(reply.errorField == "url", "\(url)")
                #expect(reply.errorMessage?.contains("sources.allow_local_urls") == true)
            }
            #expect(await stack.state.configuredPathNames().isEmpty)
            for url in fine { _ = try await stack.client.createSource(["name": "cam", "type": "pull", "url": url]) }
            let asset = try await stack.client.call(
                .post, "/api/v1/assets", json: ["name": "a", "type": "stream", "source_type": "live", "stream_url": "rtsp://127.0.0.1/x"])
            #expect(asset.errorField == "stream_url")
            let id = try #require(
                try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://10.0.0.9/x"])["id"]?.stringValue)
            #expect(try await stack.client.call(.put, "/api/v1/sources/\(id)", json: ["url": "rtsp://127.0.0.1/x"]).errorField == "url")
        }
        try await withStack(configure: { $0.sources.allowLocalURLs = true }) { stack in
            for url in local { _ = try await stack.client.createSource(["name": "cam", "type": "pull", "url": url]) }
        }
    }

    // 11. The SQLite file was created 0644; `/js/app.js%00.html` was served as HTML.
    @Test func theCatalogueFileIsOwnerOnly() async throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("new/catalog.sqlite").path
        let database = try AppDatabase.open(path: path)
        try await database.addUser(User(username: "w", role: .viewer, passwordHash: "x"))
        func mode(_ p: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? Int ?? -1) & 0o777 }
        #expect(try mode(dir.appendingPathComponent("new").path) == 0o700)
        #expect(try mode(path) == 0o600)
        #expect(try mode(path + "-wal") & 0o077 == 0)
        let old = dir.appendingPathComponent("old.sqlite").path
        FileManager.default.createFile(atPath: old, contents: nil, attributes: [.posixPermissions: 0o644])
        _ = try AppDatabase.open(path: old)
        #expect(try mode(old) == 0o600)
    }

    @Test func uiPathsWithControlCharactersAre400() async throws {
        try await withStack { stack in
            for uri in ["/js/app.js%00.html", "/js/app.js%0a", "/%7f/index.html", "/js/app.js%00"] {
                let reply = try await stack.raw.call(.get, uri)
                #expect(reply.status == .badRequest, "\(uri): \(reply.status)")
                #expect(reply.errorField == "path", "\(uri)")
            }
            for uri in ["/js/%2e%2e/index.html", "/js/../index.html", "//index.html", "/js/app.js%zz", "/./index.html"] {
                let reply = try await stack.raw.call(.get, uri)
                #expect(reply.status == .notFound, "\(uri): \(reply.status)")
                #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true, "\(uri)")
            }
            let js = try await stack.raw.call(.get, "/js/app.js")
            #expect(js.status == .ok)
            #expect(js.headers[.contentType]?.contains("javascript") == true)
        }
    }
}

/// Every route of the access table, in every non-canonical form a client could write, as someone who may not call it:
/// no form gets further than that caller may, and for anyone without a token no handler runs.
@Suite("Route forms × access", .timeLimit(.minutes(3)))
struct RouteFormTests {
    /// `//p`, `///p`, absolute form (with and without an empty segment), `/./p`, a trailing slash, an encoded slash.
    static func forms(_ path: String, port: Int) -> [String] {
        [
            "/" + path, "//" + path, "http://127.0.0.1:\(port)/" + path, "http://127.0.0.1:\(port)" + path, "/." + path, path + "/",
            path.replacingOccurrences(of: "/api/v1/", with: "/api%2Fv1/"),
        ]
    }

    @Test func noFormOfAPathGetsPastItsRule() async throws {
        try await withStack { stack in
            let port = try #require(stack.raw.port)
            let unmatched = try await stack.raw.call(.get, "/api/v1/no-such-route")
            let auditBefore = try await stack.client.call(.get, "/api/v1/audit?outcome=ok")["total"]?.intValue
            var checked = 0
            for rule in AccessPolicy.rules {
                guard case .role(let needed) = rule.requirement else { continue }
                for uri in Self.forms(RoleMatrixTests.uri(rule), port: port) {
                    let body: String? = rule.method == .get ? nil : "{}"
                    let anonymous = try await stack.raw.call(rule.method, uri, raw: body)
                    // Refused as non-canonical, refused for want of a token, or no route: never a handler's answer.
                    let refusedEarly =
                        (anonymous.status == .notFound && anonymous.errorMessage?.contains("not canonical") == true)
                        || (anonymous.status == .unauthorized && anonymous.errorCode == "unauthorized")
                        || (anonymous.status == .notFound && anonymous.errorMessage == unmatched.errorMessage)
                    #expect(refusedEarly, "anonymous \(rule.method) \(uri): \(anonymous.status) \(anonymous.json.serialized())")
                    checked += 1
                    guard needed > .viewer else { continue }
                    let viewer = try await stack.raw.call(rule.method, uri, raw: body, headers: try await TestUser.viewer.bearer)
                    let stopped =
                        (viewer.status == .notFound && viewer.errorMessage?.contains("not canonical") == true)
                        || (viewer.status == .forbidden && viewer.errorCode == "forbidden")
                        || (viewer.status == .notFound && viewer.errorMessage == unmatched.errorMessage)
                    #expect(stopped, "viewer \(rule.method) \(uri): \(viewer.status) \(viewer.json.serialized())")
                    checked += 1
                }
            }
            #expect(checked > 500)
            // Nothing anyone without the role did went through.
            #expect(try await stack.client.call(.get, "/api/v1/audit?outcome=ok")["total"]?.intValue == auditBefore)
            #expect(try await stack.client.call(.get, "/api/v1/users")["items"]?.arrayValue.count == 3)
            #expect(await stack.state.configuredPathNames().isEmpty)
        }
    }
}

/// After a publish with a key, a pull source with a camera password and webhook deliveries, nothing a viewer can read
/// and nothing in the server's log at trace level carries the key or the password.
@Suite("Secrets a viewer never sees", .timeLimit(.minutes(3)))
struct ViewerSecretsTests {
    @Test func noViewerAnswerStreamOrLogCarriesAKeyOrPassword() async throws {
        let capture = SecretLogTests.Capture()
        var logger = Logger(label: "secrets") { _ in SecretLogTests.CaptureHandler(capture: capture) }
        logger.logLevel = .trace
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let password = "CamPassw0rd-7q"
        let keys = SecretLogTests.Capture()
        try await withStack(logger: logger) { stack in
            let subscription = try await stack.client.call(
                .post, "/api/v1/webhooks", json: ["url": receiver.url, "events": ["source.created", "stream.online", "reader.joined"]]
            )
            #expect(subscription.status == .created)
            let port = try #require(stack.raw.port)
            let viewerToken = try await TestUser.viewer.token
            let stream = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/events/stream?access_token=\(viewerToken)"), timeout: .seconds(20)
            )
            var events = ""
            var iterator = stream.body.makeAsyncIterator()
            while !events.contains(": connected") { events += String(buffer: try #require(await iterator.next())) }

            let pull = try await stack.client.createSource([
                "name": "door", "type": "pull", "url": "rtsp://admin:\(password)@192.168.1.20/stream1?passphrase=\(password)",
            ])
            let push = try await stack.client.createSource(["name": "obs", "type": "push"])
            let pushPath = try #require(push["path_name"]?.stringValue)
            let key = try #require(push["push_url"]?.stringValue?.components(separatedBy: "?key=").last)
            keys.append(key)
            let asset = try await stack.client.call(
                .post, "/api/v1/assets",
                json: ["name": "door", "source_id": try #require(pull["id"]?.stringValue), "type": "stream", "source_type": "live"])
            // MediaMTX asks before the publish, then its hooks report it with the query the encoder used.
            let allowed = try await stack.raw.call(
                .post, "/api/v1/mediamtx/auth", raw: MediaMTXAuthTests.body("publish", path: pushPath, query: "key=\(key)"))
            #expect(allowed.status == .ok)
            try await stack.client.postEvents([
                hookEvent("available", path: pushPath, extra: ["query": "key=\(key)", "source_type": "rtmpConn"]),
                hookEvent("read", path: pushPath, extra: ["query": "key=\(key)", "reader_id": "r1", "reader_type": "rtspSession"]),
            ])
            while !events.contains("event: read") { events += String(buffer: try #require(await iterator.next())) }
            try await receiver.wait { hits in hits.filter { $0.type == "source.created" }.count == 2 && hits.contains { $0.type == "reader.joined" } }

            var answers: [String] = []
            let ids = ["sources": [pull, push].compactMap { $0["id"]?.stringValue }, "assets": [asset["id"]?.stringValue].compactMap { $0 }]
            for rule in AccessPolicy.rules where rule.method == .get && rule.path != "/api/v1/events/stream" {
                guard case .role(.viewer) = rule.requirement else { continue }
                let collection = rule.path.contains("/assets") ? "assets" : "sources"
                for id in rule.path.contains(":id") ? ids[collection] ?? [] : [""] {
                    let uri = rule.path.replacingOccurrences(of: ":id", with: id)
                    let reply = try await stack.raw.call(.get, uri, headers: try await TestUser.viewer.bearer)
                    #expect(reply.status.code < 500, "\(uri)")
                    answers.append("\(uri) \(reply.json.serialized())")
                }
            }
            #expect(answers.count >= 30)
            #expect(answers.contains { $0.contains("rtsp://192.168.1.20/stream1?passphrase=REDACTED") }, "the viewer should see the redacted URL")
            for answer in answers + [events] + receiver.hits.map(\.body) {
                #expect(!answer.contains(key), "a publish key in: \(answer.prefix(120))")
                #expect(!answer.contains(password), "a camera password in: \(answer.prefix(120))")
            }
        }
        #expect(!capture.text.isEmpty)
        #expect(!capture.text.contains(password), "the camera password is in the log")
        let key = try #require(keys.text.split(separator: "\n").first.map(String.init))
        #expect(!capture.text.contains(key), "the publish key is in the log")
    }
}
