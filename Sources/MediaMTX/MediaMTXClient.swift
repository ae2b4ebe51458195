import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Typed client of MediaMTX's v3 control API (`apiAddress`, port 9997) and its playback server (`playbackAddress`, 9996).
/// The only place that knows MediaMTX's URLs and JSON.
public struct MediaMTXClient: Sendable {
    public let apiAddress: String
    public let playbackAddress: String
    let httpClient: HTTPClient
    let requestTimeout: TimeAmount
    let logger: Logger
    /// Told of every call: its operation name, how it ended (`ok`, `unavailable`, `not_found`, `rejected`) and how
    /// long it took (the server's metrics).
    let observer: (@Sendable (_ operation: String, _ outcome: String, _ elapsed: Duration) -> Void)?

    public init(
        apiAddress: String, playbackAddress: String, httpClient: HTTPClient, requestTimeout: TimeAmount, logger: Logger,
        observer: (@Sendable (_ operation: String, _ outcome: String, _ elapsed: Duration) -> Void)? = nil
    ) {
        self.apiAddress = Self.trimSlash(apiAddress)
        self.playbackAddress = Self.trimSlash(playbackAddress)
        self.httpClient = httpClient
        self.requestTimeout = requestTimeout
        self.logger = logger
        self.observer = observer
    }

