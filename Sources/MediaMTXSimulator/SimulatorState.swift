import Foundation

/// What MediaMTX would answer: a status code and a JSON body.
public struct SimResponse: Sendable {
    public var status: Int
    public var body: JSONValue

    static func ok() -> SimResponse { SimResponse(status: 200, body: .object([("status", .string("ok"))])) }
    static func error(_ status: Int, _ message: String) -> SimResponse {
        SimResponse(status: status, body: .object([("status", .string("error")), ("error", .string(message))]))
    }
}

/// How the simulated MediaMTX misbehaves, so tests can cover 503s and timeouts.
public enum SimMode: Sendable, Equatable {
    case normal
    /// Every API and playback request answers this status (e.g. 500).
    case failing(status: Int)
    /// Requests never get an answer (until the client gives up).
    case hanging
    /// Requests are answered after a delay.
    case slow(Duration)
}

/// A stream being published on a path (or pulled by MediaMTX from its source).
public struct SimPublisher: Sendable {
    public var sourceType: String
    public var sourceID: String
    public var tracks: [String]
    public var since: Date
    public var inboundBytes: UInt64
}

public struct SimReader: Sendable {
    public var type: String
    public var id: String
}

public struct SimSegment: Sendable {
    public var start: Date
    public var duration: Double
    /// The file, for segments recorded with ffmpeg (`record`); nil for ones only declared (`addSegment`).
    public var file: String? = nil
}

/// A request the simulator received, for tests that check what the companion sent.
public struct SimRequest: Sendable {
    public var method: String
    public var path: String
    public var body: JSONValue?
}

