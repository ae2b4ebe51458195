import Foundation
import HookWire

/// MediaMTX's `PathConf`: every field in the order MediaMTX reports it, with its type and default
/// (the defaults of `mediamtx.yml`; recordPath/segment duration come from the simulator's options).
enum PathConfSchema {
    enum Kind {
        case string, bool, int, double, stringArray, intArray, doubleArray, objectArray

        var goName: String {
            switch self {
            case .string: return "string"
            case .bool: return "bool"
            case .int: return "int"
            case .double: return "float64"
            case .stringArray: return "[]string"
            case .intArray: return "[]uint"
            case .doubleArray: return "[]float64"
            case .objectArray: return "[]struct"
            }
        }

        func accepts(_ value: JSONValue) -> Bool {
            switch (self, value) {
            case (_, .null): return true
            case (.string, .string), (.bool, .bool), (.double, .number): return true
            case (.int, .number(let n)): return n == n.rounded()
            case (.stringArray, .array(let items)):
                return items.allSatisfy {
                    if case .string = $0 { return true }
                    return false
                }
            case (.intArray, .array(let items)), (.doubleArray, .array(let items)):
                return items.allSatisfy {
                    if case .number = $0 { return true }
                    return false
                }
            case (.objectArray, .array(let items)):
                return items.allSatisfy {
                    if case .object = $0 { return true }
                    return false
                }
            default: return false
            }
        }
    }

    struct Field {
        let name: String
        let kind: Kind
        let defaultValue: JSONValue
        init(_ name: String, _ kind: Kind, _ defaultValue: JSONValue) {
            self.name = name
            self.kind = kind
            self.defaultValue = defaultValue
        }
    }

    static let fields: [Field] = [
        Field("source", .string, .string("publisher")),
        Field("sourceFingerprint", .string, .string("")),
        Field("sourceOnDemand", .bool, .bool(false)),
        Field("sourceOnDemandStartTimeout", .string, .string("10s")),
        Field("sourceOnDemandCloseAfter", .string, .string("10s")),
        Field("maxReaders", .int, .number(0)),
        Field("srtReadPassphrase", .string, .string("")),
        Field("useAbsoluteTimestamp", .bool, .bool(false)),
        Field("alwaysAvailable", .bool, .bool(false)),
        Field("alwaysAvailableTracks", .objectArray, .array([])),
        Field("alwaysAvailableFile", .string, .string("")),
        Field("forward", .objectArray, .array([])),
        Field("record", .bool, .bool(false)),
        Field("recordPath", .string, .string("./recordings/%path/%Y-%m-%d_%H-%M-%S-%f")),
        Field("recordFormat", .string, .string("fmp4")),
        Field("recordPartDuration", .string, .string("1s")),
        Field("recordMaxPartSize", .string, .string("50M")),
        Field("recordSegmentDuration", .string, .string("1h")),
        Field("recordDeleteAfter", .string, .string("1d")),
        Field("overridePublisher", .bool, .bool(true)),
        Field("srtPublishPassphrase", .string, .string("")),
        Field("rtspDemuxMpegts", .bool, .bool(false)),
        Field("rtspTransport", .string, .string("automatic")),
        Field("rtspAnyPort", .bool, .bool(false)),
        Field("rtspRangeType", .string, .string("")),
        Field("rtspRangeStart", .string, .string("")),
        Field("rtspScale", .string, .string("")),
        Field("rtspUDPSourcePortRange", .intArray, .array([.number(32768), .number(60999)])),
        Field("rtpSDP", .string, .string("")),
        Field("moqTransport", .string, .string("quic")),
        Field("whepBearerToken", .string, .string("")),
        Field("whepSTUNGatherTimeout", .string, .string("5s")),
        Field("whepHandshakeTimeout", .string, .string("10s")),
        Field("whepTrackGatherTimeout", .string, .string("2s")),
        Field("sourceRedirect", .string, .string("")),
        Field("rpiCameraCamID", .int, .number(0)),
        Field("rpiCameraSecondary", .bool, .bool(false)),
        Field("rpiCameraWidth", .int, .number(1920)),
        Field("rpiCameraHeight", .int, .number(1080)),
        Field("rpiCameraHFlip", .bool, .bool(false)),
        Field("rpiCameraVFlip", .bool, .bool(false)),
        Field("rpiCameraBrightness", .double, .number(0)),
        Field("rpiCameraContrast", .double, .number(1)),
        Field("rpiCameraSaturation", .double, .number(1)),
        Field("rpiCameraSharpness", .double, .number(1)),
        Field("rpiCameraExposure", .string, .string("normal")),
        Field("rpiCameraAWB", .string, .string("auto")),
        Field("rpiCameraAWBGains", .doubleArray, .array([.number(0), .number(0)])),
        Field("rpiCameraDenoise", .string, .string("off")),
        Field("rpiCameraShutter", .int, .number(0)),
        Field("rpiCameraMetering", .string, .string("centre")),
        Field("rpiCameraGain", .double, .number(0)),
        Field("rpiCameraEV", .double, .number(0)),
        Field("rpiCameraROI", .string, .string("")),
        Field("rpiCameraHDR", .bool, .bool(false)),
        Field("rpiCameraTuningFile", .string, .string("")),
        Field("rpiCameraMode", .string, .string("")),
        Field("rpiCameraFPS", .double, .number(30)),
        Field("rpiCameraAfMode", .string, .string("continuous")),
        Field("rpiCameraAfRange", .string, .string("normal")),
        Field("rpiCameraAfSpeed", .string, .string("normal")),
        Field("rpiCameraLensPosition", .double, .number(0)),
        Field("rpiCameraAfWindow", .string, .string("")),
        Field("rpiCameraFlickerPeriod", .int, .number(0)),
        Field("rpiCameraTextOverlayEnable", .bool, .bool(false)),
        Field("rpiCameraTextOverlay", .string, .string("%Y-%m-%d %H:%M:%S - MediaMTX")),
        Field("rpiCameraCodec", .string, .string("auto")),
        Field("rpiCameraIDRPeriod", .int, .number(60)),
        Field("rpiCameraBitrate", .int, .number(5000000)),
        Field("rpiCameraH264Profile", .string, .string("auto")),
        Field("rpiCameraH264Level", .string, .string("4.1")),
        Field("rpiCameraMJPEGQuality", .int, .number(60)),
        Field("runOnInit", .string, .string("")),
        Field("runOnInitRestart", .bool, .bool(false)),
        Field("runOnDemand", .string, .string("")),
        Field("runOnDemandRestart", .bool, .bool(false)),
        Field("runOnDemandStartTimeout", .string, .string("10s")),
        Field("runOnDemandCloseAfter", .string, .string("10s")),
        Field("runOnUnDemand", .string, .string("")),
        Field("runOnAvailable", .string, .string("")),
        Field("runOnAvailableRestart", .bool, .bool(false)),
        Field("runOnUnavailable", .string, .string("")),
        Field("runOnOnline", .string, .string("")),
        Field("runOnOnlineRestart", .bool, .bool(false)),
        Field("runOnOffline", .string, .string("")),
        Field("runOnRead", .string, .string("")),
        Field("runOnReadRestart", .bool, .bool(false)),
        Field("runOnUnread", .string, .string("")),
        Field("runOnRecordSegmentCreate", .string, .string("")),
        Field("runOnRecordSegmentComplete", .string, .string("")),
    ]
    /// Deprecated fields MediaMTX still accepts in requests but no longer reports.
    static let deprecated: [String: Kind] = [
        "disablePublisherOverride": .bool,
        "fallback": .string,
        "mpegtsUDPReadBufferSize": .int,
        "playback": .bool,
        "publishIPs": .stringArray,
        "publishPass": .string,
        "publishUser": .string,
        "readIPs": .stringArray,
        "readPass": .string,
        "readUser": .string,
        "rpiCameraHardwareH264Level": .string,
        "rpiCameraHardwareH264Profile": .string,
        "rpiCameraJPEGQuality": .int,
        "rpiCameraLevel": .string,
        "rpiCameraProfile": .string,
        "rpiCameraSoftwareH264Level": .string,
        "rpiCameraSoftwareH264Profile": .string,
        "rtpUDPReadBufferSize": .int,
        "rtspUDPReadBufferSize": .int,
        "runOnNotReady": .string,
        "runOnReady": .string,
        "runOnReadyRestart": .bool,
        "sourceAnyPortEnable": .bool,
        "sourceProtocol": .string,
    ]

