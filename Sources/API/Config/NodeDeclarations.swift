import Domain
import Foundation
import Yams

/// `mediamtx.nodes`: a list of nodes, each a mapping of `name`, the addresses of the single `mediamtx` block,
/// `labels` (a mapping), `max_paths` and `auth_token`.
enum NodeDeclarations {
    /// The keys of the single block that a node declares for itself.
    static let singleNodeKeys: Set<String> = [
        "mediamtx.api_address", "mediamtx.playback_address", "mediamtx.rtsp_address", "mediamtx.rtmp_address", "mediamtx.hls_address",
        "mediamtx.webrtc_address", "mediamtx.srt_address", "mediamtx.auth_token",
    ]

    /// Why `token` can't be a node's auth token (it goes in a URL and is a secret), or nil; empty is allowed (none).
    static func tokenError(_ token: String) -> String? {
        guard !token.isEmpty else { return nil }
        guard token.utf8.count >= 16, token.utf8.count <= 128, token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.~".contains($0)) })
        else { return "must be 16 to 128 characters of A-Z a-z 0-9 - _ . ~ (it goes in a URL)" }
        return nil
    }

    static let addressKeys: [(key: String, schemes: [String], path: WritableKeyPath<MediaNode, String> & Sendable)] = [
        ("api_address", ["http", "https"], \.apiAddress), ("playback_address", ["http", "https"], \.playbackAddress),
        ("rtsp_address", ["rtsp", "rtsps"], \.rtspAddress), ("rtmp_address", ["rtmp", "rtmps"], \.rtmpAddress),
        ("hls_address", ["http", "https"], \.hlsAddress), ("webrtc_address", ["http", "https"], \.webrtcAddress),
        ("srt_address", ["srt"], \.srtAddress),
    ]

    static func parse(_ value: Node, file: String) throws -> [MediaNode] {
        guard let items = value.sequence, !items.isEmpty else {
            throw ConfigError(file: file, key: "mediamtx.nodes", reason: "expected a list of nodes (name, api_address, …)")
        }
        var nodes: [MediaNode] = []
        for (index, item) in items.enumerated() {
            let prefix = "mediamtx.nodes[\(index)]"
            guard let mapping = item.mapping else { throw ConfigError(file: file, key: prefix, reason: "expected a mapping") }
            var fields: [String: Node] = [:]
            for (key, value) in mapping { fields[key.string ?? "?"] = value }
            let known = Set(addressKeys.map(\.key) + ["name", "labels", "max_paths", "auth_token"])
            if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
                throw ConfigError(file: file, key: "\(prefix).\(unknown)", reason: "unknown key")
            }
            func text(_ key: String) throws -> String? {
                guard let node = fields[key] else { return nil }
                guard let scalar = node.scalar else { throw ConfigError(file: file, key: "\(prefix).\(key)", reason: "expected a single value") }
                return scalar.string
            }
            guard let name = try text("name"), NodeName.isValid(name) else {
                throw ConfigError(file: file, key: "\(prefix).name", reason: "missing or not a node name (a-z, 0-9, - and _, at most 63)")
            }
            guard !nodes.contains(where: { $0.name == name }) else {
                throw ConfigError(file: file, key: "\(prefix).name", reason: "\"\(name)\" is declared twice")
            }
            var node = MediaNode(
                name: name, apiAddress: "", playbackAddress: "", rtspAddress: "", rtmpAddress: "", hlsAddress: "", webrtcAddress: "",
                srtAddress: "")
            for address in addressKeys {
                guard let given = try text(address.key) else {
                    throw ConfigError(file: file, key: "\(prefix).\(address.key)", reason: "missing")
                }
                guard let normalized = NodeAddress.normalize(given, schemes: address.schemes) else {
                    throw ConfigError(
                        file: file, key: "\(prefix).\(address.key)",
                        reason:
                            "expected a \(address.schemes.joined(separator: "/")) address such as \(address.schemes[0])://127.0.0.1:port, got \"\(given)\""
                    )
                }
                node[keyPath: address.path] = normalized
            }
            if let labels = fields["labels"] {
                guard let mapping = labels.mapping else { throw ConfigError(file: file, key: "\(prefix).labels", reason: "expected a mapping") }
                for (key, value) in mapping {
                    guard let k = key.string, let v = value.scalar?.string, NodeAddress.isLabel(k), NodeAddress.isLabel(v) else {
                        throw ConfigError(file: file, key: "\(prefix).labels", reason: "labels are name: value pairs of a-z, 0-9, . - _")
                    }
                    node.labels[k] = v
                }
            }
            if let max = try text("max_paths") {
                guard let n = Int(max), n > 0 else {
                    throw ConfigError(file: file, key: "\(prefix).max_paths", reason: "must be a whole number above 0 (\"\(max)\")")
                }
                node.maxPaths = n
            }
            if let token = try text("auth_token") {
                if let reason = tokenError(token), !token.isEmpty {
                    throw ConfigError(file: file, key: "\(prefix).auth_token", reason: reason)
                }
                node.authToken = token.isEmpty ? nil : token
            }
            nodes.append(node)
        }
        return nodes
    }
}

/// The rules a node's fields follow, wherever they are given (config file or API).
enum NodeAddress {
    /// The address without trailing slashes when its scheme is one of `schemes` and it names a host; else nil.
    static func normalize(_ text: String, schemes: [String]) -> String? {
        var v = text.trimmingCharacters(in: .whitespaces)
        while v.hasSuffix("/") { v.removeLast() }
        guard let c = URLComponents(string: v), let scheme = c.scheme?.lowercased(), schemes.contains(scheme), let host = c.host, !host.isEmpty,
            c.user == nil, c.password == nil, c.query == nil, c.fragment == nil
        else { return nil }
        return v
    }

    static func isLabel(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 63
            && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
    }
}
