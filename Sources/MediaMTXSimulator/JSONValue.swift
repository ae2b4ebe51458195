import Foundation

/// A JSON value that keeps object key order, so the simulator answers with MediaMTX's field order.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The JSON type name Go's decoder uses in its error messages.
    var goTypeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    // MARK: - Serialising

    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            if n == n.rounded(), abs(n) < 1e15 { out += String(Int64(n)) } else { out += "\(n)" }
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += "," }
                Self.writeString(k, to: &out)
                out += ":"
                v.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    // MARK: - Parsing

    /// Parses a request body; the error text imitates Go's encoding/json, which MediaMTX returns verbatim.
    public static func parse(_ data: Data) throws(GoJSONError) -> JSONValue {
        var parser = Parser(bytes: Array(data))
        parser.skipSpace()
        guard parser.index < parser.bytes.count else { throw GoJSONError(message: "EOF") }
        let value = try parser.value()
        parser.skipSpace()
        if parser.index < parser.bytes.count {
            throw GoJSONError(message: "invalid character '\(parser.currentChar)' after top-level value")
        }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0

        var currentChar: String {
            index < bytes.count ? String(decoding: [bytes[index]], as: UTF8.self) : ""
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        func fail(_ context: String) -> GoJSONError {
            index < bytes.count
                ? GoJSONError(message: "invalid character '\(currentChar)' \(context)")
                : GoJSONError(message: "unexpected end of JSON input")
        }

        mutating func value() throws(GoJSONError) -> JSONValue {
            skipSpace()
            guard index < bytes.count else { throw fail("") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default: return try number()
            }
        }

        mutating func literal(_ word: String) throws(GoJSONError) {
            for c in word.utf8 {
                guard index < bytes.count, bytes[index] == c else {
                    throw fail("in literal \(word) (expecting '\(String(decoding: [c], as: UTF8.self))')")
                }
                index += 1
            }
        }

        mutating func number() throws(GoJSONError) -> JSONValue {
            let start = index
            while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
            guard index > start, let n = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
                index = start
                throw fail("looking for beginning of value")
            }
            return .number(n)
        }

        mutating func string() throws(GoJSONError) -> String {
            index += 1
            var raw: [UInt8] = [UInt8(ascii: "\"")]
            while index < bytes.count {
                let c = bytes[index]
                raw.append(c)
                index += 1
                if c == UInt8(ascii: "\\"), index < bytes.count {
                    raw.append(bytes[index])
                    index += 1
                } else if c == UInt8(ascii: "\"") {
                    guard let s = try? JSONDecoder().decode(String.self, from: Data(raw)) else { throw fail("in string literal") }
                    return s
                }
            }
            throw GoJSONError(message: "unexpected end of JSON input")
        }

        mutating func array() throws(GoJSONError) -> JSONValue {
            index += 1
            var items: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                items.append(try value())
                skipSpace()
                guard index < bytes.count else { throw fail("") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                throw fail("after array element")
            }
        }

        mutating func object() throws(GoJSONError) -> JSONValue {
            index += 1
            var pairs: [(String, JSONValue)] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(pairs)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("looking for beginning of object key string") }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("after object key") }
                index += 1
                pairs.append((key, try value()))
                skipSpace()
                guard index < bytes.count else { throw fail("") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(pairs)
                }
                throw fail("after object key:value pair")
            }
        }
    }
}

public struct GoJSONError: Error, Sendable {
    public var message: String
}
