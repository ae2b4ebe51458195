#if canImport(Glibc)
    import Glibc
#endif

/// IANA's special-purpose address ranges (IPv4 and IPv6 registries), multicast and reserved space: one table for
/// every check that must keep the server from being steered at addresses that are not the public internet.
/// IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that address.
enum SpecialAddresses {
    struct Range: Sendable {
        let prefix: [UInt8]
        let bits: Int
        let name: String
        /// This host or its link: loopback, unspecified, link-local (cloud metadata lives at 169.254.169.254).
        let local: Bool

        func contains(_ a: [UInt8]) -> Bool {
            guard a.count == prefix.count else { return false }
            var left = bits
            for i in 0..<a.count where left > 0 {
                let take = min(8, left)
                let mask = UInt8(truncatingIfNeeded: 0xff << (8 - take))
                if a[i] & mask != prefix[i] & mask { return false }
                left -= take
            }
            return true
        }
    }

    static func v4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ bits: Int, _ name: String, local: Bool = false) -> Range {
        Range(prefix: [a, b, c, d], bits: bits, name: name, local: local)
    }

    static func v6(_ text: String, _ bits: Int, _ name: String, local: Bool = false) -> Range {
        Range(prefix: parse(text)!, bits: bits, name: name, local: local)
    }

    static let ipv4: [Range] = [
        v4(0, 0, 0, 0, 8, "this network", local: true),
        v4(10, 0, 0, 0, 8, "private"),
        v4(100, 64, 0, 0, 10, "shared address space"),
        v4(127, 0, 0, 0, 8, "loopback", local: true),
        v4(169, 254, 0, 0, 16, "link-local", local: true),
        v4(172, 16, 0, 0, 12, "private"),
        v4(192, 0, 0, 0, 24, "IETF protocol assignments"),
        v4(192, 0, 2, 0, 24, "documentation (TEST-NET-1)"),
        v4(192, 31, 196, 0, 24, "AS112"),
        v4(192, 52, 193, 0, 24, "AMT"),
        v4(192, 88, 99, 0, 24, "6to4 relay anycast"),
        v4(192, 168, 0, 0, 16, "private"),
        v4(192, 175, 48, 0, 24, "AS112 direct delegation"),
        v4(198, 18, 0, 0, 15, "benchmarking"),
        v4(198, 51, 100, 0, 24, "documentation (TEST-NET-2)"),
        v4(203, 0, 113, 0, 24, "documentation (TEST-NET-3)"),
        v4(224, 0, 0, 0, 4, "multicast"),
        v4(240, 0, 0, 0, 4, "reserved"),
    ]

    static let ipv6: [Range] = [
        v6("::", 128, "unspecified", local: true),
        v6("::1", 128, "loopback", local: true),
        v6("::", 96, "IPv4-compatible (deprecated)"),
        v6("64:ff9b:1::", 48, "local-use IPv4/IPv6 translation"),
        v6("100::", 64, "discard-only"),
        v6("2001::", 23, "IETF protocol assignments"),
        v6("2001:db8::", 32, "documentation"),
        v6("2620:4f:8000::", 48, "AS112"),
        v6("3fff::", 20, "documentation"),
        v6("5f00::", 16, "segment routing (SRv6) SIDs"),
        v6("fc00::", 7, "unique local"),
        v6("fe80::", 10, "link-local", local: true),
        v6("fec0::", 10, "site-local (deprecated)"),
        v6("ff00::", 8, "multicast"),
    ]

    /// IPv6 prefixes that embed an IPv4 address, and where it sits.
    static let embedding: [(range: Range, offset: Int)] = [
        (v6("::ffff:0:0", 96, "IPv4-mapped"), 12),
        (v6("64:ff9b::", 96, "NAT64"), 12),
        (v6("2002::", 16, "6to4"), 2),
    ]

    /// The special range `address` (4 or 16 bytes) lies in, or nil for a public unicast address.
    static func range(of address: [UInt8]) -> Range? {
        if address.count == 4 { return ipv4.first { $0.contains(address) } }
        guard address.count == 16 else { return Range(prefix: [], bits: 0, name: "malformed", local: false) }
        for (range, offset) in embedding where range.contains(address) {
            guard let inner = self.range(of: Array(address[offset..<offset + 4])) else { return nil }
            return Range(prefix: range.prefix, bits: range.bits, name: "\(range.name) \(inner.name)", local: inner.local)
        }
        return ipv6.first { $0.contains(address) }
    }

    /// An IP literal as bytes: IPv6 (brackets and a zone allowed), or IPv4 in any form the C resolver accepts
    /// (`127.1`, `0x7f.0.0.1`, `2130706433`), since that is how a name given to a connecting program is read.
    static func parse(_ text: String) -> [UInt8]? {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let percent = host.firstIndex(of: "%") { host = String(host[..<percent]) }
        if host.contains(":") {
            var a = in6_addr()
            guard inet_pton(AF_INET6, host, &a) == 1 else { return nil }
            return withUnsafeBytes(of: a) { Array($0) }
        }
        var a = in_addr()
        guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == "x" || $0 == "X" }), inet_aton(host, &a) != 0 else { return nil }
        return withUnsafeBytes(of: a) { Array($0) }
    }

    /// Names that always mean this host.
    static func isLocalName(_ host: String) -> Bool {
        let name = host.lowercased().trimmingSuffix(".")
        return name == "localhost" || name.hasSuffix(".localhost") || ["localhost.localdomain", "ip6-localhost", "ip6-loopback"].contains(name)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        var s = self
        while s.hasSuffix(suffix) { s.removeLast(suffix.count) }
        return s
    }
}
