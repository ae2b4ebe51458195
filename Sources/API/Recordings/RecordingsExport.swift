import Catalog
import Domain
import Foundation
import Hummingbird

/// `GET /api/v1/recordings/export`: every indexed (not deleted) segment overlapping a range, of some sources or of
/// all, streamed as NDJSON or CSV in (path, start) order. Rows are read in batches by key (each batch one short read,
/// nothing held between them) and written as they come, so memory stays flat whatever the number of rows.
public struct RecordingsExport: Sendable {
    let database: any CatalogBackend
    static let batchSize = 5_000

    public init(database: any CatalogBackend) {
        self.database = database
    }

    public enum Format: String, CaseIterable, Sendable {
        case ndjson, csv

        var contentType: String { self == .csv ? "text/csv; charset=utf-8" : "application/x-ndjson" }
    }

    /// The paths of `sourceIDs` (404 naming `source_id` for one that does not exist), narrowed to `path`; nil: all.
    public func paths(sourceIDs: [UUID], path: String?) async throws -> [String]? {
        guard !sourceIDs.isEmpty else { return path.map { [$0] } }
        var paths: [String] = []
        for id in sourceIDs {
            guard let source = try await database.source(id: id) else { throw ServiceError.notFound(.source, field: "source_id") }
            if path == nil || path == source.pathName { paths.append(source.pathName) }
        }
        return Array(Set(paths)).sorted()
    }

    /// The body: a header (CSV), then each batch's rows, encoded into one buffer per batch.
    func body(_ format: Format, paths: [String]?, from: Int64?, to: Int64?) -> ResponseBody {
        ResponseBody { writer in
            try await write(format, paths: paths, from: from, to: to) { try await writer.write($0) }
            try await writer.finish(nil)
        }
    }

    /// Hands `sink` the export, a buffer per batch (`mtx-companion segments --format` writes them to stdout).
    public func write(_ format: Format, paths: [String]?, from: Int64?, to: Int64?, to sink: (ByteBuffer) async throws -> Void) async throws {
        if format == .csv { try await sink(ByteBuffer(string: ExportRow.csvHeader)) }
        var cursor: SegmentCursor?
        while true {
            let batch = try await database.segmentBatch(after: cursor, paths: paths, from: from, to: to, limit: Self.batchSize)
            guard let last = batch.last else { break }
            let names = Array(Set(batch.map(\.pathName)))
            let owners = try await database.sourceIDs(forPaths: names)
            let placements = try await database.placements(paths: names)
            var buffer = ByteBuffer()
            buffer.reserveCapacity(batch.count * 200)
            for segment in batch {
                let row = ExportRow(segment: segment, sourceID: owners[segment.pathName], node: placements[segment.pathName]?.node(at: segment.start))
                buffer.writeString(format == .csv ? row.csv : row.ndjson)
            }
            try await sink(buffer)
            if batch.count < Self.batchSize { break }
            cursor = SegmentCursor(path: last.pathName, start: last.start)
        }
    }
}

/// One exported segment: `path_name, source_id, node, start, end, duration, size, state, file_path`.
struct ExportRow {
    static let csvHeader = "path_name,source_id,node,start,end,duration,size,state,file_path\r\n"

    let segment: Segment
    let sourceID: UUID?
    let node: String?

    var ndjson: String {
        var out = #"{"path_name":"#
        out.reserveCapacity(256)
        out += Self.json(segment.pathName)
        out += #","source_id":"#
        if let sourceID { out += "\"" + sourceID.uuidString.lowercased() + "\"" } else { out += "null" }
        out += #","node":"#
        out += node.map(Self.json) ?? "null"
        out += #","start":""#
        out += Timestamp.format(micros: segment.start)
        out += #"","end":"#
        if let end = segment.end { out += "\"" + Timestamp.format(micros: end) + "\"" } else { out += "null" }
        out += #","duration":"#
        out += segment.duration.map { String($0) } ?? "null"
        out += #","size":"#
        out += segment.size.map { String($0) } ?? "null"
        out += #","state":""#
        out += segment.state.rawValue
        out += #"","file_path":"#
        out += segment.filePath.map(Self.json) ?? "null"
        out += "}\n"
        return out
    }

    var csv: String {
        var out = Self.csv(segment.pathName)
        out.reserveCapacity(200)
        out += ","
        if let sourceID { out += sourceID.uuidString.lowercased() }
        out += ","
        if let node { out += Self.csv(node) }
        out += ","
        out += Timestamp.format(micros: segment.start)
        out += ","
        if let end = segment.end { out += Timestamp.format(micros: end) }
        out += ","
        if let duration = segment.duration { out += String(duration) }
        out += ","
        if let size = segment.size { out += String(size) }
        out += ","
        out += segment.state.rawValue
        out += ","
        if let file = segment.filePath { out += Self.csv(file) }
        out += "\r\n"
        return out
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func json(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) { return "\"" + s + "\"" }
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a leading `= + - @` is prefixed
    /// with `'`, so that a spreadsheet does not run a file name as a formula.
    static func csv(_ s: String) -> String {
        var value = s
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
