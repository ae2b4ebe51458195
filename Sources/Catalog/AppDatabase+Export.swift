import Domain
import Foundation
internal import GRDB

/// One SQLite value as stored (SQLite's five storage classes), for copying the catalogue into another backend.
public enum ExportedValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// Every row of one table, values in the order of `columns`.
public struct ExportedTable: Sendable, Equatable {
    public var name: String
    public var columns: [String]
    public var rows: [[ExportedValue]]

    public init(name: String, columns: [String], rows: [[ExportedValue]]) {
        self.name = name
        self.columns = columns
        self.rows = rows
    }
}

extension ExportedValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let v): self = .integer(v)
        case .double(let v): self = .real(v)
        case .string(let v): self = .text(v)
        case .blob(let v): self = .blob([UInt8](v))
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let v): return v.databaseValue
        case .real(let v): return v.databaseValue
        case .text(let v): return v.databaseValue
        case .blob(let v): return Data(v).databaseValue
        }
    }

    /// The value read as the SQLite catalogue reads its `Date` columns (GRDB's UTC text `yyyy-MM-dd HH:mm:ss.SSS`,
    /// or a number of seconds since 1970); nil when it is null or no date. The catalogue's other times are integer
    /// microseconds already.
    public var sqliteDate: Date? {
        Date.fromDatabaseValue(databaseValue)
    }
}

/// The whole catalogue in a backend-neutral form (`mtx-companion migrate-to`): every table but GRDB's
/// `grdb_migrations` and SQLite's own (`sqlite_sequence`, `sqlite_stat1`, …).
extension AppDatabase {
    static func exportedTableNames(_ db: Database) throws -> [String] {
        try String.fetchAll(
            db,
            sql: #"""
                SELECT name FROM sqlite_master
                WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'grdb_migrations' ORDER BY name
                """#)
    }

    /// Every row of every table, read in one transaction (one consistent snapshot, also while the server writes). The
    /// tables are held in memory.
    public func exportTables() async throws -> [ExportedTable] {
        try await writer.read { db in
            try Self.exportedTableNames(db).map { name in
                let columns = try db.columns(in: name).map(\.name)
                let list = columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
                var rows: [[ExportedValue]] = []
                let cursor = try Row.fetchCursor(db, sql: "SELECT \(list) FROM \(name.quotedDatabaseIdentifier)")
                while let row = try cursor.next() {
                    rows.append(columns.indices.map { ExportedValue(row[$0] as DatabaseValue) })
                }
                return ExportedTable(name: name, columns: columns, rows: rows)
            }
        }
    }

    /// Rows per table, of the tables `exportTables` reads.
    public func rowCounts() async throws -> [String: Int] {
        try await writer.read { db in
            var counts: [String: Int] = [:]
            for name in try Self.exportedTableNames(db) {
                counts[name] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(name.quotedDatabaseIdentifier)") ?? 0
            }
            return counts
        }
    }
}
