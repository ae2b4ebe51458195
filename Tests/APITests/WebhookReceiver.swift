import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP receiver on loopback for webhook tests: records every POST to `/hook` and answers what `answer`
/// says (a status, after an optional delay).
final class WebhookReceiver: Sendable {
    struct Hit: Sendable {
        var id: String
        var type: String
        var path: String?
        /// The query of the URL the subscription posts to (tells subscriptions apart).
        var query: String?
        var body: String
        var signature: String?
        var at: ContinuousClock.Instant
    }

    typealias Answer = @Sendable (_ hit: Hit, _ count: Int) -> (status: HTTPResponse.Status, delay: Duration)

    private struct State {
        var hits: [Hit] = []
        var group: ServiceGroup?
        var task: Task<Void, any Error>?
        var port = 0
    }

    private let state = Mutex(State())
    let answer: Answer

    init(answer: @escaping Answer = { _, _ in (.ok, .zero) }) {
        self.answer = answer
    }

    var port: Int { state.withLock { $0.port } }
    var url: String { "http://127.0.0.1:\(port)/hook" }
    var hits: [Hit] { state.withLock { $0.hits } }

    /// Starts listening; `port` 0 picks a free one (kept for a restart on the same port).
    func start(port wanted: Int? = nil) async throws {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
            let hit = Hit(
                id: json?["id"] as? String ?? "", type: json?["type"] as? String ?? "",
                path: (json?["source"] as? [String: Any])?["path_name"] as? String,
                query: request.uri.query.flatMap { $0.isEmpty ? nil : $0 }, body: body,
                signature: request.headers.first { $0.name.canonicalName == "x-signature" }?.value, at: .now
            )
            let count = self.state.withLock { s in
                s.hits.append(hit)
                return s.hits.count
            }
            let (status, delay) = self.answer(hit, count)
            if delay > .zero { try await Task.sleep(for: delay) }
            return Response(status: status)
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: wanted ?? port)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        state.withLock { $0.group = group; $0.task = task }
        for await bound in stream {
            state.withLock { $0.port = bound }
            return
        }
    }

    func stop() async {
        let (group, task) = state.withLock { s in
            defer { s.group = nil; s.task = nil }
            return (s.group, s.task)
        }
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
    }

    /// Waits until `condition` holds for the hits, failing after `timeout`.
    func wait(timeout: Duration = .seconds(10), until condition: ([Hit]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(hits) {
            guard ContinuousClock.now < deadline else { throw ReceiverTimeout(hits: hits.count) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct ReceiverTimeout: Error, CustomStringConvertible {
        var hits: Int
        var description: String { "the receiver did not see what it waited for (\(hits) hits)" }
    }
}
