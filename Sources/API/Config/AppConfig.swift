import Catalog
import Domain
import Foundation
import HookWire
import Yams

/// The whole configuration: `configs/config.<env>.yaml`, then `MTX_COMPANION_*` environment overrides.
/// Decoded strictly: an unknown key, a missing key or a bad value is a `ConfigError` naming the file and key.
public struct AppConfig: Sendable {
    public struct Server: Sendable {
        public var host: String
        public var port: Int
        /// The web UI's files, served at `/` (relative paths from the working directory); empty turns the UI off.
        public var uiDirectory = "ui"
        /// The OpenAPI document served at `GET /api/openapi.yaml` (relative paths from the working directory).
        public var openAPIFile = "docs/openapi.yaml"

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public struct Database: Sendable {
        /// The SQLite file; relative paths are resolved from the working directory.
        public var path: String

        public init(path: String) {
            self.path = path
        }
    }

    /// The design's `mediamtx` section (§1.1, §2.4, §5.1) plus request timeouts.
    public struct MediaMTX: Sendable {
        public var apiAddress: String
        public var rtspAddress: String
        public var rtmpAddress: String
        public var hlsAddress: String
        public var webrtcAddress: String
        public var srtAddress: String
        public var playbackAddress: String
        public var recordPath: String
        public var recordFormat: String
        /// A Go duration (`1h`, `2s`), passed to MediaMTX as `recordSegmentDuration`.
        public var segmentDuration: String
        public var connectTimeout: Duration
        public var requestTimeout: Duration
        /// How often the reconciler compares the catalogue with MediaMTX and heals drift; zero turns it off.
        public var reconcileInterval: Duration = .seconds(60)
        /// When true, MediaMTX's `pathDefaults` hooks are set to call `hookCommand`.
        public var manageHooks = false
        /// The mtx-hook command line as MediaMTX should run it (no shell; `$VAR`s expanded by MediaMTX).
        public var hookCommand = "mtx-hook"

        public init(
            apiAddress: String, rtspAddress: String, rtmpAddress: String, hlsAddress: String, webrtcAddress: String,
            srtAddress: String, playbackAddress: String, recordPath: String, recordFormat: String, segmentDuration: String,
            connectTimeout: Duration = .seconds(2), requestTimeout: Duration = .seconds(5)
        ) {
            self.apiAddress = apiAddress
            self.rtspAddress = rtspAddress
            self.rtmpAddress = rtmpAddress
            self.hlsAddress = hlsAddress
            self.webrtcAddress = webrtcAddress
            self.srtAddress = srtAddress
            self.playbackAddress = playbackAddress
            self.recordPath = recordPath
            self.recordFormat = recordFormat
            self.segmentDuration = segmentDuration
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
        }
    }

    /// What `mtx-hook` posts to `POST /api/v1/hooks/events`, and how the index reads it.
    public struct Hooks: Sendable {
        /// Shared with mtx-hook (`MTX_COMPANION_HOOK_TOKEN`); empty refuses every hook event.
        public var token: String
        /// Segments closer than this are one recording session.
        public var sessionGap: Duration
        /// Zone MediaMTX wrote segment file names in (its host's local time), unless record_path has %z or %s.
        public var recordTimezone: String
        /// Hook events older than this many days leave the history (0 keeps them all).
        public var eventRetentionDays: Int
        /// An event dated further than this in the future is refused (a wrong clock would otherwise make every later
        /// event of its path look stale).
        public var maxClockSkew: Duration = .seconds(300)

        public init(token: String, sessionGap: Duration = .seconds(1), recordTimezone: String = "UTC", eventRetentionDays: Int = 30) {
            self.token = token
            self.sessionGap = sessionGap
            self.recordTimezone = recordTimezone
            self.eventRetentionDays = eventRetentionDays
        }
    }

