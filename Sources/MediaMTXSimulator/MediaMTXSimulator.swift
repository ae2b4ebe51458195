import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import ServiceLifecycle

/// A MediaMTX stand-in for tests: the v3 control API and the playback server on two loopback ports,
/// answering with MediaMTX's status codes and bodies (../shared/reference/mediamtx), plus `/_sim/*` controls.
public actor MediaMTXSimulator {
    /// MediaMTX's path-name rule: why `name` would be refused, or nil.
    public static func pathNameError(_ name: String) -> String? { PathConfSchema.pathNameError(name) }

    public nonisolated let state: SimulatorState
    public private(set) var apiPort = 0
    public private(set) var playbackPort = 0
    private var groups: [ServiceGroup] = []
    private var tasks: [Task<Void, any Error>] = []
    private let logger: Logger

    public init(options: SimulatorState.Options = .init(), logLevel: Logger.Level = .warning) {
        state = SimulatorState(options: options)
        var logger = Logger(label: "mediamtx-sim")
        logger.logLevel = logLevel
        self.logger = logger
    }

    public var apiURL: String { "http://127.0.0.1:\(apiPort)" }
    public var playbackURL: String { "http://127.0.0.1:\(playbackPort)" }

    /// Starts both servers; port 0 picks a free port.
    public func start(host: String = "127.0.0.1", apiPort: Int = 0, playbackPort: Int = 0) async throws {
        self.apiPort = try await serve(Self.apiRouter(state: state), host: host, port: apiPort, name: "api")
        self.playbackPort = try await serve(Self.playbackRouter(state: state), host: host, port: playbackPort, name: "playback")
        await state.setListenAddresses(api: "\(host):\(self.apiPort)", playback: "\(host):\(self.playbackPort)")
    }

    public func stop() async {
        await state.setMode(.normal)
        for group in groups { await group.triggerGracefulShutdown() }
        for task in tasks { _ = try? await task.value }
        tasks = []
        groups = []
    }

    /// Runs `body` with a started simulator and stops it afterwards.
    public static func with<T: Sendable>(
        options: SimulatorState.Options = .init(), _ body: (MediaMTXSimulator) async throws -> T
    ) async throws -> T {
        let sim = MediaMTXSimulator(options: options)
        try await sim.start()
        do {
            let result = try await body(sim)
            await sim.stop()
            return result
        } catch {
            await sim.stop()
            throw error
        }
    }

    private func serve(_ router: Router<BasicRequestContext>, host: String, port: Int, name: String) async throws -> Int {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = self.logger
        logger[metadataKey: "server"] = "\(name)"
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "mediamtx-sim"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        groups.append(group)
        tasks.append(Task { try await group.run() })
        for await bound in stream { return bound }
        throw CancellationError()
    }

    // MARK: - Routes

    static func apiRouter(state: SimulatorState) -> Router<BasicRequestContext> {
        let router = Router()
        addControls(to: router, state: state)
        let api = router.group("v3").add(middleware: SimModeMiddleware(state: state))
        api.get("info") { _, _ in respond(await state.info()) }
        api.get("config/global/get") { _, _ in respond(await state.getGlobalConf()) }
        api.patch("config/global/patch") { request, _ in respond(await state.patchGlobalConf(try await body(request))) }
        api.get("config/pathdefaults/get") { _, _ in respond(await state.getPathDefaults()) }
        api.patch("config/pathdefaults/patch") { request, _ in respond(await state.patchPathDefaults(try await body(request))) }
        api.get("config/paths/list") { request, _ in respond(await state.listPathConfigs(query: query(request))) }
        api.get("config/paths/get/**") { _, context in respond(await state.getPathConfig(pathName(context))) }
        api.post("config/paths/add/**") { request, context in
            respond(await state.addPath(pathName(context), body: try await body(request)))
        }
        api.patch("config/paths/patch/**") { request, context in
            respond(await state.patchPath(pathName(context), body: try await body(request)))
        }
        api.post("config/paths/replace/**") { request, context in
            respond(await state.replacePath(pathName(context), body: try await body(request)))
        }
        api.delete("config/paths/delete/**") { _, context in respond(await state.deletePath(pathName(context))) }
        api.get("paths/list") { request, _ in respond(await state.listPaths(query: query(request))) }
        api.get("paths/get/**") { _, context in respond(await state.getPath(pathName(context))) }
        api.get("recordings/list") { request, _ in respond(await state.listRecordings(query: query(request))) }
        api.get("recordings/get/**") { _, context in respond(await state.getRecordings(pathName(context))) }
        api.delete("recordings/deletesegment") { request, _ in respond(await state.deleteSegment(query: query(request))) }
        return router
    }

    static func playbackRouter(state: SimulatorState) -> Router<BasicRequestContext> {
        let router = Router()
        let playback = router.group().add(middleware: SimModeMiddleware(state: state))
        playback.get("list") { request, _ in
            respond(await state.playbackList(query: query(request), host: request.head.authority ?? "127.0.0.1:9996"))
        }
        playback.get("get") { request, _ in
            let answer = await state.playbackGet(query: query(request))
            if let error = answer.error { return respond(.error(answer.status, error)) }
            var body = Data()
            if let cut = answer.cut { body = try await state.cut(cut) }
            return Response(
                status: .ok, headers: [.contentType: "video/mp4", .acceptRanges: "none"],
                body: .init(byteBuffer: ByteBuffer(bytes: body))
            )
        }
        return router
    }

    /// `/_sim/*`: test controls, never affected by the failure mode.
    static func addControls(to router: Router<BasicRequestContext>, state: SimulatorState) {
        struct ModeBody: Decodable {
            var mode: String
            var status: Int?
            var delay_ms: Int?
        }
        struct PathBody: Decodable {
            var path: String
            var source_type: String?
            var tracks: [String]?
            var type: String?
            var id: String?
        }
        struct SegmentBody: Decodable {
            var path: String
            var start: String
            var duration: Double
        }
        let sim = router.group("_sim")
        sim.post("mode") { request, context in
            let b = try await request.decode(as: ModeBody.self, context: context)
            switch b.mode {
            case "normal": await state.setMode(.normal)
            case "failing": await state.setMode(.failing(status: b.status ?? 500))
            case "hanging": await state.setMode(.hanging)
            case "slow": await state.setMode(.slow(.milliseconds(b.delay_ms ?? 1000)))
            default: throw HTTPError(.badRequest, message: "mode: normal|failing|hanging|slow")
            }
            return respond(.ok())
        }
        sim.post("publish") { request, context in
            let b = try await request.decode(as: PathBody.self, context: context)
            await state.publish(path: b.path, sourceType: b.source_type ?? "rtspSession", tracks: b.tracks ?? ["H264", "MPEG-4 Audio"])
            return respond(.ok())
        }
        sim.post("unpublish") { request, context in
            await state.unpublish(path: try await request.decode(as: PathBody.self, context: context).path)
            return respond(.ok())
        }
        sim.post("readers/add") { request, context in
            let b = try await request.decode(as: PathBody.self, context: context)
            let id = await state.addReader(path: b.path, type: b.type ?? "webRTCSession")
            return respond(SimResponse(status: 200, body: .object([("id", .string(id))])))
        }
        sim.post("readers/remove") { request, context in
            let b = try await request.decode(as: PathBody.self, context: context)
            await state.removeReader(path: b.path, id: b.id ?? "")
            return respond(.ok())
        }
        sim.post("segments") { request, context in
            let b = try await request.decode(as: SegmentBody.self, context: context)
            guard let start = SimulatorState.parseTime(b.start) else { throw HTTPError(.badRequest, message: "start: RFC 3339 UTC") }
            await state.addSegment(path: b.path, start: start, duration: b.duration)
            return respond(.ok())
        }
        struct RecordBody: Decodable {
            var path: String
            var segments: Int?
            var duration: Double?
        }
        sim.post("record") { request, context in
            let b = try await request.decode(as: RecordBody.self, context: context)
            let files = try await state.record(path: b.path, count: b.segments ?? 1, duration: b.duration ?? 2)
            return respond(SimResponse(status: 200, body: .object([("files", .array(files.map { .string($0) }))])))
        }
        sim.post("hook-environment") { request, context in
            await state.setHookEnvironment(try await request.decode(as: [String: String].self, context: context))
            return respond(.ok())
        }
        sim.post("restart") { _, _ in
            await state.restart()
            return respond(.ok())
        }
    }

    // MARK: - Helpers

    static func respond(_ r: SimResponse) -> Response {
        Response(
            status: .init(code: r.status),
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: r.body.serialized()))
        )
    }

    /// The `{name}` of `/v3/.../{name}`: slashes kept, `%2F` and other escapes decoded.
    static func pathName(_ context: BasicRequestContext) -> String {
        let raw = context.parameters.get(String(Parameters.recursiveCaptureKey)) ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    static func query(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in request.uri.queryParameters where out[String(k)] == nil { out[String(k)] = String(v) }
        return out
    }

    static func body(_ request: Request) async throws -> Data {
        var request = request
        return Data(buffer: try await request.collectBody(upTo: 1 << 20))
    }
}

/// Applies the simulator's failure mode and records each request it lets through.
struct SimModeMiddleware: RouterMiddleware {
    let state: SimulatorState

    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws
        -> Response
    {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        await state.log(
            SimRequest(
                method: request.method.rawValue,
                path: request.uri.string,
                body: body.readableBytes > 0 ? try? JSONValue.parse(Data(buffer: body)) : nil
            ))
        switch await state.mode {
        case .normal:
            break
        case .failing(let status):
            return MediaMTXSimulator.respond(.error(status, "simulated failure"))
        case .slow(let delay):
            try await Task.sleep(for: delay)
        case .hanging:
            // Hold the request until the mode changes (or the simulator stops), never answering in time.
            while await state.mode == .hanging { try await Task.sleep(for: .milliseconds(50)) }
        }
        return try await next(request, context)
    }
}
