import HookWire

// mtx-hook: run by MediaMTX on stream events; reports each event to the companion over HTTP.
// Small and fast on purpose: Glibc and the standard library only (no Foundation, no NIO), statically linked.
// It never blocks MediaMTX for long: one overall deadline; when the companion can't take the event, it is
// spooled to disk (temp file, fsync, rename) and delivered by the next run or by `mtx-hook flush`.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

// MARK: - Small helpers

func env(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}

func printError(_ message: String) {
    let line = "mtx-hook: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

func usage(_ message: String) -> Never {
    printError(message)
    exit(2)
}

func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// RFC 3339 UTC with microseconds, from this host's clock.
func nowRFC3339() -> (text: String, nanos: Int) {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    var t = ts.tv_sec
    var tm = tm()
    gmtime_r(&t, &tm)
    let text =
        "\(pad(Int(tm.tm_year) + 1900, 4))-\(pad(Int(tm.tm_mon) + 1, 2))-\(pad(Int(tm.tm_mday), 2))T"
        + "\(pad(Int(tm.tm_hour), 2)):\(pad(Int(tm.tm_min), 2)):\(pad(Int(tm.tm_sec), 2)).\(pad(Int(ts.tv_nsec) / 1000, 6))Z"
    return (text, Int(ts.tv_sec) * 1_000_000_000 + Int(ts.tv_nsec))
}

func uuid() -> String {
    var rng = SystemRandomNumberGenerator()
    var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
    bytes[6] = (bytes[6] & 0x0F) | 0x40
    bytes[8] = (bytes[8] & 0x3F) | 0x80
    let hex = bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }
    return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-" + hex[8..<10].joined() + "-" + hex[10..<16].joined()
}

/// Seconds from MediaMTX's decimal string (`2.047029477`), or a Go duration (`1m0.5s`); never negative.
func parseSeconds(_ text: String) -> Double? {
    if let v = Double(text), v.isFinite, v >= 0 { return v }
    return GoDuration.seconds(text).flatMap { $0 >= 0 ? $0 : nil }
}

func monotonicMillis() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int(ts.tv_sec) * 1000 + Int(ts.tv_nsec) / 1_000_000
}

// MARK: - Files

func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
        if n < 0, errno == EINTR { continue }
        guard n >= 0 else { return nil }
        if n == 0 { return out }
        out += buffer[0..<n]
    }
}

func fileSize(_ path: String) -> Int? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return Int(st.st_size)
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
        if n < 0, errno == EINTR { continue }
        guard n > 0 else { return false }
        offset += n
    }
    return true
}

/// Creates the directory and its parents (mode 0700 for new ones).
func makeDirectories(_ path: String) {
    var current = ""
    for part in path.split(separator: "/", omittingEmptySubsequences: false) {
        current += (current.isEmpty && path.hasPrefix("/") ? "" : (current.isEmpty ? "" : "/")) + part
        if current.isEmpty {
            current = "/"
            continue
        }
        mkdir(current, 0o700)
    }
}

// MARK: - Spool

struct Spool {
    let directory: String

    /// Writes the event durably: temp file, fsync, rename, fsync of the directory.
    func store(_ json: String, id: String, nanos: Int) -> Bool {
        makeDirectories(directory)
        let name = "\(pad(nanos, 20))-\(id).json"
        let temp = "\(directory)/.\(name).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return false }
        let ok = writeAll(fd, Array(json.utf8)) && fsync(fd) == 0
        close(fd)
        guard ok, rename(temp, "\(directory)/\(name)") == 0 else {
            unlink(temp)
            return false
        }
        let dirfd = open(directory, O_RDONLY)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
        return true
    }

    /// Spooled event files, oldest first (names start with the time they were spooled).
    func pending() -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if !name.hasPrefix("."), name.hasSuffix(".json") { names.append(name) }
        }
        return names.sorted()
    }
}

// MARK: - HTTP over a plain socket

