import API
import Foundation
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("configs/config.<env>.yaml", .timeLimit(.minutes(3)))
struct AppConfigTests {
    static let valid = """
        server:
          host: 127.0.0.1
          port: 8080
        database:
          path: data/x.sqlite
        mediamtx:
          api_address: http://127.0.0.1:9997/
          rtsp_address: rtsp://127.0.0.1:8554
          rtmp_address: rtmp://127.0.0.1:1935
          hls_address: http://127.0.0.1:8888
          webrtc_address: http://127.0.0.1:8889
          srt_address: srt://127.0.0.1:8890
          playback_address: http://127.0.0.1:9996
          record_path: ./recordings/%path/%Y-%m-%d_%H-%M-%S-%f
          record_format: fmp4
          segment_duration: 1h
          request_timeout: 750ms
        auth:
          jwt_secret: test-jwt-secret-0123456789abcdef0123456789
        """

    @Test(arguments: ["development", "test", "production"])
    func shippedConfigsLoad(env: String) throws {
        let secret = ["MTX_COMPANION_JWT_SECRET": String(repeating: "k", count: 40)]
        let config = try AppConfig.load(
            environment: env, directory: repositoryRoot.appendingPathComponent("configs").path, variables: env == "production" ? secret : [:])
        #expect(config.mediamtx.apiAddress == "http://127.0.0.1:9997")
        #expect(config.mediamtx.connectTimeout == .seconds(2))
        #expect(config.mediamtx.requestTimeout == .seconds(5))
        #expect(config.auth.mediaTokenTTL == .seconds(600))
    }

