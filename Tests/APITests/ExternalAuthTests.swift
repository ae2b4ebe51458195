import API
import Catalog
import Crypto
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing
import _CryptoExtras

/// An identity provider on loopback: signing keys, and their JWKS served at `/jwks` (what it serves can change, as a
/// real issuer's does when it rotates keys).
final class TestIssuer: Sendable {
    static let issuer = "https://idp.example/realms/mtx"
    static let audience = "mtx-companion"

    struct Key: Sendable {
        let kid: String
        let signer: JWTKeyCollection
        let jwk: [String: String]
        let publicPEM: String
    }

    private let served = Mutex<[[String: String]]>([])
    private let requests = Mutex(0)
    private let running = Mutex<LoopbackServer?>(nil)

    var jwksURL: String { "http://127.0.0.1:\(running.withLock { $0?.port ?? 0 })/jwks" }
    var fetches: Int { requests.withLock { $0 } }

    func serve(_ keys: [Key]) { served.withLock { $0 = keys.map(\.jwk) } }

    static func rsaKey(_ kid: String) async throws -> Key {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let signer = JWTKeyCollection()
        await signer.add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        let (n, e) = try Insecure.RSA.PublicKey(backing: key.publicKey).getKeyPrimitives()
        return Key(
            kid: kid, signer: signer, jwk: ["kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": base64URL(n), "e": base64URL(e)],
            publicPEM: try Insecure.RSA.PublicKey(backing: key.publicKey).pemRepresentation
        )
    }

    static func ecKey(_ kid: String) async throws -> Key {
        let key = ES256PrivateKey()
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        let (x, y) = try #require(key.publicKey.parameters)
        return Key(
            kid: kid, signer: signer, jwk: ["kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "x": x, "y": y],
            publicPEM: key.publicKey.pemRepresentation)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=", with: "")
    }

    struct Claims: JWTPayload {
        var iss: String
        var sub: String
        var aud: [String]
        var exp: Int
        var nbf: Int?
        var preferred_username: String?
        var realm_access: [String: [String]]?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A Keycloak-style access token: roles in `realm_access.roles`.
    static func claims(
        roles: [String], sub: String = "5b0c7a5e-6d3b-4c1e-9a57-0a9f2f1c0b11", issuer: String = TestIssuer.issuer,
        audience: String = TestIssuer.audience,
        expires: Date = Date().addingTimeInterval(300), notBefore: Date? = nil, name: String = "olga"
    ) -> Claims {
        Claims(
            iss: issuer, sub: sub, aud: [audience, "account"], exp: Int(expires.timeIntervalSince1970),
            nbf: notBefore.map { Int($0.timeIntervalSince1970) },
            preferred_username: name, realm_access: ["roles": roles]
        )
    }

    static func token(_ key: Key, _ claims: Claims) async throws -> String {
        try await key.signer.sign(claims, kid: JWKIdentifier(string: key.kid))
    }

    func start() async throws {
        let router = Router()
        router.get("jwks") { _, _ -> Response in
            self.requests.withLock { $0 += 1 }
            let body = try JSONSerialization.data(withJSONObject: ["keys": self.served.withLock { $0 }])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: body)))
        }
        let server = try await LoopbackServer(router)
        running.withLock { $0 = server }
    }

    func stop() async {
        await running.withLock { $0 }?.stop()
    }

    /// `auth.external` for this issuer, Keycloak-style.
    func settings(_ change: (inout AppConfig.Auth.External) -> Void = { _ in }) -> AppConfig.Auth.External {
        var external = AppConfig.Auth.External(issuer: Self.issuer, audience: Self.audience)
        external.jwksURL = jwksURL
        external.roleClaim = "realm_access.roles"
        external.roles = ["mtx-admins": .admin, "mtx-operators": .operator, "mtx-viewers": .viewer]
        change(&external)
        return external
    }
}

@Suite("Access tokens of an existing identity provider (auth.external)", .timeLimit(.minutes(3)))
struct ExternalAuthTests {
    static func withIssuer(
        _ change: @escaping (inout AppConfig.Auth.External) -> Void = { _ in }, _ body: @Sendable (TestStack, TestIssuer) async throws -> Void
    ) async throws {
        let issuer = TestIssuer()
        try await issuer.start()
        defer { Task { await issuer.stop() } }
        try await withStack(configure: { $0.auth.external = issuer.settings(change) }) { stack in try await body(stack, issuer) }
    }

