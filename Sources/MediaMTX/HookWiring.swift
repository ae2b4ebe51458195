/// Which `pathDefaults` hooks must run mtx-hook, and with which event: the names MediaMTX has had since 1.19.3
/// (`runOnAvailable`/`runOnUnavailable`) when it reports them, the older `runOnReady`/`runOnNotReady` otherwise.
public enum HookWiring {
    public struct Hook: Sendable {
        public let name: String
        public let key: WritableKeyPath<HookCommands, String?> & Sendable
        /// The command line MediaMTX should run.
        public let command: String
    }

    public static func wanted(command: String, current: HookCommands) -> [Hook] {
        let availability: [(String, WritableKeyPath<HookCommands, String?> & Sendable, String)] =
            current.runOnAvailable != nil
            ? [("runOnAvailable", \.runOnAvailable, "available"), ("runOnUnavailable", \.runOnUnavailable, "unavailable")]
            : [("runOnReady", \.runOnReady, "ready"), ("runOnNotReady", \.runOnNotReady, "not-ready")]
        let rest: [(String, WritableKeyPath<HookCommands, String?> & Sendable, String)] = [
            ("runOnOnline", \.runOnOnline, "online"), ("runOnOffline", \.runOnOffline, "offline"), ("runOnRead", \.runOnRead, "read"),
            ("runOnUnread", \.runOnUnread, "unread"), ("runOnRecordSegmentCreate", \.runOnRecordSegmentCreate, "segment-create"),
            ("runOnRecordSegmentComplete", \.runOnRecordSegmentComplete, "segment-complete"),
        ]
        return (availability + rest).map { Hook(name: $0.0, key: $0.1, command: "\(command) \($0.2)") }
    }

    /// The wanted hooks whose command is not what MediaMTX has.
    public static func missing(command: String, current: HookCommands) -> [Hook] {
        wanted(command: command, current: current).filter { current[keyPath: $0.key] != $0.command }
    }
}
