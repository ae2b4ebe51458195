import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import NIOCore
import Testing

@Suite("GET /api/v1/events/stream", .timeLimit(.minutes(3)))
struct EventStreamTests {
    @Test func indexedChangesArriveAsServerSentEvents() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let path = try #require(source["path_name"]?.stringValue)
            let port = try #require(stack.client.port)
            // Browsers' EventSource cannot send headers: the access token goes in the query.
            let token = try await TestUser.viewer.token
            let refused = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/events/stream"), timeout: .seconds(10))
            #expect(refused.status == .unauthorized)
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/events/stream?access_token=\(token)"), timeout: .seconds(10)
            )
            #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
            var received = ""
            var iterator = response.body.makeAsyncIterator()
            // The stream is open once the greeting arrives; then post events and read them back.
            while !received.contains(": connected") { received += String(buffer: try #require(await iterator.next())) }
            let available = hookEvent("available", path: path, extra: ["source_type": "rtmpConn"])
            try await stack.client.postEvents([
                available, hookEvent("read", path: path, extra: ["reader_id": "r1", "reader_type": "hlsMuxer"]),
            ])
            while !received.contains("event: read") { received += String(buffer: try #require(await iterator.next())) }
            // A batch redelivering the first event with a new one of the same path (a spool replay): only the new
            // one is news.
            try await stack.client.postEvents([available, hookEvent("unread", path: path, extra: ["reader_id": "r1"])])
            while !received.contains("event: unread") { received += String(buffer: try #require(await iterator.next())) }
            let all = received.components(separatedBy: "\n\n").filter { $0.hasPrefix("event: ") }
            #expect(all.map { $0.components(separatedBy: "\n")[0] } == ["event: available", "event: read", "event: unread"])
            let messages = Array(all.prefix(2))
            let read = try #require(messages.last)
            #expect(read.hasPrefix("event: read\ndata: {"))
            let data = Data(read.components(separatedBy: "data: ")[1].utf8)
            let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            #expect(json?["path_name"] as? String == path)
            #expect(json?["source_id"] as? String == source["id"]?.stringValue)
            let status = json?["status"] as? [String: Any]
            #expect(status?["ready"] as? Bool == true)
            #expect(status?["readers"] as? Int == 1)
        }
    }
}
