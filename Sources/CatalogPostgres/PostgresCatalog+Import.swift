import Catalog
import Domain
import Foundation
import PostgresNIO

/// Why a copy of the SQLite catalogue was refused or failed. Values are never quoted (they may be password hashes,
/// publish keys or webhook secrets): only the table, column and row.
public enum CatalogImportError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Rows per table of the non-empty target tables.
    case notEmpty([String: Int])
    /// A SQLite table with no mapping: a new table must be mapped here, never dropped.
    case unmappedTable(String)
    /// The SQLite table's columns are not the mapped ones.
    case columnsDiffer(table: String, mapped: [String], found: [String])
    /// The PostgreSQL schema lacks a mapped table.
    case missingTable(String)
    /// A value that does not convert to its PostgreSQL column's type (`row` counts from 1).
    case badValue(table: String, column: String, row: Int, reason: String)
    /// The server refused a statement (of the table's rows; "" for the transaction's own).
    case failed(table: String, message: String)

    public var description: String {
        switch self {
        case .notEmpty(let counts):
            let tables = counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value) row\($0.value == 1 ? "" : "s")" }
            return "the PostgreSQL catalogue is not empty (\(tables.joined(separator: ", "))): migrate-to copies into an empty catalogue only"
        case .unmappedTable(let table):
            return "the SQLite table \(table) has no PostgreSQL mapping (PostgresCatalog+Import.swift): nothing was copied"
        case .columnsDiffer(let table, let mapped, let found):
            let columns = found.joined(separator: ", "), expected = mapped.joined(separator: ", ")
            return "the SQLite table \(table) has the columns \(columns), the mapping \(expected): nothing was copied"
        case .missingTable(let table):
            return "the PostgreSQL catalogue has no table \(table): its schema is older than the SQLite catalogue's"
        case .badValue(let table, let column, let row, let reason):
            return "\(table).\(column), row \(row): \(reason)"
        case .failed(let table, let message):
            return table.isEmpty ? "copying into PostgreSQL: \(message)" : "copying \(table): \(message)"
        }
    }
}

/// How each SQLite table and column lands in PostgreSQL (`mtx-companion migrate-to`). Every SQLite table of the
/// catalogue is listed, in foreign key order, with every column; an export with a table or a column not listed here
/// is refused, so a table added to SQLite later cannot be dropped silently.
///
/// The conversions: text uuids to `uuid`; GRDB's `Date` columns (UTC text to the millisecond) to int8 microseconds;
/// the integer microsecond times as they are; SQLite's 0/1 booleans to `boolean`; JSON text to `jsonb`; the webhook
/// subscriptions' comma-separated `events` and `source_ids` to `text[]` and `uuid[]`. Ids of the identity columns are
/// kept (`OVERRIDING SYSTEM VALUE`: delivery and audit ids are in the API) and the sequences set past them.
///
/// Not copied: SQLite's `grdb_migrations` and `sqlite_*` tables (the export leaves them out): PostgreSQL keeps its own
/// `schema_migrations`, and `sqlite_sequence`'s mark for `audit_log` is its largest id (audit rows are never deleted),
/// where the identity goes on from. PostgreSQL's own tables are runtime state of running instances and start empty:
/// `leases` (who runs background work) and `health_checks` (the readiness check's row).
extension PostgresCatalog {
    enum Conversion {
        case text, integer, real, boolean, uuid, jsonb
        /// A GRDB `Date` column (text) to microseconds.
        case sqliteDate
        /// Comma-separated text (`AppDatabase.decodeList`) to `text[]` / `uuid[]`.
        case textList, uuidList

        var type: String {
            switch self {
            case .text: "text"
            case .integer, .sqliteDate: "int8"
            case .real: "float8"
            case .boolean: "boolean"
            case .uuid: "uuid"
            case .jsonb: "jsonb"
            case .textList: "text[]"
            case .uuidList: "uuid[]"
            }
        }
    }

    /// A table copied column by column (the same names on both backends).
    struct TableMapping {
        var table: String
        var columns: [(name: String, conversion: Conversion)]
        /// The first column is an identity whose values are kept.
        var keepsIdentity = false
    }

