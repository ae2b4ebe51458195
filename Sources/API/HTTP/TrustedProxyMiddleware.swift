import Hummingbird
import NIOCore

/// Behind a load balancer every request comes from the balancer. When the connection's peer is one of
/// `server.trusted_proxies`, the client is the rightmost `X-Forwarded-For` address that is not itself a trusted proxy
/// (what a client writes further left can be forged; what the balancer appended cannot). Anyone else's header is
/// ignored. The address found is what the login throttle and the audit log see (`clientIP`).
struct TrustedProxyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let proxies: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let peer = context.remoteAddress?.ipAddress, proxies.contains(peer) else { return try await next(request, context) }
        var context = context
        context.forwardedFor = Self.client(request.headers[values: .init("X-Forwarded-For")!], proxies: proxies)
        return try await next(request, context)
    }

    /// The rightmost address of the (possibly repeated) header that is not a trusted proxy; nil when an entry on the
    /// way is not an IP address (then the peer is used).
    static func client(_ headers: [String], proxies: Set<String>) -> String? {
        let entries = headers.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for entry in entries.reversed() {
            guard let address = normalized(entry) else { return nil }
            if !proxies.contains(address) { return address }
        }
        return nil
    }

    /// An IP address as `SocketAddress` prints it (one spelling per address), from `a.b.c.d`, `a.b.c.d:port`,
    /// `v6` or `[v6]:port`.
    static func normalized(_ entry: String) -> String? {
        var host = Substring(entry)
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<close]
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            host = host[..<colon]
        }
        return (try? SocketAddress(ipAddress: String(host), port: 0))?.ipAddress
    }
}
