import Glibc

/// A child process started with `posix_spawn`, for the simulator (which runs hooks and ffmpeg), the tests and the
/// benchmarks. Foundation's `Process` is not used: on Linux its `run()` reads `/proc/self/fd` with a 256-byte copy of
/// each directory entry and crashes now and then (swift-corelibs-foundation PR #5472), which broke CI.
public struct ChildProcess: Sendable {
    public let pid: pid_t
    /// The read end of the child's stdout and stderr, merged, when started with `output: .capture`.
    let outputFD: Int32?

    public enum Output: Sendable {
        /// stdout and stderr go to /dev/null.
        case discard
        /// stdout and stderr go to ours.
        case inherit
        /// stdout and stderr go to a pipe, read by `readOutput()` / `run`.
        case capture
    }

    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)

        /// The exit status, or 128 + the signal, as a shell reports it.
        public var status: Int32 {
            switch self {
            case .exited(let code): code
            case .signaled(let signal): 128 + signal
            }
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `executable` (a path, or a name looked up in PATH) with `arguments` and exactly `environment`.
    /// `input`, when given, is written to the child's stdin (which is /dev/null otherwise).
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String],
        directory: String? = nil, output: Output = .discard, input: String? = nil
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        var inputFDs: [Int32] = [-1, -1]
        if input != nil {
            guard Self.pipe2(&inputFDs, O_CLOEXEC) == 0 else { throw Failure(description: "pipe: \(errnoText())") }
            posix_spawn_file_actions_adddup2(&actions, inputFDs[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        var pipeFDs: [Int32] = [-1, -1]
        switch output {
        case .discard:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .inherit:
            break
        case .capture:
            guard Self.pipe2(&pipeFDs, O_CLOEXEC) == 0 else { throw Failure(description: "pipe: \(errnoText())") }
            posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
            posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        }
        if let directory {
            guard let addChdir = Self.addChdir else { throw Failure(description: "cannot start in \(directory): no posix_spawn chdir") }
            _ = addChdir(&actions, directory)
        }
        // Nothing of ours but 0-2 reaches the child, even descriptors opened without O_CLOEXEC by a library.
        _ = Self.addCloseFrom?(&actions, 3)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let result =
            executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, nil, argv, envp)
            : posix_spawnp(&pid, executable, &actions, nil, argv, envp)
        if output == .capture { close(pipeFDs[1]) }
        if let input {
            close(inputFDs[0])
            // Small inputs (a password, a line) fit the pipe's buffer: write, then close so the child sees the end.
            if result == 0 { _ = Array(input.utf8).withUnsafeBytes { write(inputFDs[1], $0.baseAddress, $0.count) } }
            close(inputFDs[1])
        }
        guard result == 0 else {
            if output == .capture { close(pipeFDs[0]) }
            throw Failure(description: "cannot run \(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid, outputFD: output == .capture ? pipeFDs[0] : nil)
    }

    /// Reads the captured output to its end (the child's exit, or its closing of both streams). Blocks.
    public func readOutput() -> String {
        guard let fd = outputFD else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes += buffer[0..<n]
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits for the child to end. Blocks the calling thread: call it off Swift concurrency's shared threads.
    @discardableResult
    public func wait() -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Self.termination(status)
    }

    /// Waits like `wait()`, and also returns the child's resource usage (its peak RSS, in KiB).
    public func waitWithUsage() -> (Termination, rusage) {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        return (Self.termination(status), usage)
    }

    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Starts the child, reads its output and waits for it. Blocks.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil, input: String? = nil
    ) throws -> (termination: Termination, output: String) {
        let child = try start(executable, arguments, environment: environment, directory: directory, output: .capture, input: input)
        let output = child.readOutput()
        return (child.wait(), output)
    }

    /// This process's environment.
    public static var currentEnvironment: [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }

    static func termination(_ status: Int32) -> Termination {
        status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }

    // glibc's GNU extensions are not in Swift's Glibc module; look them up at run time.
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    private static let pipe2: Pipe2 = symbol("pipe2")!
    private typealias FileActionWithPath = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias FileActionWithFD = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addChdir: FileActionWithPath? = symbol("posix_spawn_file_actions_addchdir_np")
    private static let addCloseFrom: FileActionWithFD? = symbol("posix_spawn_file_actions_addclosefrom_np")

    private static func symbol<F>(_ name: String) -> F? {
        guard let pointer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(pointer, to: F.self)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
