import Domain
import Foundation
internal import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// The catalogue: one SQLite file (WAL, foreign keys on), migrated when opened.
public struct AppDatabase: Sendable {
    let writer: any DatabaseWriter

    /// Wraps a writer and brings its schema up to date.
    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    /// Opens the catalogue the settings name.
    public static func open(_ settings: CatalogSettings) throws -> AppDatabase {
        try open(path: settings.path)
    }

    /// Opens (creating if needed) the SQLite file at `path`. It holds password hashes, publish keys and webhook
    /// secrets: a folder it creates is the owner's only (0700), and the file is made owner-only (0600), also when an
    /// older version left it readable by others (SQLite gives the WAL and shared-memory files the same mode).
    public static func open(path: String) throws -> AppDatabase {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        try refuseRootOnAnotherUsersFile(path)
        try makeOwnerOnly(path)
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(5)
        // WAL with synchronous=NORMAL: a committed transaction survives a crash of the process (kill -9);
        // only a power loss can drop the last ones. FULL would fsync every commit (every hook event).
        // Checkpoints every 10,000 pages (40 MiB) instead of 1,000: pages that every hook event changes (path
        // status, index roots) reach the database file once per checkpoint, so the disk takes ~20% fewer bytes per
        // event and ingest runs ~20% faster (mtx-bench hooks); the WAL file is trimmed back to 64 MiB.
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000; PRAGMA journal_size_limit = 67108864")
        }
        return try AppDatabase(DatabasePool(path: path, configuration: config))
    }

    /// Root opening the server's catalogue (a package install: `mtx-companion users add` run with sudo) would leave the
    /// WAL and shared-memory files SQLite makes owned by root and owner-only, and the server could no longer open it.
    static func refuseRootOnAnotherUsersFile(_ path: String) throws {
        var info = stat()
        guard geteuid() == 0, stat(path, &info) == 0, info.st_uid != 0 else { return }
        let name = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(info.st_uid)
        throw CatalogError.ownedByAnotherUser(path: path, owner: name)
    }

    /// Creates `path` owner-only if it does not exist, or takes group and other bits off an existing file.
    static func makeOwnerOnly(_ path: String) throws {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }  // SQLite reports why it cannot open it, with the path.
        defer { _ = Glibc.close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & 0o077 != 0 { _ = fchmod(fd, info.st_mode & 0o700) }
    }

    /// Names of the migrations applied to the database, oldest first.
    public func appliedMigrations() throws -> [String] {
        try writer.read { try Self.migrator.appliedMigrations($0) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1_media_sources") { db in
            try db.create(table: "media_sources") { t in
                t.column("id", .text).primaryKey()
                t.column("name", .text).notNull().check { length($0) >= 1 && length($0) <= 255 }
                t.column("path_name", .text).notNull().unique().check { length($0) <= 255 }
                t.column("type", .text).notNull().check { ["pull", "push"].contains($0) }
                t.column("url", .text).check { $0 == nil || length($0) <= 1024 }
                t.column("protocol", .text).check { $0 == nil || length($0) <= 20 }
                t.column("enabled", .boolean).notNull().defaults(to: true)
                t.column("record_enabled", .boolean).notNull().defaults(to: false)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(index: "media_sources_created_at", on: "media_sources", columns: ["created_at", "id"])
        }
        registerAssetMigrations(&migrator)
        registerIndexMigrations(&migrator)
        registerAuthMigrations(&migrator)
        registerHistoryMigrations(&migrator)
        registerRetentionMigrations(&migrator)
        registerWebhookMigrations(&migrator)
        registerSecurityMigrations(&migrator)
        registerInstanceMigrations(&migrator)
        registerNodeMigrations(&migrator)
        registerSessionMigrations(&migrator)
        return migrator
    }
}

public enum CatalogError: Error, Equatable, Sendable {
    /// Another source already has this path_name.
    case pathNameTaken(String)
    case notFound
    /// Stream assets still point at the source.
    case sourceHasAssets
    /// A user with this name exists.
    case nameTaken(String)
    /// A backup would overwrite this file.
    case backupExists(String)
    /// Root opened a catalogue that belongs to the server's user.
    case ownedByAnotherUser(path: String, owner: String)
    /// The database server cannot be reached or used right now (PostgreSQL down, restarting, refusing
    /// connections): the request may succeed later. The reason names the server, never its password.
    case unavailable(String)
    /// The lease the work runs under (`LeaseFence`) has another token or expired: another instance does the work now.
    case leaseLost(String)
    /// Sources are placed on the node.
    case nodeHasSources(Int)
}

extension CatalogError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .pathNameTaken(let name): return "path_name \(name) is taken"
        case .notFound: return "not found"
        case .sourceHasAssets: return "stream assets point at the source"
        case .nameTaken(let name): return "the name \(name) is taken"
        case .backupExists(let file): return "\(file) exists"
        case .leaseLost(let name): return "the lease \(name) is held by another instance now"
        case .ownedByAnotherUser(let path, let owner):
            return "\(path) belongs to \(owner): run this as that user (runuser -u \(owner) -- mtx-companion ...), not as root"
        case .unavailable(let reason): return "database unavailable: \(reason)"
        case .nodeHasSources(let n): return "\(n) sources are placed on the node"
        }
    }
}

extension DatabaseError {
    /// SQLite reports a violated foreign key as a plain SQLITE_CONSTRAINT (19) unless extended codes are on.
    var isForeignKeyViolation: Bool {
        extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY || (resultCode == .SQLITE_CONSTRAINT && message?.contains("FOREIGN KEY") == true)
    }
}
