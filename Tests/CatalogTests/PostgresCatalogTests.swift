import Foundation
import Logging
import PostgresNIO
import PostgresScratch
import Testing

@testable import CatalogPostgres

var quiet: Logger {
    var logger = Logger(label: "catalog.postgres")
    logger.logLevel = .critical
    return logger
}

/// What only the PostgreSQL backend has: its URL, and several instances migrating one database at once.
@Suite("PostgreSQL catalogue", .timeLimit(.minutes(3)))
struct PostgresCatalogTests {
    @Test(arguments: [
        ("mysql://u:p@h/db", "expected postgres://user:password@host:port/database"),
        ("postgres://u:secret@/db", "no host in the URL"),
        ("postgres://:secret@h/db", "no user in the URL"),
        ("postgres://u:secret@h", "no database in the URL (postgres://…/DATABASE)"),
        ("postgres://u:secret@h/db?sslmode=maybe", "sslmode must be disable, prefer, require or verify-full, not \"maybe\""),
        ("postgres://u:secret@h/db?sslmode=disable&pool=9", "unknown URL parameter \"pool\" (only sslmode is read)"),
    ])
    func aBadURLSaysWhatIsWrongWithoutThePassword(url: String, message: String) {
        #expect(throws: PostgresURL.Invalid(description: message)) { try PostgresURL(url) }
        #expect(!message.contains("secret"))
    }

    /// Nothing listens: at once, naming the server.
    @Test func anUnreachableServerFailsAtOnce() async throws {
        let started = ContinuousClock.now
        do {
            _ = try await PostgresCatalog.open(url: "postgres://mtx:secret@127.0.0.1:1/mtx?sslmode=disable", logger: quiet)
            Issue.record("opened a catalogue where nothing listens")
        } catch {
            #expect("\(error)".hasPrefix("PostgreSQL at 127.0.0.1:1: "), "\(error)")
            #expect(!"\(error)".contains("secret"))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func aURLIsReadAsLibpqReadsItAndRedacted() throws {
        let url = try PostgresURL("postgresql://mtx%40site:p%2Fss@[::1]:6543/cat%20alogue?sslmode=disable")
        #expect(url.host == "::1" && url.port == 6543 && url.sslMode == .disable)
        #expect(url.user == "mtx@site" && url.password == "p/ss" && url.database == "cat alogue")
        let defaults = try PostgresURL("postgres://u@db.example/c")
        #expect(defaults.port == 5432 && defaults.sslMode == .prefer && defaults.password == nil)
        #expect(PostgresURL.redacted("postgres://mtx:s3cret@db:5432/mtx?sslmode=require") == "postgres://mtx:***@db:5432/mtx?sslmode=require")
        #expect(PostgresURL.redacted("postgres://mtx@db/mtx") == "postgres://mtx@db/mtx")
    }

    /// Two instances starting at once on a new database: the schema is made once, both open it.
    @Test(.enabled(if: CatalogContractTests.postgresURL != nil, "set MTX_TEST_POSTGRES_URL (scripts/postgres.sh start DIR prints one)"))
    func instancesStartingTogetherMigrateOnce() async throws {
        let server = try #require(CatalogContractTests.postgresURL)
        try await PostgresScratch.with(server) { url in
            let opened = try await withThrowingTaskGroup(of: PostgresCatalog.self) { group in
                for _ in 0..<4 { group.addTask { try await PostgresCatalog.open(url: url, logger: quiet) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for catalog in opened {
                #expect(try await catalog.appliedMigrations() == PostgresCatalog.migrations.map(\.name))
                await catalog.close()
            }
        }
    }

    /// A wrong password: one line naming the server's reason, never the password.
    @Test(.enabled(if: CatalogContractTests.postgresURL != nil, "set MTX_TEST_POSTGRES_URL (scripts/postgres.sh start DIR prints one)"))
    func aWrongPasswordFailsWithoutShowingIt() async throws {
        let server = try #require(CatalogContractTests.postgresURL)
        var url = try #require(URLComponents(string: server))
        url.password = "not-the-password-4711"
        let wrong = try #require(url.string)
        do {
            _ = try await PostgresCatalog.open(url: wrong, logger: quiet)
            Issue.record("opened with a wrong password")
        } catch {
            #expect("\(error)".hasPrefix("PostgreSQL at 127.0.0.1:") && "\(error)".contains("password authentication failed"), "\(error)")
            #expect(!"\(error)".contains("not-the-password-4711"))
        }
    }
}