    static let importMappings: [TableMapping] = [
        TableMapping(
            table: "media_sources",
            columns: [
                ("id", .uuid), ("name", .text), ("path_name", .text), ("type", .text), ("url", .text), ("protocol", .text), ("enabled", .boolean),
                ("record_enabled", .boolean), ("created_at", .sqliteDate), ("updated_at", .sqliteDate), ("node", .text),
            ]),
        TableMapping(
            table: "nodes",
            columns: [
                ("name", .text), ("api_address", .text), ("playback_address", .text), ("rtsp_address", .text), ("rtmp_address", .text),
                ("hls_address", .text), ("webrtc_address", .text), ("srt_address", .text), ("labels", .jsonb), ("max_paths", .integer),
                ("draining", .boolean), ("auth_token", .text), ("created_at", .integer), ("updated_at", .integer), ("health", .jsonb),
            ]),
        TableMapping(table: "source_placements", columns: [("path_name", .text), ("node", .text), ("since", .integer)]),
        TableMapping(
            table: "media_assets",
            columns: [
                ("id", .uuid), ("name", .text), ("type", .text), ("source_type", .text), ("source_id", .uuid), ("path", .text),
                ("description", .text), ("clip_start", .sqliteDate), ("clip_duration", .real), ("clip_format", .text),
                ("created_at", .sqliteDate), ("updated_at", .sqliteDate),
            ]),
        TableMapping(
            table: "media_asset_tags", columns: [("asset_id", .uuid), ("tag", .text), ("position", .integer), ("created_at", .sqliteDate)]),
        TableMapping(
            table: "users",
            columns: [
                ("id", .uuid), ("username", .text), ("role", .text), ("password_hash", .text), ("created_at", .sqliteDate),
                ("updated_at", .sqliteDate), ("token_version", .integer),
            ]),
        TableMapping(table: "publish_keys", columns: [("source_id", .uuid), ("key", .text), ("created_at", .sqliteDate)]),
        TableMapping(
            table: "audit_log",
            columns: [
                ("id", .integer), ("at", .sqliteDate), ("user_id", .uuid), ("username", .text), ("action", .text), ("target_type", .text),
                ("target_id", .text), ("outcome", .text), ("status", .integer), ("ip", .text), ("detail", .text),
            ], keepsIdentity: true),
        TableMapping(table: "source_retention", columns: [("source_id", .uuid), ("days", .integer)]),
        TableMapping(
            table: "webhook_subscriptions",
            columns: [
                ("id", .uuid), ("url", .text), ("events", .textList), ("source_ids", .uuidList), ("secret", .text), ("previous_secret", .text),
                ("previous_secret_expires_at", .integer), ("enabled", .boolean), ("disabled_reason", .text), ("failing_since", .integer),
                ("created_at", .integer), ("updated_at", .integer),
            ]),
        TableMapping(
            table: "webhook_deliveries",
            columns: [
                ("id", .integer), ("subscription_id", .uuid), ("event_id", .text), ("event_type", .text), ("order_key", .text),
                ("payload", .jsonb), ("state", .text), ("attempts", .integer), ("next_attempt_at", .integer), ("created_at", .integer),
                ("last_attempt_at", .integer), ("last_status", .integer), ("last_error", .text), ("last_latency_ms", .real),
                ("delivered_at", .integer),
            ], keepsIdentity: true),
        TableMapping(
            table: "hook_events",
            columns: [
                ("id", .integer), ("event_id", .text), ("type", .text), ("path_name", .text), ("occurred_at", .integer),
                ("received_at", .integer), ("node", .text), ("payload", .jsonb),
            ], keepsIdentity: true),
        TableMapping(
            table: "path_status",
            columns: [
                ("path_name", .text), ("available", .boolean), ("available_at", .integer), ("online", .boolean), ("online_at", .integer),
                ("source_type", .text), ("source_id", .text),
            ]),
        TableMapping(
            table: "path_readers",
            columns: [("path_name", .text), ("reader_id", .text), ("reader_type", .text), ("active", .boolean), ("changed_at", .integer)]),
        TableMapping(
            table: "segments",
            columns: [
                ("id", .integer), ("path_name", .text), ("file_path", .text), ("start", .integer), ("duration", .real), ("size", .integer),
                ("state", .text), ("updated_at", .integer),
            ], keepsIdentity: true),
        TableMapping(table: "webhook_open_sessions", columns: [("path_name", .text), ("start", .integer)]),
        TableMapping(
            table: "recording_sessions",
            columns: [("path_name", .text), ("start", .integer), ("stop", .integer), ("segment_count", .integer), ("open_count", .integer)]),
        TableMapping(table: "recording_session_gap", columns: [("id", .integer), ("gap", .integer)]),
        // The login throttle's window: copied so that a guesser's recent failures still count after the move.
        TableMapping(table: "login_failures", columns: [("key", .text), ("at", .integer)]),
    ]

