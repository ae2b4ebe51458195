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
        /// Load balancers whose `X-Forwarded-For` names the client (login throttle, audit log).
        public var trustedProxies: [String] = []
        /// This instance's name among several (metrics' `instance` label, lease holders); empty: host name and port.
        public var instance = ""

        public var instanceName: String {
            instance.isEmpty ? "\(ProcessInfo.processInfo.hostName):\(port)" : instance
        }

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The catalogue's settings (`database` section); `openCatalog(config.database, logger:)` opens it.
    public typealias Database = CatalogSettings

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
        /// `mediamtx.nodes`: the MediaMTX nodes declared in the file; empty: the addresses above are the one node
        /// `default`.
        public var nodes: [MediaNode] = []
        /// The single block's node's `?node_token=` (its authHTTPAddress); empty: it asks without one.
        public var authToken = ""
        /// A node unreachable this long is `down`.
        public var nodeDownAfter: Duration = .seconds(30)
        /// Re-place the pull sources of a `down` node on other active nodes.
        public var failover = false

        /// The nodes the file declares: its `nodes`, or the one node `default` of the single block.
        public var declaredNodes: [MediaNode] {
            guard nodes.isEmpty else { return nodes }
            return [
                MediaNode(
                    name: MediaNode.defaultName, apiAddress: apiAddress, playbackAddress: playbackAddress, rtspAddress: rtspAddress,
                    rtmpAddress: rtmpAddress, hlsAddress: hlsAddress, webrtcAddress: webrtcAddress, srtAddress: srtAddress,
                    authToken: authToken.isEmpty ? nil : authToken)
            ]
        }

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
        /// Makes a key at start when `jwtSecret` is empty (development only).
        public var generateJWTSecret = false
        /// True when the key was generated at start.
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
        /// The `auth.external.*` keys as read, before `external` is checked and set from them.
        var externalKeys = External(issuer: "", audience: "")

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

// MARK: - Loading