    @Test func theIssuersTokensAreAcceptedBesideOurOwn() async throws {
        let k1 = try await TestIssuer.rsaKey("k1")
        try await Self.withIssuer { stack, issuer in
            issuer.serve([k1])
            let token = try await TestIssuer.token(k1, TestIssuer.claims(roles: ["offline_access", "mtx-operators"]))
            let headers: HTTPFields = [.authorization: "Bearer \(token)"]
            let me = try await stack.raw.call(.get, "/api/v1/auth/me", headers: headers)
            #expect(me.status == .ok)
            #expect(me["role"]?.stringValue == "operator")
            #expect(me["external"] == .bool(true))
            #expect(me["username"]?.stringValue == "5b0c7a5e-6d3b-4c1e-9a57-0a9f2f1c0b11")
            let created = try await stack.raw.call(.post, "/api/v1/sources", json: ["name": "door", "type": "push"], headers: headers)
            #expect(created.status == .created)
            // The audit log names the token's subject.
            let audit = try await stack.client.call(.get, "/api/v1/audit?action=source.create")
            let entry = try #require(audit["items"]?.arrayValue.first)
            #expect(entry["username"]?.stringValue == "5b0c7a5e-6d3b-4c1e-9a57-0a9f2f1c0b11")
            #expect(entry["user_id"]?.stringValue == "5b0c7a5e-6d3b-4c1e-9a57-0a9f2f1c0b11")
            // Roles come from the token: operators may not manage users.
            #expect(try await stack.raw.call(.get, "/api/v1/users", headers: headers).status == .forbidden)
            // Our own users' tokens keep working.
            #expect(try await stack.client.call(.get, "/api/v1/users").status == .ok)
            // Tokens of the provider end at the provider.
            #expect(try await stack.raw.call(.post, "/api/v1/auth/logout", headers: headers).status == .conflict)
            #expect(issuer.fetches == 1)
        }
    }

    @Test func badTokensOfTheIssuerAreRefused() async throws {
        let k1 = try await TestIssuer.rsaKey("k1")
        let other = try await TestIssuer.rsaKey("k1")
        try await Self.withIssuer { stack, issuer in
            issuer.serve([k1])
            func status(_ token: String) async throws -> HTTPResponse.Status {
                try await stack.raw.call(.get, "/api/v1/sources", headers: [.authorization: "Bearer \(token)"]).status
            }
            let roles = ["mtx-viewers"]
            #expect(try await status(TestIssuer.token(k1, TestIssuer.claims(roles: roles))) == .ok)
            #expect(try await status(TestIssuer.token(k1, TestIssuer.claims(roles: roles, issuer: "https://evil.example"))) == .unauthorized)
            #expect(try await status(TestIssuer.token(k1, TestIssuer.claims(roles: roles, audience: "another-app"))) == .unauthorized)
            #expect(
                try await status(TestIssuer.token(k1, TestIssuer.claims(roles: roles, expires: Date().addingTimeInterval(-120)))) == .unauthorized)
            #expect(
                try await status(TestIssuer.token(k1, TestIssuer.claims(roles: roles, notBefore: Date().addingTimeInterval(600)))) == .unauthorized)
            // Another key claiming to be k1.
            #expect(try await status(TestIssuer.token(other, TestIssuer.claims(roles: roles))) == .unauthorized)
            // alg confusion: HS256 "signed" with the issuer's public key as the shared secret.
            let hmac = JWTKeyCollection()
            await hmac.add(hmac: HMACKey(from: k1.publicPEM), digestAlgorithm: .sha256, kid: "k1")
            #expect(try await status(try await hmac.sign(TestIssuer.claims(roles: roles), kid: "k1")) == .unauthorized)
            // alg none, with the issuer's iss.
            let header = TestIssuer.base64URL(Data(#"{"alg":"none","typ":"JWT","kid":"k1"}"#.utf8))
            let payload = TestIssuer.base64URL(try JSONEncoder().encode(TestIssuer.claims(roles: roles)))
            #expect(try await status("\(header).\(payload).") == .unauthorized)
            // A valid token whose roles map to nothing: 403 everywhere, even where viewers may go.
            let unmapped = try await stack.raw.call(
                .get, "/api/v1/sources", headers: [.authorization: "Bearer \(try await TestIssuer.token(k1, TestIssuer.claims(roles: ["nobody"])))"]
            )
            #expect(unmapped.status == .forbidden)
            #expect(unmapped.errorMessage?.contains("realm_access.roles") == true)
        }
    }

