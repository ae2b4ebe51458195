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
    /// Sent as `Location` with every answer (a receiver that redirects).
    let location: String?

    init(location: String? = nil, answer: @escaping Answer = { _, _ in (.ok, .zero) }) {
        self.location = location
        self.answer = answer
    }

    var port: Int { state.withLock { $0.port } }
    var url: String { "http://127.0.0.1:\(port)/hook" }
    var hits: [Hit] { state.withLock { $0.hits } }

    /// Starts listening on `reserved`'s port, taking it over from the reservation.
    func start(on reserved: PortReservation) async throws {
        reserved.release()
        try await start(port: reserved.port)
    }

    /// Starts listening; `port` 0 picks a free one (kept for a restart on the same port). Throws when the port
    /// cannot be bound.
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
            return Response(status: status, headers: self.location.map { [.location: $0] } ?? [:])
        }
        let server = try await LoopbackServer(router, port: wanted ?? port)
        state.withLock {
            $0.group = server.group
            $0.task = server.task
            $0.port = server.port
        }
    }

    func stop() async {
        let (group, task) = state.withLock { s in
            defer {
                s.group = nil
                s.task = nil
            }
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

/// A loopback port held by a socket that is bound but not listening: connections to it are refused (a receiver
/// that is down), and no other listener can take it meanwhile, as one could a port merely closed.
final class PortReservation: Sendable {
    let port: Int
    private let fd: Mutex<Int32?>

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.fd = Mutex(fd)
    }

    /// Frees the port (for the receiver about to listen on it).
    func release() {
        if let fd = fd.withLock({ fd in
            defer { fd = nil }
            return fd
        }) {
            close(fd)
        }
    }

    deinit { release() }
}

/// A Hummingbird server of a test on 127.0.0.1 (`port` 0: a free one), running until `stop`.
struct LoopbackServer: Sendable {
    let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    struct NotStarted: Error, CustomStringConvertible {
        var port: Int
        var description: String { "the test server could not listen on port \(port)" }
    }

    init(_ router: Router<BasicRequestContext>, port wanted: Int = 0) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: wanted)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            // A server that fails to start (port taken) must not leave the caller waiting for it.
            defer { continuation.finish() }
            try await group.run()
        }
        for await bound in stream {
            (self.port, self.group, self.task) = (bound, group, task)
            return
        }
        try await task.value
        throw NotStarted(port: wanted)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