struct Target {
    var host: String
    var port: String
    var prefix: String

    /// `http://host[:port][/prefix]`; only plain HTTP (the companion runs next to MediaMTX).
    init?(_ url: String) {
        guard url.hasPrefix("http://") else { return nil }
        var rest = url.dropFirst(7)
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        while path.hasSuffix("/") { path.removeLast() }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            port = after.hasPrefix(":") ? String(after.dropFirst()) : "80"
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            port = String(rest[rest.index(after: colon)...])
        } else {
            host = String(rest)
            port = "80"
        }
        prefix = path
        guard !host.isEmpty, !port.isEmpty else { return nil }
    }
}

enum Outcome {
    case delivered
    /// Unreachable, timed out, 5xx, or refused our token: keep the events for later.
    case retryLater(String)
    /// The companion refused the events themselves (4xx): keeping them would not help.
    case rejected(Int)
}

/// A numeric IPv4 address needs no resolver (and a static binary should avoid glibc's NSS where it can).
func connectNumeric(_ target: Target, deadline: Int) -> Int32? {
    var addr = sockaddr_in()
    guard inet_pton(AF_INET, target.host, &addr.sin_addr) == 1, let port = UInt16(target.port) else { return nil }
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard s >= 0 else { return -1 }
    _ = fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK)
    let r = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if r == 0 || (errno == EINPROGRESS && wait(s, Int16(POLLOUT), deadline) && socketError(s) == 0) { return s }
    close(s)
    return -1
}

/// POSTs `body`; the whole exchange must finish before `deadline` (monotonic ms).
func post(_ body: String, to target: Target, token: String?, deadline: Int) -> Outcome {
    if let fd = connectNumeric(target, deadline: deadline) {
        guard fd >= 0 else { return .retryLater("cannot connect to \(target.host):\(target.port)") }
        defer { close(fd) }
        return exchange(fd, body, target, token, deadline)
    }
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(target.host, target.port, &hints, &list) == 0, let first = list else { return .retryLater("cannot resolve \(target.host)") }
    defer { freeaddrinfo(list) }

    var fd: Int32 = -1
    var node: UnsafeMutablePointer<addrinfo>? = first
    while let ai = node, fd < 0 {
        node = ai.pointee.ai_next
        let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard s >= 0 else { continue }
        _ = fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK)
        if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0
            || (errno == EINPROGRESS && wait(s, Int16(POLLOUT), deadline) && socketError(s) == 0)
        {
            fd = s
        } else {
            close(s)
        }
    }
    guard fd >= 0 else { return .retryLater("cannot connect to \(target.host):\(target.port)") }
    defer { close(fd) }
    return exchange(fd, body, target, token, deadline)
}

/// Several companions (`MTX_COMPANION_URL=http://a:8080,http://b:8080`, instances sharing one catalogue): the first
/// one tried is picked by this process's id, so that hooks spread over the instances; on a connection failure, a
/// timeout, a 5xx or a refused token the next one is tried, each with an equal share of the time left. A 4xx refusal
/// of the events themselves is the answer (every instance would give it).
func post(_ body: String, to targets: [Target], token: String?, deadline: Int) -> Outcome {
    var reasons: [String] = []
    let first = Int(getpid()) % targets.count
    for attempt in 0..<targets.count {
        let target = targets[(first + attempt) % targets.count]
        let share = (deadline - monotonicMillis()) / (targets.count - attempt)
        guard share > 0 else { break }
        switch post(body, to: target, token: token, deadline: monotonicMillis() + share) {
        case .retryLater(let why): reasons.append(targets.count > 1 ? "\(target.host):\(target.port): \(why)" : why)
        case let outcome: return outcome
        }
    }
    return .retryLater(reasons.isEmpty ? "no time left" : reasons.joined(separator: "; "))
}

