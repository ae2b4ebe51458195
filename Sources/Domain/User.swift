import Foundation

/// An API user. The password is stored as a bcrypt hash only.
public struct User: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable, Comparable {
        /// Read, preview and playback.
        case viewer
        /// Sources, assets, recording control and clips, on top of viewer.
        case `operator`
        /// Everything, users and the audit log included.
        case admin

        var rank: Int {
            switch self {
            case .viewer: 0
            case .operator: 1
            case .admin: 2
            }
        }

        public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
    }

    public var id: UUID
    public var username: String
    public var role: Role
    public var passwordHash: String
    public var createdAt: Date
    public var updatedAt: Date
    /// Carried by each access token; a password change or "log out everywhere" raises it, ending older tokens.
    public var tokenVersion: Int

    public init(
        id: UUID = UUID(), username: String, role: Role, passwordHash: String, createdAt: Date = Date(), updatedAt: Date = Date(),
        tokenVersion: Int = 0
    ) {
        self.id = id
        self.username = username
        self.role = role
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.tokenVersion = tokenVersion
    }

    /// The one normal form of a user name, at creation and at login (and so for the login throttle): trimmed,
    /// Unicode NFC. Nil when a control or format character is in it (a NUL would otherwise make a new name that
    /// SQLite matches to the old one).
    public static func normalizedName(_ name: String) -> String? {
        let normal = name.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping
        let hidden = normal.unicodeScalars.contains { [.control, .format].contains($0.properties.generalCategory) }
        return hidden ? nil : normal
    }

    /// 1–64 of letters, digits, `.`, `_`, `-`, `@`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-@".contains($0)) }
    }
}
