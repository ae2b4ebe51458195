extension PostgresCatalog {
    static let authMigrations: [(name: String, statements: [String])] = []
}
