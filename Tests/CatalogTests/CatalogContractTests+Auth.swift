import Catalog
import Domain
import Foundation
import Testing

/// The contract of `AuthStore`: users, publish keys, the audit log.
extension CatalogContractTests {
    static func user(_ name: String, role: User.Role = .viewer, hash: String = "hash", at seconds: Double = 1_764_600_000) -> User {
        User(username: name, role: role, passwordHash: hash, createdAt: time(seconds), updatedAt: time(seconds))
    }

    /// A user as the catalogue keeps it: its times to the millisecond.
    static func kept(_ user: User?) -> User? {
        guard var u = user else { return nil }
        u.createdAt = time(u.createdAt.timeIntervalSince1970)
        u.updatedAt = time(u.updatedAt.timeIntervalSince1970)
        return u
    }

    static func kept(_ entry: AuditEntry) -> AuditEntry {
        var e = entry
        e.at = time(e.at.timeIntervalSince1970)
        return e
    }

    static func isKey(_ key: String) -> Bool {
        key.count == 64 && key.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    @Test(arguments: Backend.allCases)
    func usersRoundTripWithNamesIgnoringCase(backend: Backend) async throws {
        try await withStore(backend) { store in
            let store = try #require(store as? any AuthStore)
            #expect(try await store.users().isEmpty)
            let alice = Self.user("alice", role: .admin, at: 1_764_600_000.25)
            let bob = Self.user("Bob", role: .operator)
            for u in [alice, bob, Self.user("carol"), Self.user("Dave")] { try await store.addUser(u) }

            #expect(Self.kept(try await store.user(named: "alice")) == Self.kept(alice))
            #expect(Self.kept(try await store.user(id: bob.id)) == Self.kept(bob))
            #expect(try await store.user(named: "nobody") == nil)
            #expect(try await store.user(id: UUID()) == nil)
            // Names ignore the case of ASCII letters: found under any case, kept as added, taken under any case.
            #expect(try await store.user(named: "ALICE")?.id == alice.id)
            #expect(try await store.user(named: "bob")?.username == "Bob")
            await #expect(throws: CatalogError.nameTaken("ALICE")) { try await store.addUser(Self.user("ALICE")) }
            await #expect(throws: CatalogError.nameTaken("bob")) { try await store.addUser(Self.user("bob")) }
            // By name, ignoring case (a case-sensitive order would put "Bob" and "Dave" first).
            #expect(try await store.users().map(\.username) == ["alice", "Bob", "carol", "Dave"])

            // Only ASCII letters fold (SQLite's NOCASE): these are two names.
            try await store.addUser(Self.user("zoë"))
            try await store.addUser(Self.user("zoË"))
            #expect(try await store.user(named: "ZOË")?.username == "zoË")

            // A new user's token version starts at 0.
            var given = Self.user("eve")
            given.tokenVersion = 7
            try await store.addUser(given)
            #expect(try await store.user(id: given.id)?.tokenVersion == 0)

            try await store.removeUser(named: "BOB")
            #expect(try await store.user(id: bob.id) == nil)
            await #expect(throws: CatalogError.notFound) { try await store.removeUser(named: "Bob") }
            await #expect(throws: CatalogError.notFound) { try await store.removeUser(named: "nobody") }
            // The name is free again.
            try await store.addUser(Self.user("bob"))
            #expect(try await store.users().map(\.username) == ["alice", "bob", "carol", "Dave", "eve", "zoË", "zoë"])
        }
    }

    @Test(arguments: Backend.allCases)
    func passwordAndRoleUpdatesAndEndingSessions(backend: Backend) async throws {
        try await withStore(backend) { store in
            let store = try #require(store as? any AuthStore)
            let ops = Self.user("ops@site", role: .viewer, hash: "h1", at: 1_600_000_000)
            let other = Self.user("other", role: .admin, hash: "o1", at: 1_600_000_000)
            try await store.addUser(ops)
            try await store.addUser(other)

            // A role change alone keeps the tokens.
            try await store.updateUser(named: "ops@site", passwordHash: nil, role: .operator)
            var now = try #require(try await store.user(id: ops.id))
            #expect(now.role == .operator && now.passwordHash == "h1" && now.tokenVersion == 0)
            #expect(now.updatedAt > ops.updatedAt && Self.time(now.createdAt.timeIntervalSince1970) == ops.createdAt)

            // A new password ends older tokens; the name is matched ignoring case; the role is kept.
            try await store.updateUser(named: "OPS@SITE", passwordHash: "h2", role: nil)
            now = try #require(try await store.user(id: ops.id))
            #expect(now.role == .operator && now.passwordHash == "h2" && now.tokenVersion == 1)
            try await store.updateUser(named: "ops@site", passwordHash: "h3", role: .admin)
            now = try #require(try await store.user(id: ops.id))
            #expect(now.role == .admin && now.passwordHash == "h3" && now.tokenVersion == 2)
            // Nothing to change is no error.
            try await store.updateUser(named: "ops@site", passwordHash: nil, role: nil)
            #expect(try await store.user(id: ops.id)?.tokenVersion == 2)
            await #expect(throws: CatalogError.notFound) { try await store.updateUser(named: "nobody", passwordHash: "x", role: .admin) }

            // Log out everywhere: only the token version moves, only this user's.
            let before = try #require(try await store.user(id: ops.id))
            try await store.endSessions(userID: ops.id)
            var after = before
            after.tokenVersion = 3
            #expect(Self.kept(try await store.user(id: ops.id)) == Self.kept(after))
            try await store.endSessions(userID: ops.id)
            #expect(try await store.user(named: "ops@site")?.tokenVersion == 4)
            #expect(Self.kept(try await store.user(id: other.id)) == Self.kept(other))
            await #expect(throws: CatalogError.notFound) { try await store.endSessions(userID: UUID()) }
        }
    }

    @Test(arguments: Backend.allCases)
    func publishKeysStayUntilRotatedAndGoWithTheirSource(backend: Backend) async throws {
        try await withStore(backend) { store in
            let sources: any SourceStore = store
            let store = try #require(store as? any AuthStore)
            let a = Self.source("Studio A", at: 1_764_600_000)
            let b = Self.source("Studio B", at: 1_764_600_001)
            let camera = Self.source("Camera", kind: .pull, at: 1_764_600_002)
            for s in [a, b, camera] { try await sources.insertSource(s, announcing: []) }

            // No key until one is asked for: publishTarget does not make one.
            let fresh = try #require(try await store.publishTarget(path: a.pathName))
            #expect(Self.kept(fresh.source) == Self.kept(a) && fresh.key == nil)
            #expect(try await store.publishTarget(path: a.pathName)?.key == nil)
            #expect(try await store.publishTarget(path: "live/nothing") == nil)

            let first = try await store.publishKey(sourceID: a.id)
            #expect(Self.isKey(first))
            #expect(try await store.publishKey(sourceID: a.id) == first)
            #expect(try await store.publishTarget(path: a.pathName)?.key == first)

            let rotated = try await store.rotatePublishKey(sourceID: a.id)
            #expect(Self.isKey(rotated) && rotated != first)
            #expect(try await store.publishKey(sourceID: a.id) == rotated)
            #expect(try await store.publishTarget(path: a.pathName)?.key == rotated)

            // Rotating a source without a key makes its first.
            let bKey = try await store.rotatePublishKey(sourceID: b.id)
            #expect(try await store.publishKey(sourceID: b.id) == bKey)

            // Many at once, making the missing ones (any kind of source); a repeated id is one entry.
            let keys = try await store.publishKeys(sourceIDs: [a.id, b.id, camera.id, a.id])
            #expect(keys.count == 3 && keys[a.id] == rotated && keys[b.id] == bKey)
            let cameraKey = try #require(keys[camera.id])
            #expect(Self.isKey(cameraKey) && Set(keys.values).count == 3)
            #expect(try await store.publishKeys(sourceIDs: [camera.id, b.id]) == [camera.id: cameraKey, b.id: bKey])
            #expect(try await store.publishKey(sourceID: camera.id) == cameraKey)
            #expect(try await store.publishKeys(sourceIDs: []) == [:])

            // A source that does not exist has no key, and gets none.
            let ghost = UUID()
            await #expect(throws: CatalogError.notFound) { try await store.publishKey(sourceID: ghost) }
            await #expect(throws: CatalogError.notFound) { try await store.rotatePublishKey(sourceID: ghost) }
            await #expect(throws: CatalogError.notFound) { try await store.publishKeys(sourceIDs: [b.id, ghost]) }
            #expect(try await store.publishKeys(sourceIDs: [b.id]) == [b.id: bKey])

            // The key goes with its source: the same source made again starts without one.
            #expect(try await sources.deleteSource(id: a.id, announcing: []))
            #expect(try await store.publishTarget(path: a.pathName) == nil)
            try await sources.insertSource(a, announcing: [])
            #expect(try await store.publishTarget(path: a.pathName)?.key == nil)
            let again = try await store.publishKey(sourceID: a.id)
            #expect(again != rotated && again != first)
            #expect(try await store.publishKey(sourceID: b.id) == bKey)
        }
    }

    /// Instances asking for a missing key at once all get the one that was stored.
    @Test(arguments: Backend.allCases)
    func aKeyAskedForAtOnceIsMadeOnce(backend: Backend) async throws {
        try await withStore(backend) { store in
            let sources: any SourceStore = store
            let store = try #require(store as? any AuthStore)
            let made = (0..<4).map { Self.source("Push \($0)", at: 1_764_600_000 + Double($0)) }
            for s in made { try await sources.insertSource(s, announcing: []) }
            let ids = made.map(\.id)
            let single = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 { group.addTask { try await store.publishKey(sourceID: ids[0]) } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(single.count == 1)
            let many = try await withThrowingTaskGroup(of: [UUID: String].self) { group in
                for index in 0..<8 {
                    // Overlapping sets, in different orders.
                    let some = index.isMultiple(of: 2) ? ids : ids.reversed().dropLast(index % 3).map { $0 }
                    group.addTask { try await store.publishKeys(sourceIDs: some) }
                }
                return try await group.reduce(into: [[UUID: String]]()) { $0.append($1) }
            }
            let stored = try await store.publishKeys(sourceIDs: ids)
            #expect(stored.count == 4 && stored[ids[0]] == single.first)
            for keys in many {
                #expect(keys.allSatisfy { stored[$0.key] == $0.value })
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func theAuditLogFiltersAndPagesNewestFirst(backend: Backend) async throws {
        try await withStore(backend) { store in
            let store = try #require(store as? any AuthStore)
            #expect(try await store.audit(AuditQuery()).total == 0)
            let alice = UUID()
            let target = UUID().uuidString.lowercased()
            func entry(
                _ seconds: Double, _ user: UUID?, _ name: String?, _ action: String, _ targetID: String?, _ outcome: String, _ status: Int?
            ) -> AuditEntry {
                AuditEntry(
                    at: Self.time(seconds), userID: user, username: name, action: action, targetType: targetID == nil ? nil : "source",
                    targetID: targetID,
                    outcome: outcome, status: status, ip: user == nil ? "203.0.113.9" : "::1", detail: status == 409 ? "path_name taken" : nil)
            }
            let appended = [
                entry(1_764_600_000, alice, "alice", "source.create", target, "ok", 201),
                entry(1_764_600_010.5, alice, "alice", "source.create", "other", "failed", 409),
                entry(1_764_600_020, nil, nil, "auth.login", nil, "denied", 401),
                entry(1_764_600_030.25, alice, "alice", "publish_key.rotate", target, "ok", 200),
                entry(1_764_600_040, UUID(), "Alice", "user.add", "bob", "ok", nil),
                // Appended last with an earlier time: the log's order is the order of appending.
                entry(1_764_600_005, nil, "mtx-companion", "user.add", "carol", "ok", nil),
            ]
            for e in appended { try await store.appendAudit(e) }

            let all = try await store.audit(AuditQuery())
            #expect(all.total == 6 && all.items.count == 6)
            let ids = all.items.map(\.id)
            #expect(ids == ids.sorted(by: >) && Set(ids).count == 6)
            // Every field kept; the catalogue numbers the entries.
            #expect(all.items.map { Self.kept($0) } == zip(appended.reversed(), ids).map { e, id in Self.kept(AuditEntry(id: id, e)) })

            func actions(_ change: (inout AuditQuery) -> Void) async throws -> [String] {
                var query = AuditQuery()
                change(&query)
                let page = try await store.audit(query)
                return page.items.map { "\($0.action)@\(Int($0.at.timeIntervalSince1970) - 1_764_600_000)" }
            }
            // Equal, case-sensitive.
            #expect(try await actions { $0.username = "alice" } == ["publish_key.rotate@30", "source.create@10", "source.create@0"])
            #expect(try await actions { $0.username = "Alice" } == ["user.add@40"])
            #expect(try await actions { $0.username = "ALICE" } == [])
            #expect(try await actions { $0.action = "user.add" } == ["user.add@5", "user.add@40"])
            #expect(try await actions { $0.action = "source" } == [])
            #expect(try await actions { $0.targetID = target } == ["publish_key.rotate@30", "source.create@0"])
            #expect(try await actions { $0.outcome = "denied" } == ["auth.login@20"])
            #expect(try await actions { $0.outcome = "failed" } == ["source.create@10"])
            // from ≤ at < to.
            #expect(try await actions { $0.from = Self.time(1_764_600_020) } == ["user.add@40", "publish_key.rotate@30", "auth.login@20"])
            #expect(try await actions { $0.to = Self.time(1_764_600_010.5) } == ["user.add@5", "source.create@0"])
            #expect(
                try await actions {
                    $0.from = Self.time(1_764_600_010.5)
                    $0.to = Self.time(1_764_600_040)
                } == ["publish_key.rotate@30", "auth.login@20", "source.create@10"])
            // Filters combine.
            #expect(
                try await actions {
                    $0.username = "alice"
                    $0.action = "source.create"
                    $0.outcome = "ok"
                } == ["source.create@0"])
            #expect(
                try await actions {
                    $0.targetID = target
                    $0.from = Self.time(1_764_600_001)
                } == ["publish_key.rotate@30"])

            // Pages of the filtered list; the total counts every match.
            var query = AuditQuery()
            query.pageSize = 4
            query.page = 2
            let second = try await store.audit(query)
            #expect(second.total == 6 && second.items.map(\.id) == Array(ids[4...]))
            query.username = "alice"
            query.pageSize = 2
            let filtered = try await store.audit(query)
            #expect(filtered.total == 3 && filtered.items.map(\.action) == ["source.create"] && filtered.items.first?.status == 201)
            query.page = 3
            let beyond = try await store.audit(query)
            #expect(beyond.total == 3 && beyond.items.isEmpty)

            // Appended later: first.
            try await store.appendAudit(entry(1_764_600_000, alice, "alice", "auth.logout", nil, "ok", 204))
            #expect(try await store.audit(AuditQuery()).items.first?.action == "auth.logout")
        }
    }
}

extension AuditEntry {
    /// `entry` with the id the catalogue gave it.
    fileprivate init(id: Int64, _ entry: AuditEntry) {
        self = entry
        self.id = id
    }
}
