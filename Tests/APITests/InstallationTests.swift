import API
import Foundation
import Testing

/// What an operator's install relies on: the version it reports, and the files it finds when installed.
@Suite("Version and installed files", .timeLimit(.minutes(3)))
struct InstallationTests {
    @Test func theVersionIsOnTheCommandLineAndInHealthz() async throws {
        let printed = try await CommandLineTests().run(["--version"], in: repositoryRoot)
        #expect(printed.status == 0)
        #expect(printed.output.trimmingCharacters(in: .whitespacesAndNewlines) == BuildInfo.version)
        try await withStack { stack in
            let health = try await stack.raw.call(.get, "/healthz")
            #expect(health["status"]?.stringValue == "ok")
            #expect(health["version"]?.stringValue == BuildInfo.version)
        }
    }

    @Test func relativeFilesThatAreMissingHereAreTakenFromTheInstalledShare() throws {
        let share = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: share) }
        let name = "installed-\(UUID().uuidString)"
        try FileManager.default.createDirectory(at: share.appendingPathComponent(name), withIntermediateDirectories: true)
        // Missing from the working directory, present in the share: the share's.
        #expect(InstalledPaths.resolve(name, share: share.path) == share.path + "/" + name)
        // Present here (tests run from the repository): as given. Absolute, empty (UI off) or missing everywhere: as given.
        #expect(InstalledPaths.resolve("ui", share: share.path) == "ui")
        #expect(InstalledPaths.resolve("/srv/ui", share: share.path) == "/srv/ui")
        #expect(InstalledPaths.resolve("", share: share.path) == "")
        #expect(InstalledPaths.resolve("nowhere-\(UUID().uuidString)", share: share.path).hasPrefix("nowhere-"))
    }
}