extension AppConfig {
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
        var file = path(forEnvironment: env, directory: directory)
        let installed = path(forEnvironment: env, directory: InstalledPaths.configuration)
        if directory == "configs", !FileManager.default.fileExists(atPath: file), FileManager.default.fileExists(atPath: installed) {
            file = installed
        }
        return try load(file: file, variables: variables)
    }

    /// Loads `file`. A file named `env` in the same folder (the package's `/etc/mtx-companion/env`, which holds the
    /// secrets) is read as `KEY=VALUE` lines, like systemd's `EnvironmentFile`; the process's own variables win.
    public static func load(file: String, variables: [String: String] = ProcessInfo.processInfo.environment) throws -> AppConfig {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: file, key: "", reason: "cannot read the file (missing or not UTF-8)")
        }
        let envFile = (file as NSString).deletingLastPathComponent.appending("/env")
        var variables = variables
        if FileManager.default.fileExists(atPath: envFile) {
            guard let data = FileManager.default.contents(atPath: envFile), let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(file: envFile, key: "", reason: "cannot read the file (run as root or as the server's user)")
            }
            variables.merge(try parseEnvironmentFile(text, file: envFile)) { process, _ in process }
        }
        return try parse(yaml: text, file: file, variables: variables)
    }

    /// `KEY=VALUE` lines; blank lines and `#` comments are skipped, and a value may be in single or double quotes.
    static func parseEnvironmentFile(_ text: String, file: String) throws -> [String: String] {
        var variables: [String: String] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex, let first = line.first, !first.isNumber,
                line[..<equals].allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isUppercase || $0.isNumber)) })
            else {
                throw ConfigError(file: file, key: "", reason: "line \(number + 1): expected KEY=VALUE")
            }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            variables[String(line[..<equals])] = value
        }
        return variables
    }

    /// Parses YAML text; `file` names it in errors. Every key is one `ConfigKey` of `ConfigKey.all`.
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
        let names = Set(ConfigKey.all.map(\.name))
        let sections = Set(ConfigKey.all.map(\.section))
        var values: [String: ConfigValue] = [:]
        var nodes: [MediaNode] = []
        for (sectionNode, body) in mapping {
            guard let section = sectionNode.string, sections.contains(section) else {
                throw ConfigError(file: file, key: sectionNode.string ?? "?", reason: "unknown key")
            }
            guard let inner = body.mapping else { throw ConfigError(file: file, key: section, reason: "expected a mapping") }
            // One level of nesting (`auth: {external: {issuer: …}}`) names keys `auth.external.issuer`.
            var pairs: [(String, Node)] = inner.map { key, value in ("\(section).\(key.string ?? "?")", value) }
            while !pairs.isEmpty {
                let (name, value) = pairs.removeFirst()
                if let nested = value.mapping, names.contains(where: { $0.hasPrefix(name + ".") }) {
                    pairs.append(contentsOf: nested.map { inner, value in ("\(name).\(inner.string ?? "?")", value) })
                    continue
                }
                if name == "mediamtx.nodes" {
                    nodes = try NodeDeclarations.parse(value, file: file)
                    continue
                }
                guard names.contains(name) else { throw ConfigError(file: file, key: name, reason: "unknown key") }
                guard let scalar = value.scalar else { throw ConfigError(file: file, key: name, reason: "expected a single value") }
                values[name] = ConfigValue(text: scalar.string, origin: .file(file))
            }
        }
        for key in ConfigKey.all {
            if let v = variables[key.env] { values[key.name] = ConfigValue(text: v, origin: .environment(key.env)) }
        }
        var config = AppConfig.defaults
        for key in ConfigKey.all {
            let value = values[key.name]
            let fail = { (reason: String) in ConfigError(key: key.name, reason: reason, origin: value?.origin ?? .file(file)) }
            guard let value else {
                // Declared nodes carry their own addresses.
                if key.required, nodes.isEmpty || !NodeDeclarations.singleNodeKeys.contains(key.name) { throw fail("missing") }
                continue
            }
            try key.read(&config, value.text, fail)
        }
        if config.database.url.isEmpty, config.database.path.trimmingCharacters(in: .whitespaces).isEmpty {
            let origin = values["database.path"]?.origin ?? .file(file)
            throw ConfigError(key: "database.path", reason: values["database.path"] == nil ? "missing" : "must not be empty", origin: origin)
        }
        if let bad = config.server.trustedProxies.first(where: { TrustedProxyMiddleware.normalized($0) == nil }) {
            throw ConfigError(
                key: "server.trusted_proxies", reason: "not an IP address (\"\(bad)\")",
                origin: values["server.trusted_proxies"]?.origin ?? .file(file))
        }
        config.mediamtx.nodes = nodes
        if !nodes.isEmpty, let given = NodeDeclarations.singleNodeKeys.first(where: { values[$0] != nil }) {
            throw ConfigError(
                key: given, reason: "mediamtx.nodes declares the nodes: give this address per node instead", origin: values[given]!.origin)
        }
        try config.checkJWTSecret { key, reason in ConfigError(key: key, reason: reason, origin: values[key]?.origin ?? .file(file)) }
        try config.checkExternal { key, reason in ConfigError(key: key, reason: reason, origin: values[key]?.origin ?? .file(file)) }
        return config
    }

    /// Every setting at its default; the keys the file must give are empty.
    static var defaults: AppConfig {
        AppConfig(
            server: .init(host: "", port: 0), database: .init(path: ""),
            mediamtx: .init(
                apiAddress: "", rtspAddress: "", rtmpAddress: "", hlsAddress: "", webrtcAddress: "", srtAddress: "", playbackAddress: "",
                recordPath: "", recordFormat: "", segmentDuration: ""),
            auth: .init(jwtSecret: ""))
    }

    /// `auth.jwt_secret`, or one made at start with `generate_jwt_secret`.
    mutating func checkJWTSecret(_ fail: (String, String) -> ConfigError) throws {
        if auth.jwtSecret.isEmpty {
            guard auth.generateJWTSecret else {
                throw fail("auth.jwt_secret", "missing: set MTX_COMPANION_JWT_SECRET to a random string of at least 32 characters")
            }
            var generator = SystemRandomNumberGenerator()
            auth.jwtSecret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            auth.secretWasGenerated = true
        }
        guard auth.jwtSecret.utf8.count >= 32 else { throw fail("auth.jwt_secret", "must be at least 32 characters (it signs every token)") }
    }

    /// `auth.external`: off unless `issuer` is set; then `audience`, one of `jwks_url` and `key`, and at least one role
    /// mapping are required.
    mutating func checkExternal(_ fail: (String, String) -> ConfigError) throws {
        let external = auth.externalKeys
        guard !external.issuer.isEmpty else {
            let given: [(String, Bool)] = [
                ("audience", !external.audience.isEmpty), ("jwks_url", external.jwksURL != nil), ("key", external.key != nil),
                ("roles", !external.roles.isEmpty),
            ]
            if let (key, _) = given.first(where: \.1) {
                throw fail("auth.external.issuer", "missing: auth.external.\(key) is set, so the issuer must be too")
            }
            auth.external = nil
            return
        }
        guard !external.audience.isEmpty else { throw fail("auth.external.audience", "missing") }
        switch (external.jwksURL, external.key) {
        case (nil, nil): throw fail("auth.external.jwks_url", "missing: give the issuer's JWKS URL (or auth.external.key)")
        case (_?, _?): throw fail("auth.external.key", "give either auth.external.jwks_url or auth.external.key, not both")
        case (let url?, nil):
            guard let c = URLComponents(string: url), ["http", "https"].contains(c.scheme?.lowercased() ?? ""), c.host?.isEmpty == false else {
                throw fail("auth.external.jwks_url", "expected an http(s) URL, got \"\(url)\"")
            }
        case (nil, let key?):
            if !key.hasPrefix("-----BEGIN"), key.utf8.count < 32 {
                throw fail("auth.external.key", "an HS256 secret must be at least 32 characters")
            }
        }
        guard !external.roles.isEmpty else {
            throw fail("auth.external.roles", "missing: map at least one claim value to a role, e.g. mtx-admins=admin")
        }
        auth.external = external
    }
}
