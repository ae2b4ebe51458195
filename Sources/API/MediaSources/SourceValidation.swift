import Catalog
import Domain
import Foundation
import MediaMTX

/// Input rules for sources, shared by create and update.
enum SourceValidation {
    /// A node's name as `NodeName` allows it.
    static func nodeName(_ value: String, field: String) throws -> String {
        guard NodeName.isValid(value) else { throw APIError.invalidField(field, .notANodeName(field)) }
        return value
    }

    /// Node labels: at most 16 pairs, names and values as `NodeAddress.isLabel` allows.
    static func labels(_ value: [String: String]?, field: String) throws -> [String: String] {
        guard let value else { return [:] }
        guard value.count <= 16 else { throw APIError.invalidField(field, .tooMany(field, max: 16)) }
        guard value.allSatisfy({ NodeAddress.isLabel($0.key) && NodeAddress.isLabel($0.value) }) else {
            throw APIError.invalidField(field, .notALabel(field))
        }
        return value
    }
    static func name(_ value: String?, required: Bool) throws -> String? {
        guard let value else {
            if required { throw APIError.missingField("name") }
            return nil
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw APIError.invalidField("name", .mustNotBeEmpty("name")) }
        try storable(trimmed, "name", max: 255)
        return trimmed
    }

    /// Text as SQLite stores and measures it: no NUL (SQLite's text ends there), at most `max` code points (what the
    /// table's length() CHECK counts; a character may be several).
    static func storable(_ value: String, _ field: String, max: Int) throws {
        guard !value.unicodeScalars.contains("\0") else { throw APIError.invalidField(field, .containsNUL(field)) }
        guard value.unicodeScalars.count <= max else { throw APIError.invalidField(field, .tooLong(field, max: max)) }
    }

    static func pullURL(_ value: String, allowLocal: Bool, field: String = "url") throws -> String {
        let url = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !url.isEmpty else { throw APIError.invalidField(field, .mustNotBeEmpty(field)) }
        try storable(url, field, max: 1024)
        guard !url.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError.invalidField(field, .controlCharacters(field))
        }
        guard StreamProtocol.derive(fromURL: url) != nil else { throw APIError.invalidField(field, .unsupportedURL(Redaction.url(url))) }
        if !allowLocal, let target = localTarget(url) { throw APIError.invalidField(field, .localURL(field, reason: target)) }
        return url
    }

    /// What `url` reaches on MediaMTX's own host or link: a unix socket, a loopback, unspecified or link-local
    /// address (literal in any form the C resolver reads), or a name that always means this host. Names are not
    /// resolved: MediaMTX resolves them on its host, whose DNS may differ. UDP sources are addresses MediaMTX
    /// listens on, not ones it connects to.
    static func localTarget(_ url: String) -> String? {
        let scheme = url.prefix { $0 != ":" }.lowercased()
        if scheme.hasPrefix("unix+") { return "a unix socket" }
        if scheme.hasPrefix("udp+") { return nil }
        guard let host = URLComponents(string: url)?.host, !host.isEmpty else { return nil }
        if SpecialAddresses.isLocalName(host) { return "\(host) (this host)" }
        guard let address = SpecialAddresses.parse(host), let range = SpecialAddresses.range(of: address), range.local else { return nil }
        return "\(host) (\(range.name))"
    }

    static func protocolName(_ value: String?) throws -> String? {
        guard let value else { return nil }
        guard StreamProtocol.known.contains(value) else {
            throw APIError.invalidField("protocol", .notOneOf("protocol", StreamProtocol.known.sorted()))
        }
        return value
    }

    /// A number of seconds greater than 0, at most a day.
    static func seconds(_ q: QueryInput, _ name: String) throws -> Double? {
        guard let text = try q.typed(name) else { return nil }
        guard let d = Double(text), d > 0, d.isFinite else { throw APIError.invalidField(name, .notPositiveSeconds(name)) }
        guard d <= 86_400 else { throw APIError.invalidField(name, .tooManySeconds(name, max: 86_400)) }
        return d
    }

    /// RFC 3339 or unix seconds; empty is none (docs/openapi.yaml's `TimeParameter`).
    static func time(_ q: QueryInput, _ name: String) throws -> Date? {
        try q.string(name).map { try time($0, name) }
    }

    /// RFC 3339, or unix seconds as docs/openapi.yaml's `TimeParameter` has them: 1–10 digits, then up to 6 decimals
    /// (no exponent, sign or spaces: `1e5` and `1.3e-306` are refused).
    static func time(_ text: String, _ name: String) throws -> Date {
        if isUnixSeconds(text), let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        guard let date = RFC3339.parse(text) else { throw APIError.invalidField(name, .notATime(name)) }
        return date
    }

    static func isUnixSeconds(_ text: String) -> Bool {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        func digits(_ part: Substring, _ range: ClosedRange<Int>) -> Bool {
            range.contains(part.utf8.count) && part.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
        return digits(parts[0], 1...10) && (parts.count == 1 || digits(parts[1], 1...6))
    }
}
