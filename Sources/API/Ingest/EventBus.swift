import Foundation
import Synchronization

/// Fans indexed changes out to live listeners (`GET /api/v1/events/stream`). Nothing is kept: a listener
/// gets what happens while it listens; the history endpoint has the rest. A lock, not an actor: the ingest path
/// asks "anyone listening?" on every request, and that answer should not cost two task switches.
public final class EventBus: Sendable {
    private let listeners = Mutex<[UUID: AsyncStream<String>.Continuation]>([:])

    public init() {}

    public func subscribe() -> (UUID, AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1000))
        listeners.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
        return (id, stream)
    }

    public func unsubscribe(_ id: UUID) {
        listeners.withLock { $0.removeValue(forKey: id) }?.finish()
    }

    /// One Server-Sent Events message.
    public func publish(event: String, data: String) {
        let message = "event: \(event)\ndata: \(data)\n\n"
        for listener in listeners.withLock({ Array($0.values) }) { listener.yield(message) }
    }

    public var listenerCount: Int { listeners.withLock { $0.count } }

    func heartbeat(_ id: UUID) {
        listeners.withLock { $0[id] }?.yield(": heartbeat\n\n")
    }
}
