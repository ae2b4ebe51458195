import Domain
import Foundation
import HookWire
import Testing

@testable import Catalog

/// The SQLite store applies the path status rule as conditional upserts; `PathStatusModel` (Domain) is the rule.
/// Every order of the same events must leave the store where the model says.
@Suite("SQLite status transitions agree with the domain model", .timeLimit(.minutes(3)))
struct StatusModelAgreementTests {
    @Test func everyArrivalOrderEndsWhereTheModelSays() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try AppDatabase.open(path: dir.appendingPathComponent("catalog.sqlite").path)
        let template: [(HookEvent, Int64, String?)] = [
            (.available, 10, nil), (.read, 11, "a"), (.unread, 12, "a"), (.read, 15, "c"), (.unavailable, 30, nil), (.read, 31, "b"),
        ]
        let orders = permutations(Array(template.indices))
        var events: [IngestEvent] = []
        var expected: [String: PathState] = [:]
        for (n, order) in orders.enumerated() {
            let path = "live/p\(n)"
            var model = PathStatusModel()
            for i in order {
                let (type, at, reader) = template[i]
                let e = IngestEvent(
                    eventID: "\(n)-\(i)", type: type, occurredAt: at, node: nil, path: path, sourceType: type == .available ? "rtmpConn" : nil,
                    sourceID: nil, readerType: reader.map { _ in "hlsMuxer" }, readerID: reader, segment: nil, payload: "{}")
                model.apply(e)
                events.append(e)
            }
            expected[path] = model.state(of: path)
        }
        _ = try await db.ingest(events)
        let stored = try await db.pathStates(Array(expected.keys))
        #expect(orders.count == 720)
        for (path, state) in expected {
            #expect(stored[path] == state, "\(path)")
        }
        // The model's answer is one state for every order: b reads on, a left, c's read was over with the stream.
        #expect(Set(expected.values.map(\.readers)) == [["b": "hlsMuxer"]])
    }

    func permutations(_ items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i in
            var rest = items
            let head = rest.remove(at: i)
            return permutations(rest).map { [head] + $0 }
        }
    }
}