    /// Who may use the API, and how MediaMTX's publish/read/playback requests are authorised (`auth` section).
    public struct Auth: Sendable {
        /// HS256 key of access and media tokens (`MTX_COMPANION_JWT_SECRET`), at least 32 bytes.
        public var jwtSecret: String
        /// True when the key was generated at start (`generate_jwt_secret: true`, development only).
        public var secretWasGenerated = false
        /// Lifetime of an API access token.
        public var tokenTTL: Duration = .seconds(3600)
        /// Lifetime of the read/playback tokens put into preview and playback URLs.
        public var mediaTokenTTL: Duration = .seconds(600)
        /// bcrypt cost of new password hashes (10–16).
        public var bcryptCost = 12
        /// Addresses whose MediaMTX `api`, `metrics` and `pprof` requests are allowed.
        public var trustedAddresses: [String] = ["127.0.0.1", "::1"]
        /// Failed logins per user name, and per client address, within `loginWindow` before logins are refused.
        public var loginMaxFailures = 10
        public var loginWindow: Duration = .seconds(15 * 60)
        /// Browser origins allowed by CORS; empty turns CORS off.
        public var corsOrigins: [String] = []
        /// Access tokens of an existing identity provider, accepted besides our own (`auth.external`); nil: off.
        public var external: External?

        /// An OpenID Connect / JWT issuer whose access tokens are accepted (Keycloak, Authentik, Auth0, …).
        public struct External: Sendable {
            /// The `iss` every token must carry; tokens naming it are checked against this issuer only.
            public var issuer: String
            /// A value the token's `aud` must contain.
            public var audience: String
            /// Where the issuer publishes its signing keys (JWKS); fetched when first needed, again when a token names
            /// an unknown `kid` (at most every `jwksMinRefresh`), and every `jwksRefresh`.
            public var jwksURL: String?
            /// Instead of a JWKS: a PEM public key (RS256/ES256…) or an HS256 shared secret.
            public var key: String?
            /// Where the roles are in the token: a claim name or a dotted path (`realm_access.roles`); a string or a list.
            public var roleClaim = "roles"
            /// Claim values → our roles; a user with several mapped values gets the highest. Unmapped: 403.
            public var roles: [String: User.Role] = [:]
            /// The claim naming the user in the audit log (`sub` by default).
            public var usernameClaim = "sub"
            public var jwksRefresh: Duration = .seconds(600)
            public var jwksMinRefresh: Duration = .seconds(10)

            public init(issuer: String, audience: String) {
                self.issuer = issuer
                self.audience = audience
            }
        }

        public init(jwtSecret: String) {
            self.jwtSecret = jwtSecret
        }
    }

    /// Outbound webhooks (`webhooks` section): where they may go and how they are retried.
    public struct Webhooks: Sendable {
        /// Allows subscription URLs that resolve to loopback, private, link-local, unspecified or multicast addresses.
        public var allowPrivateTargets = false
        /// Deadline of one delivery attempt (connect, send, answer).
        public var requestTimeout: Duration = .seconds(10)
        /// First retry delay; each further one doubles (capped at 1 h), with ±20% jitter.
        public var retryBase: Duration = .seconds(5)
        /// A delivery still failing this long after its event is parked as failed.
        public var maxAge: Duration = .seconds(24 * 3600)
        /// Attempts in flight at once, all subscriptions together; one subscription takes at most a quarter.
        public var concurrency = 16
        /// A subscription whose deliveries fail without a success for this long is disabled (`disabled_reason: failing`).
        public var disableAfter: Duration = .seconds(3 * 24 * 3600)
        /// After a secret rotation, deliveries are also signed with the old secret for this long.
        public var secretGrace: Duration = .seconds(24 * 3600)

        public init() {}
    }

    public var server: Server
    public var database: Database
    public var mediamtx: MediaMTX
    public var hooks: Hooks
    public var auth: Auth
    public var recordings = Recordings()
    public var sources = Sources()

    /// Rules for sources (`sources` section).
    public struct Sources: Sendable {
        /// Allows pull URLs on loopback, link-local (cloud metadata) and unspecified addresses and unix sockets,
        /// which MediaMTX would connect to from its own host. Private ranges (cameras' networks) are always allowed.
        public var allowLocalURLs = false

        public init() {}
    }

    /// How long recordings are kept: segments that ended more than `retentionDays` ago (a source's own setting
    /// first) are deleted through MediaMTX every `retentionInterval`. 0 days keeps everything.
    public struct Recordings: Sendable {
        public var retentionDays = 0
        public var retentionInterval: Duration = .seconds(3600)

