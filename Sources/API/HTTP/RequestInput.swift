import Foundation
import Hummingbird

/// A JSON request body whose top-level keys are checked: unknown keys are refused, naming the key, and so is `null`
/// for a key that does not give it a meaning of its own (otherwise it would silently mean "left out").
protocol StrictBody: Decodable {
    static var allowedKeys: Set<String> { get }
    /// Keys whose `null` means something (clear the description, all sources, the default retention).
    static var nullableKeys: Set<String> { get }
}

extension StrictBody {
    static var nullableKeys: Set<String> { [] }
}

extension Request {
    /// Reads and decodes a JSON object body (≤ 1 MiB), mapping every decoding failure to a 400 naming the field.
    func decodeStrict<T: StrictBody>(_ type: T.Type) async throws -> T {
        var request = self
        let buffer = try await request.collectBody(upTo: AppRequestContext.maxBodySize)
        let data = Data(buffer: buffer)
        try JSONLimits.check(data)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw APIError.invalidJSON(data.isEmpty ? "empty body" : "malformed JSON")
        }
        guard let dictionary = object as? [String: Any] else { throw APIError.invalidJSON("expected a JSON object") }
        if let unknown = dictionary.keys.sorted().first(where: { !T.allowedKeys.contains($0) }) {
            throw APIError.unknownField(unknown)
        }
        if let null = dictionary.keys.sorted().first(where: { dictionary[$0] is NSNull && !T.nullableKeys.contains($0) }) {
            throw APIError.invalidField(null, .mustNotBeNull(null))
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw Self.map(error)
        }
    }

    static func map(_ error: DecodingError) -> APIError {
        func name(_ path: [any CodingKey]) -> String {
            path.reduce("") { out, key in
                if let i = key.intValue { return out + "[\(i)]" }
                return out.isEmpty ? key.stringValue : out + "." + key.stringValue
            }
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            return .missingField(name(ctx.codingPath + [key]))
        case .typeMismatch(let type, let ctx), .valueNotFound(let type, let ctx):
            let expected =
                type == Bool.self ? "true or false" : (type == String.self ? "a string" : (type == [String].self ? "a list of strings" : "a number"))
            return .invalidField(name(ctx.codingPath), .wrongType(name(ctx.codingPath), expected: expected))
        case .dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty
                ? .invalidJSON("malformed JSON") : .invalidField(name(ctx.codingPath), .wrongType(name(ctx.codingPath), expected: "valid"))
        @unknown default:
            return .invalidJSON("\(error)")
        }
    }
}

/// Typed access to query parameters, with 400s that name the parameter. A parameter given twice is refused (only
/// those named `repeatable` may repeat); a number, boolean or choice given empty is refused rather than read as
/// absent, while an empty text, time or id means none (as docs/openapi.yaml says).
struct QueryInput {
    let parameters: [String: String]

    init(_ request: Request, repeatable: Set<String> = []) throws {
        var out: [String: String] = [:]
        for (k, v) in request.uri.queryParameters {
            let key = String(k)
            if out[key] != nil, !repeatable.contains(key) { throw APIError.invalidField(key, .givenMoreThanOnce(key)) }
            out[key] = String(v)
        }
        parameters = out
    }

    /// Free text: absent and empty both mean "not given".
    func string(_ name: String) -> String? {
        parameters[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A typed value's text: nil when absent, a 400 when given empty.
    func typed(_ name: String) throws -> String? {
        guard let v = parameters[name] else { return nil }
        guard !v.isEmpty else { throw APIError.invalidField(name, .mustNotBeEmpty(name)) }
        return v
    }

    func bool(_ name: String) throws -> Bool? {
        guard let v = try typed(name) else { return nil }
        switch v.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw APIError.invalidField(name, .notABoolean(name))
        }
    }

    func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let v = try typed(name) else { return fallback }
        guard let n = Int(v), range.contains(n) else {
            throw APIError.invalidField(name, .notAnInteger(name, min: range.lowerBound, max: range.upperBound))
        }
        return n
    }

    /// `page` (from 1) and `page_size` (1…`maxSize`; `defaultSize` when absent).
    func paging(defaultSize: Int = 50, maxSize: Int = 500) throws -> (page: Int, pageSize: Int) {
        (try int("page", default: 1, range: 1...1_000_000), try int("page_size", default: defaultSize, range: 1...maxSize))
    }

    func oneOf(_ name: String, _ allowed: [String]) throws -> String? {
        guard let v = try typed(name) else { return nil }
        guard allowed.contains(v) else { throw APIError.invalidField(name, .notOneOf(name, allowed)) }
        return v
    }

    /// An id; empty is none (docs/openapi.yaml's `QueryUUID`).
    func uuid(_ name: String) throws -> UUID? {
        try string(name).map { text in
            guard let id = UUID(uuidString: text) else { throw APIError.invalidField(name, .wrongType(name, expected: "a UUID")) }
            return id
        }
    }
}
