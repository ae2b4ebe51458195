import Catalog
import Domain
import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The catalogue on PostgreSQL: one database shared by every companion instance. PostgresNIO's `PostgresClient` pool,
/// versioned migrations applied under an advisory lock (two instances starting at once migrate once), times as
/// int8 microseconds since 1970 (as the SQLite index keeps them), `jsonb` payloads, `text[]`/`uuid[]` lists.
public final class PostgresCatalog: Sendable {
    /// The pool, failing fast with `CatalogError.unavailable` while the server is down (PostgresCatalog+Availability).
    let client: PostgresPool
    let logger: Logger
    /// The change feed's `LISTEN` connection (`changes()`), made from the URL the catalogue was opened with.
    let feed: ChangeListener

    init(configuration: PostgresClient.Configuration, url: PostgresURL? = nil, logger: Logger) {
        client = PostgresPool(configuration: configuration, url: url, logger: logger)
        self.logger = logger
        feed = ChangeListener(url: url, logger: logger)
    }

    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=...`) and migrates the schema. One
    /// connection is made first, so that a wrong password or an unreachable server fails at once with the server's
    /// reason (the pool would retry it with backoff).
    public static func open(url text: String, logger: Logger = Logger(label: "catalog.postgres")) async throws -> PostgresCatalog {
        let url = try PostgresURL(text)
        do {
            let connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw PostgresCatalogError.from(error, at: url)
        }
        let catalog = PostgresCatalog(configuration: url.clientConfiguration, url: url, logger: logger)
        do {
            try await catalog.migrate()
        } catch {
            await catalog.close()
            throw PostgresCatalogError.from(error, at: url)
        }
        return catalog
    }

    /// Stops the change feed and closes the pool's connections.
    public func close() async {
        await feed.stop()
        await client.close()
    }

    /// Names of the migrations applied, oldest first.
    public func appliedMigrations() async throws -> [String] {
        var names: [String] = []
        for try await name in try await client.query("SELECT name FROM schema_migrations ORDER BY applied_order", logger: logger).decode(String.self)
        {
            names.append(name)
        }
        return names
    }
}

/// Errors of the PostgreSQL catalogue that are not the catalogue's own (`CatalogError`): the server's message and
/// SQLSTATE, never the connection's password.
public struct PostgresCatalogError: Error, CustomStringConvertible, Sendable {
    public var description: String

    static func from(_ error: any Error, at url: PostgresURL) -> any Error {
        let server = "PostgreSQL at \(url.host):\(url.port)"
        guard let psql = psql(error) else { return PostgresCatalogError(description: "\(server): \(error)") }
        if let message = psql.serverInfo?[.message] {
            return PostgresCatalogError(description: "\(server): \(message) (SQLSTATE \(psql.serverInfo?[.sqlState] ?? "?"))")
        }
        return PostgresCatalogError(description: "\(server): \(psql.code)\(psql.underlying.map { " (\($0))" } ?? "")")
    }

    /// The server's error, also when a transaction wraps it.
    static func psql(_ error: any Error) -> PSQLError? {
        if let psql = error as? PSQLError { return psql }
        if let transaction = error as? PostgresTransactionError {
            return transaction.closureError.flatMap(psql) ?? transaction.beginError.flatMap(psql) ?? transaction.commitError.flatMap(psql)
        }
        return nil
    }

    /// SQLSTATE of a server error: 23505 unique violation, 23503 foreign key violation.
    static func sqlState(_ error: any Error) -> String? {
        psql(error)?.serverInfo?[.sqlState]
    }
}

/// `postgres://` (or `postgresql://`) URLs, as libpq reads them: user, password, host, port (5432), database,
/// `sslmode` = `disable`, `prefer` (the default), `require` (encrypted, certificate not checked) or `verify-full`.
public struct PostgresURL: Sendable {
    public struct Invalid: Error, CustomStringConvertible, Equatable, Sendable {
        public var description: String
    }

    public enum SSLMode: String, Sendable { case disable, prefer, require, verifyFull = "verify-full" }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public init(_ text: String) throws {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? "") else {
            throw Invalid(description: "expected postgres://user:password@host:port/database")
        }
        guard let host = url.host, !host.isEmpty else { throw Invalid(description: "no host in the URL") }
        guard let user = url.user?.removingPercentEncoding, !user.isEmpty else { throw Invalid(description: "no user in the URL") }
        let database = String(url.path.dropFirst()).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else { throw Invalid(description: "no database in the URL (postgres://…/DATABASE)") }
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw Invalid(description: "sslmode must be disable, prefer, require or verify-full, not \"\(mode)\"")
        }
        for item in url.queryItems ?? [] where item.name != "sslmode" {
            throw Invalid(description: "unknown URL parameter \"\(item.name)\" (only sslmode is read)")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = url.port ?? 5432
        self.user = user
        password = url.password?.removingPercentEncoding
        self.database = database
        self.sslMode = sslMode
    }

    var tlsConfiguration: TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        if sslMode != .verifyFull { config.certificateVerification = .none }
        return config
    }

    /// The pool's settings.
    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case .disable: .disable
            case .prefer: .prefer(tlsConfiguration)
            case .require, .verifyFull: .require(tlsConfiguration)
            }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = 20
        return configuration
    }

    /// One connection's settings (the check made before the pool starts).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch sslMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
        return PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// The URL with its password replaced by `***`, for logs and errors.
    public static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? "postgres://***"
    }
}
