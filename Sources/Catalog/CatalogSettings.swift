/// Where the catalogue lives (the config's `database` section). `AppDatabase.open(_:)` is the one way `serve` and
/// every CLI subcommand open it.
public struct CatalogSettings: Sendable {
    /// The SQLite file; relative paths are resolved from the working directory.
    public var path: String

    public init(path: String) {
        self.path = path
    }
}