        public init() {}
    }
    public var webhooks = Webhooks()

    public init(server: Server, database: Database, mediamtx: MediaMTX, hooks: Hooks = Hooks(token: ""), auth: Auth) {
        self.server = server
        self.database = database
        self.mediamtx = mediamtx
        self.hooks = hooks
        self.auth = auth
    }
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var key: String
    public var reason: String

    public init(file: String, key: String, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    /// One line: `configs/config.test.yaml: mediamtx.segment_duration: not a duration ("abc")`.
    public var description: String { key.isEmpty ? "\(file): \(reason)" : "\(file): \(key): \(reason)" }
}

// MARK: - Keys and environment variables

extension AppConfig {
    /// Every key: (section, key, environment variable that overrides it, required in the file).
    static let keys: [(section: String, key: String, env: String, required: Bool)] = [
        ("server", "host", "MTX_COMPANION_SERVER_HOST", true),
        ("server", "port", "MTX_COMPANION_SERVER_PORT", true),
        ("server", "ui_directory", "MTX_COMPANION_SERVER_UI_DIRECTORY", false),
        ("server", "openapi_file", "MTX_COMPANION_SERVER_OPENAPI_FILE", false),
        ("database", "path", "MTX_COMPANION_DATABASE_PATH", true),
        ("mediamtx", "api_address", "MTX_COMPANION_MEDIAMTX_API_ADDRESS", true),
        ("mediamtx", "rtsp_address", "MTX_COMPANION_MEDIAMTX_RTSP_ADDRESS", true),
        ("mediamtx", "rtmp_address", "MTX_COMPANION_MEDIAMTX_RTMP_ADDRESS", true),
        ("mediamtx", "hls_address", "MTX_COMPANION_MEDIAMTX_HLS_ADDRESS", true),
        ("mediamtx", "webrtc_address", "MTX_COMPANION_MEDIAMTX_WEBRTC_ADDRESS", true),
        ("mediamtx", "srt_address", "MTX_COMPANION_MEDIAMTX_SRT_ADDRESS", true),
        ("mediamtx", "playback_address", "MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS", true),
        ("mediamtx", "record_path", "MTX_COMPANION_MEDIAMTX_RECORD_PATH", true),
        ("mediamtx", "record_format", "MTX_COMPANION_MEDIAMTX_RECORD_FORMAT", true),
        ("mediamtx", "segment_duration", "MTX_COMPANION_MEDIAMTX_SEGMENT_DURATION", true),
        ("mediamtx", "connect_timeout", "MTX_COMPANION_MEDIAMTX_CONNECT_TIMEOUT", false),
        ("mediamtx", "request_timeout", "MTX_COMPANION_MEDIAMTX_REQUEST_TIMEOUT", false),
        ("mediamtx", "reconcile_interval", "MTX_COMPANION_MEDIAMTX_RECONCILE_INTERVAL", false),
        ("mediamtx", "manage_hooks", "MTX_COMPANION_MEDIAMTX_MANAGE_HOOKS", false),
        ("mediamtx", "hook_command", "MTX_COMPANION_MEDIAMTX_HOOK_COMMAND", false),
        ("hooks", "token", "MTX_COMPANION_HOOK_TOKEN", false),
        ("hooks", "session_gap", "MTX_COMPANION_HOOKS_SESSION_GAP", false),
        ("hooks", "record_timezone", "MTX_COMPANION_HOOKS_RECORD_TIMEZONE", false),
        ("hooks", "event_retention_days", "MTX_COMPANION_HOOKS_EVENT_RETENTION_DAYS", false),
        ("hooks", "max_clock_skew", "MTX_COMPANION_HOOKS_MAX_CLOCK_SKEW", false),
        ("sources", "allow_local_urls", "MTX_COMPANION_SOURCES_ALLOW_LOCAL_URLS", false),
        ("auth", "jwt_secret", "MTX_COMPANION_JWT_SECRET", false),
        ("auth", "generate_jwt_secret", "MTX_COMPANION_AUTH_GENERATE_JWT_SECRET", false),
        ("auth", "token_ttl", "MTX_COMPANION_AUTH_TOKEN_TTL", false),
        ("auth", "media_token_ttl", "MTX_COMPANION_AUTH_MEDIA_TOKEN_TTL", false),
        ("auth", "bcrypt_cost", "MTX_COMPANION_AUTH_BCRYPT_COST", false),
        ("auth", "trusted_addresses", "MTX_COMPANION_AUTH_TRUSTED_ADDRESSES", false),
        ("auth", "login_max_failures", "MTX_COMPANION_AUTH_LOGIN_MAX_FAILURES", false),
        ("auth", "login_window", "MTX_COMPANION_AUTH_LOGIN_WINDOW", false),
        ("auth", "cors_origins", "MTX_COMPANION_AUTH_CORS_ORIGINS", false),
        ("auth", "external.issuer", "MTX_COMPANION_AUTH_EXTERNAL_ISSUER", false),
        ("auth", "external.audience", "MTX_COMPANION_AUTH_EXTERNAL_AUDIENCE", false),
        ("auth", "external.jwks_url", "MTX_COMPANION_AUTH_EXTERNAL_JWKS_URL", false),
        ("auth", "external.key", "MTX_COMPANION_AUTH_EXTERNAL_KEY", false),
        ("auth", "external.role_claim", "MTX_COMPANION_AUTH_EXTERNAL_ROLE_CLAIM", false),
        ("auth", "external.roles", "MTX_COMPANION_AUTH_EXTERNAL_ROLES", false),
        ("auth", "external.username_claim", "MTX_COMPANION_AUTH_EXTERNAL_USERNAME_CLAIM", false),
        ("auth", "external.jwks_refresh", "MTX_COMPANION_AUTH_EXTERNAL_JWKS_REFRESH", false),
        ("recordings", "retention_days", "MTX_COMPANION_RECORDINGS_RETENTION_DAYS", false),
        ("recordings", "retention_interval", "MTX_COMPANION_RECORDINGS_RETENTION_INTERVAL", false),
        ("webhooks", "allow_private_targets", "MTX_COMPANION_WEBHOOKS_ALLOW_PRIVATE_TARGETS", false),
        ("webhooks", "request_timeout", "MTX_COMPANION_WEBHOOKS_REQUEST_TIMEOUT", false),
        ("webhooks", "retry_base", "MTX_COMPANION_WEBHOOKS_RETRY_BASE", false),
        ("webhooks", "max_age", "MTX_COMPANION_WEBHOOKS_MAX_AGE", false),
        ("webhooks", "concurrency", "MTX_COMPANION_WEBHOOKS_CONCURRENCY", false),
        ("webhooks", "disable_after", "MTX_COMPANION_WEBHOOKS_DISABLE_AFTER", false),
        ("webhooks", "secret_grace", "MTX_COMPANION_WEBHOOKS_SECRET_GRACE", false),
    ]

