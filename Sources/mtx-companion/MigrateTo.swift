import ArgumentParser
import Catalog
import CatalogPostgres
import Foundation
import Logging

/// `mtx-companion migrate-to URL`: copies the SQLite catalogue the config names into an empty PostgreSQL catalogue.
struct MigrateTo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-to",
        abstract: "Copy the SQLite catalogue into an empty PostgreSQL catalogue, every row of every table, and compare the row counts.",
        discussion: """
            Stop the server first: rows it writes to the SQLite file during the copy are not copied (the counts then differ). \
            The PostgreSQL schema is created or upgraded first; a catalogue that already holds rows is refused and left as it is. \
            Exits non-zero when a table's counts differ.
            """
    )
    @OptionGroup var options: ConfigOptions
    @Argument(help: "postgres://user:password@host:port/database?sslmode=disable|prefer|require|verify-full") var url: String

    func run() async throws {
        // Checked before anything is opened; a URL that does not parse is never printed (it may hold the password).
        do {
            _ = try PostgresURL(url)
        } catch {
            throw fail("the PostgreSQL URL: \(error)")
        }
        let config = try options.load()
        guard case .sqlite(let path) = config.database.backend else {
            throw fail("database.url names PostgreSQL: migrate-to copies the SQLite catalogue the config names (database.path)")
        }
        // Opening would make a new, empty file: a wrong path must not copy an empty catalogue.
        guard FileManager.default.fileExists(atPath: path) else {
            throw fail("no SQLite catalogue at \(path) (database.path)")
        }
        let database = try AppDatabase.open(path: path)
        defer { try? database.close() }
        let tables = try await database.exportTables()
        var logger = Logger(label: "catalog.postgres")
        logger.logLevel = .error
        let target = PostgresURL.redacted(url)
        let catalog: PostgresCatalog
        do {
            catalog = try await PostgresCatalog.open(url: url, logger: logger)
        } catch {
            // The catalogue's errors name the server, never the password.
            throw fail("\(target): \(error)")
        }
        let copied: [String: Int]
        do {
            copied = try await catalog.importCatalog(from: tables)
        } catch {
            await catalog.close()
            throw fail("\(path) → \(target): \(error)")
        }
        await catalog.close()
        // Counted again after the copy: a server still writing to the file shows as a difference.
        let sqlite = try await database.rowCounts()
        let names = Set(sqlite.keys).union(copied.keys).sorted()
        let width = max(names.map(\.count).max() ?? 0, "table".count)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        print("\(path) → \(target)")
        print("\(pad("table", width))  \(pad("sqlite", 10))  postgresql")
        var differing: [String] = []
        for name in names {
            let a = sqlite[name], b = copied[name]
            let differs = (a ?? 0) != (b ?? 0)
            if differs { differing.append(name) }
            print("\(pad(name, width))  \(pad(a.map(String.init) ?? "-", 10))  \(b.map(String.init) ?? "-")\(differs ? "  DIFFERS" : "")")
        }
        guard differing.isEmpty else {
            throw fail("row counts differ in \(differing.joined(separator: ", ")) (did the server write to the SQLite catalogue during the copy?)")
        }
        print("copied \(copied.values.reduce(0, +)) rows")
    }

    func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("mtx-companion: \(message)\n".utf8))
        return ExitCode(1)
    }
}
