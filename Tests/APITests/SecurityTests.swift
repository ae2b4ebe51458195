import API
import Catalog
import Domain
import Foundation
import HTTPTypes
import HummingbirdTesting
import JWTKit
import Logging
import MediaMTXSimulator
import ServiceLifecycle
import Testing

@Suite("Roles × routes: every /api/v1 route needs a token and the right role", .timeLimit(.minutes(3)))
struct RoleMatrixTests {
    /// A request for a rule's route: parameters filled with values that name nothing.
    static func uri(_ rule: AccessPolicy.Rule) -> String { uri(rule.path) }

    static func uri(_ path: String) -> String {
        path.replacingOccurrences(of: ":id", with: "6f1c1f4e-0000-4000-8000-000000000000").replacingOccurrences(of: ":username", with: "nobody")
    }

    /// One row of docs/security.md's role × route table: the expectation the server is checked against, written down
    /// apart from the code (`AccessPolicy.rules`) that enforces it.
    struct DocumentedRoute: Hashable, CustomStringConvertible {
        var method: String
        var path: String
        /// `open`, `viewer`, `operator` or `admin`.
        var role: String
        var action: String?

        var key: String { "\(method) \(RoleMatrixTests.pattern(path))" }
        var description: String { "\(method) \(path)" }
    }

