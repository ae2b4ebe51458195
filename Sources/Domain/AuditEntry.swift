import Foundation

/// One line of the audit log: who did what to what, when, and how it ended.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Date
    /// The user's id and name at the time; nil for an unauthenticated attempt.
    public var userID: UUID?
    public var username: String?
    /// E.g. `source.create`, `source.disable`, `recording.start`, `publish_key.rotate`, `user.add`.
    public var action: String
    public var targetType: String?
    public var targetID: String?
    /// `ok`, `denied` or `failed`, with the HTTP status when there is one.
    public var outcome: String
    public var status: Int?
    public var ip: String?
    public var detail: String?

    public init(
        id: Int64 = 0, at: Date = Date(), userID: UUID?, username: String?, action: String, targetType: String?, targetID: String?,
        outcome: String, status: Int?, ip: String?, detail: String?
    ) {
        self.id = id
        self.at = at
        self.userID = userID
        self.username = username
        self.action = action
        self.targetType = targetType
        self.targetID = targetID
        self.outcome = outcome
        self.status = status
        self.ip = ip
        self.detail = detail
    }
}

public struct AuditQuery: Sendable {
    public var username: String?
    public var action: String?
    public var targetID: String?
    public var outcome: String?
    public var from: Date?
    public var to: Date?
    public var page = 1
    public var pageSize = 50

    public init() {}
}