    /// The file for an environment name: `configs/config.<env>.yaml`.
    public static func path(forEnvironment env: String, directory: String = "configs") -> String {
        "\(directory)/config.\(env).yaml"
    }

    /// Loads `configs/config.<env>.yaml` and applies environment overrides.
    public static func load(environment env: String, directory: String = "configs", variables: [String: String] = ProcessInfo.processInfo.environment)
        throws -> AppConfig
    {
        guard env.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !env.isEmpty else {
            throw ConfigError(file: "--env", key: "", reason: "not an environment name: \"\(env)\"")
        }
        return try load(file: path(forEnvironment: env, directory: directory), variables: variables)
    }

    public static func load(file: String, variables: [String: String] = ProcessInfo.processInfo.environment) throws -> AppConfig {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: file, key: "", reason: "cannot read the file (missing or not UTF-8)")
        }
        return try parse(yaml: text, file: file, variables: variables)
    }

    /// Parses YAML text; `file` names it in errors.
    public static func parse(yaml: String, file: String, variables: [String: String] = [:]) throws -> AppConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(file: file, key: "", reason: "not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let mapping = root?.mapping else {
            throw ConfigError(file: file, key: "", reason: "expected a mapping with server, database, mediamtx, hooks, auth, webhooks")
        }

        var values: [String: (text: String, origin: String)] = [:]
        let sections = Set(keys.map(\.section))
        for (sectionNode, body) in mapping {
            guard let section = sectionNode.string, sections.contains(section) else {
                throw ConfigError(file: file, key: sectionNode.string ?? "?", reason: "unknown key")
            }
            guard let inner = body.mapping else { throw ConfigError(file: file, key: section, reason: "expected a mapping") }
            // One level of nesting (`auth: {external: {issuer: …}}`) names keys `external.issuer`.
            var pairs: [(String, Node)] = inner.map { key, value in (key.string ?? "?", value) }
            while !pairs.isEmpty {
                let (key, value) = pairs.removeFirst()
                if let nested = value.mapping, !key.contains("."), keys.contains(where: { $0.section == section && $0.key.hasPrefix(key + ".") }) {
                    pairs.append(contentsOf: nested.map { inner, value in ("\(key).\(inner.string ?? "?")", value) })
                    continue
                }
                guard keys.contains(where: { $0.section == section && $0.key == key }) else {
                    throw ConfigError(file: file, key: "\(section).\(key)", reason: "unknown key")
                }
                guard let scalar = value.scalar else { throw ConfigError(file: file, key: "\(section).\(key)", reason: "expected a single value") }
                values["\(section).\(key)"] = (scalar.string, file)
            }
        }
        for k in keys {
            if let v = variables[k.env] { values["\(k.section).\(k.key)"] = (v, k.env) }
        }
        var reader = Reader(values: values, file: file)
        return try reader.build()
    }
}