    static func documentedRoutes() throws -> [DocumentedRoute] {
        let doc = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/security.md"), encoding: .utf8)
        return doc.split(separator: "\n").compactMap { line in
            guard let m = line.wholeMatch(of: /\| (GET|POST|PUT|DELETE) \| `([^`]+)` \| (open|viewer|operator|admin) \| *([a-z_.]*) *\|/) else {
                return nil
            }
            return DocumentedRoute(method: String(m.1), path: String(m.2), role: String(m.3), action: m.4.isEmpty ? nil : String(m.4))
        }
    }

    /// `/api/v1/sources/:id`, `/api/v1/sources/{id}` → `/api/v1/sources/*`.
    static func pattern(_ path: String) -> String {
        "/" + path.split(separator: "/").map { $0.hasPrefix(":") || $0.hasPrefix("{") ? "*" : String($0) }.joined(separator: "/")
    }

    /// The routes the server really serves, read from its router.
    static func servedRoutes() async throws -> Set<String> {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        return try await MediaMTXSimulator.with { sim in
            let config = await testConfig(sim: sim, databasePath: dir.appendingPathComponent("c.sqlite").path)
            let (router, background) = try await buildRouter(try await AppServices(config, logger: quietLogger))
            // Started and stopped at once: the background services close their HTTP clients as the server would.
            let group = ServiceGroup(configuration: .init(services: background, logger: quietLogger))
            await group.triggerGracefulShutdown()
            try await group.run()
            return Set(router.routes.map { "\($0.method.rawValue) \(pattern($0.path.description))" })
        }
    }

    @Test func theRouterServesExactlyTheDocumentedRoutes() async throws {
        let documented = try Self.documentedRoutes()
        #expect(documented.count >= 60)
        let expected = Set(documented.map(\.key))
        #expect(expected.count == documented.count, "docs/security.md lists a route twice")
        let served = try await Self.servedRoutes()
        for route in served.subtracting(expected).sorted() { Issue.record("served but not in docs/security.md: \(route)") }
        for route in expected.subtracting(served).sorted() { Issue.record("in docs/security.md but not served: \(route)") }
        // The table the server enforces says the same as the written one, role and audit action alike.
        let enforced = Dictionary(uniqueKeysWithValues: AccessPolicy.rules.map { ("\($0.method.rawValue) \(Self.pattern($0.path))", $0) })
        for route in documented {
            guard let rule = enforced[route.key] else {
                Issue.record("\(route) is documented but AccessPolicy.rules lacks it (it would be admin-only)")
                continue
            }
            let role: String
            switch rule.requirement {
            case .open: role = "open"
            case .role(let r): role = r.rawValue
            }
            #expect(role == route.role, "\(route): enforced \(role), documented \(route.role)")
            #expect(rule.action == route.action, "\(route): audit action")
        }
        #expect(enforced.count == documented.count)
    }

    @Test func everyRouteAnswersByRole() async throws {
        try await withStack { stack in
            var callers: [(name: String, role: User.Role, headers: HTTPFields)] = []
            for user in TestUser.allCases { callers.append((user.name, user.role, try await user.bearer)) }
            try await Self.checkEveryRoute(stack, callers)
        }
    }

    /// Every documented route, without a token and as each caller: refused (401, 403) exactly when docs/security.md
    /// says the caller's role may not call it.
    static func checkEveryRoute(
        _ stack: TestStack, _ callers: [(name: String, role: User.Role, headers: HTTPFields)], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let documented = try documentedRoutes()
        #expect(!documented.isEmpty, sourceLocation: sourceLocation)
        // Logging out ends the caller's tokens: it goes last.
        let routes = documented.filter { $0.path != "/api/v1/auth/logout" } + documented.filter { $0.path == "/api/v1/auth/logout" }
        for route in routes {
            guard let needed = User.Role(rawValue: route.role) else { continue }
            let method = HTTPRequest.Method(rawValue: route.method)!
            let anonymous = try await stack.raw.call(method, uri(route.path))
            #expect(anonymous.status == .unauthorized, "\(route) without a token: \(anonymous.status)", sourceLocation: sourceLocation)
            #expect(anonymous.errorCode == "unauthorized", sourceLocation: sourceLocation)
            for caller in callers {
                // The live event stream never ends; EventStreamTests reads it.
                if route.path == "/api/v1/events/stream" && caller.role >= needed { continue }
                let reply = try await stack.raw.call(method, uri(route.path), raw: method == .get ? nil : "{}", headers: caller.headers)
                if caller.role < needed {
                    #expect(reply.status == .forbidden, "\(caller.name) on \(route): \(reply.status)", sourceLocation: sourceLocation)
                    #expect(reply.errorCode == "forbidden", sourceLocation: sourceLocation)
                } else {
                    #expect(
                        reply.status != .forbidden && reply.status != .unauthorized, "\(caller.name) on \(route): \(reply.status)",
                        sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test func openRoutesCheckTheirOwnSecret() async throws {
        try await withStack { stack in
            // Hook ingest: the hook token, not an access token.
            let hook = try await stack.raw.call(
                .post, "/api/v1/hooks/events", json: hookEvent("online", path: "live/x"), headers: try await TestUser.admin.bearer)
            #expect(hook.status == .unauthorized)
            #expect(hook.errorCode == "unauthorized")
            // MediaMTX's auth call and login need no token.
            #expect(try await stack.raw.call(.post, "/api/v1/mediamtx/auth", raw: #"{"action":"api","ip":"127.0.0.1","path":""}"#).status == .ok)
            #expect(try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "admin", "password": testPassword]).status == .ok)
        }
    }
}

@Suite("Access tokens and login", .timeLimit(.minutes(3)))
struct TokenTests {
    @Test func badTokensAreRefused() async throws {
        try await withStack { stack in
            let admin = TestUser.admin
            let id = admin.id.uuidString.lowercased()
            let header = { (value: String) -> HTTPFields in [.authorization: value] }
            let expired = try await signAccessToken(sub: id, name: "admin", expires: Date().addingTimeInterval(-5))
            let otherKey = try await signAccessToken(sub: id, name: "admin", secret: "another-secret-0123456789abcdef0123456789")
            let mediaKind = try await signAccessToken(sub: id, name: "admin", typ: "media")
            let unknownUser = try await signAccessToken(sub: UUID().uuidString.lowercased(), name: "ghost")
            // alg none: the same claims, no signature.
            func base64url(_ s: String) -> String {
                Data(s.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "=", with: "")
            }
            let none =
                base64url(#"{"alg":"none","typ":"JWT"}"#) + "."
                + base64url(#"{"sub":"\#(id)","name":"admin","typ":"access","exp":4102444800,"iat":1}"#) + "."
            let good = try await admin.token
            let parts = good.split(separator: ".")
            let tampered = parts[0] + "." + base64url(#"{"sub":"\#(id)","name":"admin","typ":"access","exp":4102444800,"iat":1}"#) + "." + parts[2]

            for (what, value) in [
                ("expired", "Bearer \(expired)"), ("signed with another key", "Bearer \(otherKey)"), ("a media token", "Bearer \(mediaKind)"),
                ("of a user who does not exist", "Bearer \(unknownUser)"), ("alg none", "Bearer \(none)"), ("tampered", "Bearer \(tampered)"),
                ("malformed", "Bearer not.a.jwt"), ("empty", "Bearer "), ("basic", "Basic YWRtaW46eA=="),
            ] {
                let reply = try await stack.raw.call(.get, "/api/v1/sources", headers: header(value))
                #expect(reply.status == .unauthorized, "\(what): \(reply.status)")
                #expect(reply.errorCode == "unauthorized", "\(what)")
            }
            #expect(try await stack.raw.call(.get, "/api/v1/sources", headers: header("Bearer \(good)")).status == .ok)
            #expect(try await stack.raw.call(.get, "/api/v1/sources", headers: header("bearer \(good)")).status == .ok)
        }
    }

    @Test func loginIssuesATokenThatWorksUntilTheUserIsRemoved() async throws {
        try await withStack { stack in
            let login = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "operator", "password": testPassword])
            #expect(login.status == .ok)
            #expect(login["token_type"]?.stringValue == "Bearer")
            #expect(login["expires_in"]?.intValue == 3600)
            let token = try #require(login["access_token"]?.stringValue)
            let me = try await stack.raw.call(.get, "/api/v1/auth/me", headers: [.authorization: "Bearer \(token)"])
            #expect(me["username"]?.stringValue == "operator")
            #expect(me["role"]?.stringValue == "operator")
            #expect(me["password_hash"] == nil)

            // Demoted: the role of the stored user counts, not the token's age.
            #expect(try await stack.client.call(.put, "/api/v1/users/operator", json: ["role": "viewer"]).status == .ok)
            let create = try await stack.raw.call(
                .post, "/api/v1/sources", json: ["name": "x", "type": "push"], headers: [.authorization: "Bearer \(token)"])
            #expect(create.status == .forbidden)
            // Removed: the token stops working.
            #expect(try await stack.client.call(.delete, "/api/v1/users/operator").status == .noContent)
            #expect(try await stack.raw.call(.get, "/api/v1/auth/me", headers: [.authorization: "Bearer \(token)"]).status == .unauthorized)
        }
    }

    @Test func wrongPasswordsAndUnknownUsersLookTheSame() async throws {
        try await withStack { stack in
            let wrong = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "admin", "password": "not the password"])
            let unknown = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "nobody", "password": "not the password"])
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            // The same answer but for the request id (each request has its own).
            #expect(wrong.errorCode == unknown.errorCode && wrong.errorMessage == unknown.errorMessage && wrong.errorField == unknown.errorField)
            #expect(wrong.json["error"]?["request_id"] != unknown.json["error"]?["request_id"])
            #expect(wrong.errorCode == "invalid_credentials")
            let bad = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "admin"])
            #expect(bad.status == .badRequest && bad.errorField == "password")
            let zh = try await stack.raw.call(
                .post, "/api/v1/auth/login", json: ["username": "admin", "password": "nope"], headers: [.acceptLanguage: "zh-CN"])
            #expect(zh.errorMessage == "用户名或密码错误。")
        }
    }

    @Test func repeatedFailuresLockTheNameAndTheAddress() async throws {
        try await withStack { stack in
            for _ in 0..<10 {
                #expect(
                    try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "viewer", "password": "guess guess"]).status
                        == .unauthorized)
            }
            // Locked: even the right password is refused now, with a Retry-After.
            let locked = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "viewer", "password": testPassword])
            #expect(locked.status == .tooManyRequests)
            #expect(locked.errorCode == "too_many_attempts")
            #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 > 800)
            // Ten failures came from this address too: other names are locked for it as well, existing or not,
            // with the same answer.
            let other = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "admin", "password": testPassword])
            let ghost = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "ghost", "password": testPassword])
            #expect(other.status == .tooManyRequests && ghost.status == .tooManyRequests)
            #expect(other.errorCode == ghost.errorCode)
            // Access tokens already issued keep working.
            #expect(try await stack.client.call(.get, "/api/v1/auth/me").status == .ok)
        }
    }

    @Test func usersAreManagedByAdmins() async throws {
        try await withStack { stack in
            let added = try await stack.client.call(
                .post, "/api/v1/users", json: ["username": "ops@site", "password": "long enough pw", "role": "operator"])
            #expect(added.status == .created)
            #expect(added["role"]?.stringValue == "operator")
            #expect(
                try await stack.client.call(.post, "/api/v1/users", json: ["username": "OPS@site", "password": "long enough pw", "role": "viewer"])
                    .status == .conflict)
            let short = try await stack.client.call(.post, "/api/v1/users", json: ["username": "x", "password": "short", "role": "viewer"])
            #expect(short.status == .badRequest && short.errorField == "password")
            let badRole = try await stack.client.call(.post, "/api/v1/users", json: ["username": "x", "password": "long enough pw", "role": "root"])
            #expect(badRole.status == .badRequest && badRole.errorField == "role")
            let badName = try await stack.client.call(
                .post, "/api/v1/users", json: ["username": "a b", "password": "long enough pw", "role": "viewer"])
            #expect(badName.status == .badRequest && badName.errorField == "username")
            let names = try await stack.client.call(.get, "/api/v1/users")["items"]?.arrayValue.compactMap { $0["username"]?.stringValue }
            #expect(names == ["admin", "operator", "ops@site", "viewer"])
            let login = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "ops@site", "password": "long enough pw"])
            #expect(login.status == .ok)
            // The last admin cannot be demoted or removed.
            #expect(try await stack.client.call(.put, "/api/v1/users/admin", json: ["role": "viewer"]).errorCode == "last_admin")
            #expect(try await stack.client.call(.delete, "/api/v1/users/admin").errorCode == "last_admin")
        }
    }
}

@Suite("MediaMTX asks us: publish, read, playback, api (authMethod: http)", .timeLimit(.minutes(3)))
struct MediaMTXAuthTests {
    /// A body as MediaMTX posts it (reference/mediamtx transcript.json).
    static func body(
        _ action: String, path: String, user: String = "", password: String = "", token: String = "", query: String = "",
        ip: String = "127.0.0.1", protocol proto: String = "rtsp"
    ) -> String {
        let id = action == "playback" ? "null" : "\"\(UUID().uuidString.lowercased())\""
        return
            #"{"ip":"\#(ip)","user":"\#(user)","password":"\#(password)","token":"\#(token)","action":"\#(action)","path":"\#(path)","protocol":"\#(proto)","id":\#(id),"query":"\#(query)","userAgent":"Lavf59.27.100"}"#
    }

    func ask(_ stack: TestStack, _ body: String) async throws -> Int {
        Int(try await stack.raw.call(.post, "/api/v1/mediamtx/auth", raw: body).status.code)
    }

    @Test func publishNeedsTheSourcesCurrentKey() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "obs", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let key = try #require(source["push_url"]?.stringValue?.components(separatedBy: "?key=").last)

            // RTSP's first try carries nothing: 401 so that the client sends credentials.
            #expect(try await ask(stack, Self.body("publish", path: path)) == 401)
            // RTMP ?user=u&pass=KEY arrives as password (and token); OBS's push_url as ?key=KEY in the query.
            #expect(
                try await ask(
                    stack, Self.body("publish", path: path, user: "u", password: key, token: key, query: "user=u&pass=\(key)", protocol: "rtmp"))
                    == 200)
            #expect(try await ask(stack, Self.body("publish", path: path, query: "key=\(key)", protocol: "rtmp")) == 200)
            #expect(try await ask(stack, Self.body("publish", path: path, user: "u", password: "wrong")) == 403)

            // Rotation: the old key stops working at once.
            let rotated = try await stack.client.call(.post, "/api/v1/sources/\(id)/publish-key/rotate")
            #expect(rotated.status == .ok)
            let newKey = try #require(rotated["push_url"]?.stringValue?.components(separatedBy: "?key=").last)
            #expect(newKey != key)
            #expect(try await ask(stack, Self.body("publish", path: path, query: "key=\(key)")) == 403)
            #expect(try await ask(stack, Self.body("publish", path: path, query: "key=\(newKey)")) == 200)

            // A disabled source, an unknown path, a pull source: refused whatever the key.
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/disable").status == .ok)
            #expect(try await ask(stack, Self.body("publish", path: path, query: "key=\(newKey)")) == 403)
            #expect(try await ask(stack, Self.body("publish", path: "live/unknown", query: "key=\(newKey)")) == 403)
            let pull = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://cam/s"])
            #expect(try await ask(stack, Self.body("publish", path: pull["path_name"]!.stringValue!, query: "key=\(newKey)")) == 403)
            let pullID = try #require(pull["id"]?.stringValue)
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(pullID)/publish-key/rotate").status == .conflict)
        }
    }

    @Test func readAndPlaybackNeedAShortLivedTokenForThatPathAndAction() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://cam/s"])
            let other = try await stack.client.createSource(["name": "other", "type": "pull", "url": "rtsp://cam/t"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let otherPath = try #require(other["path_name"]?.stringValue)
            // A viewer's preview URLs carry a read token.
            let preview = try await stack.client.call(.get, "/api/v1/sources/\(id)/preview", headers: try await TestUser.viewer.bearer)
            let split = splitToken(preview["hls_url"]?.stringValue)
            let token = try #require(split.token)

            #expect(try await ask(stack, Self.body("read", path: path, protocol: "hls")) == 401)
            #expect(try await ask(stack, Self.body("read", path: path, query: "token=\(token)", protocol: "hls")) == 200)
            #expect(try await ask(stack, Self.body("read", path: path, token: token, protocol: "hls")) == 200)
            #expect(try await ask(stack, Self.body("read", path: path, user: "token", password: token, protocol: "srt")) == 200)
            #expect(try await ask(stack, Self.body("read", path: otherPath, query: "token=\(token)")) == 403)
            #expect(try await ask(stack, Self.body("playback", path: path, query: "path=\(path)&token=\(token)", protocol: "")) == 403)
            #expect(try await ask(stack, Self.body("read", path: path, query: "token=\(token.dropLast(2))xx")) == 403)
            #expect(try await ask(stack, Self.body("read", path: path, query: "token=garbage")) == 403)

            // Expired, or signed with another key.
            struct Media: JWTPayload {
                var path: String
                var act: String
                var exp: ExpirationClaim
                var typ: String
                func verify(using algorithm: some JWTAlgorithm) async throws {}
            }
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: testJWTSecret), digestAlgorithm: .sha256)
            let expired = try await keys.sign(Media(path: path, act: "read", exp: .init(value: Date().addingTimeInterval(-1)), typ: "media"))
            #expect(try await ask(stack, Self.body("read", path: path, query: "token=\(expired)")) == 403)
            let foreign = JWTKeyCollection()
            await foreign.add(hmac: HMACKey(from: "another-secret-0123456789abcdef0123456789"), digestAlgorithm: .sha256)
            let forged = try await foreign.sign(Media(path: path, act: "read", exp: .init(value: Date().addingTimeInterval(600)), typ: "media"))
            #expect(try await ask(stack, Self.body("read", path: path, query: "token=\(forged)")) == 403)
            // An API access token is not a media token.
            #expect(try await ask(stack, Self.body("read", path: path, token: try await TestUser.admin.token)) == 403)

            // Playback URLs carry a playback token, as MediaMTX's playback server passes it: path=…&token=….
            let fresh = try await keys.sign(Media(path: path, act: "playback", exp: .init(value: Date().addingTimeInterval(600)), typ: "media"))
            #expect(try await ask(stack, Self.body("playback", path: path, query: "path=\(path)&token=\(fresh)", protocol: "")) == 200)
        }
    }

    @Test func apiMetricsAndPprofOnlyFromTrustedAddresses() async throws {
        try await withStack { stack in
            for action in ["api", "metrics", "pprof"] {
                #expect(try await ask(stack, Self.body(action, path: "", ip: "127.0.0.1", protocol: "")) == 200)
                #expect(try await ask(stack, Self.body(action, path: "", ip: "::1", protocol: "")) == 200)
                #expect(try await ask(stack, Self.body(action, path: "", ip: "10.0.0.7", protocol: "")) == 403)
            }
            #expect(try await ask(stack, Self.body("teleport", path: "x")) == 403)
            #expect(try await stack.raw.call(.post, "/api/v1/mediamtx/auth", raw: "{not json").status == .badRequest)
            let stats = try await stack.client.call(.get, "/api/v1/mediamtx/auth/stats")
            #expect(stats["decisions"]?["api"]?["allowed"]?.intValue == 2)
            #expect(stats["decisions"]?["api"]?["refused"]?.intValue == 1)
            #expect(stats["decisions"]?["other"]?["refused"]?.intValue == 1)
        }
    }

    @Test func theTranscriptsBodiesAreUnderstood() async throws {
        // The exact bodies a real MediaMTX posted (reference transcript): RTSP without credentials twice, RTMP with
        // ?user=u&pass=secret-key, HLS without a token, with ?token=good, with a Bearer, playback with ?token=good.
        let reference = repositoryRoot.appendingPathComponent("../shared/reference/mediamtx/transcript.json").standardized
        let transcript = try JSONSerialization.jsonObject(with: Data(contentsOf: reference)) as! [[String: Any]]
        let objects = try #require(transcript.compactMap { $0["auth_requests"] as? [[String: Any]] }.first)
        let bodies = try objects.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        try await withStack { stack in
            var statuses: [Int] = []
            for body in bodies { statuses.append(try await ask(stack, body)) }
            // No source has live/cam-auth and "good" is no token of ours: credential-less tries get 401, the rest 403.
            #expect(statuses == [401, 401, 403, 401, 403, 403, 403])
        }
    }
}

@Suite("Audit log", .timeLimit(.minutes(3)))
struct AuditTests {
    @Test func everyChangeIsRecordedWithWhoWhatAndHowItEnded() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "obs", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            #expect(try await stack.client.call(.put, "/api/v1/sources/\(id)", json: ["name": "obs 2"]).status == .ok)
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/disable").status == .ok)
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/enable").status == .ok)
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/record/start").status == .ok)
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/record/stop").status == .ok)
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/publish-key/rotate").status == .ok)
            let asset = try await stack.client.call(
                .post, "/api/v1/assets", json: ["type": "stream", "source_type": "live", "name": "a", "source_id": id])
            let assetID = try #require(asset["id"]?.stringValue)
            #expect(try await stack.client.call(.delete, "/api/v1/assets/\(assetID)").status == .noContent)
            // Refused and failed calls are recorded too.
            #expect(try await stack.raw.call(.delete, "/api/v1/sources/\(id)", headers: try await TestUser.viewer.bearer).status == .forbidden)
            #expect(try await stack.client.call(.put, "/api/v1/sources/\(id)", json: ["name": ""]).status == .badRequest)
            #expect(try await stack.client.call(.delete, "/api/v1/sources/\(id)").status == .noContent)
            #expect(
                try await stack.client.call(.post, "/api/v1/users", json: ["username": "eve", "password": "long enough pw", "role": "viewer"]).status
                    == .created)
            #expect(
                try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "eve", "password": "wrong password"]).status == .unauthorized
            )

            let log = try await stack.client.call(.get, "/api/v1/audit?page_size=100")
            let entries = (log["items"]?.arrayValue ?? []).reversed().map { e in
                [
                    e["username"]?.stringValue ?? "-", e["action"]?.stringValue ?? "", e["target_id"]?.stringValue ?? "",
                    e["outcome"]?.stringValue ?? "",
                    String(e["status"]?.intValue ?? 0),
                ].joined(separator: " ")
            }
            #expect(
                entries == [
                    "admin source.create \(id) ok 201", "admin source.update \(id) ok 200", "admin source.disable \(id) ok 200",
                    "admin source.enable \(id) ok 200", "admin recording.start \(id) ok 200", "admin recording.stop \(id) ok 200",
                    "admin publish_key.rotate \(id) ok 200", "admin asset.create \(assetID) ok 201", "admin asset.delete \(assetID) ok 204",
                    "viewer source.delete \(id) denied 403", "admin source.update \(id) failed 400", "admin source.delete \(id) ok 204",
                    "admin user.add eve ok 201", "- auth.login eve denied 401",
                ])
            let first = try #require(log["items"]?.arrayValue.last)
            #expect(first["ip"]?.stringValue == "127.0.0.1")
            #expect(first["target_type"]?.stringValue == "source")
            #expect(RFC3339Check.isUTC(first["at"]?.stringValue))

            let denied = try await stack.client.call(.get, "/api/v1/audit?outcome=denied")
            #expect(denied["total"]?.intValue == 2)
            let byViewer = try await stack.client.call(.get, "/api/v1/audit?username=viewer")
            #expect(byViewer["items"]?.arrayValue.first?["action"]?.stringValue == "source.delete")
            #expect(try await stack.client.call(.get, "/api/v1/audit?action=publish_key.rotate")["total"]?.intValue == 1)
            #expect(try await stack.client.call(.get, "/api/v1/audit?target_id=\(assetID)")["total"]?.intValue == 2)
            #expect(try await stack.client.call(.get, "/api/v1/audit?outcome=maybe").errorField == "outcome")
        }
    }
}

@Suite("Audit log covers every mutating route", .timeLimit(.minutes(3)))
struct AuditCoverageTests {
    @Test func everyRouteWithAnAuditActionWritesAnEntryEvenWhenItFails() async throws {
        try await withStack { stack in
            let audited = AccessPolicy.rules.filter { $0.action != nil }
            #expect(audited.count >= 18)
            for rule in audited {
                // Ids that name nothing: each call fails (404/400/401), and is still recorded.
                let uri = RoleMatrixTests.uri(rule)
                let reply: Reply
                switch rule.path {
                case "/api/v1/auth/login":
                    reply = try await stack.raw.call(rule.method, uri, json: ["username": "nobody", "password": "not a password"])
                // Logging out cannot fail for a signed-in caller: without a token it is refused, and recorded.
                case "/api/v1/auth/logout": reply = try await stack.raw.call(rule.method, uri)
                default: reply = try await stack.client.call(rule.method, uri, raw: "{}")
                }
                #expect(reply.status.code >= 400, "\(rule.method) \(rule.path)")
                let log = try await stack.client.call(.get, "/api/v1/audit?page_size=1")
                let entry = try #require(log["items"]?.arrayValue.first)
                #expect(entry["action"]?.stringValue == rule.action, "\(rule.method) \(rule.path)")
                #expect(entry["status"]?.intValue == Int(reply.status.code))
                #expect(entry["outcome"]?.stringValue == (reply.status == .unauthorized ? "denied" : "failed"))
            }
        }
    }
}

enum RFC3339Check {
    static func isUTC(_ text: String?) -> Bool { text?.hasSuffix("Z") == true && text?.contains("T") == true }
}

@Suite("Web UI files", .timeLimit(.minutes(3)))
struct UIFilesTests {
    @Test func theUIIsServedAtTheRootWithoutAToken() async throws {
        try await withStack { stack in
            let page = try await stack.raw.execute(uri: "/", method: .get) { $0 }
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(buffer: page.body).contains("<script type=\"module\" src=\"/js/app.js\"></script>"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            for file in ["/js/app.js", "/js/api.js", "/js/i18n.js", "/css/style.css"] {
                #expect(try await stack.raw.execute(uri: file, method: .get) { $0.status } == .ok, "\(file)")
            }
            // API paths never fall through to files, and unknown files are 404.
            #expect(try await stack.raw.call(.get, "/api/v1/nothing").status == .notFound)
            #expect(try await stack.raw.execute(uri: "/../Package.swift", method: .get) { $0.status } != .ok)
        }
    }
}

@Suite("Hardening", .timeLimit(.minutes(3)))
struct HardeningTests {
    @Test func headersCORSAndNesting() async throws {
        try await withStack { stack in
            let reply = try await stack.client.call(.get, "/api/v1/sources", headers: [.origin: "https://evil.example"])
            #expect(reply.headers[.xContentTypeOptions] == "nosniff")
            #expect(reply.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(reply.headers[.cacheControl] == "no-store")
            #expect(reply.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            // CORS is off unless origins are configured.
            #expect(reply.headers[.accessControlAllowOrigin] == nil)
            let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            let nested = try await stack.client.call(.post, "/api/v1/sources", raw: #"{"name":"x","type":"push","tags":\#(deep)}"#)
            #expect(nested.status == .badRequest && nested.errorCode == "invalid_json")
            #expect(try await stack.client.call(.get, "/api/v1/sources").status == .ok)
        }
    }
}

/// Every secret the server handles, and a log of a full run at trace level: none of them may appear in it.
@Suite("Secrets stay out of the log", .timeLimit(.minutes(3)))
struct SecretLogTests {
    final class Capture: @unchecked Sendable {
        let lock = NSLock()
        var text = ""
        func append(_ line: String) { lock.withLock { text += line + "\n" } }
    }

    struct CaptureHandler: LogHandler {
        let capture: Capture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            capture.append("\(event.level) \(event.message) \(all) \(event.error.map { "\($0)" } ?? "")")
        }
    }

    @Test func aFullRunLogsNoSecret() async throws {
        let capture = Capture()
        var logger = Logger(label: "leak-check") { _ in CaptureHandler(capture: capture) }
        logger.logLevel = .trace
        let found = Capture()
        @Sendable func secret(_ value: String) { found.append(value) }
        for value in [testJWTSecret, hookToken, testPassword] { secret(value) }
        try await withStack(logger: logger) { stack in
            let login = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "admin", "password": testPassword])
            secret(try #require(login["access_token"]?.stringValue))
            _ = try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "admin", "password": "a wrong password"])
            let source = try await stack.client.createSource(["name": "obs", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let key = try #require(source["push_url"]?.stringValue?.components(separatedBy: "?key=").last)
            secret(key)
            let rotated = try await stack.client.call(.post, "/api/v1/sources/\(id)/publish-key/rotate")
            let newKey = try #require(rotated["push_url"]?.stringValue?.components(separatedBy: "?key=").last)
            secret(newKey)
            let preview = try await stack.client.call(.get, "/api/v1/sources/\(id)/preview")
            let split = splitToken(preview["hls_url"]?.stringValue)
            let token = try #require(split.token)
            secret(token)
            for body in [
                MediaMTXAuthTests.body("publish", path: path, query: "key=\(newKey)"), MediaMTXAuthTests.body("publish", path: path, password: key),
                MediaMTXAuthTests.body("read", path: path, query: "token=\(token)"), MediaMTXAuthTests.body("read", path: path, token: token + "x"),
            ] {
                _ = try await stack.raw.call(.post, "/api/v1/mediamtx/auth", raw: body)
            }
            _ = try await stack.client.postEvents([hookEvent("online", path: path)])
            _ = try await stack.client.postEvents([hookEvent("online", path: path)], token: "wrong-hook-token")
            _ = try await stack.raw.call(.get, "/api/v1/events/stream?access_token=broken\(token)")
            _ = try await stack.client.call(.post, "/api/v1/users", json: ["username": "eve", "password": "eve's long password", "role": "viewer"])
            secret("eve's long password")
        }
        let log = capture.text
        #expect(log.contains("mediamtx auth refused"), "the run should have logged something to check")
        let secrets = found.text.split(separator: "\n").map(String.init)
        #expect(secrets.count == 8)
        for secret in secrets {
            #expect(!log.contains(secret), "a secret appears in the log: \(secret.prefix(6))…")
        }
    }
}
