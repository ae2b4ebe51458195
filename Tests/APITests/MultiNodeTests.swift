import API
import Domain
import Foundation
import HTTPTypes
import HummingbirdTesting
import MediaMTXSimulator
import Testing

/// A companion controlling several simulated MediaMTX nodes (one simulator each, own ports and state), named
/// `n1`, `n2`, … with public addresses `rtsp://n1.example:8554` and so on; `n2` carries `site=south`.
struct NodeStack {
    let stack: TestStack
    let sims: [MediaMTXSimulator]

    var client: any TestClientProtocol { stack.client }
    func sim(_ name: String) -> MediaMTXSimulator { sims[Int(name.dropFirst())! - 1] }

    static func token(_ name: String) -> String { "\(name)-node-token-0123456789" }
}

func withNodes(
    _ count: Int = 3, maxPaths: [String: Int] = [:], configure: (inout AppConfig) -> Void = { _ in },
    _ body: @Sendable (NodeStack) async throws -> Void
) async throws {
    var sims: [MediaMTXSimulator] = []
    for _ in 0..<count {
        let sim = MediaMTXSimulator()
        try await sim.start()
        sims.append(sim)
    }
    var nodes: [MediaNode] = []
    for (i, sim) in sims.enumerated() {
        let name = "n\(i + 1)"
        nodes.append(
            MediaNode(
                name: name, apiAddress: await sim.apiURL, playbackAddress: await sim.playbackURL, rtspAddress: "rtsp://\(name).example:8554",
                rtmpAddress: "rtmp://\(name).example:1935", hlsAddress: "https://\(name).example:8888",
                webrtcAddress: "https://\(name).example:8889", srtAddress: "srt://\(name).example:8890",
                labels: name == "n2" ? ["site": "south"] : ["site": "north"], maxPaths: maxPaths[name], authToken: NodeStack.token(name)))
    }
    let started = sims
    do {
        try await withStack(
            sim: started[0],
            configure: {
                $0.mediamtx.nodes = nodes
                configure(&$0)
            }
        ) { stack in
            try await body(NodeStack(stack: stack, sims: started))
        }
    } catch {
        for sim in sims { await sim.stop() }
        throw error
    }
    for sim in sims { await sim.stop() }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(within timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

@Suite("Several MediaMTX nodes: placement, URLs, move, hooks, auth, drain", .timeLimit(.minutes(3)))
struct MultiNodeTests {
    @Test func placementFollowsTheNamedNodeThenLabelsThenTheLeastLoaded() async throws {
        try await withNodes(maxPaths: ["n1": 2, "n2": 2, "n3": 1]) { s in
            let named = try await s.client.createSource(["name": "a", "type": "pull", "url": "rtsp://cam/a", "node": "n3"])
            #expect(named["node"]?.stringValue == "n3")
            let pathA = try #require(named["path_name"]?.stringValue)
            #expect(await s.sim("n3").state.pathConfig(pathA) != nil)
            #expect(await s.sim("n1").state.pathConfig(pathA) == nil)
            #expect(await s.sim("n2").state.pathConfig(pathA) == nil)

            let labelled = try await s.client.createSource(["name": "b", "type": "push", "node_labels": ["site": "south"]])
            #expect(labelled["node"]?.stringValue == "n2")

            // n3 is full (1), n2 has one of 2, n1 none of 2: n1, then n1 and n2 are tied (1 of 2), the first by name.
            var placed: [String] = []
            for i in 0..<3 {
                placed.append(try await s.client.createSource(["name": "c\(i)", "type": "push"])["node"]?.stringValue ?? "")
            }
            #expect(placed == ["n1", "n1", "n2"])
            let full = try await s.client.call(.post, "/api/v1/sources", json: ["name": "d", "type": "push"])
            #expect(full.status == .serviceUnavailable && full.errorCode == "no_node_available")
            let fullNamed = try await s.client.call(.post, "/api/v1/sources", json: ["name": "d", "type": "push", "node": "n3"])
            #expect(fullNamed.status == .serviceUnavailable && fullNamed.errorCode == "no_node_available")
            let unknown = try await s.client.call(.post, "/api/v1/sources", json: ["name": "d", "type": "push", "node": "n9"])
            #expect(unknown.status == .badRequest && unknown.errorField == "node")
            let nowhere = try await s.client.call(.post, "/api/v1/sources", json: ["name": "d", "type": "push", "node_labels": ["site": "mars"]])
            #expect(nowhere.status == .badRequest && nowhere.errorField == "node_labels")
            let bad = try await s.client.call(.post, "/api/v1/sources", json: ["name": "d", "type": "push", "node": "../n1"])
            #expect(bad.status == .badRequest && bad.errorField == "node")
            let zh = try await s.client.call(
                .post, "/api/v1/sources", json: ["name": "d", "type": "push"], headers: [.acceptLanguage: "zh-CN"])
            #expect(zh.errorCode == "no_node_available" && zh.errorMessage?.contains("节点") == true)
            // Nothing was written by the refusals.
            #expect(try await s.client.call(.get, "/api/v1/sources")["total"]?.intValue == 5)
            let list = try await s.client.call(.get, "/api/v1/sources?node=n1")
            #expect(list["items"]?.arrayValue.compactMap { $0["node"]?.stringValue } == ["n1", "n1"])
            let nodes = try await s.client.call(.get, "/api/v1/nodes")
            #expect(nodes["items"]?.arrayValue.map { $0["sources"]?.intValue ?? -1 } == [2, 2, 1])
        }
    }

    @Test func urlsComeFromTheSourcesNode() async throws {
        try await withNodes(2) { s in
            let push = try await s.client.createSource(["name": "obs", "type": "push", "node": "n2"])
            #expect(push["push_url"]?.stringValue?.hasPrefix("rtmp://n2.example:1935/") == true)
            let id = try #require(push["id"]?.stringValue)
            let preview = try await s.client.call(.get, "/api/v1/sources/\(id)/preview")
            for key in ["hls_url", "rtsp_url", "webrtc_url", "srt_url"] {
                #expect(preview[key]?.stringValue?.contains("n2.example") == true, "\(key): \(preview[key]?.stringValue ?? "-")")
            }
            let pull = try await s.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://cam/1", "node": "n1"])
            let pullPreview = try await s.client.call(.get, "/api/v1/sources/\(pull["id"]?.stringValue ?? "")/preview")
            #expect(pullPreview["hls_url"]?.stringValue?.hasPrefix("https://n1.example:8888/") == true)
        }
    }

    @Test func moveAddsOnTheTargetDeletesOnTheOldNodeAndRollsBackEitherSide() async throws {
        try await withNodes(2) { s in
            let push = try await s.client.createSource(["name": "obs", "type": "push", "node": "n1", "record_enabled": true])
            let id = try #require(push["id"]?.stringValue)
            let path = try #require(push["path_name"]?.stringValue)

            // The target refuses: nothing changes.
            await s.sim("n2").state.setMode(.failing(status: 500))
            var reply = try await s.client.call(.post, "/api/v1/sources/\(id)/move", json: ["node": "n2"])
            #expect(reply.status == .serviceUnavailable && reply.errorCode == "mediamtx_unavailable")
            await s.sim("n2").state.setMode(.normal)
            #expect(try await s.client.call(.get, "/api/v1/sources/\(id)")["node"]?.stringValue == "n1")
            #expect(await s.sim("n1").state.pathConfig(path) != nil)
            #expect(await s.sim("n2").state.pathConfig(path) == nil)

            // The old node refuses the delete: the path added on the target is taken back.
            await s.sim("n1").state.setMode(.failing(status: 500))
            reply = try await s.client.call(.post, "/api/v1/sources/\(id)/move", json: ["node": "n2"])
            #expect(reply.status == .serviceUnavailable && reply.errorCode == "mediamtx_unavailable")
            await s.sim("n1").state.setMode(.normal)
            #expect(try await s.client.call(.get, "/api/v1/sources/\(id)")["node"]?.stringValue == "n1")
            #expect(await s.sim("n1").state.pathConfig(path) != nil)
            #expect(await s.sim("n2").state.pathConfig(path) == nil)

            // The row write fails: both nodes are put back.
            try await s.stack.failWrites("UPDATE", on: "media_sources")
            reply = try await s.client.call(.post, "/api/v1/sources/\(id)/move", json: ["node": "n2"])
            #expect(reply.status == .internalServerError)
            try await s.stack.allowWrites("UPDATE", on: "media_sources")
            #expect(try await s.client.call(.get, "/api/v1/sources/\(id)")["node"]?.stringValue == "n1")
            #expect(await s.sim("n1").state.pathConfig(path) != nil)
            #expect(await s.sim("n2").state.pathConfig(path) == nil)

            reply = try await s.client.call(.post, "/api/v1/sources/\(id)/move", json: ["node": "n2"])
            #expect(reply.status == .ok)
            #expect(reply["previous_node"]?.stringValue == "n1" && reply["push_url_changed"] == .bool(true))
            #expect(reply["source"]?["node"]?.stringValue == "n2")
            #expect(reply["source"]?["push_url"]?.stringValue?.hasPrefix("rtmp://n2.example:1935/\(path)?key=") == true)
            #expect(await s.sim("n1").state.pathConfig(path) == nil)
            #expect(await s.sim("n2").state.pathConfig(path)?["record"]?.boolValue == true)

            let again = try await s.client.call(.post, "/api/v1/sources/\(id)/move", json: ["node": "n2"])
            #expect(again.status == .conflict && again.errorField == "node")
            let missing = try await s.client.call(.post, "/api/v1/sources/\(id)/move", json: [:])
            #expect(missing.status == .badRequest && missing.errorField == "node")
            let viewer = try await s.stack.raw.call(
                .post, "/api/v1/sources/\(id)/move", json: ["node": "n1"], headers: try await TestUser.viewer.bearer)
            #expect(viewer.status == .forbidden)
        }
    }

    @Test func hookEventsFromAnotherNodeAreIndexedAndFlagged() async throws {
        try await withNodes(2) { s in
            let source = try await s.client.createSource(["name": "cam", "type": "push", "node": "n2"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let now = Date()
            let result = try await s.client.postEvents([
                hookEvent("available", path: path, at: now.addingTimeInterval(-2), extra: ["node": "n2"]),
                hookEvent(
                    "read", path: path, at: now.addingTimeInterval(-1), extra: ["node": "n1", "reader_id": "r1", "reader_type": "rtspSession"]),
            ])
            #expect(result.status == .ok && result["accepted"]?.intValue == 2)
            let history = try await s.client.call(.get, "/api/v1/sources/\(id)/events")
            let flags = history["items"]?.arrayValue.map { ($0["node"]?.stringValue ?? "", $0["misplaced"] == .bool(true)) }
            #expect(flags?.map(\.0) == ["n1", "n2"] && flags?.map(\.1) == [true, false])
            let metrics = try await s.stack.raw.call(.get, "/metrics")
            let text = metrics.json.stringValue ?? ""
            #expect(text.contains(#"mtx_companion_hook_events_misplaced_total{"#) && text.contains(#"node="n1""#))
        }
    }

    @Test func mediaMTXAuthRefusesAPathOnAnotherNode() async throws {
        try await withNodes(2) { s in
            let source = try await s.client.createSource(["name": "cam", "type": "push", "node": "n2"])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let preview = try await s.client.call(.get, "/api/v1/sources/\(id)/preview")
            let split = splitToken(preview["hls_url"]?.stringValue)
            let token = try #require(split.token)
            let key = try #require(
                (try await s.client.call(.get, "/api/v1/sources/\(id)"))["push_url"]?.stringValue?.components(separatedBy: "key=").last)
            func ask(_ nodeToken: String?, action: String, password: String) async throws -> HTTPResponse.Status {
                let query = nodeToken.map { "?node_token=\($0)" } ?? ""
                return try await s.stack.raw.call(
                    .post, "/api/v1/mediamtx/auth\(query)",
                    json: ["ip": "127.0.0.1", "user": "", "password": password, "action": action, "path": path, "protocol": "rtsp", "query": ""]
                ).status
            }
            #expect(try await ask(NodeStack.token("n2"), action: "read", password: token) == .ok)
            #expect(try await ask(NodeStack.token("n2"), action: "publish", password: key) == .ok)
            // A player or camera pointed at the wrong node, an unnamed node, a node that names itself wrongly.
            #expect(try await ask(NodeStack.token("n1"), action: "read", password: token) == .forbidden)
            #expect(try await ask(NodeStack.token("n1"), action: "publish", password: key) == .forbidden)
            #expect(try await ask(nil, action: "read", password: token) == .forbidden)
            #expect(try await ask("n2", action: "read", password: token) == .forbidden)
            #expect(try await ask(NodeStack.token("n2") + "x", action: "playback", password: token) == .forbidden)
        }
    }

    /// Today's single block (node `default`, no token) and a node added through the API: `default` keeps asking without
    /// a token, and is the only node that may.
    @Test func aSecondNodeAddedToTheSingleBlockLeavesTheFirstWorking() async throws {
        try await MediaMTXSimulator.with { second in
            try await withStack { stack in
                let created = try await stack.client.call(
                    .post, "/api/v1/nodes",
                    json: [
                        "name": "n2", "api_address": await second.apiURL, "playback_address": await second.playbackURL,
                        "rtsp_address": "rtsp://n2.example:8554", "rtmp_address": "rtmp://n2.example:1935", "hls_address": "https://n2.example:8888",
                        "webrtc_address": "https://n2.example:8889", "srt_address": "srt://n2.example:8890",
                    ])
                let token = try #require(created["auth_token"]?.stringValue)
                let here = try await stack.client.createSource(["name": "old", "type": "push", "node": "default"])
                let there = try await stack.client.createSource(["name": "new", "type": "push", "node": "n2"])
                #expect(here["push_url"]?.stringValue?.hasPrefix("rtmp://media.example:1935/") == true)
                #expect(await second.state.pathConfig(there["path_name"]?.stringValue ?? "") != nil)
                func publish(_ source: JSONValue, nodeToken: String?) async throws -> HTTPResponse.Status {
                    let key = source["push_url"]?.stringValue?.components(separatedBy: "key=").last ?? ""
                    return try await stack.raw.call(
                        .post, "/api/v1/mediamtx/auth" + (nodeToken.map { "?node_token=\($0)" } ?? ""),
                        json: ["ip": "10.1.1.1", "user": "", "password": key, "action": "publish", "path": source["path_name"]?.stringValue ?? ""]
                    ).status
                }
                #expect(try await publish(here, nodeToken: nil) == .ok)
                #expect(try await publish(there, nodeToken: token) == .ok)
                #expect(try await publish(there, nodeToken: nil) == .forbidden)
                #expect(try await publish(here, nodeToken: token) == .forbidden)
            }
        }
    }

    @Test func nodesAreManagedByAdminsAndANodeWithSourcesIsNotDeleted() async throws {
        try await withNodes(2) { s in
            let body: [String: any Sendable] = [
                "name": "n9", "api_address": "http://127.0.0.1:1", "playback_address": "http://127.0.0.1:2", "rtsp_address": "rtsp://n9.example:8554",
                "rtmp_address": "rtmp://n9.example:1935", "hls_address": "https://n9.example:8888", "webrtc_address": "https://n9.example:8889",
                "srt_address": "srt://n9.example:8890", "labels": ["site": "west"], "max_paths": 10,
            ]
            let byOperator = try await s.stack.raw.call(.post, "/api/v1/nodes", json: body, headers: try await TestUser.operator.bearer)
            #expect(byOperator.status == .forbidden)
            let created = try await s.client.call(.post, "/api/v1/nodes", json: body)
            #expect(created.status == .created)
            #expect(created["auth_token"]?.stringValue?.count == 48 && created["auth_token_set"] == .bool(true))
            #expect(created["state"]?.stringValue == "active")
            let shown = try await s.client.call(.get, "/api/v1/nodes/n9")
            #expect(shown["auth_token"] == nil && shown["labels"]?["site"]?.stringValue == "west")
            #expect(try await s.client.call(.post, "/api/v1/nodes", json: body).status == .conflict)
            var bad = body
            bad["api_address"] = "ftp://x"
            bad["name"] = "n8"
            let refused = try await s.client.call(.post, "/api/v1/nodes", json: bad)
            #expect(refused.status == .badRequest && refused.errorField == "api_address")
            let changed = try await s.client.call(.put, "/api/v1/nodes/n9", json: ["max_paths": NSNull(), "labels": ["site": "east"]])
            #expect(changed.status == .ok && changed["max_paths"]?.isNull == true && changed["labels"]?["site"]?.stringValue == "east")

            _ = try await s.client.createSource(["name": "cam", "type": "push", "node": "n1"])
            let busy = try await s.client.call(.delete, "/api/v1/nodes/n1")
            #expect(busy.status == .conflict && busy.errorCode == "node_has_sources")
            #expect(try await s.client.call(.delete, "/api/v1/nodes/n9").status == .noContent)
            #expect(try await s.client.call(.get, "/api/v1/nodes/n9").status == .notFound)
            #expect(try await s.client.call(.get, "/api/v1/nodes/..").status == .notFound)
            #expect(try await s.client.call(.get, "/api/v1/nodes")["items"]?.arrayValue.map { $0["name"]?.stringValue ?? "" } == ["n1", "n2"])
        }
    }

    @Test func drainMovesPullSourcesAwayKeepsPushSourcesAndRefusesNewPlacements() async throws {
        try await withNodes(3) { s in
            var pulls: [String] = []
            for i in 0..<3 {
                pulls.append(
                    try #require(
                        try await s.client.createSource(["name": "p\(i)", "type": "pull", "url": "rtsp://cam/\(i)", "node": "n1"])["id"]?.stringValue)
                )
            }
            let push = try #require(try await s.client.createSource(["name": "obs", "type": "push", "node": "n1"])["id"]?.stringValue)
            let drained = try await s.client.call(.post, "/api/v1/nodes/n1/drain")
            #expect(drained.status == .ok)
            #expect(drained["moved"]?.arrayValue.count == 3)
            #expect(drained["stayed"]?.arrayValue.map { $0["source_id"]?.stringValue ?? "" } == [push])
            #expect(drained["stayed"]?.arrayValue.first?["reason"]?.stringValue == "push")
            #expect(drained["node"]?["state"]?.stringValue == "draining")
            for id in pulls {
                let node = try await s.client.call(.get, "/api/v1/sources/\(id)")["node"]?.stringValue
                #expect(node == "n2" || node == "n3")
            }
            #expect(await s.sim("n1").state.configuredPathNames().filter { $0.hasPrefix("live/") }.count == 1)
            let refused = try await s.client.call(.post, "/api/v1/sources", json: ["name": "x", "type": "push", "node": "n1"])
            #expect(refused.errorCode == "no_node_available")
            #expect(try await s.client.createSource(["name": "y", "type": "push"])["node"]?.stringValue != "n1")
            // Undrained, it takes sources again.
            #expect(try await s.client.call(.put, "/api/v1/nodes/n1", json: ["draining": false])["state"]?.stringValue == "active")
        }
    }

    @Test func recordingsAcrossAMovePlayBackFromTheNodeThatRecordedThem() async throws {
        // A gap of a loaded machine's seconds between the last n1 segment and the first n2 one is still one session.
        try await withNodes(2, configure: { $0.hooks.sessionGap = .seconds(30) }) { s in
            let source = try await s.client.createSource(["name": "cam", "type": "push", "node": "n1", "record_enabled": true])
            let id = try #require(source["id"]?.stringValue)
            let path = try #require(source["path_name"]?.stringValue)
            let t0 = Date().addingTimeInterval(-20)
            // Two segments on n1 up to now, the move, one on n2 right after: back to back, one session.
            _ = try await s.client.postEvents(
                segmentEvents(path: path, start: t0, duration: 10).map { $0.merging(["node": "n1"]) { a, _ in a } }
                    + segmentEvents(path: path, start: t0.addingTimeInterval(10), duration: 10).map { $0.merging(["node": "n1"]) { a, _ in a } })
            #expect(try await s.client.call(.post, "/api/v1/sources/\(id)/move", json: ["node": "n2"]).status == .ok)
            let after = Date()
            _ = try await s.client.postEvents(
                segmentEvents(path: path, start: after, duration: 10).map { $0.merging(["node": "n2"]) { a, _ in a } })
            let segments = try await s.client.call(.get, "/api/v1/sources/\(id)/record/files")
            #expect(segments["items"]?.arrayValue.map { $0["node"]?.stringValue ?? "" } == ["n1", "n1", "n2"])

            let n1 = await s.sim("n1").playbackURL
            let n2 = await s.sim("n2").playbackURL
            let earlyStart = Int(t0.timeIntervalSince1970) + 5
            let early = try await s.client.call(.get, "/api/v1/sources/\(id)/playback?start=\(earlyStart)")
            #expect(early.status == .ok && early["node"]?.stringValue == "n1")
            #expect(early["url"]?.stringValue?.hasPrefix(n1 + "/get?") == true)
            // The n1 part ends where the source left n1.
            #expect((early["duration"]?.doubleValue ?? 0) <= after.timeIntervalSince1970 - Double(earlyStart) + 0.01)
            let late = try await s.client.call(.get, "/api/v1/sources/\(id)/playback?start=\(Int(after.timeIntervalSince1970) + 2)")
            #expect(late.status == .ok && late["node"]?.stringValue == "n2")
            #expect(late["url"]?.stringValue?.hasPrefix(n2 + "/get?") == true)
            let sessions = try await s.client.call(.get, "/api/v1/sources/\(id)/record/sessions")
            #expect(sessions["items"]?.arrayValue.count == 1, "the timeline goes on across the move: \(sessions.json.serialized())")
            let playable = try await s.client.call(.get, "/api/v1/sources/\(id)/playback/segments")
            #expect(playable["items"]?.arrayValue.first?["url"]?.stringValue?.hasPrefix(n1) == true)
        }
    }
}

@Suite("Several MediaMTX nodes: the reconciler per node", .timeLimit(.minutes(3)))
struct MultiNodeReconcilerTests {
    /// Runs the reconciler as the server does (checks every 100 ms) beside `s` until `body` returns.
    func withReconciler(_ s: NodeStack, _ body: (AppServices) async throws -> Void) async throws {
        let services = try await AppServices(s.stack.config, logger: quietLogger)
        let reconciler = Reconciler(
            sources: services.sources, settings: s.stack.config.mediamtx, logger: quietLogger, restartCheck: .milliseconds(100))
        let task = Task { try await reconciler.run() }
        do {
            try await body(services)
        } catch {
            task.cancel()
            _ = try? await task.value
            try await services.httpClient.shutdown()
            throw error
        }
        task.cancel()
        _ = try? await task.value
        try await services.httpClient.shutdown()
    }

    func infoRequests(_ sim: MediaMTXSimulator) async -> Int {
        await sim.state.requests.filter { $0.method == "GET" && $0.path == "/v3/info" }.count
    }

    @Test func aRestartedNodeGetsOnlyItsOwnPathsBack() async throws {
        try await withNodes(2, configure: { $0.mediamtx.reconcileInterval = .seconds(3600) }) { s in
            let a = try #require(try await s.client.createSource(["name": "a", "type": "push", "node": "n1"])["path_name"]?.stringValue)
            let b = try #require(
                try await s.client.createSource(["name": "b", "type": "pull", "url": "rtsp://cam/b", "node": "n2"])["path_name"]?.stringValue)
            try await withReconciler(s) { _ in
                // Both nodes' start times are known: the first pass is done and each was asked again.
                #expect(
                    await eventually {
                        let n1 = await infoRequests(s.sim("n1"))
                        let n2 = await infoRequests(s.sim("n2"))
                        return n1 >= 2 && n2 >= 2
                    })
                let addsOnN1 = await s.sim("n1").state.requests.filter { $0.path.hasPrefix("/v3/config/paths/add") }.count
                await s.sim("n2").state.restart()
                #expect(await eventually { await s.sim("n2").state.pathConfig(b) != nil }, "n2's path is re-added well before the hourly pass")
                #expect(await s.sim("n2").state.pathConfig(a) == nil)
                #expect(await s.sim("n1").state.requests.filter { $0.path.hasPrefix("/v3/config/paths/add") }.count == addsOnN1)
                #expect(await s.sim("n1").state.pathConfig(a) != nil)
            }
        }
    }

    @Test func aDownNodeShowsOnItsSourcesAndItsPullSourcesFailOver() async throws {
        try await withNodes(
            3,
            configure: {
                $0.mediamtx.reconcileInterval = .seconds(2)
                $0.mediamtx.nodeDownAfter = .seconds(1)
                $0.mediamtx.failover = true
            }
        ) { s in
            let pull = try await s.client.createSource(["name": "cam", "type": "pull", "url": "rtsp://cam/1", "node": "n3"])
            let pullID = try #require(pull["id"]?.stringValue)
            let pullPath = try #require(pull["path_name"]?.stringValue)
            let push = try #require(try await s.client.createSource(["name": "obs", "type": "push", "node": "n3"])["id"]?.stringValue)
            try await withReconciler(s) { _ in
                #expect(await eventually { await infoRequests(s.sim("n3")) >= 2 })
                let ports = (await s.sim("n3").apiPort, await s.sim("n3").playbackPort)
                await s.sim("n3").stop()
                #expect(try await eventually { try await s.client.call(.get, "/api/v1/nodes/n3")["state"]?.stringValue == "down" })
                #expect(
                    try await eventually {
                        let node = try await s.client.call(.get, "/api/v1/sources/\(pullID)")["node"]?.stringValue
                        return node == "n1" || node == "n2"
                    })
                let moved = try await s.client.call(.get, "/api/v1/sources/\(pullID)")["node"]?.stringValue ?? "n1"
                #expect(await s.sim(moved).state.pathConfig(pullPath)?["source"]?.stringValue == "rtsp://cam/1")
                let stayed = try await s.client.call(.get, "/api/v1/sources/\(push)?with_status=true")
                #expect(stayed["node"]?.stringValue == "n3" && stayed["status"]?["node_down"] == .bool(true))
                let listed = try await s.client.call(.get, "/api/v1/sources?with_status=true&node=n3")
                #expect(listed["items"]?.arrayValue.map { $0["status"]?["node_down"] == .bool(true) } == [true])

                // n3 comes back with the pull path it had (a partition, not a restart): a full pass takes it away there.
                try await s.sim("n3").start(apiPort: ports.0, playbackPort: ports.1)
                #expect(try await eventually { try await s.client.call(.get, "/api/v1/nodes/n3")["state"]?.stringValue == "active" })
                #expect(await eventually { await s.sim("n3").state.pathConfig(pullPath) == nil })
                #expect(await s.sim(moved).state.pathConfig(pullPath) != nil)
            }
        }
    }
}
