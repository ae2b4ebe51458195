import Foundation

/// MediaMTX's `GlobalConf` (`/v3/config/global/get` and `/patch`, openapi.yaml): the fields the companion reads or a test
/// sets, with `mediamtx.yml`'s defaults; the API and playback addresses are where the simulator listens. A field of
/// GlobalConf outside this list is refused by `patch` as unknown (MediaMTX would take it).
enum GlobalConfSchema {
    static func fields(apiAddress: String, playbackAddress: String) -> [(String, PathConfSchema.Kind, JSONValue)] {
        [
            ("logLevel", .string, .string("info")),
            ("api", .bool, .bool(true)),
            ("apiAddress", .string, .string(apiAddress)),
            ("authMethod", .string, .string("internal")),
            ("authHTTPAddress", .string, .string("")),
            ("authHTTPExclude", .objectArray, .array([])),
            ("playback", .bool, .bool(true)),
            ("playbackAddress", .string, .string(playbackAddress)),
            ("rtspAddress", .string, .string(":8554")),
            ("rtmpAddress", .string, .string(":1935")),
            ("hlsAddress", .string, .string(":8888")),
            ("webrtcAddress", .string, .string(":8889")),
            ("srtAddress", .string, .string(":8890")),
        ]
    }

    /// openapi.yaml's AuthMethod.
    static let authMethods = ["internal", "http", "jwt"]
}

extension SimulatorState {
    /// Where the servers listen, as MediaMTX reports its own addresses (`host:port`).
    func setListenAddresses(api: String, playback: String) {
        globalConf = merge(globalConf, [("apiAddress", .string(api)), ("playbackAddress", .string(playback))])
    }

    public func getGlobalConf() -> SimResponse {
        SimResponse(status: 200, body: .object(globalConf))
    }

    func patchGlobalConf(_ body: Data) -> SimResponse {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            return .error(400, error.message)
        }
        guard case .object(let pairs) = value else {
            return .error(400, "json: cannot unmarshal \(value.goTypeName) into Go value of type conf.OptionalGlobal")
        }
        let kinds = Dictionary(uniqueKeysWithValues: GlobalConfSchema.fields(apiAddress: "", playbackAddress: "").map { ($0.0, $0.1) })
        for (key, v) in pairs {
            guard let kind = kinds[key] else { return .error(400, "json: unknown field \"\(key)\"") }
            guard kind.accepts(v) else {
                return .error(400, "json: cannot unmarshal \(v.goTypeName) into Go struct field OptionalGlobal.\(key) of type \(kind.goName)")
            }
            if key == "authMethod", let method = v.stringValue, !GlobalConfSchema.authMethods.contains(method) {
                return .error(400, "invalid auth method: '\(method)'")
            }
        }
        globalConf = merge(globalConf, pairs.filter { $0.1 != .null })
        return .ok()
    }
}