    /// An HTTP client whose connect timeout is `connectTimeout`; the caller shuts it down.
    public static func makeHTTPClient(connectTimeout: TimeAmount) -> HTTPClient {
        var config = HTTPClient.Configuration()
        config.timeout = .init(connect: connectTimeout)
        config.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    // MARK: - Config paths

    public func addPath(_ name: String, _ conf: PathConf) async throws {
        try await send(.POST, api: "/v3/config/paths/add/" + Self.encodePath(name), body: conf, operation: "addPath")
    }

    public func getPathConfig(_ name: String) async throws -> PathConf {
        try await get(api: "/v3/config/paths/get/" + Self.encodePath(name), as: PathConf.self, operation: "getPathConfig")
    }

    /// Changes only the fields that are set in `conf`.
    public func patchPath(_ name: String, _ conf: PathConf) async throws {
        try await send(.PATCH, api: "/v3/config/paths/patch/" + Self.encodePath(name), body: conf, operation: "patchPath")
    }

    /// Overwrites the whole configuration: fields not set go back to MediaMTX's defaults.
    public func replacePath(_ name: String, _ conf: PathConf) async throws {
        try await send(.POST, api: "/v3/config/paths/replace/" + Self.encodePath(name), body: conf, operation: "replacePath")
    }

    public func deletePath(_ name: String) async throws {
        try await send(.DELETE, api: "/v3/config/paths/delete/" + Self.encodePath(name), body: Optional<PathConf>.none, operation: "deletePath")
    }

    public func listPathConfigs(page: Int = 0, itemsPerPage: Int = 100) async throws -> ListPage<PathConf> {
        try await get(
            api: "/v3/config/paths/list?page=\(page)&itemsPerPage=\(itemsPerPage)", as: ListPage<PathConf>.self, operation: "listPathConfigs")
    }

    public func listAllPathConfigs() async throws -> [PathConf] {
        try await allPages { try await listPathConfigs(page: $0, itemsPerPage: 500) }
    }

    // MARK: - Runtime paths

    public func getPath(_ name: String) async throws -> Path {
        try await get(api: "/v3/paths/get/" + Self.encodePath(name), as: Path.self, operation: "getPath")
    }

    public func listPaths(page: Int = 0, itemsPerPage: Int = 100) async throws -> ListPage<Path> {
        try await get(api: "/v3/paths/list?page=\(page)&itemsPerPage=\(itemsPerPage)", as: ListPage<Path>.self, operation: "listPaths")
    }

    public func listAllPaths() async throws -> [Path] {
        try await allPages { try await listPaths(page: $0, itemsPerPage: 500) }
    }

    /// True when the path has a live stream; a path MediaMTX doesn't know is simply not ready.
    public func isPathReady(_ name: String) async throws -> Bool {
        do {
            let path = try await getPath(name)
            return path.available ?? path.ready
        } catch MediaMTXError.notFound {
            return false
        }
    }

    // MARK: - Recording

    /// PATCH `record: true` with the recording settings (design §2.4).
    public func enableRecording(_ name: String, recordPath: String, recordFormat: String, segmentDuration: String) async throws {
        try await patchPath(name, PathConf(record: true, recordPath: recordPath, recordFormat: recordFormat, recordSegmentDuration: segmentDuration))
    }

    public func disableRecording(_ name: String) async throws {
        try await patchPath(name, PathConf(record: false))
    }

    public func listRecordings(page: Int = 0, itemsPerPage: Int = 100) async throws -> ListPage<Recording> {
        try await get(api: "/v3/recordings/list?page=\(page)&itemsPerPage=\(itemsPerPage)", as: ListPage<Recording>.self, operation: "listRecordings")
    }

    /// Segments of one path; MediaMTX answers an empty list (not 404) for a path with none.
    public func getRecordings(_ name: String) async throws -> Recording {
        try await get(api: "/v3/recordings/get/" + Self.encodePath(name), as: Recording.self, operation: "getRecordings")
    }

    public func deleteRecordingSegment(path: String, start: String) async throws {
        let query = "path=" + Self.encodeQuery(path) + "&start=" + Self.encodeQuery(start)
        try await send(.DELETE, api: "/v3/recordings/deletesegment?" + query, body: Optional<PathConf>.none, operation: "deleteRecordingSegment")
    }

    /// The hook commands of `pathDefaults`.
    public func getPathDefaultHooks() async throws -> HookCommands {
        try await get(api: "/v3/config/pathdefaults/get", as: HookCommands.self, operation: "getPathDefaults")
    }

    public func patchPathDefaultHooks(_ hooks: HookCommands) async throws {
        let data = try JSONEncoder().encode(hooks)
        _ = try await execute(.PATCH, url: apiAddress + "/v3/config/pathdefaults/patch", body: data, operation: "patchPathDefaults")
    }

    /// `pathDefaults` as a path configuration (record path and format, …).
    public func getPathDefaults() async throws -> PathConf {
        try await get(api: "/v3/config/pathdefaults/get", as: PathConf.self, operation: "getPathDefaults")
    }

    public func getGlobalConf() async throws -> GlobalConf {
        try await get(api: "/v3/config/global/get", as: GlobalConf.self, operation: "getGlobalConf")
    }

    public func info() async throws -> Info {
        try await get(api: "/v3/info", as: Info.self, operation: "info")
    }

    // MARK: - Playback server

    /// The playback server's `GET /list`. MediaMTX answers 400 ("no such file or directory") or 404
    /// when a path has never recorded; both come back as an empty list.
    public func playbackList(path: String, start: Date? = nil, end: Date? = nil) async throws -> [PlaybackListEntry] {
        var query = "path=" + Self.encodeQuery(path)
        if let start { query += "&start=" + Self.encodeQuery(RFC3339.format(start)) }
        if let end { query += "&end=" + Self.encodeQuery(RFC3339.format(end)) }
        do {
            return try await request(
                .GET, url: playbackAddress + "/list?" + query, body: nil, as: [PlaybackListEntry].self, operation: "playbackList")
        } catch MediaMTXError.notFound {
            return []
        } catch MediaMTXError.rejected(_, let message) where message.contains("no such file or directory") {
            return []
        }
    }

    /// The playback server's `GET /get` URL for a span (MediaMTX's playback API; `duration` in seconds).
    public func playbackURL(path: String, start: Date, duration: Double, format: String) -> String {
        Self.playbackURL(base: playbackAddress, path: path, start: start, duration: duration, format: format)
    }

    public static func playbackURL(base: String, path: String, start: Date, duration: Double, format: String) -> String {
        "\(trimSlash(base))/get?path=\(encodeQuery(path))&start=\(encodeQuery(RFC3339.format(start)))&duration=\(formatSeconds(duration))&format=\(format)"
    }

    // MARK: - Plumbing

    private func get<T: Decodable>(api path: String, as type: T.Type, operation: String) async throws -> T {
        try await request(.GET, url: apiAddress + path, body: nil, as: type, operation: operation)
    }

    private func send(_ method: HTTPMethod, api path: String, body: PathConf?, operation: String) async throws {
        let data = try body.map { try JSONEncoder().encode($0) }
        _ = try await execute(method, url: apiAddress + path, body: data, operation: operation)
    }

    private func request<T: Decodable>(_ method: HTTPMethod, url: String, body: Data?, as type: T.Type, operation: String) async throws -> T {
        let bytes = try await execute(method, url: url, body: body, operation: operation)
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch {
            throw MediaMTXError.badResponse("\(operation): \(error)")
        }
    }

    /// Sends one request; maps transport failures and 5xx to `unavailable`, 404 to `notFound`,
    /// "path already exists" to `conflict`, other 4xx to `rejected`.
    private func execute(_ method: HTTPMethod, url: String, body: Data?, operation: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let started = ContinuousClock.now
        let status: Int
        let data: Data
        do {
            let response = try await httpClient.execute(request, timeout: requestTimeout)
            status = Int(response.status.code)
            data = Data(buffer: try await response.body.collect(upTo: 32 << 20))
        } catch {
            observer?(operation, "unavailable", ContinuousClock.now - started)
            logger.warning("mediamtx \(operation) failed", metadata: ["url": "\(url)", "error": "\(error)"])
            throw MediaMTXError.unavailable("\(operation): \(Self.describe(error))")
        }
        let elapsed = ContinuousClock.now - started
        observer?(operation, (200..<300).contains(status) ? "ok" : status == 404 ? "not_found" : status >= 500 ? "unavailable" : "rejected", elapsed)
        logger.debug("mediamtx \(operation)", metadata: ["status": "\(status)", "elapsed": "\(elapsed)"])
        if (200..<300).contains(status) { return data }
        let message = (try? JSONDecoder().decode(ErrorBody.self, from: data))?.error ?? String(decoding: data.prefix(200), as: UTF8.self)
        switch status {
        case 404: throw MediaMTXError.notFound(message)
        case 500...: throw MediaMTXError.unavailable("\(operation): MediaMTX answered \(status): \(message)")
        case 400 where message.contains("already exists"): throw MediaMTXError.conflict(message)
        default: throw MediaMTXError.rejected(status: status, message: message)
        }
    }

    private func allPages<T>(_ fetch: (Int) async throws -> ListPage<T>) async throws -> [T] {
        var items: [T] = []
        var page = 0
        while true {
            let result = try await fetch(page)
            items += result.items
            page += 1
            if page >= result.pageCount || result.items.isEmpty { return items }
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout: return "request timed out"
            case .connectTimeout: return "connect timed out"
            default: return "\(e)"
            }
        }
        return "\(error)"
    }

    // MARK: - Encoding

    /// Path names hold `/` (`live/cam-1a2b3c4d`): keep it plain, as MediaMTX expects, and escape anything else unusual.
    static func encodePath(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: pathAllowed) ?? name
    }

    static func encodeQuery(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? value
    }

    static func formatSeconds(_ seconds: Double) -> String {
        if seconds == seconds.rounded() { return String(Int(seconds)) }
        var s = String(format: "%.6f", seconds)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }

    static func trimSlash(_ s: String) -> String {
        var s = s
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }

    private static let pathAllowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")
    private static let queryAllowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}
