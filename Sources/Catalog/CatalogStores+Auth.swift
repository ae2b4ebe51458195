import Domain
import Foundation

/// Users, the publish keys of sources and the audit log.
public protocol AuthStore: Sendable {
    // MARK: Users

    /// `CatalogError.nameTaken` when another user has the name, compared ignoring the case of ASCII letters
    /// ("ops@site" and "OPS@site" are one name). The name is stored as given; `tokenVersion` starts at 0 whatever
    /// the given one.
    func addUser(_ user: User) async throws
    /// Found ignoring the case of ASCII letters; the name comes back as it was added.
    func user(named name: String) async throws -> User?
    func user(id: UUID) async throws -> User?
    /// By name, ignoring the case of ASCII letters.
    func users() async throws -> [User]
    /// Changes a user's password hash and/or role (nil keeps it) and sets `updatedAt` to now; a new password hash
    /// raises `tokenVersion`, ending every token issued before it, a role change alone does not.
    /// `CatalogError.notFound` when there is no such user (name compared as in `user(named:)`).
    func updateUser(named name: String, passwordHash: String?, role: User.Role?) async throws
    /// "Log out everywhere": raises `tokenVersion`, ending every token of the user issued so far; `updatedAt` is kept.
    /// `CatalogError.notFound` when there is no such user.
    func endSessions(userID: UUID) async throws
    /// `CatalogError.notFound` when there is no such user (name compared as in `user(named:)`). Audit entries keep
    /// the user's id and name.
    func removeUser(named name: String) async throws

    // MARK: Publish keys

    /// The source's publish key (64 hex characters), made on first use and the same on every later call until it
    /// is rotated; two callers at once get the same key. `CatalogError.notFound` when there is no such source. A
    /// source's key is deleted with it.
    func publishKey(sourceID: UUID) async throws -> String
    /// The publish keys of these sources, making the missing ones (a write only when some are missing); keyed by
    /// source id. Throws as `publishKey(sourceID:)` does when one of them does not exist.
    func publishKeys(sourceIDs: [UUID]) async throws -> [UUID: String]
    /// Replaces the source's publish key (or makes the first one): the old one stops working at once. Throws as
    /// `publishKey(sourceID:)` does when there is no such source.
    func rotatePublishKey(sourceID: UUID) async throws -> String
    /// What MediaMTX's publish authorisation needs of a path: the source with this path name and its key, nil when
    /// it has none yet (this never makes one); nil when no source has the path.
    func publishTarget(path: String) async throws -> (source: MediaSource, key: String?)?

    // MARK: Audit log

    /// Appends an entry; its `id` is ignored, the catalogue numbers entries in the order they are appended.
    func appendAudit(_ entry: AuditEntry) async throws
    /// Newest (last appended) first. Filters, all optional and combined: `username`, `action`, `targetID` and
    /// `outcome` equal (case-sensitive), `from` ≤ `at` < `to`; `total` counts every match, `page` (from 1) and
    /// `pageSize` select the items.
    func audit(_ query: AuditQuery) async throws -> Page<AuditEntry>
}

extension AppDatabase: AuthStore {}
