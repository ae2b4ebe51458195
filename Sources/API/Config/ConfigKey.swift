import Domain
import Foundation
import HookWire

/// A key's text as read, and where it came from (an environment variable is named by itself in errors).
struct ConfigValue {
    enum Origin: Equatable {
        case file(String)
        case environment(String)
    }

    var text: String
    var origin: Origin
}

extension ConfigError {
    init(key: String, reason: String, origin: ConfigValue.Origin) {
        switch origin {
        case .file(let file): self.init(file: file, key: key, reason: reason)
        case .environment(let variable): self.init(file: variable, key: "", reason: "\(key): \(reason)")
        }
    }
}

/// One configuration key, declared once: its name in the file, the environment variable that overrides it, whether
/// the file must give it, what it does (the README's table is made from these), how its text is read into
/// `AppConfig`, and how its default (the property's initial value in `AppConfig`) reads.
public struct ConfigKey: Sendable {
    public let name: String
    public let env: String
    public let required: Bool
    public let doc: String
    let read: @Sendable (inout AppConfig, String, (String) -> ConfigError) throws -> Void
    let show: @Sendable (AppConfig) -> String?

    var section: String { String(name.prefix { $0 != "." }) }

    /// The default as the README shows it; nil for a required key or one without a default.
    public var defaultText: String? { required ? nil : show(AppConfig.defaults) }
}

// MARK: - Kinds of value

extension ConfigKey {
    /// Text. A required key must not be blank; `emptyKeepsDefault` reads an empty value as "not given".
    static func text(
        _ name: String, _ env: String, _ path: WritableKeyPath<AppConfig, String> & Sendable, required: Bool = false,
        emptyKeepsDefault: Bool = false, check: (@Sendable (String) -> String?)? = nil, _ doc: String
    ) -> ConfigKey {
        ConfigKey(
            name: name, env: env, required: required, doc: doc,
            read: { config, text, fail in
                if text.trimmingCharacters(in: .whitespaces).isEmpty {
                    if required { throw fail("must not be empty") }
                    if emptyKeepsDefault { return }
                }
                if let reason = check?(text) { throw fail(reason) }
                config[keyPath: path] = text
            },
            show: { config in config[keyPath: path] })
    }

    /// Optional text: empty means none.
    static func optionalText(_ name: String, _ env: String, _ path: WritableKeyPath<AppConfig, String?> & Sendable, _ doc: String) -> ConfigKey {
        ConfigKey(
            name: name, env: env, required: false, doc: doc, read: { config, text, _ in config[keyPath: path] = text.isEmpty ? nil : text },
            show: { _ in nil })
    }

    /// A required address; trailing slashes are dropped.
    static func address(_ name: String, _ env: String, _ path: WritableKeyPath<AppConfig, String> & Sendable, schemes: [String], _ doc: String)
        -> ConfigKey
    {
        ConfigKey(
            name: name, env: env, required: true, doc: doc,
            read: { config, text, fail in
                var v = text
                guard !v.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("must not be empty") }
                while v.hasSuffix("/") { v.removeLast() }
                guard let c = URLComponents(string: v), let scheme = c.scheme?.lowercased(), schemes.contains(scheme), let host = c.host,
                    !host.isEmpty
                else {
                    throw fail("expected a \(schemes.joined(separator: "/")) address such as \(schemes[0])://127.0.0.1:port, got \"\(v)\"")
                }
                config[keyPath: path] = v
            },
            show: { _ in nil })
    }

    /// A Go duration greater than zero (`500ms`, `2s`, `1m`); `zeroTurnsOff` also takes `0`.
    static func duration(
        _ name: String, _ env: String, _ path: WritableKeyPath<AppConfig, Duration> & Sendable, zeroTurnsOff: Bool = false, _ doc: String
    ) -> ConfigKey {
        ConfigKey(
            name: name, env: env, required: false, doc: doc,
            read: { config, text, fail in
                guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("must not be empty") }
                if zeroTurnsOff, text == "0" {
                    config[keyPath: path] = .zero
                    return
                }
                guard let d = GoDuration.parse(text), d > .zero else { throw fail("not a duration such as 500ms, 2s or 1m (\"\(text)\")") }
                config[keyPath: path] = d
            },
            show: { config in goText(config[keyPath: path]) })
    }

    /// A whole number in `range`; `reason` words the error.
    static func integer(
        _ name: String, _ env: String, _ path: WritableKeyPath<AppConfig, Int> & Sendable, required: Bool = false, in range: ClosedRange<Int>,
        reason: (@Sendable (String) -> String)? = nil, _ doc: String
    ) -> ConfigKey {
        ConfigKey(
            name: name, env: env, required: required, doc: doc,
            read: { config, text, fail in
                guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("must not be empty") }
                guard let value = Int(text), range.contains(value) else {
                    throw fail(reason?(text) ?? "must be a whole number from \(range.lowerBound) to \(range.upperBound) (\"\(text)\")")
                }
                config[keyPath: path] = value
            },
            show: { config in String(config[keyPath: path]) })
    }

    /// `true`/`yes` or `false`/`no`.
    static func boolean(_ name: String, _ env: String, _ path: WritableKeyPath<AppConfig, Bool> & Sendable, _ doc: String) -> ConfigKey {
        ConfigKey(
            name: name, env: env, required: false, doc: doc,
            read: { config, text, fail in
                switch text.lowercased() {
                case "false", "no": config[keyPath: path] = false
                case "true", "yes": config[keyPath: path] = true
                default: throw fail("must be true or false (\"\(text)\")")
                }
            },
            show: { config in String(config[keyPath: path]) })
    }

    /// A comma-separated list.
    static func list(_ name: String, _ env: String, _ path: WritableKeyPath<AppConfig, [String]> & Sendable, _ doc: String) -> ConfigKey {
        ConfigKey(
            name: name, env: env, required: false, doc: doc,
            read: { config, text, _ in
                config[keyPath: path] = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            },
            show: { config in config[keyPath: path].joined(separator: ",") })
    }

    /// A duration as Go writes it (`1h`, `10m`, `750ms`).
    static func goText(_ d: Duration) -> String {
        let (seconds, attoseconds) = d.components
        if attoseconds == 0 {
            if seconds == 0 { return "0" }
            if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
            if seconds % 60 == 0 { return "\(seconds / 60)m" }
            return "\(seconds)s"
        }
        return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000)ms"
    }
}

// MARK: - The README's table

extension ConfigKey {
    /// One row per key, in declaration order (README.md holds this table; `AppConfigTests` checks it).
    public static func markdownTable() -> String {
        var lines = ["| key | environment variable | default | what it does |", "| --- | --- | --- | --- |"]
        for key in all {
            let value = key.required ? "required" : key.defaultText.map { $0.isEmpty ? "empty" : "`\($0)`" } ?? "none"
            lines.append("| `\(key.name)` | `\(key.env)` | \(value) | \(key.doc) |")
        }
        return lines.joined(separator: "\n")
    }
}
