import API
import ArgumentParser
import Catalog
import CatalogPostgres
import Domain
import Foundation
import Hummingbird
import Logging
import MediaMTX
import ServiceLifecycle

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

    /// The catalogue the config names (subcommands that need nothing else from the config).
    func openCatalog() async throws -> any CatalogBackend {
        try await openConfiguredCatalog(load())
    }
}

/// The catalogue `config` names; a failure is one line naming the key (exit 78 as for other config errors, or 69
/// when the database server is unreachable).
func openConfiguredCatalog(_ config: AppConfig) async throws -> any CatalogBackend {
    do {
        return try await openCatalog(config.database, logger: Logger(label: "mtx-companion"))
    } catch let error as CatalogOpenError {
        FileHandle.standardError.write(Data("mtx-companion: \(error)\n".utf8))
        throw ExitCode(error.exitCode)
    }
}

/// The services `config` names; a catalogue that cannot be opened is one line naming the key (exit 78).
func makeServices(_ config: AppConfig, logger: Logger = Logger(label: "mtx-companion")) async throws -> AppServices {
    do {
        return try await AppServices(config, logger: logger)
    } catch let error as CatalogOpenError {
        FileHandle.standardError.write(Data("mtx-companion: \(error)\n".utf8))
        throw ExitCode(error.exitCode)
    }
}

@main
struct Companion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mtx-companion",
        abstract: "The companion server of MediaMTX: media sources, catalogue, recordings.",
        version: BuildInfo.version,
        subcommands: [
            Serve.self, Migrate.self, Reconcile.self, Segments.self, Events.self, Users.self, Backup.self, Retention.self, Doctor.self,
            MigrateTo.self,
        ],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API.")
    @OptionGroup var options: ConfigOptions
    @Option(help: "Lowest level logged: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level = .info
    @Option(help: "text, or json: one JSON object per line, for log shippers.") var logFormat: LogFormat = .text
    @Option(help: "On SIGTERM or SIGINT, seconds to let requests in progress finish before they are cut off.") var shutdownTimeout = 10

    enum LogFormat: String, ExpressibleByArgument {
        case text, json
    }

    func run() async throws {
        let level = logLevel
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let config = try options.load()
        let logger = Logger(label: "mtx-companion")
        let services = try await makeServices(config, logger: logger)
        logger.notice("catalogue opened", metadata: ["backend": "\(services.database.backendName)", "at": "\(config.database.location)"])
        let app = try await buildApplication(services)
        // SIGTERM/SIGINT: stop accepting, let requests in flight finish (their transactions commit), stop the
        // reconciler; after the timeout what is left is cancelled. Then the database is closed cleanly.
        var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(shutdownTimeout)
        try await ServiceGroup(configuration: group).run()
        await services.database.shutdown()
        logger.notice("stopped; database closed")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the catalogue database, then exit.")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let database = try await openConfiguredCatalog(config)
        let applied =
            if let sqlite = database as? AppDatabase {
                try sqlite.appliedMigrations()
            } else if let postgres = database as? PostgresCatalog {
                try await postgres.appliedMigrations()
            } else { [String]() }
        print("\(config.database.location): migrations applied: \(applied.joined(separator: ", "))")
        await database.shutdown()
    }
}

struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the catalogue with MediaMTX once, heal drift (lost paths, missed or deleted segments, status), and print what was done."
    )
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let services = try await makeServices(config)
        do {
            let report = try await services.reconciler.reconcileOnce()
            print(report)
            for path in report.pathsReadded { print("re-added path \(path)") }
            for path in report.pathsRemoved { print("removed path \(path) from a node its source left") }
            for node in report.unreachable { print("node \(node) did not answer") }
            for hook in report.hooksInstalled { print("installed hook \(hook)") }
        } catch {
            try await services.httpClient.shutdown()
            throw error
        }
        try await services.httpClient.shutdown()
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the catalogue into a new SQLite file (SQLite's online backup: consistent while the server keeps serving).",
        discussion: "Restore: stop the server, replace the database file with the copy (and delete its -wal and -shm files), start the server."
    )
    @OptionGroup var options: ConfigOptions
    @Argument(help: "The new file; an existing file is never overwritten.") var file: String

    func run() async throws {
        guard let database = try await options.openCatalog() as? AppDatabase else {
            FileHandle.standardError.write(
                Data("mtx-companion: backup copies a SQLite catalogue; back PostgreSQL up with pg_dump (docs/deployment.md)\n".utf8))
            throw ExitCode(1)
        }
        do {
            try database.backup(to: file)
        } catch CatalogError.backupExists(let path) {
            FileHandle.standardError.write(Data("mtx-companion: \(path) exists; a backup never overwrites a file\n".utf8))
            throw ExitCode(1)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        print("backed up to \(file) (\(size) bytes)")
    }
}