    static let kinds: [String: Kind] = Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.kind) })

    /// Old hook names that MediaMTX maps onto the new ones.
    static let aliases = ["runOnReady": "runOnAvailable", "runOnNotReady": "runOnUnavailable", "runOnReadyRestart": "runOnAvailableRestart"]

    /// URL schemes (and keywords) MediaMTX accepts as `source`.
    static let sourceSchemes = [
        "rtsp://", "rtsps://", "rtsp+http://", "rtsps+http://", "rtsp+ws://", "rtsps+ws://", "rtmp://", "rtmps://",
        "http://", "https://", "udp+mpegts://", "unix+mpegts://", "udp+rtp://", "udp://", "srt://", "moqt://", "whep://", "wheps://",
    ]

    static func isValidSource(_ source: String) -> Bool {
        ["publisher", "redirect", "rpiCamera"].contains(source) || sourceSchemes.contains { source.hasPrefix($0) && source.count > $0.count }
    }

    /// MediaMTX's path name rule, with its message.
    static func pathNameError(_ name: String) -> String? {
        let reason: String
        if name.isEmpty {
            reason = "cannot be empty"
        } else if name.hasPrefix("/") {
            reason = "can't begin with a slash"
        } else if name.hasSuffix("/") {
            reason = "can't end with a slash"
        } else if !name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-/".unicodeScalars.contains($0)) }) {
            reason = "can contain only alphanumeric characters, underscore, dot, minus, slash"
        } else {
            return nil
        }
        return "invalid path name '\(name)': \(reason)"
    }

    /// A Go `time.Duration` string such as `1h`, `2s`, `1m30.5s`.
    static func isGoDuration(_ s: String) -> Bool { GoDuration.seconds(s) != nil }
}
