import Domain
import Foundation
import Hummingbird

// MARK: - Requests

/// `POST /api/v1/nodes` (every address required) and `PUT /api/v1/nodes/:name` (what is given changes).
struct NodeRequest: StrictBody {
    static let allowedKeys: Set<String> = [
        "name", "api_address", "playback_address", "rtsp_address", "rtmp_address", "hls_address", "webrtc_address", "srt_address", "labels",
        "max_paths", "draining", "auth_token",
    ]
    static let nullableKeys: Set<String> = ["max_paths"]
    var name: String?
    var apiAddress: String?
    var playbackAddress: String?
    var rtspAddress: String?
    var rtmpAddress: String?
    var hlsAddress: String?
    var webrtcAddress: String?
    var srtAddress: String?
    var labels: [String: String]?
    var maxPaths: Int??
    var draining: Bool?
    var authToken: String?

    enum CodingKeys: String, CodingKey {
        case name, labels, draining
        case apiAddress = "api_address"
        case playbackAddress = "playback_address"
        case rtspAddress = "rtsp_address"
        case rtmpAddress = "rtmp_address"
        case hlsAddress = "hls_address"
        case webrtcAddress = "webrtc_address"
        case srtAddress = "srt_address"
        case maxPaths = "max_paths"
        case authToken = "auth_token"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        apiAddress = try c.decodeIfPresent(String.self, forKey: .apiAddress)
        playbackAddress = try c.decodeIfPresent(String.self, forKey: .playbackAddress)
        rtspAddress = try c.decodeIfPresent(String.self, forKey: .rtspAddress)
        rtmpAddress = try c.decodeIfPresent(String.self, forKey: .rtmpAddress)
        hlsAddress = try c.decodeIfPresent(String.self, forKey: .hlsAddress)
        webrtcAddress = try c.decodeIfPresent(String.self, forKey: .webrtcAddress)
        srtAddress = try c.decodeIfPresent(String.self, forKey: .srtAddress)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels)
        if c.contains(.maxPaths) { maxPaths = .some(try c.decodeNil(forKey: .maxPaths) ? nil : try c.decode(Int.self, forKey: .maxPaths)) }
        draining = try c.decodeIfPresent(Bool.self, forKey: .draining)
        authToken = try c.decodeIfPresent(String.self, forKey: .authToken)
    }

    /// Applies what is given to `node`, checking each field; `creating` requires every address.
    func apply(to node: inout MediaNode, creating: Bool) throws {
        for (key, schemes, path, value) in [
            ("api_address", ["http", "https"], \MediaNode.apiAddress, apiAddress),
            ("playback_address", ["http", "https"], \.playbackAddress, playbackAddress),
            ("rtsp_address", ["rtsp", "rtsps"], \.rtspAddress, rtspAddress), ("rtmp_address", ["rtmp", "rtmps"], \.rtmpAddress, rtmpAddress),
            ("hls_address", ["http", "https"], \.hlsAddress, hlsAddress), ("webrtc_address", ["http", "https"], \.webrtcAddress, webrtcAddress),
            ("srt_address", ["srt"], \.srtAddress, srtAddress),
        ] {
            guard let value else {
                if creating { throw APIError.missingField(key) }
                continue
            }
            guard let normalized = NodeAddress.normalize(value, schemes: schemes) else {
                throw APIError.invalidField(key, .notOneOf("\(key) scheme", schemes.map { $0 + "://host:port" }))
            }
            node[keyPath: path] = normalized
        }
        if let labels { node.labels = try SourceValidation.labels(labels, field: "labels") }
        if let maxPaths {
            if let n = maxPaths, !(1...1_000_000).contains(n) {
                throw APIError.invalidField("max_paths", .notAnInteger("max_paths", min: 1, max: 1_000_000))
            }
            node.maxPaths = maxPaths
        }
        if let draining { node.draining = draining }
        if let authToken {
            guard !authToken.isEmpty, NodeDeclarations.tokenError(authToken) == nil else {
                throw APIError.invalidField("auth_token", .tooShort("auth_token (A-Z a-z 0-9 - _ . ~)", min: 16))
            }
            node.authToken = authToken
        }
    }
}

// MARK: - Responses

