import API
import ArgumentParser
import Catalog
import Domain
import Foundation
import MediaMTX

/// `mtx-companion users add|list|passwd|remove`: manage API users on the catalogue directly (the first admin too).
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API users (roles: admin, operator, viewer).",
        subcommands: [Add.self, List.self, Passwd.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user; the password is read from standard input.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "User name: 1-64 letters, digits, '.', '_', '-', '@'.") var name: String
        @Option(help: "admin, operator or viewer.") var role: String
        @Flag(help: "Read the password from standard input (one line).") var passwordStdin = false

        func run() async throws {
            guard passwordStdin else { throw ValidationError("pass the password on standard input with --password-stdin") }
            guard let name = User.normalizedName(name), User.isValidName(name) else {
                throw ValidationError("user name must be 1-64 letters, digits, '.', '_', '-', '@'")
            }
            guard let role = User.Role(rawValue: role) else { throw ValidationError("role must be admin, operator or viewer") }
            let config = try options.load()
            let password = try readPassword()
            let database = try await openConfiguredCatalog(config)
            let user = User(username: name, role: role, passwordHash: await Authenticator.hashPassword(password, cost: config.auth.bcryptCost))
            do {
                try await database.addUser(user)
            } catch CatalogError.nameTaken {
                throw ValidationError("a user named \(name) already exists")
            }
            try await database.appendAudit(
                AuditEntry(
                    userID: nil, username: "cli", action: "user.add", targetType: "user", targetID: name, outcome: "ok", status: nil, ip: nil,
                    detail: "role=\(role.rawValue)"
                ))
            print("added \(name) (\(role.rawValue))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users and their roles.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let database = try await options.openCatalog()
            for user in try await database.users() {
                print("\(user.username)\t\(user.role.rawValue)\t\(RFC3339.format(user.createdAt))")
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a user's password, read from standard input.")
        @OptionGroup var options: ConfigOptions
        @Argument var name: String
        @Flag(help: "Read the password from standard input (one line).") var passwordStdin = false

        func run() async throws {
            guard passwordStdin else { throw ValidationError("pass the password on standard input with --password-stdin") }
            let config = try options.load()
            let password = try readPassword()
            let database = try await openConfiguredCatalog(config)
            do {
                try await database.updateUser(
                    named: name, passwordHash: await Authenticator.hashPassword(password, cost: config.auth.bcryptCost), role: nil)
            } catch CatalogError.notFound {
                throw ValidationError("no user named \(name)")
            }
            try await database.appendAudit(
                AuditEntry(
                    userID: nil, username: "cli", action: "user.update", targetType: "user", targetID: name, outcome: "ok", status: nil, ip: nil,
                    detail: "password"
                ))
            print("password of \(name) changed")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user.")
        @OptionGroup var options: ConfigOptions
        @Argument var name: String

        func run() async throws {
            let database = try await options.openCatalog()
            do {
                try await database.removeUser(named: name)
            } catch CatalogError.notFound {
                throw ValidationError("no user named \(name)")
            }
            try await database.appendAudit(
                AuditEntry(
                    userID: nil, username: "cli", action: "user.remove", targetType: "user", targetID: name, outcome: "ok", status: nil, ip: nil,
                    detail: nil
                ))
            print("removed \(name)")
        }
    }
}

/// One line of standard input: 8 to 72 bytes (bcrypt reads no further).
func readPassword() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("no password on standard input") }
    guard line.count >= 8 else { throw ValidationError("the password must be at least 8 characters") }
    guard line.utf8.count <= 72 else { throw ValidationError("the password must be at most 72 bytes") }
    return line
}
