import Foundation
import Logging
import Synchronization

/// One JSON object per line (`serve --log-format json`), for log shippers: `time`, `level`, `label`, `message`,
/// then the metadata's keys (`hb.request.id` is the request id).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) { fields[key] = "\(value)" }
        if let error = event.error { fields["error"] = "\(error)" }
        fields["time"] = Timestamp.format(Date())
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = event.message.description
        guard var data = try? JSONEncoder.api.encode(fields) else { return }
        data.append(UInt8(ascii: "\n"))
        Self.output.withLock { _ in FileHandle.standardOutput.write(data) }
    }

    /// Lines from several threads are written whole, one after the other.
    private static let output = Mutex(())
}
