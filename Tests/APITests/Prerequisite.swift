import Foundation
import Testing

/// What a suite needs from the machine (a binary, a tool, reference files). Locally a missing one skips the suite and
/// the run says why; in CI (`CI=true`) nothing skips: the suite's tests run and fail naming what is missing, so CI's
/// test count is the same whatever is installed.
struct Prerequisite: SuiteTrait, TestTrait, TestScoping {
    let missing: String?

    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        if let missing, !test.isSuite {
            Issue.record("missing prerequisite: \(missing)")
            return
        }
        try await function()
    }

    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Finds `name` on PATH, as a spawned child process would.
    static func onPath(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

extension Trait where Self == Prerequisite {
    /// Fails every test of the suite in CI when `met` is false (see `available`).
    static func requires(_ met: Bool, _ what: String) -> Self { Prerequisite(missing: met ? nil : what) }
}

extension Trait where Self == ConditionTrait {
    /// Skips locally when `met` is false, saying `why`; never in CI, where `requires` fails the tests instead.
    static func available(_ met: Bool, _ why: String) -> Self { .enabled(if: met || Prerequisite.inCI, Comment(rawValue: why)) }
}