struct Retention: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete, through MediaMTX, the recorded segments past their source's retention, once; print what was deleted."
    )
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Only print what would be deleted.") var dryRun = false

    func run() async throws {
        let config = try options.load()
        let services = try await makeServices(config)
        let report: RetentionService.Report
        do {
            report = try await services.retention.runOnce(dryRun: dryRun)
        } catch {
            try await services.httpClient.shutdown()
            throw error
        }
        try await services.httpClient.shutdown()
        for s in report.segments { print("\(dryRun ? "would delete" : "deleted")\t\(s.pathName)\t\(format(s.start))\t\(s.size)") }
        print(
            "\(report.segments.count) segment(s), \(report.bytes) bytes \(dryRun ? "would be reclaimed" : "reclaimed")\(report.failed > 0 ? "; \(report.failed) failed" : "")"
        )
        if report.failed > 0 { throw ExitCode(1) }
    }
}

/// Times on the command line: RFC 3339 or unix seconds.
func parseTime(_ text: String) throws -> Date {
    if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
    guard let date = RFC3339.parse(text) else { throw ValidationError("not a time (RFC 3339 or unix seconds): \(text)") }
    return date
}

func format(_ micros: Int64?) -> String {
    micros.map { RFC3339.format(Date(micros: $0), fixedFraction: true) } ?? "-"
}

struct Segments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List indexed recording segments of a path, or export every path's (--format csv|ndjson) as the API's export does.")
    @OptionGroup var options: ConfigOptions
    @Option(help: "MediaMTX path name, e.g. live/cam-1a2b3c4d (with --format: optional, every path without it).") var path: String?
    @Option(help: "Only segments overlapping from this time (RFC 3339 or unix seconds).") var from: String?
    @Option(help: "Only segments starting before this time.") var to: String?
    @Option(help: "At most this many segments (the table and --json).") var limit = 1000
    @Flag(help: "One JSON object per line.") var json = false
    @Option(name: .customLong("format"), help: "csv or ndjson: every matching segment, streamed (GET /api/v1/recordings/export's rows).")
    var exportFormat: String?

    func run() async throws {
        let database = try await options.openCatalog()
        if let exportFormat {
            guard let chosen = RecordingsExport.Format(rawValue: exportFormat) else { throw ValidationError("--format is csv or ndjson") }
            let export = RecordingsExport(database: database)
            try await export.write(
                chosen, paths: path.map { [$0] }, from: try from.map(parseTime)?.micros, to: try to.map(parseTime)?.micros
            ) { buffer in
                FileHandle.standardOutput.write(Data(buffer.readableBytesView))
            }
            await database.shutdown()
            return
        }
        guard let path else { throw ValidationError("--path is required without --format") }
        let page = try await database.segments(
            SegmentQuery(
                path: path, from: try from.map(parseTime)?.micros, to: try to.map(parseTime)?.micros, pageSize: limit
            ))
        for s in page.items {
            if json {
                var fields = ["\"path_name\":\(quote(s.pathName))", "\"start\":\(quote(format(s.start)))", "\"state\":\(quote(s.state.rawValue))"]
                if let end = s.end { fields.append("\"end\":\(quote(format(end)))") }
                if let d = s.duration { fields.append("\"duration\":\(d)") }
                if let size = s.size { fields.append("\"size\":\(size)") }
                if let file = s.filePath { fields.append("\"file_path\":\(quote(file))") }
                print("{" + fields.joined(separator: ",") + "}")
            } else {
                print(
                    [
                        format(s.start), format(s.end), s.duration.map { String($0) } ?? "-", s.size.map(String.init) ?? "-", s.state.rawValue,
                        s.filePath ?? "-",
                    ]
                    .joined(separator: "\t"))
            }
        }
        if !json { FileHandle.standardError.write(Data("\(page.items.count) of \(page.total) segment(s)\n".utf8)) }
    }

    func quote(_ s: String) -> String {
        String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the hook events indexed for a path (newest last).")
    @OptionGroup var options: ConfigOptions
    @Option(help: "MediaMTX path name.") var path: String
    @Option(help: "How many past events to show.") var limit = 50
    @Flag(help: "Keep printing new events as they are indexed.") var follow = false

    func run() async throws {
        let database = try await options.openCatalog()
        var seen = Set<String>()
        var printedUpTo = Int64.min
        repeat {
            let events = try await database.history(path: path, limit: limit, before: nil).reversed()
            for e in events where !seen.contains(e.eventID) && (e.occurredAt >= printedUpTo || !follow || printedUpTo == Int64.min) {
                seen.insert(e.eventID)
                print("\(format(e.occurredAt))\t\(e.type)\t\(e.node ?? "-")\t\(e.payload)")
                printedUpTo = max(printedUpTo, e.occurredAt)
            }
            if follow { try await Task.sleep(for: .milliseconds(500)) }
        } while follow
    }
}
