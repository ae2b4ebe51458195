import CatalogPostgres
import Domain
import Foundation
import HookWire

extension ConfigKey {
    /// Every configuration key, in the order the README lists them and errors are found.
    public static let all: [ConfigKey] = [
        .text("server.host", "MTX_COMPANION_SERVER_HOST", \.server.host, required: true, "address the API listens on"),
        .integer(
            "server.port", "MTX_COMPANION_SERVER_PORT", \.server.port, required: true, in: 0...65535, reason: { "not a port number (\"\($0)\")" },
            "port the API listens on"),
        .text("server.ui_directory", "MTX_COMPANION_SERVER_UI_DIRECTORY", \.server.uiDirectory, "web UI files served at `/`; empty turns the UI off"),
        .text(
            "server.openapi_file", "MTX_COMPANION_SERVER_OPENAPI_FILE", \.server.openAPIFile, "the OpenAPI document served at `/api/openapi.yaml`"),
        .list(
            "server.trusted_proxies", "MTX_COMPANION_SERVER_TRUSTED_PROXIES", \.server.trustedProxies,
            "load balancers' addresses: their `X-Forwarded-For` names the client (login throttle, audit log)"),
        .text(
            "server.instance", "MTX_COMPANION_SERVER_INSTANCE", \.server.instance,
            "this instance's name among several on one PostgreSQL (metrics' `instance` label); empty: host name and port"),
        .text("database.path", "MTX_COMPANION_DATABASE_PATH", \.database.path, "the SQLite file (made owner-only), when `database.url` is empty"),
        .text(
            "database.url", "MTX_COMPANION_DATABASE_URL", \.database.url,
            check: { url in
                if url.isEmpty || url.hasPrefix("sqlite:") { return url == "sqlite:" ? "sqlite: needs a file (sqlite:PATH)" : nil }
                do {
                    _ = try PostgresURL(url)
                    return nil
                } catch {
                    return "\(error) (\"\(PostgresURL.redacted(url))\")"
                }
            },
            "empty or `sqlite:PATH`: SQLite; `postgres://user:password@host:port/database?sslmode=disable|prefer|require|verify-full`: "
                + "PostgreSQL, shared by several instances"),
        .duration(
            "database.lease_timeout", "MTX_COMPANION_DATABASE_LEASE_TIMEOUT", \.database.leaseTimeout,
            "PostgreSQL: how long background work (reconciler, retention, webhook delivery) waits before another instance takes over from one that died"
        ),
        .address(
            "mediamtx.api_address", "MTX_COMPANION_MEDIAMTX_API_ADDRESS", \.mediamtx.apiAddress, schemes: ["http", "https"], "MediaMTX's v3 API"),
        .address(
            "mediamtx.rtsp_address", "MTX_COMPANION_MEDIAMTX_RTSP_ADDRESS", \.mediamtx.rtspAddress, schemes: ["rtsp", "rtsps"],
            "public RTSP address for the URLs handed out"),
        .address(
            "mediamtx.rtmp_address", "MTX_COMPANION_MEDIAMTX_RTMP_ADDRESS", \.mediamtx.rtmpAddress, schemes: ["rtmp", "rtmps"],
            "public RTMP address (push URLs)"),
        .address(
            "mediamtx.hls_address", "MTX_COMPANION_MEDIAMTX_HLS_ADDRESS", \.mediamtx.hlsAddress, schemes: ["http", "https"], "public HLS address"),
        .address(
            "mediamtx.webrtc_address", "MTX_COMPANION_MEDIAMTX_WEBRTC_ADDRESS", \.mediamtx.webrtcAddress, schemes: ["http", "https"],
            "public WebRTC (WHEP/WHIP) address"),
        .address("mediamtx.srt_address", "MTX_COMPANION_MEDIAMTX_SRT_ADDRESS", \.mediamtx.srtAddress, schemes: ["srt"], "public SRT address"),
        .address(
            "mediamtx.playback_address", "MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS", \.mediamtx.playbackAddress, schemes: ["http", "https"],
            "MediaMTX's playback server"),
        .text(
            "mediamtx.record_path", "MTX_COMPANION_MEDIAMTX_RECORD_PATH", \.mediamtx.recordPath, required: true,
            check: { path in
                let timeParts = ["%Y", "%m", "%d", "%H", "%M", "%S"]
                guard path.contains("%path"), path.contains("%s") || timeParts.allSatisfy(path.contains) else {
                    return "must contain %path and either %s or all of %Y %m %d %H %M %S (\"\(path)\")"
                }
                return nil
            }, "sent to MediaMTX as `recordPath`; where segments are and how their start is read"),
        .text(
            "mediamtx.record_format", "MTX_COMPANION_MEDIAMTX_RECORD_FORMAT", \.mediamtx.recordFormat, required: true,
            check: { ["fmp4", "mpegts"].contains($0) ? nil : "must be fmp4 or mpegts (\"\($0)\")" }, "sent as `recordFormat`: fmp4 or mpegts"),
        .text(
            "mediamtx.segment_duration", "MTX_COMPANION_MEDIAMTX_SEGMENT_DURATION", \.mediamtx.segmentDuration, required: true,
            check: { text in
                guard let d = GoDuration.parse(text), d > .zero else { return "not a duration such as 1h, 60s or 1m30s (\"\(text)\")" }
                return nil
            }, "sent as `recordSegmentDuration`"),
        .duration("mediamtx.connect_timeout", "MTX_COMPANION_MEDIAMTX_CONNECT_TIMEOUT", \.mediamtx.connectTimeout, "connecting to MediaMTX's API"),
        .duration("mediamtx.request_timeout", "MTX_COMPANION_MEDIAMTX_REQUEST_TIMEOUT", \.mediamtx.requestTimeout, "one request to MediaMTX's API"),
        .duration(
            "mediamtx.reconcile_interval", "MTX_COMPANION_MEDIAMTX_RECONCILE_INTERVAL", \.mediamtx.reconcileInterval, zeroTurnsOff: true,
            "how often drift between the catalogue and MediaMTX is healed; `0` turns it off"),
        .boolean(
            "mediamtx.manage_hooks", "MTX_COMPANION_MEDIAMTX_MANAGE_HOOKS", \.mediamtx.manageHooks,
            "sets MediaMTX's `pathDefaults` hooks to run `hook_command`"),
        .text(
            "mediamtx.hook_command", "MTX_COMPANION_MEDIAMTX_HOOK_COMMAND", \.mediamtx.hookCommand, emptyKeepsDefault: true,
            "the mtx-hook command line MediaMTX runs"),
        .text(
            "mediamtx.auth_token", "MTX_COMPANION_MEDIAMTX_AUTH_TOKEN", \.mediamtx.authToken,
            check: { NodeDeclarations.tokenError($0) },
            "optional: the `?node_token=` MediaMTX's authHTTPAddress carries, naming this node once others are added"),
        .duration(
            "mediamtx.node_down_after", "MTX_COMPANION_MEDIAMTX_NODE_DOWN_AFTER", \.mediamtx.nodeDownAfter,
            "a node whose API does not answer this long is `down`"),
        .boolean(
            "mediamtx.failover", "MTX_COMPANION_MEDIAMTX_FAILOVER", \.mediamtx.failover,
            "moves the pull sources of a `down` node to other active nodes (push sources stay: their encoders' URL would change)"),
        .text("hooks.token", "MTX_COMPANION_HOOK_TOKEN", \.hooks.token, "shared with mtx-hook; empty refuses every hook event"),
        .duration("hooks.session_gap", "MTX_COMPANION_HOOKS_SESSION_GAP", \.hooks.sessionGap, "segments closer than this are one recording session"),
        .text(
            "hooks.record_timezone", "MTX_COMPANION_HOOKS_RECORD_TIMEZONE", \.hooks.recordTimezone, emptyKeepsDefault: true,
            check: { TimeZone(identifier: $0) == nil ? "not a time zone such as UTC or Asia/Shanghai (\"\($0)\")" : nil },
            "zone of segment file names, unless `record_path` has %z or %s"),
        .integer(
            "hooks.event_retention_days", "MTX_COMPANION_HOOKS_EVENT_RETENTION_DAYS", \.hooks.eventRetentionDays, in: 0...Int.max,
            reason: { "must be a whole number of days, 0 to keep all (\"\($0)\")" }, "days of hook event history kept; 0 keeps all"),
        .duration(
            "hooks.max_clock_skew", "MTX_COMPANION_HOOKS_MAX_CLOCK_SKEW", \.hooks.maxClockSkew, "hook events dated further in the future are refused"),
        .boolean(
            "sources.allow_local_urls", "MTX_COMPANION_SOURCES_ALLOW_LOCAL_URLS", \.sources.allowLocalURLs,
            "allows pull URLs on loopback, link-local or unspecified addresses and unix sockets (docs/security.md)"),
        .integer(
            "recordings.retention_days", "MTX_COMPANION_RECORDINGS_RETENTION_DAYS", \.recordings.retentionDays, in: 0...36_500,
            "segments that ended longer ago are deleted; 0 keeps everything; a source's own setting wins"),
        .duration(
            "recordings.retention_interval", "MTX_COMPANION_RECORDINGS_RETENTION_INTERVAL", \.recordings.retentionInterval, "how often retention runs"
        ),
        .text(
            "auth.jwt_secret", "MTX_COMPANION_JWT_SECRET", \.auth.jwtSecret, "signs every token; at least 32 characters; required unless generated"),
        .boolean(
            "auth.generate_jwt_secret", "MTX_COMPANION_AUTH_GENERATE_JWT_SECRET", \.auth.generateJWTSecret,
            "makes a key at start (development only: tokens end at a restart)"),
        .duration("auth.token_ttl", "MTX_COMPANION_AUTH_TOKEN_TTL", \.auth.tokenTTL, "lifetime of an API access token"),
        .duration("auth.media_token_ttl", "MTX_COMPANION_AUTH_MEDIA_TOKEN_TTL", \.auth.mediaTokenTTL, "lifetime of preview and playback tokens"),
        .integer("auth.bcrypt_cost", "MTX_COMPANION_AUTH_BCRYPT_COST", \.auth.bcryptCost, in: 10...16, "bcrypt cost of new password hashes"),
        .list(
            "auth.trusted_addresses", "MTX_COMPANION_AUTH_TRUSTED_ADDRESSES", \.auth.trustedAddresses,
            "addresses whose MediaMTX `api`, `metrics` and `pprof` requests are allowed"),
        .integer(
            "auth.login_max_failures", "MTX_COMPANION_AUTH_LOGIN_MAX_FAILURES", \.auth.loginMaxFailures, in: 1...1000,
            "failed logins per user name and per address within `login_window` before logins are refused"),
        .duration("auth.login_window", "MTX_COMPANION_AUTH_LOGIN_WINDOW", \.auth.loginWindow, "window of `login_max_failures`"),
        .list("auth.cors_origins", "MTX_COMPANION_AUTH_CORS_ORIGINS", \.auth.corsOrigins, "browser origins allowed by CORS; empty turns CORS off"),
        .text(
            "auth.external.issuer", "MTX_COMPANION_AUTH_EXTERNAL_ISSUER", \.auth.externalKeys.issuer,
            "an OpenID Connect / JWT issuer whose access tokens are accepted (docs/security.md); empty: off"),
        .text(
            "auth.external.audience", "MTX_COMPANION_AUTH_EXTERNAL_AUDIENCE", \.auth.externalKeys.audience, "a value the token's `aud` must contain"),
        .optionalText(
            "auth.external.jwks_url", "MTX_COMPANION_AUTH_EXTERNAL_JWKS_URL", \.auth.externalKeys.jwksURL, "the issuer's signing keys (JWKS)"),
        .optionalText(
            "auth.external.key", "MTX_COMPANION_AUTH_EXTERNAL_KEY", \.auth.externalKeys.key, "instead of a JWKS: a PEM public key or an HS256 secret"),
        .text(
            "auth.external.role_claim", "MTX_COMPANION_AUTH_EXTERNAL_ROLE_CLAIM", \.auth.externalKeys.roleClaim, emptyKeepsDefault: true,
            "claim name or dotted path of the roles"),
        roles,
        .text(
            "auth.external.username_claim", "MTX_COMPANION_AUTH_EXTERNAL_USERNAME_CLAIM", \.auth.externalKeys.usernameClaim, emptyKeepsDefault: true,
            "claim naming the user in the audit log"),
        .duration(
            "auth.external.jwks_refresh", "MTX_COMPANION_AUTH_EXTERNAL_JWKS_REFRESH", \.auth.externalKeys.jwksRefresh, "how often the JWKS is fetched"
        ),
        .boolean(
            "webhooks.allow_private_targets", "MTX_COMPANION_WEBHOOKS_ALLOW_PRIVATE_TARGETS", \.webhooks.allowPrivateTargets,
            "allows subscription URLs resolving to loopback, private, link-local or multicast addresses"),
        .duration(
            "webhooks.request_timeout", "MTX_COMPANION_WEBHOOKS_REQUEST_TIMEOUT", \.webhooks.requestTimeout, "deadline of one delivery attempt"),
        .duration(
            "webhooks.retry_base", "MTX_COMPANION_WEBHOOKS_RETRY_BASE", \.webhooks.retryBase, "first retry delay; doubling, at most 1h, ±20% jitter"),
        .duration("webhooks.max_age", "MTX_COMPANION_WEBHOOKS_MAX_AGE", \.webhooks.maxAge, "a delivery still failing this long is parked as failed"),
        .integer(
            "webhooks.concurrency", "MTX_COMPANION_WEBHOOKS_CONCURRENCY", \.webhooks.concurrency, in: 1...256,
            "attempts in flight at once; one subscription takes at most a quarter"),
        .duration(
            "webhooks.disable_after", "MTX_COMPANION_WEBHOOKS_DISABLE_AFTER", \.webhooks.disableAfter,
            "a subscription failing this long without a success is disabled"),
        .duration(
            "webhooks.secret_grace", "MTX_COMPANION_WEBHOOKS_SECRET_GRACE", \.webhooks.secretGrace,
            "after a secret rotation, deliveries are also signed with the old secret this long"),
    ]

    /// `claim-value=role` pairs, comma-separated (`mtx-admins=admin, staff=viewer`).
    static let roles = ConfigKey(
        name: "auth.external.roles", env: "MTX_COMPANION_AUTH_EXTERNAL_ROLES", required: false,
        doc: "`claim-value=role` pairs; a user gets the highest role mapped",
        read: { config, text, fail in
            var roles: [String: User.Role] = [:]
            for pair in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !pair.isEmpty {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, let role = User.Role(rawValue: parts[1]) else {
                    throw fail("expected claim-value=role pairs (roles admin, operator, viewer), got \"\(pair)\"")
                }
                roles[parts[0]] = role
            }
            config.auth.externalKeys.roles = roles
        },
        show: { _ in nil })
}
