import Foundation

/// Fans indexed changes out to live listeners (`GET /api/v1/events/stream`). Nothing is kept: a listener
/// gets what happens while it listens; the history endpoint has the rest.
public actor EventBus {
    private var listeners: [UUID: AsyncStream<String>.Continuation] = [:]

    public init() {}

    public func subscribe() -> (UUID, AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1000))
        listeners[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        return (id, stream)
    }

    public func unsubscribe(_ id: UUID) {
        listeners.removeValue(forKey: id)?.finish()
    }

    /// One Server-Sent Events message.
    public func publish(event: String, data: String) {
        let message = "event: \(event)\ndata: \(data)\n\n"
        for listener in listeners.values { listener.yield(message) }
    }

    public var listenerCount: Int { listeners.count }

    func heartbeat(_ id: UUID) {
        listeners[id]?.yield(": heartbeat\n\n")
    }
}
