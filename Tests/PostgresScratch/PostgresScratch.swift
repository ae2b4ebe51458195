import CatalogPostgres
import Foundation
import Logging
import PostgresNIO

/// A throwaway database on the test server (`MTX_TEST_POSTGRES_URL`, scripts/postgres.sh): `CREATE DATABASE` before,
/// `DROP DATABASE … WITH (FORCE)` after (the companion's connections may not all be closed yet). Shared by the
/// catalogue's and the API's tests.
public enum PostgresScratch {
    struct BadURL: Error, CustomStringConvertible {
        var description: String
    }

    /// `body` gets the new database's URL.
    public static func with(_ serverURL: String, prefix: String = "t_", _ body: (String) async throws -> Void) async throws {
        let name = prefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        var logger = Logger(label: "postgres.scratch")
        logger.logLevel = .critical
        guard var url = URLComponents(string: serverURL) else { throw BadURL(description: "not a URL: MTX_TEST_POSTGRES_URL") }
        url.path = "/" + name
        guard let scratch = url.string else { throw BadURL(description: "no scratch URL from MTX_TEST_POSTGRES_URL") }
        let admin = PostgresClient(configuration: try PostgresURL(serverURL).clientConfiguration, backgroundLogger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await admin.run() }
            defer { group.cancelAll() }
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            do {
                try await body(scratch)
            } catch {
                _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: logger)
                throw error
            }
            try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: logger)
        }
    }

    /// A catalogue opened (migrated) on a throwaway database, closed after `body`; `body` also gets its URL.
    public static func withCatalog(_ serverURL: String, _ body: (PostgresCatalog, String) async throws -> Void) async throws {
        try await with(serverURL) { url in
            var logger = Logger(label: "catalog.postgres")
            logger.logLevel = .critical
            let catalog = try await PostgresCatalog.open(url: url, logger: logger)
            do {
                try await body(catalog, url)
            } catch {
                await catalog.close()
                throw error
            }
            await catalog.close()
        }
    }
}