// MARK: - Validation

private struct Reader {
    let values: [String: (text: String, origin: String)]
    let file: String

    func error(_ key: String, _ reason: String) -> ConfigError {
        let origin = values[key]?.origin ?? file
        // An environment variable is named by itself; a file value by file and key.
        return origin == file ? ConfigError(file: file, key: key, reason: reason) : ConfigError(file: origin, key: "", reason: "\(key): \(reason)")
    }

    func optional(_ key: String) -> String? {
        values[key]?.text
    }

    func string(_ key: String) throws -> String {
        guard let v = values[key]?.text else { throw ConfigError(file: file, key: key, reason: "missing") }
        guard !v.trimmingCharacters(in: .whitespaces).isEmpty else { throw error(key, "must not be empty") }
        return v
    }

    func url(_ key: String, schemes: [String]) throws -> String {
        var v = try string(key)
        while v.hasSuffix("/") { v.removeLast() }
        guard let c = URLComponents(string: v), let scheme = c.scheme?.lowercased(), schemes.contains(scheme), let host = c.host, !host.isEmpty else {
            throw error(key, "expected a \(schemes.joined(separator: "/")) address such as \(schemes[0])://127.0.0.1:port, got \"\(v)\"")
        }
        return v
    }

    func duration(_ key: String, default fallback: Duration) throws -> Duration {
        guard values[key] != nil else { return fallback }
        let v = try string(key)
        guard let d = GoDuration.parse(v), d > .zero else { throw error(key, "not a duration such as 500ms, 2s or 1m (\"\(v)\")") }
        return d
    }

    func retentionDays() throws -> Int {
        guard let text = optional("hooks.event_retention_days") else { return 30 }
        guard let days = Int(text), days >= 0 else {
            throw error("hooks.event_retention_days", "must be a whole number of days, 0 to keep all (\"\(text)\")")
        }
        return days
    }