    @Test func rotatedKeysAreFetchedOnAnUnknownKidAndDroppedKeysStopWorking() async throws {
        let k1 = try await TestIssuer.rsaKey("k1")
        let k2 = try await TestIssuer.ecKey("k2")
        try await Self.withIssuer({
            $0.jwksMinRefresh = .zero
            $0.jwksRefresh = .milliseconds(300)
        }) { stack, issuer in
            func status(_ key: TestIssuer.Key) async throws -> HTTPResponse.Status {
                let token = try await TestIssuer.token(key, TestIssuer.claims(roles: ["mtx-viewers"]))
                return try await stack.raw.call(.get, "/api/v1/sources", headers: [.authorization: "Bearer \(token)"]).status
            }
            issuer.serve([k1])
            #expect(try await status(k1) == .ok)
            #expect(try await status(k2) == .unauthorized)
            // The issuer rotates: a token with the new kid makes us fetch again, at once.
            issuer.serve([k1, k2])
            #expect(try await status(k2) == .ok)
            // The old key is withdrawn: once the cache is refreshed, its tokens stop working.
            issuer.serve([k2])
            let deadline = ContinuousClock.now + .seconds(10)
            while try await status(k1) == .ok {
                #expect(ContinuousClock.now < deadline, "a withdrawn key still works")
                if ContinuousClock.now >= deadline { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await status(k1) == .unauthorized)
            #expect(try await status(k2) == .ok)
        }
    }

    @Test func unknownKidsCannotMakeUsFetchWithoutLimit() async throws {
        let k1 = try await TestIssuer.rsaKey("k1")
        let strangers = [try await TestIssuer.ecKey("unknown-a"), try await TestIssuer.ecKey("unknown-b")]
        // An hour between fetches (the default is 10 s): however slow the machine, the run stays inside it.
        try await Self.withIssuer({ $0.jwksMinRefresh = .seconds(3600) }) { stack, issuer in
            issuer.serve([k1])
            #expect(
                try await stack.raw.call(
                    .get, "/api/v1/sources",
                    headers: [.authorization: "Bearer \(try await TestIssuer.token(k1, TestIssuer.claims(roles: ["mtx-viewers"])))"]
                ).status == .ok)
            for i in 0..<20 {
                let stranger = strangers[i % 2]
                let token = try await TestIssuer.token(stranger, TestIssuer.claims(roles: ["mtx-viewers"]))
                #expect(try await stack.raw.call(.get, "/api/v1/sources", headers: [.authorization: "Bearer \(token)"]).status == .unauthorized)
            }
            // One fetch at first use; unknown kids within the minimum refresh interval fetch nothing more.
            #expect(issuer.fetches == 1)
        }
    }

    @Test func aConfiguredKeyInsteadOfAJWKS() async throws {
        let secret = "an-hs256-shared-secret-of-the-idp-0123456789"
        try await Self.withIssuer({
            $0.jwksURL = nil
            $0.key = secret
        }) { stack, issuer in
            let hs = JWTKeyCollection()
            await hs.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            let good = try await hs.sign(TestIssuer.claims(roles: ["mtx-admins"]))
            #expect(try await stack.raw.call(.get, "/api/v1/users", headers: [.authorization: "Bearer \(good)"]).status == .ok)
            let rsa = try await TestIssuer.rsaKey("k1")
            let wrong = try await TestIssuer.token(rsa, TestIssuer.claims(roles: ["mtx-admins"]))
            #expect(try await stack.raw.call(.get, "/api/v1/users", headers: [.authorization: "Bearer \(wrong)"]).status == .unauthorized)
            #expect(issuer.fetches == 0)
        }
        let ec = ES256PrivateKey()
        try await Self.withIssuer({
            $0.jwksURL = nil
            $0.key = ec.publicKey.pemRepresentation
        }) { stack, _ in
            let signer = JWTKeyCollection()
            await signer.add(ecdsa: ec)
            let good = try await signer.sign(TestIssuer.claims(roles: ["mtx-viewers"]))
            #expect(try await stack.raw.call(.get, "/api/v1/sources", headers: [.authorization: "Bearer \(good)"]).status == .ok)
            let hs = JWTKeyCollection()
            await hs.add(hmac: HMACKey(from: ec.publicKey.pemRepresentation), digestAlgorithm: .sha256)
            let confused = try await hs.sign(TestIssuer.claims(roles: ["mtx-viewers"]))
            #expect(try await stack.raw.call(.get, "/api/v1/sources", headers: [.authorization: "Bearer \(confused)"]).status == .unauthorized)
        }
    }

    @Test func everyRouteAnswersByRoleWithExternalTokens() async throws {
        let k1 = try await TestIssuer.rsaKey("k1")
        try await Self.withIssuer { stack, issuer in
            issuer.serve([k1])
            var callers: [(name: String, role: User.Role, headers: HTTPFields)] = []
            for (group, role) in [("mtx-viewers", User.Role.viewer), ("mtx-operators", .operator), ("mtx-admins", .admin)] {
                let token = try await TestIssuer.token(k1, TestIssuer.claims(roles: [group], sub: "sub-\(group)"))
                callers.append(("external \(role)", role, [.authorization: "Bearer \(token)"]))
            }
            try await RoleMatrixTests.checkEveryRoute(stack, callers)
        }
    }
}