    /// Rows per statement: at most 500, and within the protocol's 65,535 binds.
    static func rowsPerInsert(columns: Int) -> Int { max(1, min(500, 65_535 / max(columns, 1))) }

    /// Copies an exported SQLite catalogue (`AppDatabase.exportTables()`) into this one, in one transaction: refused
    /// unless every mapped table is empty (the tables are locked against writers first); then every row, in foreign
    /// key order, 500 rows a statement; then the identity sequences set past the copied ids. Returns the rows per
    /// table counted afterwards, by table name.
    public func importCatalog(from tables: [ExportedTable]) async throws -> [String: Int] {
        let exported = Dictionary(tables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let mappings = Dictionary(uniqueKeysWithValues: Self.importMappings.map { ($0.table, $0) })
        for table in tables {
            guard let mapping = mappings[table.name] else { throw CatalogImportError.unmappedTable(table.name) }
            let mapped = mapping.columns.map(\.name)
            guard Set(mapped) == Set(table.columns), mapped.count == table.columns.count else {
                throw CatalogImportError.columnsDiffer(table: table.name, mapped: mapped, found: table.columns)
            }
            if let row = table.rows.firstIndex(where: { $0.count != table.columns.count }) {
                throw CatalogImportError.badValue(
                    table: table.name, column: "*", row: row + 1, reason: "\(table.rows[row].count) values for \(table.columns.count) columns")
            }
        }
        try await requireTables()
        do {
            return try await client.withTransaction(logger: logger) { connection in
                let names = Self.importMappings.map(\.table)
                try await connection.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(names.joined(separator: ", ")) IN EXCLUSIVE MODE"), logger: logger)
                let before = try await Self.rowCounts(on: connection, logger: logger).filter { $0.value > 0 }
                guard before.isEmpty else { throw CatalogImportError.notEmpty(before) }
                // The sessions come copied, as they were: the segments' trigger leaves them alone.
                try await connection.query("SET LOCAL mtx.bulk_segments = 'on'", logger: logger)
                for mapping in Self.importMappings {
                    guard let table = exported[mapping.table] else { continue }
                    try await insert(table, as: mapping, on: connection)
                }
                try await resetIdentities(on: connection)
                return try await Self.rowCounts(on: connection, logger: logger)
            }
        } catch let error as PostgresTransactionError {
            if let ours = error.closureError as? CatalogImportError { throw ours }
            throw CatalogImportError.failed(table: "", message: Self.serverMessage(error))
        }
    }

    /// Rows per mapped table (by table name).
    public func rowCounts() async throws -> [String: Int] {
        try await requireTables()
        return try await client.withConnection { try await Self.rowCounts(on: $0, logger: logger) }
    }

    static func rowCounts(on connection: PostgresConnection, logger: Logger) async throws -> [String: Int] {
        let sql = importMappings.map { "SELECT '\($0.table)'::text, count(*) FROM \($0.table)" }.joined(separator: " UNION ALL ")
        var counts: [String: Int] = [:]
        for try await (table, count) in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode((String, Int64).self) {
            counts[table] = Int(count)
        }
        return counts
    }

    /// A clear error, rather than the server's, when the schema lacks a mapped table.
    func requireTables() async throws {
        let names = Self.importMappings.map(\.table)
        let rows = try await client.query("SELECT t FROM unnest(\(names)::text[]) AS t WHERE to_regclass(t) IS NULL", logger: logger)
        for try await missing in rows.decode(String.self) { throw CatalogImportError.missingTable(missing) }
    }

    func insert(_ table: ExportedTable, as mapping: TableMapping, on connection: PostgresConnection) async throws {
        // Positions of the mapped columns in the exported rows.
        let positions = mapping.columns.map { column in table.columns.firstIndex(of: column.name)! }
        let overriding = mapping.keepsIdentity ? " OVERRIDING SYSTEM VALUE" : ""
        let head = "INSERT INTO \(mapping.table) (\(mapping.columns.map(\.name).joined(separator: ", ")))\(overriding) VALUES"
        let batch = Self.rowsPerInsert(columns: mapping.columns.count)
        var start = 0
        while start < table.rows.count {
            let end = min(start + batch, table.rows.count)
            var bindings = PostgresBindings()
            var tuples: [String] = []
            for index in start..<end {
                var placeholders: [String] = []
                for (column, position) in zip(mapping.columns, positions) {
                    do {
                        try Self.bind(table.rows[index][position], as: column.conversion, into: &bindings)
                    } catch let error as ValueError {
                        throw CatalogImportError.badValue(table: mapping.table, column: column.name, row: index + 1, reason: error.reason)
                    }
                    placeholders.append("$\(bindings.count)::\(column.conversion.type)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            do {
                try await connection.query(PostgresQuery(unsafeSQL: head + " " + tuples.joined(separator: ", "), binds: bindings), logger: logger)
            } catch {
                throw CatalogImportError.failed(table: mapping.table, message: Self.serverMessage(error))
            }
            start = end
        }
    }

    struct ValueError: Error {
        var reason: String
    }

    /// Appends `value` converted for its column; the SQL casts the bind to `conversion.type`.
    static func bind(_ value: ExportedValue, as conversion: Conversion, into bindings: inout PostgresBindings) throws {
        if case .null = value {
            bindings.appendNull()
            return
        }
        switch (conversion, value) {
        case (.text, .text(let s)), (.jsonb, .text(let s)):
            bindings.append(s)
        case (.integer, .integer(let v)):
            bindings.append(v)
        case (.integer, .real(let d)) where d.rounded() == d && abs(d) < 9.0e18:
            bindings.append(Int64(d))
        case (.real, .real(let d)):
            bindings.append(d)
        case (.real, .integer(let v)):
            bindings.append(Double(v))
        case (.boolean, .integer(let v)):
            bindings.append(v != 0)
        case (.boolean, .real(let d)):
            bindings.append(d != 0)
        case (.uuid, .text(let s)):
            guard let id = UUID(uuidString: s) else { throw ValueError(reason: "not a uuid") }
            bindings.append(id)
        case (.sqliteDate, _):
            guard let date = value.sqliteDate else { throw ValueError(reason: "not a date") }
            bindings.append(date.micros)
        case (.textList, .text(let s)):
            bindings.append(s.split(separator: ",").map(String.init))
        case (.uuidList, .text(let s)):
            var ids: [UUID] = []
            for part in s.split(separator: ",") {
                guard let id = UUID(uuidString: String(part)) else { throw ValueError(reason: "not a comma-separated list of uuids") }
                ids.append(id)
            }
            bindings.append(ids)
        default:
            throw ValueError(reason: "\(value.storageName) does not convert to \(conversion.type)")
        }
    }

    /// Sets every identity or serial column's sequence of the mapped tables past the largest value stored.
    func resetIdentities(on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            SELECT c.relname::text, a.attname::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.oid = ANY(SELECT to_regclass(t) FROM unnest(\(Self.importMappings.map(\.table))::text[]) AS t)
                AND a.attnum > 0 AND NOT a.attisdropped AND pg_get_serial_sequence(c.oid::regclass::text, a.attname) IS NOT NULL
            """, logger: logger
        ).collect()
        for row in rows {
            let (table, column) = try row.decode((String, String).self)
            let name = Self.quoted(table), col = Self.quoted(column)
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(\(col)), 0) + 1, false) FROM \(name)",
                    binds: {
                        var b = PostgresBindings()
                        b.append(name)
                        b.append(column)
                        return b
                    }()), logger: logger)
        }
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The server's message (PSQLError's own description hides it), without its detail: "Failing row contains …"
    /// would show the row's values.
    static func serverMessage(_ error: any Error) -> String {
        guard let psql = PostgresCatalogError.psql(error), let message = psql.serverInfo?[.message] else { return "\(error)" }
        return "\(message) (SQLSTATE \(psql.serverInfo?[.sqlState] ?? "?"))"
    }
}

extension ExportedValue {
    var storageName: String {
        switch self {
        case .null: "null"
        case .integer: "an integer"
        case .real: "a real"
        case .text: "text"
        case .blob: "a blob"
        }
    }
}