    mutating func build() throws -> AppConfig {
        let host = try string("server.host")
        let portText = try string("server.port")
        guard let port = Int(portText), (0...65535).contains(port) else { throw error("server.port", "not a port number (\"\(portText)\")") }

        let recordPath = try string("mediamtx.record_path")
        let timeParts = ["%Y", "%m", "%d", "%H", "%M", "%S"]
        guard recordPath.contains("%path"), recordPath.contains("%s") || timeParts.allSatisfy(recordPath.contains) else {
            throw error("mediamtx.record_path", "must contain %path and either %s or all of %Y %m %d %H %M %S (\"\(recordPath)\")")
        }
        let format = try string("mediamtx.record_format")
        guard ["fmp4", "mpegts"].contains(format) else { throw error("mediamtx.record_format", "must be fmp4 or mpegts (\"\(format)\")") }
        let segment = try string("mediamtx.segment_duration")
        guard let seg = GoDuration.parse(segment), seg > .zero else {
            throw error("mediamtx.segment_duration", "not a duration such as 1h, 60s or 1m30s (\"\(segment)\")")
        }

        let manageHooks: Bool
        switch optional("mediamtx.manage_hooks")?.lowercased() {
        case nil, "false", "no": manageHooks = false
        case "true", "yes": manageHooks = true
        case let other?: throw error("mediamtx.manage_hooks", "must be true or false (\"\(other)\")")
        }
        let timezone = optional("hooks.record_timezone") ?? "UTC"
        guard TimeZone(identifier: timezone) != nil else {
            throw error("hooks.record_timezone", "not a time zone such as UTC or Asia/Shanghai (\"\(timezone)\")")
        }

        var config = AppConfig(
            server: .init(host: host, port: port),
            database: .init(path: try string("database.path")),
            mediamtx: .init(
                apiAddress: try url("mediamtx.api_address", schemes: ["http", "https"]),
                rtspAddress: try url("mediamtx.rtsp_address", schemes: ["rtsp", "rtsps"]),
                rtmpAddress: try url("mediamtx.rtmp_address", schemes: ["rtmp", "rtmps"]),
                hlsAddress: try url("mediamtx.hls_address", schemes: ["http", "https"]),
                webrtcAddress: try url("mediamtx.webrtc_address", schemes: ["http", "https"]),
                srtAddress: try url("mediamtx.srt_address", schemes: ["srt"]),
                playbackAddress: try url("mediamtx.playback_address", schemes: ["http", "https"]),
                recordPath: recordPath,
                recordFormat: format,
                segmentDuration: segment,
                connectTimeout: try duration("mediamtx.connect_timeout", default: .seconds(2)),
                requestTimeout: try duration("mediamtx.request_timeout", default: .seconds(5))
            ),
            hooks: .init(
                token: optional("hooks.token") ?? "",
                sessionGap: try duration("hooks.session_gap", default: .seconds(1)),
                recordTimezone: timezone,
                eventRetentionDays: try retentionDays()
            ),
            auth: .init(jwtSecret: "")
        )
        if optional("mediamtx.reconcile_interval") == "0" {
            config.mediamtx.reconcileInterval = .zero
        } else {
            config.mediamtx.reconcileInterval = try duration("mediamtx.reconcile_interval", default: .seconds(60))
        }
        config.mediamtx.manageHooks = manageHooks
        config.mediamtx.hookCommand = optional("mediamtx.hook_command") ?? "mtx-hook"
        config.auth = try auth()
        config.webhooks = try webhooks()
        config.server.uiDirectory = optional("server.ui_directory") ?? "ui"
        config.server.openAPIFile = optional("server.openapi_file") ?? "docs/openapi.yaml"
        config.recordings.retentionDays = try integer("recordings.retention_days", default: 0, in: 0...36_500)
        config.recordings.retentionInterval = try duration("recordings.retention_interval", default: .seconds(3600))
        config.hooks.maxClockSkew = try duration("hooks.max_clock_skew", default: config.hooks.maxClockSkew)
        config.sources.allowLocalURLs = try boolean("sources.allow_local_urls", default: false)
        return config
    }

    func boolean(_ key: String, default fallback: Bool) throws -> Bool {
        switch optional(key)?.lowercased() {
        case nil: return fallback
        case "false", "no": return false
        case "true", "yes": return true
        case let other?: throw error(key, "must be true or false (\"\(other)\")")
        }
    }

    func integer(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = optional(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw error(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound) (\"\(text)\")")
        }
        return value
    }

