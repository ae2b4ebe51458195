import ChildProcess
import Foundation
import Testing

@Suite("ChildProcess: posix_spawn for the simulator's hooks and ffmpeg", .timeLimit(.minutes(3)))
struct ChildProcessTests {
    @Test func outputStatusEnvironmentAndDirectory() throws {
        let inheritable = open("/dev/null", O_RDONLY)
        defer { close(inheritable) }
        let (termination, output) = try ChildProcess.run(
            "/bin/sh", ["-c", "echo \"$GREETING\" from $(pwd); ls /proc/self/fd | wc -l; echo oops >&2; exit 3"],
            environment: ["GREETING": "hello"], directory: "/tmp"
        )
        #expect(termination == .exited(3))
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.first == "hello from /tmp")
        // 0, 1, 2 and the one ls opens: nothing of the parent's leaks into the child, not even `inheritable`.
        #expect(lines.dropFirst().first == "4")
        #expect(lines.last == "oops")
    }

    @Test func signalsAndLookupInPath() throws {
        let child = try ChildProcess.start("sleep", ["30"], environment: [:])
        child.signal(SIGKILL)
        #expect(child.wait() == .signaled(SIGKILL))
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.start("/nonexistent/program", [], environment: [:]) }
    }
}