/// A node: its settings (the auth token only when just made or set), state, observed health and load.
struct NodeResponse: ResponseEncodable {
    var name: String
    var apiAddress: String
    var playbackAddress: String
    var rtspAddress: String
    var rtmpAddress: String
    var hlsAddress: String
    var webrtcAddress: String
    var srtAddress: String
    var labels: [String: String]
    var maxPaths: Int?
    var state: String
    var draining: Bool
    var authTokenSet: Bool
    var authToken: String?
    var sources: Int
    var health: HealthResponse?
    var createdAt: String
    var updatedAt: String

    struct HealthResponse: Encodable, Sendable {
        var reachable: Bool
        var checkedAt: String
        var reachableAt: String?
        var unreachableSince: String?
        var error: String?
        var version: String?
        var started: String?
        var paths: Int
        var readers: Int
        var bytesReceived: Int64
        var bytesSent: Int64

        enum CodingKeys: String, CodingKey {
            case reachable, error, version, started, paths, readers
            case checkedAt = "checked_at"
            case reachableAt = "reachable_at"
            case unreachableSince = "unreachable_since"
            case bytesReceived = "bytes_received"
            case bytesSent = "bytes_sent"
        }

        init(_ h: NodeHealth) {
            func time(_ micros: Int64?) -> String? { micros.map { Timestamp.format(Date(micros: $0)) } }
            reachable = h.unreachableSince == nil
            checkedAt = Timestamp.format(Date(micros: h.checkedAt))
            reachableAt = time(h.reachableAt)
            unreachableSince = time(h.unreachableSince)
            error = h.error
            version = h.version
            started = h.started
            paths = h.paths
            readers = h.readers
            bytesReceived = h.bytesReceived
            bytesSent = h.bytesSent
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, labels, state, draining, sources, health
        case apiAddress = "api_address"
        case playbackAddress = "playback_address"
        case rtspAddress = "rtsp_address"
        case rtmpAddress = "rtmp_address"
        case hlsAddress = "hls_address"
        case webrtcAddress = "webrtc_address"
        case srtAddress = "srt_address"
        case maxPaths = "max_paths"
        case authTokenSet = "auth_token_set"
        case authToken = "auth_token"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(_ n: MediaNode, sources: Int, state: MediaNode.State, showToken: Bool = false) {
        name = n.name
        apiAddress = n.apiAddress
        playbackAddress = n.playbackAddress
        rtspAddress = n.rtspAddress
        rtmpAddress = n.rtmpAddress
        hlsAddress = n.hlsAddress
        webrtcAddress = n.webrtcAddress
        srtAddress = n.srtAddress
        labels = n.labels
        maxPaths = n.maxPaths
        self.state = state.rawValue
        draining = n.draining
        authTokenSet = n.authToken != nil
        authToken = showToken ? n.authToken : nil
        self.sources = sources
        health = n.health.map(HealthResponse.init)
        createdAt = Timestamp.format(n.createdAt)
        updatedAt = Timestamp.format(n.updatedAt)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(apiAddress, forKey: .apiAddress)
        try c.encode(playbackAddress, forKey: .playbackAddress)
        try c.encode(rtspAddress, forKey: .rtspAddress)
        try c.encode(rtmpAddress, forKey: .rtmpAddress)
        try c.encode(hlsAddress, forKey: .hlsAddress)
        try c.encode(webrtcAddress, forKey: .webrtcAddress)
        try c.encode(srtAddress, forKey: .srtAddress)
        try c.encode(labels, forKey: .labels)
        try c.encode(maxPaths, forKey: .maxPaths)
        try c.encode(state, forKey: .state)
        try c.encode(draining, forKey: .draining)
        try c.encode(authTokenSet, forKey: .authTokenSet)
        try c.encodeIfPresent(authToken, forKey: .authToken)
        try c.encode(sources, forKey: .sources)
        try c.encode(health, forKey: .health)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// `POST /api/v1/nodes/:name/drain`: what moved where, and what stayed and why.
struct DrainResponse: ResponseEncodable {
    struct Moved: Encodable, Sendable {
        var sourceID: String
        var pathName: String
        var to: String

        enum CodingKeys: String, CodingKey {
            case to
            case sourceID = "source_id"
            case pathName = "path_name"
        }
    }

    struct Stayed: Encodable, Sendable {
        var sourceID: String
        var pathName: String
        var reason: String

        enum CodingKeys: String, CodingKey {
            case reason
            case sourceID = "source_id"
            case pathName = "path_name"
        }
    }

    var node: NodeResponse
    var moved: [Moved]
    var stayed: [Stayed]
}