    @Test func productionRefusesToStartWithoutAJWTKeyAndDevelopmentMakesOne() throws {
        let directory = repositoryRoot.appendingPathComponent("configs").path
        #expect(
            throws: ConfigError(
                file: "\(directory)/config.production.yaml", key: "auth.jwt_secret",
                reason: "missing: set MTX_COMPANION_JWT_SECRET to a random string of at least 32 characters")
        ) {
            try AppConfig.load(environment: "production", directory: directory, variables: [:])
        }
        #expect(
            throws: ConfigError(
                file: "MTX_COMPANION_JWT_SECRET", key: "", reason: "auth.jwt_secret: must be at least 32 characters (it signs every token)")
        ) {
            try AppConfig.load(environment: "production", directory: directory, variables: ["MTX_COMPANION_JWT_SECRET": "short"])
        }
        let one = try AppConfig.load(environment: "development", directory: directory, variables: [:])
        let two = try AppConfig.load(environment: "development", directory: directory, variables: [:])
        #expect(one.auth.secretWasGenerated && one.auth.jwtSecret.count >= 32 && one.auth.jwtSecret != two.auth.jwtSecret)
    }

    @Test func anExternalIssuerIsConfiguredAsANestedMapping() throws {
        let yaml =
            Self.valid + """

                  external:
                    issuer: https://sso.example/realms/mtx
                    audience: mtx-companion
                    jwks_url: https://sso.example/realms/mtx/protocol/openid-connect/certs
                    role_claim: realm_access.roles
                    roles: mtx-admins=admin, mtx-operators=operator
                """
        let config = try AppConfig.parse(yaml: yaml, file: "c.yaml")
        let external = try #require(config.auth.external)
        #expect(external.issuer == "https://sso.example/realms/mtx")
        #expect(external.roles == ["mtx-admins": .admin, "mtx-operators": .operator])
        #expect(external.roleClaim == "realm_access.roles" && external.usernameClaim == "sub")
        let overridden = try AppConfig.parse(yaml: yaml, file: "c.yaml", variables: ["MTX_COMPANION_AUTH_EXTERNAL_ROLES": "staff=viewer"])
        #expect(overridden.auth.external?.roles == ["staff": .viewer])
        #expect(try AppConfig.parse(yaml: Self.valid, file: "c.yaml").auth.external == nil)

        for (extra, key) in [
            ("    bogus: 1\n", "auth.external.bogus"),
            ("", "auth.external.key"),
        ] {
            let broken = yaml.replacingOccurrences(
                of: "    role_claim",
                with: extra + (key == "auth.external.key" ? "    key: abcdefghijklmnopqrstuvwxyz0123456789\n" : "") + "    role_claim")
            #expect(throws: ConfigError.self) { try AppConfig.parse(yaml: broken, file: "c.yaml") }
            do {
                _ = try AppConfig.parse(yaml: broken, file: "c.yaml")
            } catch let error as ConfigError {
                #expect(error.key == key)
            }
        }
        let noRoles = yaml.replacingOccurrences(of: "    roles: mtx-admins=admin, mtx-operators=operator", with: "")
        #expect(
            throws: ConfigError(
                file: "c.yaml", key: "auth.external.roles", reason: "missing: map at least one claim value to a role, e.g. mtx-admins=admin")
        ) {
            try AppConfig.parse(yaml: noRoles, file: "c.yaml")
        }
        let badRole = try? AppConfig.parse(yaml: yaml, file: "c.yaml", variables: ["MTX_COMPANION_AUTH_EXTERNAL_ROLES": "staff=root"])
        #expect(badRole == nil)
        let noAudience = yaml.replacingOccurrences(of: "    audience: mtx-companion\n", with: "")
        #expect(throws: ConfigError(file: "c.yaml", key: "auth.external.audience", reason: "missing")) {
            try AppConfig.parse(yaml: noAudience, file: "c.yaml")
        }
    }

    @Test func valuesAreReadAndTrailingSlashesDropped() throws {
        let config = try AppConfig.parse(yaml: Self.valid, file: "c.yaml")
        #expect(config.server.port == 8080)
        #expect(config.mediamtx.apiAddress == "http://127.0.0.1:9997")
        #expect(config.mediamtx.segmentDuration == "1h")
        #expect(config.mediamtx.requestTimeout == .milliseconds(750))
        #expect(config.mediamtx.connectTimeout == .seconds(2))
    }

    @Test func environmentOverridesAddresses() throws {
        let config = try AppConfig.parse(
            yaml: Self.valid, file: "c.yaml",
            variables: [
                "MTX_COMPANION_MEDIAMTX_API_ADDRESS": "http://10.1.2.3:9997",
                "MTX_COMPANION_SERVER_PORT": "9090",
                "MTX_COMPANION_DATABASE_PATH": "/tmp/other.sqlite",
            ])
        #expect(config.mediamtx.apiAddress == "http://10.1.2.3:9997")
        #expect(config.server.port == 9090)
        #expect(config.database.path == "/tmp/other.sqlite")
    }

    @Test(arguments: [
        ("port: 8080", "port: 8080\n  bogus: 1", "c.yaml: server.bogus: unknown key"),
        ("server:", "extra: 1\nserver:", "c.yaml: extra: unknown key"),
        ("  rtsp_address: rtsp://127.0.0.1:8554\n", "", "c.yaml: mediamtx.rtsp_address: missing"),
        ("port: 8080", "port: eighty", "c.yaml: server.port: not a port number (\"eighty\")"),
        (
            "segment_duration: 1h", "segment_duration: forever",
            "c.yaml: mediamtx.segment_duration: not a duration such as 1h, 60s or 1m30s (\"forever\")"
        ),
        ("record_format: fmp4", "record_format: mp4", "c.yaml: mediamtx.record_format: must be fmp4 or mpegts (\"mp4\")"),
        (
            "api_address: http://127.0.0.1:9997/", "api_address: 127.0.0.1:9997",
            "c.yaml: mediamtx.api_address: expected a http/https address such as http://127.0.0.1:port, got \"127.0.0.1:9997\""
        ),
        (
            "%path/", "",
            "c.yaml: mediamtx.record_path: must contain %path and either %s or all of %Y %m %d %H %M %S (\"./recordings/%Y-%m-%d_%H-%M-%S-%f\")"
        ),
        ("request_timeout: 750ms", "request_timeout: soon", "c.yaml: mediamtx.request_timeout: not a duration such as 500ms, 2s or 1m (\"soon\")"),
        ("  path: data/x.sqlite", "  path: [a, b]", "c.yaml: database.path: expected a single value"),
    ])
    func badConfigStopsWithOneLineNamingFileAndKey(replace: String, with: String, message: String) {
        let yaml = Self.valid.replacingOccurrences(of: replace, with: with)
        #expect(throws: ConfigError.self) { try AppConfig.parse(yaml: yaml, file: "c.yaml") }
        do {
            _ = try AppConfig.parse(yaml: yaml, file: "c.yaml")
        } catch {
            #expect("\(error)" == message)
            #expect(!"\(error)".contains("\n"))
        }
    }

    @Test func badEnvironmentValueNamesTheVariable() {
        #expect(throws: ConfigError(file: "MTX_COMPANION_SERVER_PORT", key: "", reason: "server.port: not a port number (\"x\")")) {
            try AppConfig.parse(yaml: Self.valid, file: "c.yaml", variables: ["MTX_COMPANION_SERVER_PORT": "x"])
        }
    }

    /// The package keeps its secrets in `/etc/mtx-companion/env` beside the config: every subcommand reads it, the
    /// process's environment wins, and a line that is not `KEY=VALUE` names the file and line.
    @Test func anEnvFileBesideTheConfigGivesItsSecrets() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.production.yaml").path
        try Self.valid.replacingOccurrences(of: "jwt_secret: test-jwt-secret-0123456789abcdef0123456789", with: "jwt_secret: \"\"")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let env = directory.appendingPathComponent("env").path
        try """
        # made by the package
        MTX_COMPANION_JWT_SECRET='from-the-env-file-0123456789abcdef0123'

        MTX_COMPANION_HOOK_TOKEN="hook token with spaces"
        """.write(toFile: env, atomically: true, encoding: .utf8)
        let loaded = try AppConfig.load(file: config, variables: [:])
        #expect(loaded.auth.jwtSecret == "from-the-env-file-0123456789abcdef0123")
        #expect(loaded.hooks.token == "hook token with spaces")
        let overridden = try AppConfig.load(file: config, variables: ["MTX_COMPANION_JWT_SECRET": String(repeating: "p", count: 40)])
        #expect(overridden.auth.jwtSecret == String(repeating: "p", count: 40))

        for bad in ["MTX_COMPANION_JWT_SECRET", "=x", "1X=y", "lower=case"] {
            try "# ok\n\(bad)\n".write(toFile: env, atomically: true, encoding: .utf8)
            #expect(throws: ConfigError(file: env, key: "", reason: "line 2: expected KEY=VALUE")) {
                try AppConfig.load(file: config, variables: [:])
            }
        }
        try FileManager.default.removeItem(atPath: env)
        #expect(throws: ConfigError.self) { try AppConfig.load(file: config, variables: [:]) }
    }

    @Test func missingFileAndBadYAML() {
        #expect(throws: ConfigError(file: "configs/config.nope.yaml", key: "", reason: "cannot read the file (missing or not UTF-8)")) {
            try AppConfig.load(environment: "nope", variables: [:])
        }
        #expect(throws: ConfigError.self) { try AppConfig.parse(yaml: "server: [", file: "c.yaml") }
        #expect(throws: ConfigError.self) { try AppConfig.load(environment: "../etc/passwd", variables: [:]) }
    }

    /// Each key is declared once (ConfigKeys.swift); README.md's table is made from the declarations.
    @Test func readmeTableListsEveryKeyAsDeclared() throws {
        let readme = repositoryRoot.appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let marker = try #require(text.range(of: "<!-- config keys:"))
        let start = try #require(text.range(of: "-->\n", range: marker.lowerBound..<text.endIndex))
        let end = try #require(text.range(of: "<!-- end of config keys -->"))
        let table = ConfigKey.markdownTable() + "\n"
        if ProcessInfo.processInfo.environment["UPDATE_README"] == "1" {
            try (text[..<start.upperBound] + table + text[end.lowerBound...]).write(to: readme, atomically: true, encoding: .utf8)
            return
        }
        #expect(
            String(text[start.upperBound..<end.lowerBound]) == table,
            "README.md's config table is out of date: UPDATE_README=1 swift test --filter readmeTable")
        // Every key and variable appears once, and the shipped configs use only declared keys (parse refuses others).
        #expect(Set(ConfigKey.all.map(\.name)).count == ConfigKey.all.count)
        #expect(Set(ConfigKey.all.map(\.env)).count == ConfigKey.all.count)
        // database.path is needed unless database.url names the catalogue (AppConfig.parse checks that pair).
        #expect(!ConfigKey.all.filter(\.required).map(\.name).contains("database.path"))
        #expect(ConfigKey.all.filter(\.required).map(\.name).contains("mediamtx.api_address"))
        #expect(ConfigKey.all.first { $0.name == "webhooks.disable_after" }?.defaultText == "72h")
        #expect(ConfigKey.all.first { $0.name == "mediamtx.request_timeout" }?.defaultText == "5s")
    }
}
