import AsyncHTTPClient
import Catalog
import Crypto
import Domain
import Foundation
import JWTKit
import NIOCore

/// Access tokens of an existing identity provider (`auth.external`): verified with the issuer's keys (a JWKS fetched
/// and cached, or one configured key), checked for issuer, audience and time, and mapped to one of our roles by a
/// claim. Such a user has no row in our catalogue: the token is the identity.
actor ExternalIssuer {
    let settings: AppConfig.Auth.External
    let httpClient: HTTPClient
    /// Asymmetric keys (JWKS or PEM) take RS/PS/ES algorithms only, a shared secret HS256 only: a token can never
    /// choose how it is checked (an HS256 token "signed" with a public key is refused before any key is tried).
    let algorithms: Set<String>
    /// The JWKS's keys, by `kid`.
    private var keys = JWTKeyCollection()
    private var kids: Set<String> = []
    /// A configured key (`auth.external.key`): one collection per algorithm it may sign with, the key as its default.
    private let staticKeys: [String: JWTKeyCollection]
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?

    static let asymmetric: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]

    init(settings: AppConfig.Auth.External, httpClient: HTTPClient) async throws {
        self.settings = settings
        self.httpClient = httpClient
        guard let key = settings.key else {
            algorithms = Self.asymmetric
            staticKeys = [:]
            return
        }
        var collections: [String: JWTKeyCollection] = [:]
        if !key.hasPrefix("-----BEGIN") {
            collections["HS256"] = await JWTKeyCollection().add(hmac: HMACKey(from: key), digestAlgorithm: .sha256)
        } else if let rsa = try? Insecure.RSA.PublicKey(pem: key) {
            for (name, digest) in [("RS256", DigestAlgorithm.sha256), ("RS384", .sha384), ("RS512", .sha512)] {
                collections[name] = await JWTKeyCollection().add(rsa: rsa, digestAlgorithm: digest)
            }
        } else if let ec = try? ES256PublicKey(pem: key) {
            collections["ES256"] = await JWTKeyCollection().add(ecdsa: ec)
        } else if let ec = try? ES384PublicKey(pem: key) {
            collections["ES384"] = await JWTKeyCollection().add(ecdsa: ec)
        } else {
            throw ConfigError(file: "auth.external.key", key: "", reason: "not an RSA or EC (P-256, P-384) public key in PEM form")
        }
        staticKeys = collections
        algorithms = Set(collections.keys)
    }

    /// Claims every external token must carry and that jwt-kit checks for us.
    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-30))
            try nbf?.verifyNotBefore(currentDate: Date().addingTimeInterval(30))
        }
    }

    enum Refusal: Error {
        /// 401: not a valid token of this issuer.
        case invalid(String)
        /// 403: valid, but none of its roles is mapped.
        case noRole(String)
    }

    /// The caller behind a token whose unverified `iss` names this issuer.
    func identity(token: String, header: TokenHeader) async throws(Refusal) -> Identity {
        guard let alg = header.alg, algorithms.contains(alg) else { throw .invalid("algorithm \(header.alg ?? "none") not accepted") }
        let claims: Claims
        do {
            claims = try await verify(token, header: header, alg: alg)
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            throw .invalid("\(error)")
        }
        guard claims.iss.value == settings.issuer else { throw .invalid("issuer") }
        guard claims.aud.value.contains(settings.audience) else { throw .invalid("audience") }
        // The signature is good: the payload's other claims can be read as they are.
        guard let payload = Self.payload(of: token) else { throw .invalid("payload") }
        let values = Self.strings(at: settings.roleClaim, in: payload)
        guard let role = values.compactMap({ settings.roles[$0] }).max() else { throw .noRole(settings.roleClaim) }
        let name = Self.strings(at: settings.usernameClaim, in: payload).first ?? claims.sub.value
        return Identity(id: Self.userID(issuer: settings.issuer, subject: claims.sub.value), username: name, role: role, external: true)
    }

    private func verify(_ token: String, header: TokenHeader, alg: String) async throws -> Claims {
        if let collection = staticKeys[alg] {
            // The configured key, for the one algorithm it signs with: the token's own `kid` plays no part.
            return try await collection.verify(token, as: Claims.self)
        }
        guard let kid = header.kid, !kid.isEmpty else { throw Refusal.invalid("no kid") }
        try await refreshIfNeeded(unknownKid: kids.contains(kid) ? nil : kid)
        guard kids.contains(kid) else { throw Refusal.invalid("unknown kid") }
        let collection = keys
        return try await collection.verify(token, as: Claims.self)
    }

    /// Fetches the JWKS when none is cached, when the cache is older than `jwks_refresh`, or when a token names a `kid`
    /// we don't know (the issuer rotated its keys) — never more often than `jwksMinRefresh`.
    private func refreshIfNeeded(unknownKid: String?) async throws {
        let now = ContinuousClock.now
        let stale = fetchedAt.map { now - $0 > settings.jwksRefresh } ?? true
        guard stale || unknownKid != nil else { return }
        if let last = lastAttempt, now - last < settings.jwksMinRefresh, fetchedAt != nil { return }
        lastAttempt = now
        guard let url = settings.jwksURL else { return }
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { throw Refusal.invalid("JWKS answered \(response.status.code)") }
            let body = try await response.body.collect(upTo: 1 << 20)
            guard let document = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
                let list = document["keys"] as? [[String: Any]]
            else { throw Refusal.invalid("JWKS is not a key set") }
            let fresh = JWTKeyCollection()
            var fetchedKids: Set<String> = []
            for entry in list {
                // RSA and EC signing keys with a kid; others (encryption keys, symmetric ones) are passed over.
                guard let kid = entry["kid"] as? String, ["RSA", "EC"].contains(entry["kty"] as? String ?? ""),
                    (entry["use"] as? String ?? "sig") == "sig", (entry["alg"] as? String).map(Self.asymmetric.contains) ?? true,
                    let jwk = try? JSONDecoder().decode(JWK.self, from: JSONSerialization.data(withJSONObject: entry)),
                    (try? await fresh.add(jwk: jwk)) != nil
                else { continue }
                fetchedKids.insert(kid)
            }
            keys = fresh
            kids = fetchedKids
            fetchedAt = now
        } catch {
            // Keep the keys we have: the issuer being briefly unreachable must not log everyone out.
            if fetchedAt == nil { throw Refusal.invalid("JWKS not reachable: \(error)") }
        }
    }

    // MARK: - Token parts

    struct TokenHeader: Decodable {
        var alg: String?
        var kid: String?
    }

    /// The unverified header and `iss` of a JWT: which issuer's keys to check it with.
    static func peek(_ token: String) -> (header: TokenHeader, issuer: String?)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = base64URL(parts[0]),
            let header = try? JSONDecoder().decode(TokenHeader.self, from: headerData)
        else { return nil }
        let issuer = base64URL(parts[1]).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["iss"] as? String
        return (header, issuer)
    }

    static func payload(of token: String) -> [String: Any]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = base64URL(parts[1]) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// The strings at a dotted claim path: a string, or the strings of a list.
    static func strings(at path: String, in payload: [String: Any]) -> [String] {
        var node: Any? = payload
        for part in path.split(separator: ".") { node = (node as? [String: Any])?[String(part)] }
        if let one = node as? String { return [one] }
        return (node as? [Any])?.compactMap { $0 as? String } ?? []
    }

    static func base64URL(_ part: Substring) -> Data? {
        var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text)
    }

    /// A stable id for an external user (the audit log's `user_id`): the subject when it is a UUID (Keycloak), else
    /// a name-based UUID of issuer and subject.
    static func userID(issuer: String, subject: String) -> UUID {
        if let id = UUID(uuidString: subject) { return id }
        var bytes = Array(SHA256.hash(data: Data("\(issuer)\u{0}\(subject)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x50
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12],
                bytes[13], bytes[14], bytes[15]
            ))
    }
}
