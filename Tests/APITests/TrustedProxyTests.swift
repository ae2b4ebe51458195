import API
import Foundation
import HTTPTypes
import Testing

/// Behind a load balancer (docs/deployment.md) the login throttle and the audit log must see the client, not the
/// balancer, and nobody else may choose the address they are seen from.
@Suite("X-Forwarded-For from trusted proxies only", .timeLimit(.minutes(3)))
struct TrustedProxyTests {
    let forwarded = HTTPField.Name("X-Forwarded-For")!

    func failLogin(_ stack: TestStack, from header: String?) async throws -> Int {
        var headers: HTTPFields = [:]
        if let header { headers[forwarded] = header }
        return try await stack.raw.call(.post, "/api/v1/auth/login", json: ["username": "nobody", "password": "wrong password"], headers: headers)
            .status.code
    }

    func loggedAddresses(_ stack: TestStack) async throws -> [String] {
        let audit = try await stack.client.call(.get, "/api/v1/audit?action=auth.login")
        return (audit["items"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
    }

    @Test func theBalancersHeaderNamesTheClientAndOnlyItsRightmostUntrustedEntryCounts() async throws {
        try await withStack(configure: { $0.server.trustedProxies = ["127.0.0.1", "10.0.0.5"] }) { stack in
            // A client writes a forged entry first; the balancers append the real one (and their own hop).
            #expect(try await failLogin(stack, from: "1.2.3.4, 203.0.113.9, 10.0.0.5") == 401)
            #expect(try await failLogin(stack, from: "[2001:db8::1]:5000") == 401)
            #expect(try await failLogin(stack, from: "203.0.113.7:41000") == 401)
            // Not an address: the peer is used, the header is not trusted at all.
            #expect(try await failLogin(stack, from: "203.0.113.8, evil\u{7f}") == 401)
            #expect(try await failLogin(stack, from: nil) == 401)
            let seen = try await loggedAddresses(stack)
            #expect(Set(seen) == ["203.0.113.9", "2001:db8::1", "203.0.113.7", "127.0.0.1"], "\(seen)")
        }
    }

    @Test func withoutTrustedProxiesTheHeaderIsIgnored() async throws {
        try await withStack { stack in
            let status = try await failLogin(stack, from: "203.0.113.9")
            #expect(status == 401)
            let seen = try await loggedAddresses(stack)
            #expect(seen == ["127.0.0.1"])
        }
    }

    @Test func aBadProxyAddressStopsStartUp() throws {
        let yaml = try String(contentsOf: repositoryRoot.appendingPathComponent("configs/config.test.yaml"), encoding: .utf8)
        #expect(throws: ConfigError.self) {
            try AppConfig.parse(yaml: yaml, file: "c.yaml", variables: ["MTX_COMPANION_SERVER_TRUSTED_PROXIES": "10.0.0.5,balancer"])
        }
        let config = try AppConfig.parse(yaml: yaml, file: "c.yaml", variables: ["MTX_COMPANION_SERVER_TRUSTED_PROXIES": "10.0.0.5, ::1"])
        #expect(config.server.trustedProxies == ["10.0.0.5", "::1"])
    }
}