    func list(_ key: String, default fallback: [String]) -> [String] {
        guard let text = optional(key) else { return fallback }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func webhooks() throws -> AppConfig.Webhooks {
        var w = AppConfig.Webhooks()
        w.allowPrivateTargets = try boolean("webhooks.allow_private_targets", default: false)
        w.requestTimeout = try duration("webhooks.request_timeout", default: w.requestTimeout)
        w.retryBase = try duration("webhooks.retry_base", default: w.retryBase)
        w.maxAge = try duration("webhooks.max_age", default: w.maxAge)
        w.concurrency = try integer("webhooks.concurrency", default: w.concurrency, in: 1...256)
        w.disableAfter = try duration("webhooks.disable_after", default: w.disableAfter)
        w.secretGrace = try duration("webhooks.secret_grace", default: w.secretGrace)
        return w
    }

    func auth() throws -> AppConfig.Auth {
        var auth = AppConfig.Auth(jwtSecret: optional("auth.jwt_secret") ?? "")
        if auth.jwtSecret.isEmpty {
            guard try boolean("auth.generate_jwt_secret", default: false) else {
                throw error("auth.jwt_secret", "missing: set MTX_COMPANION_JWT_SECRET to a random string of at least 32 characters")
            }
            var generator = SystemRandomNumberGenerator()
            auth.jwtSecret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            auth.secretWasGenerated = true
        }
        guard auth.jwtSecret.utf8.count >= 32 else { throw error("auth.jwt_secret", "must be at least 32 characters (it signs every token)") }
        auth.tokenTTL = try duration("auth.token_ttl", default: .seconds(3600))
        auth.mediaTokenTTL = try duration("auth.media_token_ttl", default: .seconds(600))
        auth.bcryptCost = try integer("auth.bcrypt_cost", default: 12, in: 10...16)
        auth.trustedAddresses = list("auth.trusted_addresses", default: ["127.0.0.1", "::1"])
        auth.loginMaxFailures = try integer("auth.login_max_failures", default: 10, in: 1...1000)
        auth.loginWindow = try duration("auth.login_window", default: .seconds(15 * 60))
        auth.corsOrigins = list("auth.cors_origins", default: [])
        auth.external = try external()
        return auth
    }

    /// `auth.external`: off unless `issuer` is set; then `audience`, one of `jwks_url` and `key`, and at least one role
    /// mapping are required.
    func external() throws -> AppConfig.Auth.External? {
        guard let issuer = optional("auth.external.issuer"), !issuer.isEmpty else {
            for key in ["audience", "jwks_url", "key", "roles"] where optional("auth.external.\(key)") != nil {
                throw error("auth.external.issuer", "missing: auth.external.\(key) is set, so the issuer must be too")
            }
            return nil
        }
        var external = AppConfig.Auth.External(issuer: issuer, audience: try string("auth.external.audience"))
        external.jwksURL = optional("auth.external.jwks_url").flatMap { $0.isEmpty ? nil : $0 }
        external.key = optional("auth.external.key").flatMap { $0.isEmpty ? nil : $0 }
        switch (external.jwksURL, external.key) {
        case (nil, nil): throw error("auth.external.jwks_url", "missing: give the issuer's JWKS URL (or auth.external.key)")
        case (_?, _?): throw error("auth.external.key", "give either auth.external.jwks_url or auth.external.key, not both")
        case (let url?, nil):
            guard let c = URLComponents(string: url), ["http", "https"].contains(c.scheme?.lowercased() ?? ""), c.host?.isEmpty == false else {
                throw error("auth.external.jwks_url", "expected an http(s) URL, got \"\(url)\"")
            }
        case (nil, let key?):
            if !key.hasPrefix("-----BEGIN"), key.utf8.count < 32 {
                throw error("auth.external.key", "an HS256 secret must be at least 32 characters")
            }
        }
        external.roleClaim = optional("auth.external.role_claim").flatMap { $0.isEmpty ? nil : $0 } ?? external.roleClaim
        external.usernameClaim = optional("auth.external.username_claim").flatMap { $0.isEmpty ? nil : $0 } ?? external.usernameClaim
        for pair in list("auth.external.roles", default: []) {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let role = User.Role(rawValue: parts[1]) else {
                throw error("auth.external.roles", "expected claim-value=role pairs (roles admin, operator, viewer), got \"\(pair)\"")
            }
            external.roles[parts[0]] = role
        }
        guard !external.roles.isEmpty else {
            throw error("auth.external.roles", "missing: map at least one claim value to a role, e.g. mtx-admins=admin")
        }
        external.jwksRefresh = try duration("auth.external.jwks_refresh", default: external.jwksRefresh)
        return external
    }
}
