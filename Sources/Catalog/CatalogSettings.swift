/// Where the catalogue lives (the config's `database` section). The API's `openCatalog(_:logger:)` is the one way
/// `serve` and every CLI subcommand open it.
public struct CatalogSettings: Sendable {
    /// The SQLite file (when `url` is empty); relative paths are resolved from the working directory.
    public var path: String
    /// Empty or `sqlite:PATH`: SQLite. `postgres://user:password@host:port/database?sslmode=...`: PostgreSQL.
    public var url: String
    /// How long a lease on background work lasts without renewal (PostgreSQL): the longest a killed instance's
    /// work waits before another instance takes it over.
    public var leaseTimeout: Duration = .seconds(10)

    public init(path: String, url: String = "") {
        self.path = path
        self.url = url
    }

    public enum Backend: Equatable, Sendable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    /// The backend the settings name: `url` wins over `path`.
    public var backend: Backend {
        if url.hasPrefix("sqlite:") { return .sqlite(path: String(url.dropFirst("sqlite:".count))) }
        if url.isEmpty { return .sqlite(path: path) }
        return .postgres(url: url)
    }
}
