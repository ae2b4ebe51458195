import Foundation

/// One MediaMTX instance the companion controls: where its API and playback server are, the public addresses
/// handed to players and encoders, and how it takes part in placement.
public struct MediaNode: Sendable, Equatable {
    /// The node of today's single `mediamtx` block, and of every source made before there were several nodes.
    public static let defaultName = "default"

    /// Unique and URL-safe (`NodeName.isValid`); sources refer to their node by it.
    public var name: String
    public var apiAddress: String
    public var playbackAddress: String
    public var rtspAddress: String
    public var rtmpAddress: String
    public var hlsAddress: String
    public var webrtcAddress: String
    public var srtAddress: String
    /// `site=north` and the like, matched by a new source's requested labels.
    public var labels: [String: String]
    /// Most paths placed here; nil: no limit.
    public var maxPaths: Int?
    /// Set by an operator: no new placements, pull sources moved away.
    public var draining: Bool
    /// The secret this node's `authHTTPAddress` carries (`?node_token=`), so that one node can't speak for another;
    /// nil: the node is identified only while it is the only one.
    public var authToken: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// What the reconciler last observed (nil: never checked).
    public var health: NodeHealth?

    public init(
        name: String, apiAddress: String, playbackAddress: String, rtspAddress: String, rtmpAddress: String, hlsAddress: String,
        webrtcAddress: String, srtAddress: String, labels: [String: String] = [:], maxPaths: Int? = nil, draining: Bool = false,
        authToken: String? = nil, createdAt: Date = Date(), updatedAt: Date = Date(), health: NodeHealth? = nil
    ) {
        self.name = name
        self.apiAddress = apiAddress
        self.playbackAddress = playbackAddress
        self.rtspAddress = rtspAddress
        self.rtmpAddress = rtmpAddress
        self.hlsAddress = hlsAddress
        self.webrtcAddress = webrtcAddress
        self.srtAddress = srtAddress
        self.labels = labels
        self.maxPaths = maxPaths
        self.draining = draining
        self.authToken = authToken
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.health = health
    }

    public enum State: String, Sendable, Equatable {
        case active, draining, down
    }

    /// `down` when the reconciler has not reached it for `downAfter` (observed, not set); else `draining` when an
    /// operator drains it; else `active`.
    public func state(downAfter: Int64, now: Int64) -> State {
        if let since = health?.unreachableSince, now - since >= downAfter { return .down }
        return draining ? .draining : .active
    }

    /// The configured part, without what is observed or stamped: what a config declaration is compared by.
    public func sameSettings(as other: MediaNode) -> Bool {
        var a = self
        var b = other
        (a.createdAt, a.updatedAt, a.health, a.draining) = (.distantPast, .distantPast, nil, false)
        (b.createdAt, b.updatedAt, b.health, b.draining) = (.distantPast, .distantPast, nil, false)
        return a == b
    }
}

/// A node as the reconciler last saw it: reachability, MediaMTX's `/v3/info`, and its load.
public struct NodeHealth: Sendable, Equatable, Codable {
    /// When it was last asked (µs).
    public var checkedAt: Int64
    /// When it last answered (µs).
    public var reachableAt: Int64?
    /// Since when it has not answered (µs); nil while it answers.
    public var unreachableSince: Int64?
    public var error: String?
    /// `/v3/info`: `version` and `started` (a change means MediaMTX restarted).
    public var version: String?
    public var started: String?
    public var paths = 0
    public var readers = 0
    public var bytesReceived: Int64 = 0
    public var bytesSent: Int64 = 0

    public init(checkedAt: Int64) {
        self.checkedAt = checkedAt
    }

    enum CodingKeys: String, CodingKey {
        case checkedAt = "checked_at"
        case reachableAt = "reachable_at"
        case unreachableSince = "unreachable_since"
        case error, version, started, paths, readers
        case bytesReceived = "bytes_received"
        case bytesSent = "bytes_sent"
    }
}

/// Node names: what a source's `node` and `/api/v1/nodes/:name` carry.
public enum NodeName {
    /// 1–63 of `a-z 0-9 - _`, starting with a letter or digit.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63 else { return false }
        func allowed(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        return allowed(first) && name.unicodeScalars.allSatisfy { allowed($0) || $0 == "-" || $0 == "_" }
    }
}

/// Where a path was placed over time: the node that held it from `since` (µs) until the next placement. A path's
/// recordings may sit on several nodes after a move; a segment's node is the placement in force at its start.
public struct Placement: Sendable, Equatable {
    public var node: String
    public var since: Int64

    public init(node: String, since: Int64) {
        self.node = node
        self.since = since
    }
}

extension [Placement] {
    /// The node that held the path at `time` (µs): the last placement from before it; the first one for earlier times.
    public func node(at time: Int64) -> String? {
        let sorted = self.sorted { $0.since < $1.since }
        return sorted.last { $0.since <= time }?.node ?? sorted.first?.node
    }
}

/// Where a new source goes (issue "several nodes"): the named node, else one carrying all requested labels, else
/// the least loaded; only active nodes with room count.
public enum NodePlacement {
    public enum Failure: Error, Equatable {
        /// The named node does not exist.
        case unknownNode(String)
        /// No node at all carries the requested labels.
        case noNodeWithLabels
        /// No active node with room matches.
        case noNodeAvailable
    }

    /// `load`: paths placed per node name. Ties go to the name that sorts first, so placement is repeatable.
    public static func choose(
        among nodes: [MediaNode], named: String?, labels: [String: String], load: [String: Int], downAfter: Int64, now: Int64,
        excluding: Set<String> = []
    ) throws(Failure) -> MediaNode {
        if let named {
            guard let node = nodes.first(where: { $0.name == named }) else { throw .unknownNode(named) }
            guard node.state(downAfter: downAfter, now: now) == .active, hasRoom(node, load) else { throw .noNodeAvailable }
            return node
        }
        let labelled = nodes.filter { node in labels.allSatisfy { node.labels[$0.key] == $0.value } }
        if labelled.isEmpty { throw .noNodeWithLabels }
        let candidates = labelled.filter { node in
            !excluding.contains(node.name) && node.state(downAfter: downAfter, now: now) == .active && hasRoom(node, load)
        }
        // Least loaded by share of capacity; nodes without a limit count their paths against 10,000.
        func share(_ node: MediaNode) -> Double { Double(load[node.name] ?? 0) / Double(node.maxPaths ?? 10_000) }
        guard
            let best = candidates.min(by: { a, b in
                share(a) != share(b) ? share(a) < share(b) : a.name < b.name
            })
        else { throw .noNodeAvailable }
        return best
    }

    static func hasRoom(_ node: MediaNode, _ load: [String: Int]) -> Bool {
        node.maxPaths.map { (load[node.name] ?? 0) < $0 } ?? true
    }
}
