import Domain
import Foundation
import Hummingbird

/// `/api/v1/nodes`: the MediaMTX nodes (listing for operators, changes for admins).
struct NodesController {
    let service: NodesService

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
        group.post(use: create)
        group.get(":name") { _, context in try await respond(try await service.get(try name(context))) }
        group.put(":name", use: update)
        group.delete(":name") { _, context in
            try await service.delete(try name(context))
            return Response(status: .noContent)
        }
        group.post(":name/drain", use: drain)
    }

    func name(_ context: AppRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), NodeName.isValid(name) else { throw APIError.notFound(.node) }
        return name
    }

    func respond(_ found: (node: MediaNode, sources: Int), showToken: Bool = false) -> NodeResponse {
        NodeResponse(found.node, sources: found.sources, state: service.nodes.state(of: found.node), showToken: showToken)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> ItemsOnlyResponse<NodeResponse> {
        ItemsOnlyResponse(items: try await service.list().map { respond($0) })
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<NodeResponse> {
        let body = try await request.decodeStrict(NodeRequest.self)
        guard let name = body.name else { throw APIError.missingField("name") }
        guard NodeName.isValid(name) else { throw APIError.invalidField("name", .notANodeName("name")) }
        var node = MediaNode(
            name: name, apiAddress: "", playbackAddress: "", rtspAddress: "", rtmpAddress: "", hlsAddress: "", webrtcAddress: "",
            srtAddress: "")
        try body.apply(to: &node, creating: true)
        let created = try await service.create(node)
        context.audit.target("node", id: name)
        return EditedResponse(status: .created, response: respond((created, 0), showToken: true))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> NodeResponse {
        let name = try name(context)
        var (node, count) = try await service.get(name)
        let body = try await request.decodeStrict(NodeRequest.self)
        if let given = body.name, given != name { throw APIError.invalidField("name", .fieldIsFixed("name")) }
        try body.apply(to: &node, creating: false)
        node.updatedAt = Date()
        context.audit.target("node", id: name)
        return respond((try await service.update(node), count), showToken: body.authToken != nil)
    }

    @Sendable func drain(_ request: Request, context: AppRequestContext) async throws -> DrainResponse {
        let name = try name(context)
        _ = try await service.get(name)
        context.audit.target("node", id: name)
        let report = try await service.drain(name)
        return DrainResponse(
            node: respond(try await service.get(name)),
            moved: report.moved.map { .init(sourceID: $0.source.id.uuidString.lowercased(), pathName: $0.source.pathName, to: $0.to) },
            stayed: report.stayed.map { .init(sourceID: $0.source.id.uuidString.lowercased(), pathName: $0.source.pathName, reason: $0.reason) })
    }
}