/// In-memory state of the simulated MediaMTX.
public actor SimulatorState {
    public struct Options: Sendable {
        public var recordPath: String
        public var recordSegmentDuration: String
        public var recordDeleteAfter: String
        /// The ffmpeg that makes segment files.
        public var ffmpeg: String
        public init(
            recordPath: String = "./recordings/%path/%Y-%m-%d_%H-%M-%S-%f", recordSegmentDuration: String = "1h", recordDeleteAfter: String = "1d",
            ffmpeg: String = "ffmpeg"
        ) {
            self.recordPath = recordPath
            self.recordSegmentDuration = recordSegmentDuration
            self.recordDeleteAfter = recordDeleteAfter
            self.ffmpeg = ffmpeg
        }
    }

    public private(set) var mode: SimMode = .normal
    public private(set) var started = Date()
    public private(set) var requests: [SimRequest] = []
    var pathDefaults: [(String, JSONValue)]
    /// GlobalConf (GlobalConf.swift); filled with the listen addresses when the servers start.
    var globalConf: [(String, JSONValue)]
    /// Configured paths by name; each holds every field of PathConf.
    var paths: [String: [(String, JSONValue)]] = [:]
    var publishers: [String: SimPublisher] = [:]
    var readers: [String: [SimReader]] = [:]
    var recordings: [String: [SimSegment]] = [:]
    let options: Options
    var hookEnvironment: [String: String] = [:]
    var hookRuns: [Task<Void, Never>] = []
    /// How many hook processes were started, and the ones that could not be.
    public internal(set) var hooksStarted = 0
    public internal(set) var hookFailures: [String] = []

    public init(options: Options = Options()) {
        self.options = options
        pathDefaults = PathConfSchema.fields.map { field in
            switch field.name {
            case "recordPath": return (field.name, .string(options.recordPath))
            case "recordSegmentDuration": return (field.name, .string(options.recordSegmentDuration))
            case "recordDeleteAfter": return (field.name, .string(options.recordDeleteAfter))
            default: return (field.name, field.defaultValue)
            }
        }
        paths["all_others"] = [("name", .string("all_others"))] + pathDefaults
        globalConf = GlobalConfSchema.fields(apiAddress: ":9997", playbackAddress: ":9996").map { ($0.0, $0.2) }
    }

    // MARK: - Test controls

    public func setMode(_ mode: SimMode) { self.mode = mode }

    func log(_ request: SimRequest) { requests.append(request) }

    /// Names of the configured paths, `all_others` excluded.
    public func configuredPathNames() -> [String] { paths.keys.filter { $0 != "all_others" }.sorted() }

    public func pathConfig(_ name: String) -> JSONValue? { paths[name].map { .object($0) } }

    /// A publisher starts: runOnAvailable (runOnReady) and runOnOnline fire.
    public func publish(path: String, sourceType: String = "rtspSession", tracks: [String] = ["H264", "MPEG-4 Audio"]) {
        let publisher = SimPublisher(
            sourceType: sourceType, sourceID: UUID().uuidString.lowercased(), tracks: tracks, since: Date(), inboundBytes: 204_876)
        publishers[path] = publisher
        let vars = ["MTX_QUERY": "", "MTX_SOURCE_TYPE": sourceType, "MTX_SOURCE_ID": publisher.sourceID]
        fireHook("runOnAvailable", path: path, vars)
        fireHook("runOnOnline", path: path, vars)
    }

    /// The publisher leaves: readers go, runOnUnavailable and runOnOffline fire.
    public func unpublish(path: String) {
        guard let publisher = publishers.removeValue(forKey: path) else { return }
        for reader in readers.removeValue(forKey: path) ?? [] {
            fireHook("runOnUnread", path: path, ["MTX_QUERY": "", "MTX_READER_TYPE": reader.type, "MTX_READER_ID": reader.id])
        }
        let vars = ["MTX_QUERY": "", "MTX_SOURCE_TYPE": publisher.sourceType, "MTX_SOURCE_ID": publisher.sourceID]
        fireHook("runOnUnavailable", path: path, vars)
        fireHook("runOnOffline", path: path, vars)
    }

    @discardableResult
    public func addReader(path: String, type: String = "webRTCSession") -> String {
        let id = UUID().uuidString.lowercased()
        readers[path, default: []].append(SimReader(type: type, id: id))
        fireHook("runOnRead", path: path, ["MTX_QUERY": "", "MTX_READER_TYPE": type, "MTX_READER_ID": id])
        return id
    }

    public func removeReader(path: String, id: String) {
        guard let reader = readers[path]?.first(where: { $0.id == id }) else { return }
        readers[path]?.removeAll { $0.id == id }
        fireHook("runOnUnread", path: path, ["MTX_QUERY": "", "MTX_READER_TYPE": reader.type, "MTX_READER_ID": reader.id])
    }

    /// Starts of the segments MediaMTX has on disk for `path`, oldest first.
    public func segmentStarts(path: String) -> [Date] {
        (recordings[path] ?? []).map(\.start)
    }

    public func addSegment(path: String, start: Date, duration: Double) {
        recordings[path, default: []].append(SimSegment(start: start, duration: duration))
        recordings[path]?.sort { $0.start < $1.start }
    }

    /// MediaMTX restarted: paths added through the API are gone (they live in memory only), streams dropped.
    public func restart() {
        paths = ["all_others": paths["all_others"]!]
        publishers = [:]
        readers = [:]
        started = Date()
    }

    // MARK: - Config API

    func info() -> SimResponse {
        SimResponse(status: 200, body: .object([("version", .string("v1.20.1-sim")), ("started", .string(Self.goTime(started)))]))
    }

    public func getPathDefaults() -> SimResponse {
        SimResponse(status: 200, body: .object([("name", .string(""))] + pathDefaults))
    }

    func patchPathDefaults(_ body: Data) -> SimResponse {
        switch decode(body) {
        case .failure(let r): return r
        case .success(let fields):
            if let r = validate(fields, name: nil) { return r }
            pathDefaults = merge(pathDefaults, fields)
            return .ok()
        }
    }

    func listPathConfigs(query: [String: String]) -> SimResponse {
        let all = paths.keys.sorted().map { JSONValue.object(paths[$0]!) }
        return paginate(all, query: query)
    }

    func getPathConfig(_ name: String) -> SimResponse {
        guard let conf = paths[name] else { return .error(404, "path configuration not found") }
        return SimResponse(status: 200, body: .object(conf))
    }

    public func addPath(_ name: String, body: Data) -> SimResponse {
        switch decode(body) {
        case .failure(let r): return r
        case .success(let fields):
            if paths[name] != nil { return .error(400, "path already exists") }
            if let r = validate(fields, name: name) { return r }
            paths[name] = [("name", .string(name))] + merge(pathDefaults, fields)
            return .ok()
        }
    }

    func patchPath(_ name: String, body: Data) -> SimResponse {
        switch decode(body) {
        case .failure(let r): return r
        case .success(let fields):
            guard let current = paths[name] else { return .error(404, "path not found") }
            if let r = validate(fields, name: name) { return r }
            paths[name] = merge(current, fields)
            return .ok()
        }
    }

    func replacePath(_ name: String, body: Data) -> SimResponse {
        switch decode(body) {
        case .failure(let r): return r
        case .success(let fields):
            guard paths[name] != nil else { return .error(404, "path not found") }
            if let r = validate(fields, name: name) { return r }
            paths[name] = [("name", .string(name))] + merge(pathDefaults, fields)
            return .ok()
        }
    }

    public func deletePath(_ name: String) -> SimResponse {
        guard paths[name] != nil, name != "all_others" else { return .error(404, "path not found") }
        paths[name] = nil
        return .ok()
    }

    // MARK: - Runtime paths

    func listPaths(query: [String: String]) -> SimResponse {
        let names = Set(configuredPathNames()).union(publishers.keys).sorted()
        return paginate(names.map(runtimePath), query: query)
    }

    func getPath(_ name: String) -> SimResponse {
        guard paths[name] != nil || publishers[name] != nil, name != "all_others" else { return .error(404, "path not found") }
        return SimResponse(status: 200, body: runtimePath(name))
    }

    func runtimePath(_ name: String) -> JSONValue {
        let publisher = publishers[name]
        let since: JSONValue = publisher.map { .string(Self.goTime($0.since)) } ?? .null
        let live = JSONValue.bool(publisher != nil)
        let tracks = publisher?.tracks ?? []
        let bytes = JSONValue.number(Double(publisher?.inboundBytes ?? 0))
        return .object([
            ("name", .string(name)),
            ("confName", .string(paths[name] != nil ? name : "all_others")),
            ("ready", live), ("readyTime", since),
            ("available", live), ("availableTime", since),
            ("online", live), ("onlineTime", since),
            ("source", publisher.map { .object([("type", .string($0.sourceType)), ("id", .string($0.sourceID))]) } ?? .null),
            ("tracks", .array(tracks.map { .string($0) })),
            ("tracks2", .array(tracks.map { .object([("codec", .string($0)), ("codecProps", .null)]) })),
            ("readers", .array((readers[name] ?? []).map { .object([("type", .string($0.type)), ("id", .string($0.id))]) })),
            ("inboundBytes", bytes), ("outboundBytes", .number(0)), ("inboundFramesInError", .number(0)),
            ("bytesReceived", bytes), ("bytesSent", .number(0)),
        ])
    }

    // MARK: - Recordings

    /// Only the page asked for is rendered: a node with thousands of paths and their segments answers each page quickly.
    func listRecordings(query: [String: String]) -> SimResponse {
        let names = recordings.keys.sorted().filter { !(recordings[$0] ?? []).isEmpty }
        return paginate(count: names.count, query: query) { recording(names[$0]) }
    }

    func getRecordings(_ name: String) -> SimResponse {
        SimResponse(status: 200, body: recording(name))
    }

    func recording(_ name: String) -> JSONValue {
        .object([
            ("name", .string(name)),
            ("segments", .array((recordings[name] ?? []).map { .object([("start", .string(Self.goTime($0.start)))]) })),
        ])
    }

    func deleteSegment(query: [String: String]) -> SimResponse {
        guard let path = query["path"], !path.isEmpty else { return .error(400, "invalid path") }
        guard let startText = query["start"], let start = Self.parseTime(startText) else {
            return .error(400, "invalid 'start' parameter")
        }
        guard let index = recordings[path]?.firstIndex(where: { abs($0.start.timeIntervalSince(start)) < 0.000_001 }) else {
            return .error(400, "remove \(segmentFile(path: path, start: start)): no such file or directory")
        }
        recordings[path]?.remove(at: index)
        return .ok()
    }

    /// Playback server `GET /list`: spans of contiguous segments (gap under 1 s).
    func playbackList(query: [String: String], host: String) -> SimResponse {
        guard let path = query["path"], !path.isEmpty else { return .error(400, "invalid path") }
        guard let segments = recordings[path], !segments.isEmpty else {
            return .error(400, "lstat \(recordDirectory(path)): no such file or directory")
        }
        let from = query["start"].flatMap(Self.parseTime)
        let to = query["end"].flatMap(Self.parseTime)
        var spans: [(start: Date, duration: Double)] = []
        for segment in segments {
            if let last = spans.last, segment.start.timeIntervalSince(last.start.addingTimeInterval(last.duration)) < 1 {
                spans[spans.count - 1].duration = max(last.duration, segment.start.timeIntervalSince(last.start) + segment.duration)
            } else {
                spans.append((segment.start, segment.duration))
            }
        }
        spans = spans.filter { span in
            (from.map { span.start.addingTimeInterval(span.duration) > $0 } ?? true) && (to.map { span.start < $0 } ?? true)
        }
        guard !spans.isEmpty else { return .error(404, "no recordings found") }
        let items: [JSONValue] = spans.map { span in
            let start = Self.goTime(span.start)
            let encodedPath = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path
            let encodedStart = start.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-."))) ?? start
            return .object([
                ("start", .string(start)),
                ("duration", .number(span.duration)),
                ("url", .string("http://\(host)/get?duration=\(span.duration)&path=\(encodedPath)&start=\(encodedStart)")),
            ])
        }
        return SimResponse(status: 200, body: .array(items))
    }

    /// What playback `/get` serves: the recorded files of the contiguous segments (gap under 1 s, as `/list` joins
    /// them) from the first one overlapping the span, and where in them the span starts.
    struct PlaybackCut: Sendable {
        var files: [String]
        var offset: Double
        var duration: Double
        var mp4: Bool
    }

    /// Playback `/get` (playback.openapi.yaml): 400 without path, start or duration, 404 "no recordings found" when no
    /// segment overlaps, else the files to cut from (none for declared-only segments: an empty body).
    func playbackGet(query: [String: String]) -> (status: Int, cut: PlaybackCut?, error: String?) {
        guard let path = query["path"], !path.isEmpty else { return (400, nil, "invalid path") }
        guard let start = query["start"].flatMap(Self.parseTime) else { return (400, nil, "invalid start") }
        guard let duration = query["duration"].flatMap(Double.init), duration > 0 else { return (400, nil, "invalid duration") }
        let end = start.addingTimeInterval(duration)
        let segments = recordings[path] ?? []
        guard let first = segments.firstIndex(where: { $0.start < end && $0.start.addingTimeInterval($0.duration) > start }) else {
            return (404, nil, "no recordings found")
        }
        var run = [segments[first]]
        for s in segments[(first + 1)...] {
            let last = run[run.count - 1]
            guard s.start < end, s.start.timeIntervalSince(last.start.addingTimeInterval(last.duration)) < 1 else { break }
            run.append(s)
        }
        let files = run.compactMap(\.file)
        guard files.count == run.count else { return (200, nil, nil) }
        let offset = max(0, start.timeIntervalSince(run[0].start))
        return (200, PlaybackCut(files: files, offset: offset, duration: duration, mp4: query["format"] == "mp4"), nil)
    }

    func recordDirectory(_ path: String) -> String {
        let pattern = options.recordPath
        let upToPath = pattern.range(of: "%path").map { String(pattern[..<$0.upperBound]) } ?? pattern
        return upToPath.replacingOccurrences(of: "%path", with: path)
    }

    func segmentFile(path: String, start: Date) -> String {
        let name = Self.fileName(pattern: options.recordPath, path: path, start: start)
        let format = pathDefaults.first { $0.0 == "recordFormat" }?.1.stringValue ?? "fmp4"
        return name + (format == "mpegts" ? ".ts" : ".mp4")
    }

    // MARK: - Helpers

    enum Decoded {
        case success([(String, JSONValue)])
        case failure(SimResponse)
    }

    /// Decodes a PathConf body the way MediaMTX does: unknown fields and wrong types are 400s.
    func decode(_ body: Data) -> Decoded {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            return .failure(.error(400, error.message))
        }
        guard case .object(let pairs) = value else {
            return .failure(.error(400, "json: cannot unmarshal \(value.goTypeName) into Go value of type conf.OptionalPath"))
        }
        var out: [(String, JSONValue)] = []
        for (key, v) in pairs {
            if key == "name" { continue }
            guard let kind = PathConfSchema.kinds[key] ?? PathConfSchema.deprecated[key] else {
                return .failure(.error(400, "json: unknown field \"\(key)\""))
            }
            guard kind.accepts(v) else {
                return .failure(.error(400, "json: cannot unmarshal \(v.goTypeName) into Go struct field OptionalPath.\(key) of type \(kind.goName)"))
            }
            if let target = PathConfSchema.aliases[key] {
                out.append((target, v))
            } else if PathConfSchema.kinds[key] != nil, v != .null {
                out.append((key, v))
            }
        }
        return .success(out)
    }

    func validate(_ fields: [(String, JSONValue)], name: String?) -> SimResponse? {
        if let name, let message = PathConfSchema.pathNameError(name) { return .error(400, message) }
        for (key, value) in fields {
            switch key {
            case "source":
                if let s = value.stringValue, !PathConfSchema.isValidSource(s) { return .error(400, "invalid source: '\(s)'") }
            case "recordFormat":
                if let s = value.stringValue, !["fmp4", "mpegts"].contains(s) { return .error(400, "invalid record format '\(s)'") }
            case "recordSegmentDuration", "recordPartDuration", "recordDeleteAfter", "sourceOnDemandStartTimeout", "sourceOnDemandCloseAfter":
                if let s = value.stringValue, !PathConfSchema.isGoDuration(s) { return .error(400, "time: invalid duration \"\(s)\"") }
            case "recordPath":
                if let s = value.stringValue, !s.contains("%path") { return .error(400, "'recordPath' must contain %path") }
            default: break
            }
        }
        return nil
    }

    func merge(_ base: [(String, JSONValue)], _ fields: [(String, JSONValue)]) -> [(String, JSONValue)] {
        var out = base
        for (key, value) in fields {
            if let i = out.firstIndex(where: { $0.0 == key }) { out[i].1 = value } else { out.append((key, value)) }
        }
        return out
    }

    /// `page` (from 0) and `itemsPerPage` (default 100), answered as `{itemCount, pageCount, items}`.
    func paginate(_ items: [JSONValue], query: [String: String]) -> SimResponse {
        paginate(count: items.count, query: query) { items[$0] }
    }

    /// A page of `count` items, `item(i)` rendering the i-th.
    func paginate(count: Int, query: [String: String], item: (Int) -> JSONValue) -> SimResponse {
        var page = 0
        var perPage = 100
        if let p = query["page"] {
            guard let v = Int(p), v >= 0 else { return .error(400, "invalid page") }
            page = v
        }
        if let p = query["itemsPerPage"] {
            guard let v = Int(p), v > 0 else { return .error(400, "invalid items per page") }
            perPage = v
        }
        let pageCount = (count + perPage - 1) / perPage
        let slice = page * perPage < count ? ((page * perPage)..<min(count, (page + 1) * perPage)).map(item) : []
        return SimResponse(
            status: 200,
            body: .object([
                ("itemCount", .number(Double(count))), ("pageCount", .number(Double(pageCount))), ("items", .array(slice)),
            ]))
    }

    /// Go's `time.Time` JSON form in UTC with microseconds, as MediaMTX writes segment starts.
    static func goTime(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        var frac = String(format: "%06d", micros - seconds * 1_000_000)
        while frac.hasSuffix("0") { frac.removeLast() }
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            + (frac.isEmpty ? "" : "." + frac) + "Z"
    }

    /// RFC 3339 in UTC (`Z`), with or without a fraction, as MediaMTX's API accepts.
    static func parseTime(_ s: String) -> Date? {
        guard s.hasSuffix("Z") || s.hasSuffix("z") else { return nil }
        let body = s.dropLast()
        let parts = body.split(separator: ".", maxSplits: 1)
        guard let whole = try? Date.ISO8601FormatStyle().parse(String(parts[0]) + "Z") else { return nil }
        guard parts.count == 2 else { return whole }
        guard !parts[1].isEmpty, parts[1].allSatisfy(\.isNumber), let fraction = Double("0." + parts[1]) else { return nil }
        return whole.addingTimeInterval(fraction)
    }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        return calendar
    }()
}
