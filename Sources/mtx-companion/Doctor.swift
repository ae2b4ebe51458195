import API
import ArgumentParser
import AsyncHTTPClient
import Catalog
import Domain
import Foundation
import Logging
import MediaMTX

/// `mtx-companion doctor`: one line per check, and for each that fails what to do about it. Exit status 1 when
/// anything fails (a config that does not parse stops earlier, with status 78, like every subcommand).
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Check the installation: config, database, MediaMTX's API and version, hooks, auth callback, record path, playback server.")
    @OptionGroup var options: ConfigOptions

    /// The MediaMTX the reference exchanges were recorded from; the hooks and fields we rely on are there.
    static let minimumMediaMTX = (major: 1, minor: 20)

    struct Outcome {
        var check: String
        var problem: String?
        var detail: String
        var fix: String = ""
        /// Not checked: what it needs failed.
        var skipped = false
    }

    func run() async throws {
        let config = try options.load()
        var outcomes = [Outcome(check: "config", detail: "parsed; \(ConfigKey.all.count) keys known")]
        outcomes.append(await Self.database(config))
        let httpClient = MediaMTXClient.makeHTTPClient(connectTimeout: .init(config.mediamtx.connectTimeout))
        // Each node the file declares (the single block is the one node `default`); with several, each check names its node.
        let nodes = config.mediamtx.declaredNodes
        for node in nodes {
            let client = MediaMTXClient(
                apiAddress: node.apiAddress, playbackAddress: node.playbackAddress, httpClient: httpClient,
                requestTimeout: .init(config.mediamtx.requestTimeout),
                logger: {
                    var l = Logger(label: "doctor")
                    l.logLevel = .critical
                    return l
                }())
            var checks = await Self.mediamtx(config, node, client, httpClient: httpClient, several: nodes.count > 1)
            if nodes.count > 1 {
                checks = checks.map {
                    var o = $0
                    o.check += " (\(node.name))"
                    return o
                }
            }
            outcomes += checks
        }
        try await httpClient.shutdown()
        for o in outcomes {
            if o.skipped {
                print("skip  \(o.check): \(o.detail)")
            } else {
                print(o.problem == nil ? "ok    \(o.check): \(o.detail)" : "FAIL  \(o.check): \(o.problem!)\n      fix: \(o.fix)")
            }
        }
        let failed = outcomes.filter { $0.problem != nil || $0.skipped }.count
        print(failed == 0 ? "all \(outcomes.count) checks passed" : "\(failed) of \(outcomes.count) checks failed")
        if failed > 0 { throw ExitCode(1) }
    }

    static func database(_ config: AppConfig) async -> Outcome {
        let location = config.database.location
        do {
            let database = try await openCatalog(config.database, logger: Logger(label: "mtx-companion"))
            do {
                try await database.checkWritable()
            } catch {
                await database.shutdown()
                throw error
            }
            await database.shutdown()
            return Outcome(check: "database", detail: "\(location): \(database.backendName), migrated, writable")
        } catch {
            let fix =
                switch config.database.backend {
                case .sqlite: "make the file and its folder writable by the user running mtx-companion, or set database.path"
                case .postgres: "check database.url: the server is up, the user and password are right, the user may create tables"
                }
            let problem = (error as? CatalogOpenError).map { "\($0.location): \($0.reason)" } ?? "\(location): \(error)"
            return Outcome(check: "database", problem: problem, detail: "", fix: fix)
        }
    }

    static func mediamtx(_ config: AppConfig, _ node: MediaNode, _ client: MediaMTXClient, httpClient: HTTPClient, several: Bool) async
        -> [Outcome]
    {
        let api = node.apiAddress
        var out: [Outcome] = []
        let info: Info
        do {
            info = try await client.info()
        } catch {
            out.append(
                Outcome(
                    check: "mediamtx api", problem: "\(api): \(error)", detail: "",
                    fix: "start MediaMTX with `api: yes` (mediamtx.yml.example), or set mediamtx.api_address to where its API listens"))
            out += ["hooks", "auth callback", "record path"].map { Outcome(check: $0, detail: "needs MediaMTX's API", skipped: true) }
            out.append(await playback(node, client))
            return out
        }
        let least = "v\(minimumMediaMTX.major).\(minimumMediaMTX.minor)"
        if let version = version(info.version), version >= minimumMediaMTX {
            out.append(Outcome(check: "mediamtx api", detail: "\(api): MediaMTX \(info.version)"))
        } else {
            out.append(
                Outcome(
                    check: "mediamtx api", problem: "\(api): MediaMTX \(info.version) is older than \(least)", detail: "",
                    fix: "upgrade MediaMTX to \(least) or later"))
        }
        do {
            let hooks = try await client.getPathDefaultHooks()
            let missing = HookWiring.missing(command: config.mediamtx.hookCommand, current: hooks)
            if !missing.isEmpty {
                out.append(
                    Outcome(
                        check: "hooks", problem: "pathDefaults do not run mtx-hook for \(missing.map(\.name).joined(separator: ", "))", detail: "",
                        fix: "set mediamtx.manage_hooks: true (the server sets them), or copy the hooks of mediamtx.yml.example"))
            } else if let problem = hookBinaryProblem(config, node) {
                out.append(
                    Outcome(
                        check: "hooks", problem: problem, detail: "",
                        fix: "install mtx-hook on MediaMTX's host, or set mediamtx.hook_command to its full path"))
            } else {
                out.append(
                    Outcome(
                        check: "hooks",
                        detail:
                            "all \(HookWiring.wanted(command: config.mediamtx.hookCommand, current: hooks).count) run \(config.mediamtx.hookCommand)")
                )
            }
            out.append(await authCallback(config, node, client, httpClient: httpClient, several: several))
            let defaults = try await client.getPathDefaults()
            let ours = RecordPathPattern(config.mediamtx.recordPath).pattern
            if let theirs = defaults.recordPath, RecordPathPattern(theirs).pattern != ours {
                out.append(
                    Outcome(
                        check: "record path", problem: "MediaMTX records to \(theirs), the companion reads \(config.mediamtx.recordPath)", detail: "",
                        fix: "make recordPath in mediamtx.yml and mediamtx.record_path the same pattern"))
            } else {
                out.append(Outcome(check: "record path", detail: config.mediamtx.recordPath))
            }
        } catch {
            out.append(
                Outcome(
                    check: "hooks", problem: "cannot read MediaMTX's pathDefaults: \(error)", detail: "",
                    fix: "allow the companion's address in MediaMTX's authInternalUsers for the `api` action"))
        }
        out.append(await playback(node, client))
        return out
    }

    /// MediaMTX asks the companion before every publish, read and playback (`authMethod: http`), at our auth route, and
    /// that address answers as the companion does: 401 to a read without credentials. Asked from this host, which is
    /// MediaMTX's when the API address is local.
    /// With several nodes, each must name itself with its own `?node_token=`.
    static func authCallback(_ config: AppConfig, _ node: MediaNode, _ client: MediaMTXClient, httpClient: HTTPClient, several: Bool) async
        -> Outcome
    {
        let wanted = "authMethod: http, authHTTPAddress: http://<companion>/api/v1/mediamtx/auth (mediamtx.yml.example)"
        let global: GlobalConf
        do {
            global = try await client.getGlobalConf()
        } catch {
            return Outcome(
                check: "auth callback", problem: "cannot read MediaMTX's global config: \(error)", detail: "",
                fix: "allow the companion's address in MediaMTX's authInternalUsers for the `api` action")
        }
        guard global.authMethod == "http" else {
            return Outcome(
                check: "auth callback",
                problem: "MediaMTX's authMethod is \(global.authMethod ?? "unset"): it does not ask the companion who may publish, read or play back",
                detail: "", fix: "set \(wanted)")
        }
        let address = global.authHTTPAddress ?? ""
        guard let url = URLComponents(string: address), url.path == "/api/v1/mediamtx/auth", url.host != nil else {
            return Outcome(
                check: "auth callback", problem: "MediaMTX's authHTTPAddress is \"\(address)\", not the companion's auth route", detail: "",
                fix: "set \(wanted)")
        }
        if several {
            let given = url.queryItems?.first { $0.name == "node_token" }?.value
            guard let token = node.authToken, given == token else {
                return Outcome(
                    check: "auth callback",
                    problem: node.authToken == nil
                        ? "several nodes are declared and this one has no auth_token: the companion can't tell which node asks"
                        : "MediaMTX's authHTTPAddress does not carry this node's ?node_token=", detail: "",
                    fix: "give the node an auth_token in mediamtx.nodes and add ?node_token=<it> to its authHTTPAddress (docs/deployment.md)")
            }
        }
        var request = HTTPClientRequest(url: address)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(
            Data(
                #"{"user":"","password":"","ip":"127.0.0.1","action":"read","path":"mtx-companion-doctor","protocol":"rtsp","id":null,"query":""}"#
                    .utf8))
        do {
            let response = try await httpClient.execute(request, timeout: .init(config.mediamtx.requestTimeout))
            guard response.status == .unauthorized else {
                return Outcome(
                    check: "auth callback",
                    problem: "\(address) answered \(response.status.code) to a read without credentials, not 401 as the companion does",
                    detail: "", fix: "point authHTTPAddress at a running companion: \(wanted)")
            }
            return Outcome(check: "auth callback", detail: "\(address) answers (asked from this host)")
        } catch {
            return Outcome(
                check: "auth callback", problem: "\(address) is not reachable from here: \(error)", detail: "",
                fix: "start the companion (systemctl start mtx-companion), or make authHTTPAddress its address as MediaMTX reaches it")
        }
    }

    static func playback(_ node: MediaNode, _ client: MediaMTXClient) async -> Outcome {
        do {
            _ = try await client.playbackList(path: "mtx-companion-doctor")
            return Outcome(check: "playback", detail: node.playbackAddress)
        } catch {
            return Outcome(
                check: "playback", problem: "\(node.playbackAddress): \(error)", detail: "",
                fix: "set `playback: yes` in mediamtx.yml, or mediamtx.playback_address to where it listens")
        }
    }

    /// `v1.20.1-44-g8ac6…` → (1, 20).
    static func version(_ text: String) -> (Int, Int)? {
        let parts = text.drop { $0 == "v" }.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    /// When MediaMTX runs on this host, its hook command must exist here (an absolute path, or a name on PATH).
    static func hookBinaryProblem(_ config: AppConfig, _ node: MediaNode) -> String? {
        guard let host = URLComponents(string: node.apiAddress)?.host, ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) else {
            return nil
        }
        let program = String(config.mediamtx.hookCommand.split(separator: " ").first ?? "")
        let candidates =
            program.contains("/")
            ? [program] : (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/\(program)" }
        guard candidates.contains(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return "\(program) is not an executable file here (MediaMTX runs on this host)"
        }
        return nil
    }
}
