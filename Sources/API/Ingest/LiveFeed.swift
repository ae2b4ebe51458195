import Catalog
import Domain
import Foundation
import HookWire
import Logging
import ServiceLifecycle
import Synchronization

/// Live events for SSE listeners on every instance. The instance that indexed events tells its own listeners at
/// once, and every other instance through the catalogue's change feed (PostgreSQL `NOTIFY`): a compact note per
/// event (id, type, path, time, segment), at most `maxBroadcastBytes` per message, from which each instance builds
/// the event its listeners get, with the path's state read from the catalogue. The same message wakes the webhook
/// worker of the instance that holds the delivery lease. On SQLite there is one instance and nothing is sent.
final class LiveFeed: Service, Sendable {
    /// What another instance needs to build the live event.
    struct Note: Codable, Sendable {
        var i: String
        var t: String
        var p: String
        var o: Int64
        var f: String?
        var s: Int64?
        var d: Double?
        var z: Int64?

        init(_ e: IngestEvent) {
            (i, t, p, o) = (e.eventID, e.type.rawValue, e.path, e.occurredAt)
            (f, s, d, z) = (e.segment?.filePath, e.segment?.start, e.segment?.duration, e.segment?.size)
        }

        var event: IngestEvent? {
            guard let type = HookEvent(rawValue: t) else { return nil }
            return IngestEvent(
                eventID: i, type: type, occurredAt: o, node: nil, path: p, sourceType: nil, sourceID: nil, readerType: nil, readerID: nil,
                segment: f.map { IngestEvent.SegmentInfo(filePath: $0, start: s ?? 0, duration: d, size: z) }, payload: "")
        }
    }

    let database: any CatalogBackend
    let bus: EventBus
    let webhooks: WebhookWorker
    /// This process, so that it skips its own messages (its listeners were told already).
    let origin = UUID().uuidString.prefix(8).lowercased()
    let logger: Logger

    init(database: any CatalogBackend, bus: EventBus, webhooks: WebhookWorker, logger: Logger) {
        self.database = database
        self.bus = bus
        self.webhooks = webhooks
        self.logger = logger
    }

    /// Notes waiting to be sent to the other instances, and whether a sender is running.
    struct Outbox {
        var notes: [Note] = []
        var wake = false
        var sending = false
    }
    private let outbox = Mutex(Outbox())

    /// After a commit: this instance's listeners, then the other instances.
    func indexed(_ events: [IngestEvent], _ result: IngestResult) async {
        // Each accepted event once: not a duplicate, nor a repeat of one within the batch.
        var accepted = Set(result.acceptedIDs)
        let fresh = events.filter { accepted.remove($0.eventID) != nil }
        if !fresh.isEmpty, bus.listenerCount > 0 {
            do {
                try await announce(fresh)
            } catch {
                logger.warning("live event not announced", metadata: ["error": "\(error)"])
            }
        }
        guard database.reachesOtherInstances, !fresh.isEmpty || result.webhooks > 0 else { return }
        send(fresh.map(Note.init), wake: result.webhooks > 0)
    }

    /// Queues notes for the other instances. One sender at a time sends everything queued, in as few messages as
    /// fit: under load, the notes of many requests share a `NOTIFY` (a statement each would cost a round trip per
    /// request); alone, a note goes at once.
    func send(_ notes: [Note], wake: Bool) {
        let start = outbox.withLock { o in
            o.notes += notes
            o.wake = o.wake || wake
            defer { o.sending = true }
            return !o.sending
        }
        guard start else { return }
        Task {
            while let (notes, wake) = outbox.withLock({ o -> ([Note], Bool)? in
                guard !o.notes.isEmpty || o.wake else {
                    o.sending = false
                    return nil
                }
                defer { (o.notes, o.wake) = ([], false) }
                return (o.notes, o.wake)
            }) {
                do {
                    for message in Self.messages(notes, origin: String(origin), wake: wake) { try await database.broadcast(message) }
                } catch {
                    // The events are indexed; only other instances' live listeners miss them (the history has them).
                    logger.warning("live events not sent to other instances", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// `e ORIGIN W JSON`: notes packed into as few messages as fit; W is 1 when webhook deliveries were made.
    static func messages(_ notes: [Note], origin: String, wake: Bool) -> [String] {
        let encoder = JSONEncoder()
        let head = "e \(origin) \(wake ? 1 : 0) "
        var messages: [String] = []
        var batch: [String] = []
        var size = head.utf8.count + 2
        for note in notes {
            guard let data = try? encoder.encode(note), data.count + head.utf8.count + 2 <= maxBroadcastBytes else { continue }
            if size + data.count + 1 > maxBroadcastBytes {
                messages.append(head + "[" + batch.joined(separator: ",") + "]")
                (batch, size) = ([], head.utf8.count + 2)
            }
            batch.append(String(decoding: data, as: UTF8.self))
            size += data.count + 1
        }
        if !batch.isEmpty || messages.isEmpty { messages.append(head + "[" + batch.joined(separator: ",") + "]") }
        return messages
    }

    func run() async throws {
        guard database.reachesOtherInstances else { return try await gracefulShutdown() }
        await cancelWhenGracefulShutdown {
            for await message in self.database.changes() { await self.received(message) }
        }
    }

    func received(_ message: String) async {
        let parts = message.split(separator: " ", maxSplits: 3)
        guard parts.count == 4, parts[0] == "e", parts[1] != origin else { return }
        if parts[2] == "1" { webhooks.wake() }
        guard bus.listenerCount > 0, let notes = try? JSONDecoder().decode([Note].self, from: Data(parts[3].utf8)) else { return }
        do {
            try await announce(notes.compactMap(\.event))
        } catch {
            logger.warning("live event from another instance not announced", metadata: ["error": "\(error)"])
        }
    }

    /// Tells this instance's listeners what changed: each event, with its path's state as the catalogue has it.
    func announce(_ events: [IngestEvent]) async throws {
        let paths = Array(Set(events.map(\.path)))
        let (states, owners) = (try await database.pathStates(paths), try await database.sourceIDs(forPaths: paths))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for event in events {
            let message = LiveEvent(
                eventID: event.eventID, type: event.type.rawValue, pathName: event.path,
                occurredAt: Timestamp.format(Date(micros: event.occurredAt)),
                sourceID: owners[event.path]?.uuidString.lowercased(),
                status: LiveStatusResponse(states[event.path] ?? .idle(event.path)),
                segment: event.segment.map {
                    SegmentResponse(
                        Segment(
                            id: 0, pathName: event.path, filePath: $0.filePath, start: $0.start, duration: $0.duration, size: $0.size,
                            state: event.type == .segmentComplete ? .complete : .recording
                        ))
                }
            )
            bus.publish(event: event.type.rawValue, data: String(decoding: try encoder.encode(message), as: UTF8.self))
        }
    }

    struct LiveEvent: Encodable {
        var eventID: String
        var type: String
        var pathName: String
        var occurredAt: String
        var sourceID: String?
        var status: LiveStatusResponse
        var segment: SegmentResponse?

        enum CodingKeys: String, CodingKey {
            case type, status, segment
            case eventID = "event_id"
            case pathName = "path_name"
            case occurredAt = "occurred_at"
            case sourceID = "source_id"
        }
    }
}
