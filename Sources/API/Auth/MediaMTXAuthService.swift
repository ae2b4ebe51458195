import Catalog
import CatalogPostgres
import Domain
import Foundation

/// Who may publish, read and play back through MediaMTX, and call its API: publish keys of push sources, media
/// tokens, trusted addresses.
struct MediaMTXAuthService: Sendable {
    let authenticator: Authenticator
    let database: any CatalogBackend
    let trustedAddresses: Set<String>
    let nodes: MediaNodes

    /// What MediaMTX posts (reference/mediamtx transcript.json); `id` is null for playback.
    struct AuthRequest: Decodable, Sendable {
        var ip: String?
        var user: String?
        var password: String?
        var token: String?
        var action: String?
        var path: String?
        var `protocol`: String?
        var id: String?
        var query: String?
        var userAgent: String?
    }

    enum Decision {
        case allow
        /// No credentials given: ask for them.
        case challenge(String)
        case deny(String)
        /// The catalogue cannot be read: refused (see `decide`).
        case unavailable(String)
    }

    /// `nodeToken`: the `?node_token=` of the node's `authHTTPAddress`, naming the node that asks.
    func decide(_ body: AuthRequest, action: String, path: String, nodeToken: String? = nil) async throws -> Decision {
        let query = Self.queryItems(body.query ?? "")
        if ["publish", "read", "playback"].contains(action) {
            switch try await nodeCheck(token: nodeToken, path: path, action: action) {
            case .some(let refusal): return refusal
            case .none: break
            }
        }
        switch action {
        case "publish":
            // Credentials first, whatever the path: a client without any is asked for them, and learns nothing.
            let given = [body.password, body.token, query["key"], query["pass"]].compactMap { $0 }.filter { !$0.isEmpty }
            guard !given.isEmpty else { return .challenge("no publish key") }
            let found: (source: MediaSource, key: String?)?
            do {
                found = try await database.publishTarget(path: path)
            } catch  where PostgresCatalogError.isUnavailable(error) {
                // Fail closed: publish keys live in the catalogue, and without it no key can be checked; allowing would
                // let anyone publish to any path. The pool answers within seconds, so MediaMTX is not kept waiting.
                return .unavailable("\(error)")
            }
            guard let target = found else { return .deny("no source has this path") }
            guard target.source.kind == .push else { return .deny("not a push source") }
            guard target.source.enabled else { return .deny("source disabled") }
            guard let key = target.key, given.contains(where: { constantTimeEquals($0, key) }) else { return .deny("wrong publish key") }
            return .allow
        case "read", "playback":
            // Media tokens are signed by us and checked by signature alone: no catalogue needed, so readers holding a
            // valid one keep being allowed while the database is down, and anything else is refused as usual.
            let given = [body.token, body.password, query["token"], query["jwt"]].compactMap { $0 }.filter { !$0.isEmpty }
            guard !given.isEmpty else { return .challenge("no token") }
            for token in given where await authenticator.mediaTokenAllows(token, path: path, action: action) { return .allow }
            return .deny("token invalid, expired, or for another path or action")
        case "api", "metrics", "pprof":
            return trustedAddresses.contains(Self.normalize(body.ip ?? "")) ? .allow : .deny("address not trusted")
        default:
            return .deny("unknown action")
        }
    }

    /// Refuses publish/read/playback asked by a node that isn't the path's (a camera or player pointed at the wrong
    /// node), or by a caller that names no node while there are several. Nil: go on with the credentials.
    /// Without the catalogue, publish is refused (its key can't be checked either) and read/playback are left to the
    /// media token, as before there were nodes.
    func nodeCheck(token: String?, path: String, action: String) async throws -> Decision? {
        let all: [MediaNode]
        do {
            all = try await nodes.recent()
        } catch  where PostgresCatalogError.isUnavailable(error) {
            return action == "publish" ? .unavailable("\(error)") : nil
        }
        let caller: MediaNode
        if let token, !token.isEmpty {
            // Compared with every node's token, each in constant time.
            var found: MediaNode?
            for node in all { if let own = node.authToken, constantTimeEquals(token, own) { found = node } }
            guard let found else { return .deny("unknown node_token") }
            caller = found
        } else {
            // A caller without a token is the one node that has none (the single block's `default`, typically): a
            // node given a token can't be taken for another that has one. With two or more tokenless nodes, none is.
            let tokenless = all.filter { $0.authToken == nil }
            guard tokenless.count == 1, let only = tokenless.first else {
                return .deny("the asking node is not named: its authHTTPAddress needs ?node_token=")
            }
            caller = only
        }
        guard all.count > 1 else { return nil }
        let target: (source: MediaSource, key: String?)?
        do {
            target = try await database.publishTarget(path: path)
        } catch  where PostgresCatalogError.isUnavailable(error) {
            return action == "publish" ? .unavailable("\(error)") : nil
        }
        if let source = target?.source, source.node != caller.name {
            return .deny("path is on node \(source.node), not \(caller.name)")
        }
        return nil
    }

    /// `a=1&b=x%20y` → ["a": "1", "b": "x y"]; the first value of a repeated name wins.
    static func queryItems(_ query: String) -> [String: String] {
        var items: [String: String] = [:]
        func decode(_ part: Substring) -> String {
            // Tokens and keys need no decoding; only decode what is encoded.
            guard part.contains("%") || part.contains("+") else { return String(part) }
            return part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
        }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            if items[name] == nil { items[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return items
    }

    static func normalize(_ ip: String) -> String {
        ip.hasPrefix("::ffff:") ? String(ip.dropFirst(7)) : ip
    }
}
