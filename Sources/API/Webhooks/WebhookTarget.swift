import Crypto
import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Where a webhook may go: an http(s) URL whose host resolves only to public addresses, unless
/// `webhooks.allow_private_targets` is set. Checked when a subscription is saved and again before every attempt
/// (the name may resolve elsewhere by then: DNS rebinding).
struct WebhookTarget: Sendable {
    enum Problem: Error, Equatable {
        case notHTTP
        case blocked(String)
        case hostNotFound(String)
    }

    let url: URL
    let host: String
    let port: Int
    let secure: Bool

    /// Checks the URL's form only (no DNS).
    init(_ text: String) throws(Problem) {
        guard text.count <= 2048, let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = c.host, !host.isEmpty, c.user == nil, c.password == nil, let url = c.url
        else { throw .notHTTP }
        self.url = url
        // URLComponents keeps IPv6 literals in brackets.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        secure = scheme == "https"
        port = c.port ?? (secure ? 443 : 80)
    }

    /// Every address the host resolves to; `.blocked` naming the first one in a blocked range unless allowed.
    /// getaddrinfo blocks, so it runs on NIO's thread pool, not on Swift's cooperative pool.
    func resolve(allowPrivate: Bool) async throws -> [String] {
        let host = self.host, port = self.port
        let addresses = try await NIOThreadPool.singleton.runIfActive { try Self.lookup(host, port: port) }
        guard !addresses.isEmpty else { throw Problem.hostNotFound(host) }
        if !allowPrivate, let bad = addresses.first(where: { Self.isBlocked($0) }) { throw Problem.blocked(Self.text(bad)) }
        return addresses.map(Self.text)
    }

    /// The URL to connect to: plain http goes to the address just checked (with the original Host header), so a
    /// second lookup cannot land elsewhere; https needs the name for TLS and is connected by name.
    func pinned(to address: String) -> (url: String, hostHeader: String?) {
        guard !secure, var c = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return (url.absoluteString, nil) }
        let original = c.port.map { "\(c.host ?? host):\($0)" } ?? (c.host ?? host)
        c.host = address.contains(":") ? "[\(address)]" : address
        return (c.string ?? url.absoluteString, original)
    }

    // MARK: - Addresses

    /// 4 or 16 bytes.
    typealias Address = [UInt8]

    static func lookup(_ host: String, port: Int) throws -> [Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { throw Problem.hostNotFound(host) }
        defer { freeaddrinfo(first) }
        var out: [Address] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            if let sa = current.pointee.ai_addr {
                switch Int32(sa.pointee.sa_family) {
                case AF_INET:
                    let a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    out.append(withUnsafeBytes(of: a) { Array($0) })
                case AF_INET6:
                    let a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    out.append(withUnsafeBytes(of: a) { Array($0) })
                default:
                    break
                }
            }
            node = current.pointee.ai_next
        }
        return out
    }

    /// Every IANA special-purpose range, multicast and reserved space (`SpecialAddresses`), IPv6 forms that
    /// embed an IPv4 address judged by that address.
    static func isBlocked(_ a: Address) -> Bool {
        SpecialAddresses.range(of: a) != nil
    }

    static func text(_ a: Address) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = a.count == 4 ? AF_INET : AF_INET6
        _ = a.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
