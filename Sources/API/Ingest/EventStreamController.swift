import Domain
import Foundation
import Hummingbird
import ServiceLifecycle

/// `GET /api/v1/events/stream`: Server-Sent Events of status, reader and segment changes as they are indexed.
struct EventStreamController {
    let bus: EventBus
    let heartbeat: Duration

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("stream") { _, _ in
            let (id, stream) = bus.subscribe()
            let bus = self.bus
            let heartbeat = self.heartbeat
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: ": connected\n\n"))
                    // Heartbeats keep proxies from closing an idle stream; shutdown ends the stream.
                    let beats = Task {
                        while !Task.isCancelled {
                            try await Task.sleep(for: heartbeat)
                            bus.heartbeat(id)
                        }
                    }
                    defer { beats.cancel() }
                    for await message in stream.cancelOnGracefulShutdown() {
                        try await writer.write(ByteBuffer(string: message))
                    }
                    bus.unsubscribe(id)
                    try await writer.finish(nil)
                }
            )
        }
    }
}
