import Crypto
import Foundation

/// `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, one `v1` per valid secret (Stripe-style).
enum WebhookSignature {
    static func header(body: String, secrets: [String], timestamp: Int) -> String {
        let message = Data("\(timestamp).\(body)".utf8)
        let signatures = secrets.map { secret in
            HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
        }
        return (["t=\(timestamp)"] + signatures.map { "v1=\($0)" }).joined(separator: ",")
    }

    /// `whsec_` and 64 hex characters from the system's CSPRNG.
    static func makeSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return "whsec_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
