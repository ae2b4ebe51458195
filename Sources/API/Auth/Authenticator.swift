import AsyncHTTPClient
import Catalog
import Domain
import Foundation
import HummingbirdBcrypt
import JWTKit

/// Who is calling: a verified access token's user, with the role as stored now (a removed or demoted user loses
/// access at once, whatever their token says).
public struct Identity: Sendable, Equatable {
    public var id: UUID
    public var username: String
    public var role: User.Role
    /// A user of the external identity provider (`auth.external`), known by their token only.
    public var external = false
}

/// Claims of an API access token (`typ: access`).
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var name: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var typ: String
    /// The user's token version when issued: a password change or "log out everywhere" raises it.
    var ver: Int

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard typ == "access" else { throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "not an access token") }
    }
}

/// Claims of a media token (`typ: media`): one path, one MediaMTX action (`read` or `playback`).
struct MediaClaims: JWTPayload {
    var path: String
    var act: String
    var exp: ExpirationClaim
    var typ: String

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard typ == "media" else { throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "not a media token") }
    }
}

/// Passwords, access tokens and media tokens. HS256 with the configured key; jwt-kit refuses `alg: none` and any
/// other algorithm, so a token is only good if this key signed it.
public struct Authenticator: Sendable {
    let keys: JWTKeyCollection
    let settings: AppConfig.Auth
    let database: any CatalogBackend
    let throttle: LoginThrottle
    /// `auth.external`, when configured.
    let external: ExternalIssuer?
    /// A hash no password matches, at the configured cost, verified for unknown users so that a login takes as long
    /// either way. Made in the background at start (a cost-12 hash takes a quarter of a second).
    let decoyHash: Task<String, Never>

    public init(settings: AppConfig.Auth, database: any CatalogBackend, httpClient: HTTPClient) async throws {
        if let settings = settings.external {
            external = try await ExternalIssuer(settings: settings, httpClient: httpClient)
        } else {
            external = nil
        }
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: settings.jwtSecret), digestAlgorithm: .sha256)
        self.settings = settings
        self.database = database
        throttle = LoginThrottle(database: database, maxFailures: settings.loginMaxFailures, window: settings.loginWindow)
        let cost = settings.bcryptCost
        decoyHash = Task { await Self.hashPassword("decoy password never used", cost: cost) }
    }

    // MARK: Passwords (bcrypt runs off Swift concurrency's few threads: it takes tens of milliseconds)

    public static func hashPassword(_ password: String, cost: Int) async -> String {
        await offThePool { Bcrypt.hash(password, cost: UInt8(cost)) }
    }

    static func verifyPassword(_ password: String, hash: String) async -> Bool {
        await offThePool { Bcrypt.verify(password, hash: hash) }
    }

    // MARK: Login

    /// The user, if `password` is theirs and neither the name nor `ip` is locked out by failures.
    /// `username` is in its normal form (`User.normalizedName`), so every spelling of a name shares one lockout.
    func login(username: String, password: String, ip: String?) async throws -> User {
        let keys = ["user:" + username.lowercased(), "ip:" + (ip ?? "?")]
        if let wait = try await throttle.retryAfter(keys) {
            throw ServiceError(.tooManyAttempts(retryAfter: wait), .tooManyLogins(retryAfter: wait))
        }
        let user = try await database.user(named: username)
        let hash: String
        if let user { hash = user.passwordHash } else { hash = await decoyHash.value }
        let matches = await Self.verifyPassword(password, hash: hash)
        guard let user, matches else {
            try await throttle.fail(keys)
            throw ServiceError(.badCredentials, .badCredentials)
        }
        try await throttle.succeed("user:" + username.lowercased())
        return user
    }

    // MARK: Access tokens

    func accessToken(for user: User) async throws -> (token: String, expiresIn: Int) {
        let now = Date()
        let ttl = seconds(settings.tokenTTL)
        let claims = AccessClaims(
            sub: .init(value: user.id.uuidString.lowercased()), name: user.username, iat: .init(value: now),
            exp: .init(value: now.addingTimeInterval(ttl)), typ: "access", ver: user.tokenVersion
        )
        return (try await keys.sign(claims), Int(ttl))
    }

    /// The caller behind a bearer token; 401 when the token is forged, expired, of another kind, its user is gone,
    /// or it was issued before the user's password changed or they logged out everywhere.
    func identity(bearer token: String) async throws -> Identity {
        // A token naming the external issuer is checked with that issuer's keys only (ours never carry `iss`).
        if let external, let peek = ExternalIssuer.peek(token), peek.issuer == external.settings.issuer {
            do {
                return try await external.identity(token: token, header: peek.header)
            } catch .invalid {
                throw ServiceError(.unauthenticated, .tokenInvalid)
            } catch .noRole(let claim) {
                throw ServiceError(.forbidden, .noMappedRole(claim))
            }
        }
        guard let claims = try? await keys.verify(token, as: AccessClaims.self), let id = UUID(uuidString: claims.sub.value),
            let user = try await database.user(id: id), user.tokenVersion == claims.ver
        else { throw ServiceError(.unauthenticated, .tokenInvalid) }
        return Identity(id: user.id, username: user.username, role: user.role)
    }

    // MARK: Media tokens

    /// A token for `action` (`read` or `playback`) on `path`, valid for `media_token_ttl`.
    func mediaToken(path: String, action: String) async throws -> String {
        try await keys.sign(
            MediaClaims(path: path, act: action, exp: .init(value: Date().addingTimeInterval(seconds(settings.mediaTokenTTL))), typ: "media"))
    }

    func mediaTokenAllows(_ token: String, path: String, action: String) async -> Bool {
        guard let claims = try? await keys.verify(token, as: MediaClaims.self) else { return false }
        return claims.path == path && claims.act == action
    }
}

/// Runs CPU-heavy work on a GCD thread instead of one of Swift concurrency's few shared threads.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}
