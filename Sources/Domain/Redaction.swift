import Foundation

/// Secrets taken out of text that leaves the catalogue for someone who may not hold them: publish keys and tokens
/// in a hook's query string (`MTX_QUERY`), camera credentials in a pull URL. The secret becomes `REDACTED`; the
/// rest stays as it was, so an operator can still tell what was sent.
public enum Redaction {
    public static let mark = "REDACTED"

    /// Query parameters whose value is a secret (names compared case-insensitively, after percent-decoding).
    public static let secretParameters: Set<String> = [
        "key", "pass", "password", "passwd", "pwd", "token", "jwt", "access_token", "secret", "passphrase", "auth",
    ]

    /// `key=K&x=1` → `key=REDACTED&x=1`. SRT's `streamid` (`action:path:user:pass[:query]`) keeps its action, path and
    /// user, and its password and query are redacted in turn.
    public static func query(_ query: String) -> String {
        guard !query.isEmpty else { return query }
        return query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return String(pair) }
            let name = decoded(parts[0]).lowercased()
            if secretParameters.contains(name) { return "\(parts[0])=\(mark)" }
            if name == "streamid" { return "\(parts[0])=\(streamID(decoded(parts[1])))" }
            return String(pair)
        }.joined(separator: "&")
    }

    /// MediaMTX's SRT stream id `publish:path[:user:pass[:query]]`; the `#!::` key-value form's `s=` and `p=` too.
    public static func streamID(_ id: String) -> String {
        if id.hasPrefix("#!::") {
            let fields = id.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false).map { field -> String in
                let kv = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2, ["s", "p", "pass", "password", "key"].contains(kv[0].lowercased()) else { return String(field) }
                return "\(kv[0])=\(mark)"
            }
            return "#!::" + fields.joined(separator: ",")
        }
        var parts = id.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 4, !parts[3].isEmpty { parts[3] = mark }
        if parts.count >= 5 {
            parts[4] = query(parts[4...].joined(separator: ":"))
            parts.removeSubrange(5...)
        }
        return parts.joined(separator: ":")
    }

    /// A URL without its user info (`rtsp://admin:pw@cam/x` → `rtsp://cam/x`) and with secret query parameters
    /// redacted. Text that is no URL is returned as it is (it has no user info to lose).
    public static func url(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let afterScheme = text[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { "/?#".contains($0) }) ?? afterScheme.endIndex
        var authority = afterScheme[..<authorityEnd]
        // The last `@` ends the user info: a password may itself hold an unencoded `@`.
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var rest = String(afterScheme[authorityEnd...])
        if let q = rest.firstIndex(of: "?") {
            let fragment = rest[q...].firstIndex(of: "#")
            let queryText = rest[rest.index(after: q)..<(fragment ?? rest.endIndex)]
            rest = String(rest[..<q]) + "?" + query(String(queryText)) + (fragment.map { String(rest[$0...]) } ?? "")
        }
        return String(text[..<schemeEnd.upperBound]) + authority + rest
    }

    static func decoded(_ part: Substring) -> String {
        guard part.contains("%") || part.contains("+") else { return String(part) }
        return part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
    }
}
