import API
import ArgumentParser
import Catalog
import Foundation
import Hummingbird
import Logging

/// Options every subcommand takes: which `configs/config.<env>.yaml` to use.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Environment: reads configs/config.<env>.yaml (default: $MTX_COMPANION_ENV or development).")
    var env: String?

    @Option(name: .long, help: "A config file to read instead of configs/config.<env>.yaml.")
    var config: String?

    func load() throws -> AppConfig {
        do {
            if let config { return try AppConfig.load(file: config) }
            return try AppConfig.load(environment: env ?? ProcessInfo.processInfo.environment["MTX_COMPANION_ENV"] ?? "development")
        } catch let error as ConfigError {
            // One line naming the file and key, nothing else.
            FileHandle.standardError.write(Data("mtx-companion: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}

@main
struct Companion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mtx-companion",
        abstract: "The companion server of MediaMTX: media sources, catalogue, recordings.",
        subcommands: [Serve.self, Migrate.self, Reconcile.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API.")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let app = try await buildApplication(config)
        try await app.runService()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the catalogue database, then exit.")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let database = try AppDatabase.open(path: config.database.path)
        print("\(config.database.path): migrations applied: \(try database.appliedMigrations().joined(separator: ", "))")
    }
}

struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the catalogue with MediaMTX once, heal drift (lost paths, missed or deleted segments, status), and print what was done."
    )
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let services = try AppServices(config, logger: Logger(label: "mtx-companion"))
        do {
            let report = try await services.reconciler.reconcileOnce()
            print(report)
            for path in report.pathsReadded { print("re-added path \(path)") }
            for hook in report.hooksInstalled { print("installed hook \(hook)") }
        } catch {
            try await services.httpClient.shutdown()
            throw error
        }
        try await services.httpClient.shutdown()
    }
}
