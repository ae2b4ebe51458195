import Foundation
import MediaMTXSimulator
import Testing

@Suite("MediaMTX down, hanging or failing → 503, nothing half-written", .timeLimit(.minutes(3)))
struct MediaMTXFailureTests {
    @Test func mediamtxDownIs503AndNothingIsStored() async throws {
        try await withStack(apiAddress: "http://127.0.0.1:1") { stack in
            let reply = try await stack.client.call(
                .post, "/api/v1/sources", json: ["name": "cam", "type": "push"], headers: [.acceptLanguage: "zh"])
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.errorCode == "mediamtx_unavailable")
            #expect(reply.errorMessage?.hasPrefix("流媒体服务暂不可用") == true)
            #expect(try await stack.client.call(.get, "/api/v1/sources")["total"]?.intValue == 0)
            // The audit log records what the caller got.
            let audit = try await stack.client.call(.get, "/api/v1/audit?action=source.create")
            let entry = try #require(audit["items"]?.arrayValue.first)
            #expect(entry["status"]?.intValue == 503 && entry["outcome"]?.stringValue == "failed")
            // A disabled source needs no MediaMTX: it can still be created, read and listed.
            let off = try await stack.client.createSource(["name": "later", "type": "push", "enabled": false])
            let id = try #require(off["id"]?.stringValue)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)/status").status == .serviceUnavailable)
            #expect(try await stack.client.call(.post, "/api/v1/sources/\(id)/enable").status == .serviceUnavailable)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)")["enabled"]?.boolValue == false)
        }
    }

    @Test func hangingMediaMTXIs503WithinTheTimeout() async throws {
        try await withStack(requestTimeout: .seconds(2)) { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://a/s"])
            let id = try #require(source["id"]?.stringValue)
            await stack.state.setMode(.hanging)
            let reply = try await stack.client.call(.put, "/api/v1/sources/\(id)", json: ["url": "rtsp://b/s"])
            // Not a hang: the simulator never answers in this mode, so only the request deadline can end the call
            // (it says so); a hang would fail the suite's time limit instead. No wall-clock bound: load only delays.
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.errorCode == "mediamtx_unavailable")
            #expect(reply.errorMessage?.contains("timed out") == true, "\(reply.errorMessage ?? "")")
            await stack.state.setMode(.normal)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)")["url"]?.stringValue == "rtsp://a/s")
        }
    }

    @Test(arguments: [500, 502, 503])
    func serverErrorsFromMediaMTXAre503(status: Int) async throws {
        try await withStack { stack in
            await stack.state.setMode(.failing(status: status))
            let reply = try await stack.client.call(.post, "/api/v1/sources", json: ["name": "cam", "type": "push"])
            #expect(reply.status == .serviceUnavailable)
            await stack.state.setMode(.normal)
            #expect(try await stack.client.call(.get, "/api/v1/sources")["total"]?.intValue == 0)
            #expect(await stack.state.configuredPathNames().isEmpty)
        }
    }

    @Test func deleteWithMediaMTXDownKeepsTheSource() async throws {
        try await withStack { stack in
            let source = try await stack.client.createSource(["name": "cam", "type": "push"])
            let id = try #require(source["id"]?.stringValue)
            await stack.state.setMode(.failing(status: 500))
            #expect(try await stack.client.call(.delete, "/api/v1/sources/\(id)").status == .serviceUnavailable)
            await stack.state.setMode(.normal)
            #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)").status == .ok)
            #expect(await stack.state.configuredPathNames().count == 1)
        }
    }
}

@Suite("The catalogue survives a restart", .timeLimit(.minutes(3)))
struct RestartTests {
    @Test func dataSurvivesARestartOfTheServer() async throws {
        try await withTestCatalogue { catalogue in
            try await MediaMTXSimulator.with { sim in
                let created = CreatedBox()
                try await withStack(catalogue: catalogue, sim: sim) { stack in
                    let a = try await stack.client.createSource(["name": "cam A", "type": "pull", "url": "rtsp://a/s", "record_enabled": true])
                    let b = try await stack.client.createSource(["name": "cam B", "type": "push", "enabled": false])
                    await created.set([a, b])
                }
                try await withStack(catalogue: catalogue, sim: sim) { stack in
                    let list = try await stack.client.call(.get, "/api/v1/sources")
                    #expect(list["total"]?.intValue == 2)
                    for source in await created.value {
                        let id = try #require(source["id"]?.stringValue)
                        #expect(try await stack.client.call(.get, "/api/v1/sources/\(id)").json == source)
                    }
                }
            }
        }
    }
}

actor CreatedBox {
    var value: [JSONValue] = []
    func set(_ v: [JSONValue]) { value = v }
}
