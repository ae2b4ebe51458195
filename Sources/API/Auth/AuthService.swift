import Catalog
import Domain
import Foundation

/// Users, signing in and out, and the audit log: accounts stored with hashed passwords, access tokens issued.
struct AuthService: Sendable {
    let authenticator: Authenticator
    let database: any CatalogBackend

    // MARK: - Signing in and out

    /// An access token for `username` (in its normal form), if `password` is theirs and neither the name nor `ip` is
    /// locked out by failures.
    func login(username: String, password: String, ip: String?) async throws -> (token: String, expiresIn: Int) {
        let user = try await authenticator.login(username: username, password: password, ip: ip)
        return try await authenticator.accessToken(for: user)
    }

    /// The stored user behind `identity`; unauthenticated when there is none (any more).
    func user(of identity: Identity?) async throws -> User {
        guard let identity, let user = try await database.user(id: identity.id) else { throw ServiceError(.unauthenticated, .tokenInvalid) }
        return user
    }

    /// Ends every session of the caller: their tokens stop working. Users of the external provider log out there.
    func logout(_ identity: Identity?) async throws {
        if identity?.external == true { throw ServiceError(.conflict, .externalLogout) }
        try await database.endSessions(userID: try await user(of: identity).id)
    }

    // MARK: - Users

    func users() async throws -> [User] {
        try await database.users()
    }

    func user(named name: String) async throws -> User {
        guard let user = try await database.user(named: name) else { throw ServiceError.notFound(.user) }
        return user
    }

    /// A new user; a conflict when the name is taken.
    func addUser(username: String, password: String, role: User.Role) async throws -> User {
        let user = User(username: username, role: role, passwordHash: await hash(password))
        do {
            try await database.addUser(user)
        } catch CatalogError.nameTaken(let name) {
            throw ServiceError(.conflict, .userExists(name), field: "username")
        }
        return user
    }

    /// Refuses to take the admin role from the last admin.
    func checkKeepsAnAdmin(_ user: User, newRole: User.Role?) async throws {
        if user.role == .admin, let newRole, newRole != .admin, try await adminCount() <= 1 {
            throw ServiceError(.lastAdmin, .lastAdmin)
        }
    }

    /// The user with a new password and/or role, as stored.
    func updateUser(_ user: User, password: String?, role: User.Role?) async throws -> User {
        var hash: String?
        if let password { hash = await self.hash(password) }
        try await database.updateUser(named: user.username, passwordHash: hash, role: role)
        return try await database.user(named: user.username) ?? user
    }

    /// Removes a user, unless it is the last admin.
    func removeUser(named name: String) async throws {
        let user = try await user(named: name)
        if user.role == .admin, try await adminCount() <= 1 { throw ServiceError(.lastAdmin, .lastAdmin) }
        try await database.removeUser(named: user.username)
    }

    func adminCount() async throws -> Int {
        try await database.users().filter { $0.role == .admin }.count
    }

    func hash(_ password: String) async -> String {
        await Authenticator.hashPassword(password, cost: authenticator.settings.bcryptCost)
    }

    // MARK: - Audit

    func record(_ entry: AuditEntry) async throws {
        try await database.appendAudit(entry)
    }

    func audit(_ query: AuditQuery) async throws -> Page<AuditEntry> {
        try await database.audit(query)
    }
}
