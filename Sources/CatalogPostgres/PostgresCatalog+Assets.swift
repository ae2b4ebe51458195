extension PostgresCatalog {
    static let assetMigrations: [(name: String, statements: [String])] = []
}
