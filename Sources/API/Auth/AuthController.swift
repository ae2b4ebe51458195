import Domain
import Foundation
import Hummingbird

/// `POST /api/v1/auth/login`, `GET /api/v1/auth/me`, the admin's `/api/v1/users` and `GET /api/v1/audit`.
struct AuthController {
    let service: AuthService

    func addRoutes(to router: AppRouter) {
        router.post("api/v1/auth/login", use: login)
        router.get("api/v1/auth/me") { _, context in
            if let identity = context.identity, identity.external { return UserResponse(identity) }
            return UserResponse(try await service.user(of: context.identity))
        }
        router.post("api/v1/auth/logout") { _, context in
            try await service.logout(context.identity)
            return Response(status: .noContent)
        }
        router.get("api/v1/users") { _, _ in ListResponse(items: try await service.users().map(UserResponse.init)) }
        router.post("api/v1/users", use: addUser)
        router.put("api/v1/users/:username", use: updateUser)
        router.delete("api/v1/users/:username", use: removeUser)
        router.get("api/v1/audit", use: audit)
    }

    // MARK: Login

    struct LoginBody: StrictBody {
        static let allowedKeys: Set<String> = ["username", "password"]
        var username: String
        var password: String
    }

    struct TokenResponse: ResponseEncodable {
        var accessToken: String
        var tokenType = "Bearer"
        var expiresIn: Int

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case tokenType = "token_type"
            case expiresIn = "expires_in"
        }
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> TokenResponse {
        let body = try await request.decodeStrict(LoginBody.self)
        let username = try Self.username(body.username)
        guard !body.password.isEmpty else { throw APIError.missingField("password") }
        context.audit.record("auth.login", target: "user", id: String(username.prefix(64)))
        let (token, expiresIn) = try await service.login(username: username, password: body.password, ip: context.clientIP)
        return TokenResponse(accessToken: token, expiresIn: expiresIn)
    }

    // MARK: Users (admin)

    struct UserResponse: ResponseEncodable {
        var id: String
        var username: String
        var role: String
        var createdAt: String?
        var updatedAt: String?
        /// True for a user of the external identity provider (no account here, so no times).
        var external: Bool?

        init(_ user: User) {
            id = user.id.uuidString.lowercased()
            username = user.username
            role = user.role.rawValue
            createdAt = Timestamp.format(user.createdAt)
            updatedAt = Timestamp.format(user.updatedAt)
        }

        init(_ identity: Identity) {
            id = identity.id.uuidString.lowercased()
            username = identity.username
            role = identity.role.rawValue
            external = true
        }

        enum CodingKeys: String, CodingKey {
            case id, username, role, external
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
    }

    struct ListResponse<Item: Encodable & Sendable>: ResponseEncodable {
        var items: [Item]
    }

    struct NewUser: StrictBody {
        static let allowedKeys: Set<String> = ["username", "password", "role"]
        var username: String
        var password: String
        var role: String
    }

    struct UserChange: StrictBody {
        static let allowedKeys: Set<String> = ["password", "role"]
        var password: String?
        var role: String?
    }

    static func role(_ text: String) throws -> User.Role {
        guard let role = User.Role(rawValue: text) else { throw APIError.invalidField("role", .notOneOf("role", User.Role.allCases.map(\.rawValue))) }
        return role
    }

    static func checkPassword(_ password: String) throws {
        guard password.count >= 8 else { throw APIError.invalidField("password", .tooShort("password", min: 8)) }
        guard password.utf8.count <= 72 else { throw APIError.invalidField("password", .tooLong("password", max: 72)) }
    }

    /// A user name in its normal form; 400 when empty or holding a control character.
    static func username(_ given: String) throws -> String {
        guard let name = User.normalizedName(given) else { throw APIError.invalidField("username", .controlCharacters("username")) }
        guard !name.isEmpty else { throw APIError.missingField("username") }
        return name
    }

    @Sendable func addUser(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<UserResponse> {
        var body = try await request.decodeStrict(NewUser.self)
        body.username = try Self.username(body.username)
        guard User.isValidName(body.username) else { throw APIError.invalidField("username", .notAUserName("username")) }
        let role = try Self.role(body.role)
        try Self.checkPassword(body.password)
        context.audit.record("user.add", target: "user", id: body.username, detail: "role=\(role.rawValue)")
        let user = try await service.addUser(username: body.username, password: body.password, role: role)
        return EditedResponse(status: .created, response: UserResponse(user))
    }

    @Sendable func updateUser(_ request: Request, context: AppRequestContext) async throws -> UserResponse {
        let name = context.parameters.get("username") ?? ""
        let existing = try await service.user(named: name)
        let body = try await request.decodeStrict(UserChange.self)
        let role = try body.role.map(Self.role)
        if let password = body.password { try Self.checkPassword(password) }
        try await service.checkKeepsAnAdmin(existing, newRole: role)
        let changes = [role.map { "role=\($0.rawValue)" }, body.password.map { _ in "password" }].compactMap { $0 }
        context.audit.record("user.update", target: "user", id: existing.username, detail: changes.joined(separator: ","))
        return UserResponse(try await service.updateUser(existing, password: body.password, role: role))
    }

    @Sendable func removeUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await service.removeUser(named: context.parameters.get("username") ?? "")
        return Response(status: .noContent)
    }

    // MARK: Audit (admin)

    struct AuditResponse: Encodable, Sendable {
        var id: Int64
        var at: String
        var userID: String?
        var username: String?
        var action: String
        var targetType: String?
        var targetID: String?
        var outcome: String
        var status: Int?
        var ip: String?
        var detail: String?

        init(_ e: AuditEntry) {
            id = e.id
            at = Timestamp.format(e.at)
            userID = e.userID?.uuidString.lowercased()
            username = e.username
            action = e.action
            targetType = e.targetType
            targetID = e.targetID
            outcome = e.outcome
            status = e.status
            ip = e.ip
            detail = e.detail
        }

        enum CodingKeys: String, CodingKey {
            case id, at, username, action, outcome, status, ip, detail
            case userID = "user_id"
            case targetType = "target_type"
            case targetID = "target_id"
        }
    }

    @Sendable func audit(_ request: Request, context: AppRequestContext) async throws -> PageResponse<AuditResponse> {
        let q = try QueryInput(request)
        var query = AuditQuery()
        query.username = q.string("username")
        query.action = q.string("action")
        query.targetID = q.string("target_id")
        query.outcome = try q.oneOf("outcome", ["ok", "denied", "failed"])
        query.from = try SourceValidation.time(q, "from")
        query.to = try SourceValidation.time(q, "to")
        (query.page, query.pageSize) = try q.paging()
        let page = try await service.audit(query)
        return PageResponse(items: page.items.map(AuditResponse.init), total: page.total, page: query.page, pageSize: query.pageSize)
    }
}