/// Sends the request on a connected socket and reads the status line.
func exchange(_ fd: Int32, _ body: String, _ target: Target, _ token: String?, _ deadline: Int) -> Outcome {
    var request = "POST \(target.prefix)\(HookJSON.endpoint) HTTP/1.1\r\nHost: \(target.host):\(target.port)\r\n"
    request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
    if let token { request += "Authorization: Bearer \(token)\r\n" }
    request += "\r\n" + body
    let bytes = Array(request.utf8)
    var offset = 0
    while offset < bytes.count {
        guard wait(fd, Int16(POLLOUT), deadline) else { return .retryLater("timed out sending") }
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
        if n < 0, errno == EINTR || errno == EAGAIN { continue }
        guard n > 0 else { return .retryLater("connection lost while sending") }
        offset += n
    }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !response.contains(10) {
        guard wait(fd, Int16(POLLIN), deadline) else { return .retryLater("timed out waiting for the answer") }
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
        if n < 0, errno == EINTR || errno == EAGAIN { continue }
        guard n > 0 else { return .retryLater("connection closed without an answer") }
        response += buffer[0..<n]
    }
    let statusLine = String(decoding: response.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
    guard statusLine.count >= 2, let code = Int(statusLine[1]) else { return .retryLater("unreadable answer") }
    switch code {
    case 200..<300: return .delivered
    case 401, 403, 408, 429, 500...: return .retryLater("answered \(code)")
    default: return .rejected(code)
    }
}

func wait(_ fd: Int32, _ events: Int16, _ deadline: Int) -> Bool {
    while true {
        let remaining = deadline - monotonicMillis()
        guard remaining > 0 else { return false }
        var p = pollfd(fd: fd, events: events, revents: 0)
        let r = poll(&p, 1, Int32(remaining))
        if r < 0, errno == EINTR { continue }
        return r > 0
    }
}

func socketError(_ fd: Int32) -> Int32 {
    var error: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
    return error
}

// MARK: - Run

/// Delivers spooled events, oldest first, in batches; stops at the first batch the companion can't take.
func flush(_ spool: Spool, _ targets: [Target], _ token: String?, _ deadline: Int) -> Bool {
    let names = spool.pending()
    var index = 0
    while index < names.count {
        let batch = Array(names[index..<min(names.count, index + 100)])
        var events: [String] = []
        var files: [String] = []
        for name in batch {
            let path = "\(spool.directory)/\(name)"
            if let bytes = readFile(path) {
                events.append(String(decoding: bytes, as: UTF8.self))
                files.append(path)
            }
        }
        if !events.isEmpty {
            switch post("{\"\(HookJSON.events)\":[" + events.joined(separator: ",") + "]}", to: targets, token: token, deadline: deadline) {
            case .delivered:
                for file in files { unlink(file) }
            case .retryLater(let why):
                printError("spool not flushed: \(why)")
                return false
            case .rejected(let code):
                // A batch the companion refuses would block every later one: set it aside, keep going.
                printError("companion refused \(files.count) spooled event(s) with \(code); moved to \(spool.directory)/rejected")
                makeDirectories("\(spool.directory)/rejected")
                for file in files {
                    let name = file.split(separator: "/").last.map(String.init) ?? file
                    rename(file, "\(spool.directory)/rejected/\(name)")
                }
            }
        }
        index += batch.count
    }
    return true
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { usage("usage: mtx-hook <available|unavailable|online|offline|read|unread|segment-create|segment-complete|flush>") }

let started = monotonicMillis()
var deadlineMillis = 2000
if let text = env(HookSettingsEnv.deadline) {
    guard let v = Int(text), v > 0 else { usage("\(HookSettingsEnv.deadline) must be a number of milliseconds, got \"\(text)\"") }
    deadlineMillis = v
}
let deadline = started + deadlineMillis
// Comma-separated, split by hand: the generic Collection.split would add to the binary and to every start.
var targets: [Target] = []
var urlsValid = true
var entry = ""
for c in (env(HookSettingsEnv.url) ?? "") + "," {
    guard c == "," else {
        entry.append(c)
        continue
    }
    if let target = Target(entry.trimmingWhitespace()) { targets.append(target) } else { urlsValid = false }
    entry = ""
}
guard urlsValid, !targets.isEmpty else {
    usage("\(HookSettingsEnv.url) must be the companion's http://host:port, or several separated by commas")
}
var token = env(HookSettingsEnv.token)
if token == nil, let file = env(HookSettingsEnv.tokenFile) {
    guard let bytes = readFile(file) else { usage("cannot read \(HookSettingsEnv.tokenFile) \(file)") }
    token = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
}
let spool = Spool(directory: env(HookSettingsEnv.spoolDirectory) ?? "/var/lib/mtx-hook/spool")

if arguments[1] == "flush" {
    exit(flush(spool, targets, token, deadline) ? 0 : 1)
}
guard let event = HookEvent(argument: arguments[1]) else { usage("unknown event \"\(arguments[1])\"") }
guard let path = env(MediaMTXEnv.path), !path.isEmpty else { usage("\(MediaMTXEnv.path) is not set: run me from a MediaMTX hook") }

let now = nowRFC3339()
let id = uuid()
var fields = [
    "\"\(HookJSON.eventID)\":\(jsonString(id))", "\"\(HookJSON.type)\":\(jsonString(event.rawValue))",
    "\"\(HookJSON.occurredAt)\":\(jsonString(now.text))", "\"\(HookJSON.path)\":\(jsonString(path))",
]
for (key, variable) in [
    (HookJSON.node, HookSettingsEnv.node), (HookJSON.query, MediaMTXEnv.query),
    (HookJSON.sourceType, MediaMTXEnv.sourceType), (HookJSON.sourceID, MediaMTXEnv.sourceID),
] {
    if let v = env(variable) { fields.append("\"\(key)\":\(jsonString(v))") }
}
if event.isReader {
    guard let readerID = env(MediaMTXEnv.readerID), !readerID.isEmpty else { usage("\(MediaMTXEnv.readerID) is not set for \(event.rawValue)") }
    fields.append("\"\(HookJSON.readerID)\":\(jsonString(readerID))")
    if let v = env(MediaMTXEnv.readerType) { fields.append("\"\(HookJSON.readerType)\":\(jsonString(v))") }
}
if event.isSegment {
    guard let segment = env(MediaMTXEnv.segmentPath), !segment.isEmpty else { usage("\(MediaMTXEnv.segmentPath) is not set for \(event.rawValue)") }
    fields.append("\"\(HookJSON.segmentPath)\":\(jsonString(segment))")
    if let size = fileSize(segment) { fields.append("\"\(HookJSON.segmentSize)\":\(size)") }
    if event == .segmentComplete {
        guard let text = env(MediaMTXEnv.segmentDuration), let seconds = parseSeconds(text) else {
            usage("\(MediaMTXEnv.segmentDuration) must be a number of seconds, got \"\(env(MediaMTXEnv.segmentDuration) ?? "")\"")
        }
        fields.append("\"\(HookJSON.segmentDuration)\":\(seconds)")
    }
}
let json = "{" + fields.joined(separator: ",") + "}"

// Earlier events first, so the companion sees them in order; if it can't take those, it can't take this one.
let reachable = flush(spool, targets, token, deadline)
let outcome: Outcome = reachable ? post(json, to: targets, token: token, deadline: deadline) : .retryLater("companion unreachable")
switch outcome {
case .delivered:
    exit(0)
case .rejected(let code):
    printError("companion refused the \(event.rawValue) event for \(path) with \(code)")
    exit(1)
case .retryLater(let why):
    guard spool.store(json, id: id, nanos: now.nanos) else {
        printError("\(why), and the event could not be spooled to \(spool.directory): lost")
        exit(1)
    }
    exit(0)
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\r" || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\r" || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
