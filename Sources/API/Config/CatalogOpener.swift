import Catalog
import CatalogPostgres
import Logging

/// Opens the catalogue the settings name, SQLite or PostgreSQL, migrated. A failure names the config key and never
/// the password: start-up stops with one line, as for other config errors.
public func openCatalog(_ settings: CatalogSettings, logger: Logger) async throws -> any CatalogBackend {
    switch settings.backend {
    case .sqlite(let path):
        do {
            return try AppDatabase.open(path: path)
        } catch {
            throw CatalogOpenError(key: settings.url.isEmpty ? "database.path" : "database.url", location: path, reason: "\(error)")
        }
    case .postgres(let url):
        do {
            return try await PostgresCatalog.open(url: url, logger: logger)
        } catch let error as PostgresURL.Invalid {
            throw CatalogOpenError(key: "database.url", location: PostgresURL.redacted(url), reason: "\(error)")
        } catch {
            // The server is down or refused us: starting again later may work (systemd restarts on 69, not on 78).
            throw CatalogOpenError(key: "database.url", location: PostgresURL.redacted(url), reason: "\(error)", exitCode: 69)
        }
    }
}

extension CatalogSettings {
    /// Where the catalogue is, for logs and messages: the file, or the URL without its password.
    public var location: String {
        switch backend {
        case .sqlite(let path): path
        case .postgres(let url): PostgresURL.redacted(url)
        }
    }
}

/// The catalogue could not be opened: which key, where (no password), why.
public struct CatalogOpenError: Error, CustomStringConvertible {
    public var key: String
    public var location: String
    public var reason: String
    /// 78 (EX_CONFIG): the settings are wrong; 69 (EX_UNAVAILABLE): the database server could not be used now.
    public var exitCode: Int32 = 78

    public var description: String { "\(key) (\(location)): \(reason)" }
}
