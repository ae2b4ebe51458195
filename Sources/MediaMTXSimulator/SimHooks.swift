import ChildProcess
import Foundation

/// Runs hook commands as MediaMTX does: no shell — the command is split like a shell would split it and
/// `$VAR`/`${VAR}` are expanded from the hook's environment — with MediaMTX's environment plus the MTX_* variables.
/// The exit code is ignored.
enum HookCommand {
    static func split(_ command: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escape = false
        for c in command {
            if escape {
                current.append(c)
                escape = false
            } else if c == "\\", quote != "'" {
                escape = true
                inWord = true
            } else if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c == " " || c == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    static func expand(_ word: String, _ env: [String: String]) -> String {
        var out = ""
        var rest = Substring(word)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            var name: Substring
            if rest.hasPrefix("{"), let close = rest.firstIndex(of: "}") {
                name = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
            } else {
                name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                rest = rest.dropFirst(name.count)
                if name.isEmpty {
                    out += "$"
                    continue
                }
            }
            out += env[String(name)] ?? ""
        }
        return out + rest
    }
}

extension SimulatorState {
    /// Variables MediaMTX passes that are not MTX_*: it runs RTSP on 8554 by default.
    static let rtspPort = "8554"

    /// Starts the hook `key` of `path`'s effective configuration, if one is set.
    func fireHook(_ key: String, path: String, _ variables: [String: String]) {
        guard let command = effectiveConf(path).first(where: { $0.0 == key })?.1.stringValue, !command.isEmpty else { return }
        var env = ChildProcess.currentEnvironment.merging(hookEnvironment) { _, given in given }
        env["MTX_PATH"] = path
        env["RTSP_PATH"] = path
        env["RTSP_PORT"] = Self.rtspPort
        for (k, v) in variables { env[k] = v }
        let words = HookCommand.split(command).map { HookCommand.expand($0, env) }
        guard let program = words.first else { return }
        do {
            let child = try ChildProcess.start(program, Array(words.dropFirst()), environment: env)
            hookRuns.append(Task { _ = await Self.exit(of: child) })
            hooksStarted += 1
        } catch {
            hookFailures.append("\(key): \(error)")
        }
    }

    /// Waits for `child` on a GCD thread, never on one of Swift concurrency's few shared threads.
    static func exit(of child: ChildProcess) async -> ChildProcess.Termination {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: child.wait()) }
        }
    }

    /// Waits until every hook started so far has exited.
    public func waitForHooks() async {
        let runs = hookRuns
        hookRuns = []
        for run in runs { await run.value }
    }

    /// What MediaMTX passes to hooks beyond MTX_* (its own environment): e.g. MTX_COMPANION_URL.
    public func setHookEnvironment(_ env: [String: String]) { hookEnvironment = env }

    func effectiveConf(_ path: String) -> [(String, JSONValue)] {
        paths[path] ?? paths["all_others"] ?? pathDefaults
    }

    /// A publisher on `path` records `count` segments of `duration` seconds: real files made with ffmpeg, named by
    /// the path's recordPath (UTC), with runOnRecordSegmentCreate/Complete fired for each, as MediaMTX does.
    public func record(path: String, count: Int, duration: Double) async throws -> [String] {
        let conf = effectiveConf(path)
        guard publishers[path] != nil, conf.first(where: { $0.0 == "record" })?.1.boolValue == true else { return [] }
        let pattern = conf.first { $0.0 == "recordPath" }?.1.stringValue ?? options.recordPath
        let format = conf.first { $0.0 == "recordFormat" }?.1.stringValue ?? "fmp4"
        var start = Date()
        var files: [String] = []
        for _ in 0..<count {
            let file = Self.fileName(pattern: pattern, path: path, start: start) + (format == "mpegts" ? ".ts" : ".mp4")
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try await makeMedia(file, duration: duration, mpegts: format == "mpegts")
            fireHook("runOnRecordSegmentCreate", path: path, ["MTX_SEGMENT_PATH": file])
            fireHook("runOnRecordSegmentComplete", path: path, ["MTX_SEGMENT_PATH": file, "MTX_SEGMENT_DURATION": String(duration)])
            recordings[path, default: []].append(SimSegment(start: start, duration: duration, file: file))
            files.append(file)
            start = start.addingTimeInterval(duration)
        }
        return files
    }

    func makeMedia(_ file: String, duration: Double, mpegts: Bool) async throws {
        let arguments =
            [
                "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
                "-t", String(duration), "-c:v", "libx264", "-pix_fmt", "yuv420p",
            ]
            + (mpegts ? ["-f", "mpegts"] : ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4"]) + [file]
        let child = try ChildProcess.start(options.ffmpeg, arguments, environment: ChildProcess.currentEnvironment)
        let status = await Self.exit(of: child).status
        guard status == 0 else { throw SimError.ffmpegFailed(file) }
    }

    /// Playback `/get`'s media as MediaMTX serves it: the segments joined into one stream that starts at the asked
    /// start and lasts the asked duration (or up to the last segment's end), fragmented MP4 unless `format=mp4`.
    /// Re-encoded (small test pictures), so the cut falls on the asked time rather than on a key frame.
    func cut(_ cut: PlaybackCut) async throws -> Data {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("sim-cut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let list = work.appendingPathComponent("list.txt")
        try cut.files.map { "file '\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }.joined(separator: "\n")
            .write(to: list, atomically: true, encoding: .utf8)
        let output = work.appendingPathComponent("out.mp4").path
        let arguments =
            [
                "-nostdin", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", list.path, "-ss", String(format: "%.6f", cut.offset),
                "-t", String(format: "%.6f", cut.duration), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "10",
            ] + (cut.mp4 ? ["-movflags", "+faststart", "-f", "mp4"] : ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4"])
            + [output]
        let child = try ChildProcess.start(options.ffmpeg, arguments, environment: ChildProcess.currentEnvironment)
        guard await Self.exit(of: child).status == 0 else { throw SimError.ffmpegFailed(output) }
        return try Data(contentsOf: URL(fileURLWithPath: output))
    }

    static func fileName(pattern: String, path: String, start: Date) -> String {
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: start)
        let micros = Int((start.timeIntervalSince1970 * 1_000_000).rounded()) % 1_000_000
        return
            pattern
            .replacingOccurrences(of: "%path", with: path)
            .replacingOccurrences(of: "%Y", with: String(format: "%04d", c.year!))
            .replacingOccurrences(of: "%m", with: String(format: "%02d", c.month!))
            .replacingOccurrences(of: "%d", with: String(format: "%02d", c.day!))
            .replacingOccurrences(of: "%H", with: String(format: "%02d", c.hour!))
            .replacingOccurrences(of: "%M", with: String(format: "%02d", c.minute!))
            .replacingOccurrences(of: "%S", with: String(format: "%02d", c.second!))
            .replacingOccurrences(of: "%f", with: String(format: "%06d", micros))
            .replacingOccurrences(of: "%s", with: String(Int(start.timeIntervalSince1970)))
    }
}

public enum SimError: Error {
    case ffmpegFailed(String)
}
