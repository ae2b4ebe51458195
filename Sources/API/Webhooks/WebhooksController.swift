import Domain
import Foundation
import Hummingbird

/// `/api/v1/webhooks`: subscriptions, their delivery log, test pings and redeliveries (operator and admin).
struct WebhooksController {
    let service: WebhooksService

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
        group.post(use: create)
        group.post("deliveries/:id/redeliver", use: redeliver)
        group.get(":id", use: show)
        group.put(":id", use: update)
        group.delete(":id", use: delete)
        group.post(":id/secret/rotate", use: rotate)
        group.get(":id/deliveries", use: deliveries)
        group.post(":id/test", use: test)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<WebhookResponse> {
        let body = try await request.decodeStrict(WebhookRequest.self)
        let s = try await service.create(body.input)
        context.audit.target("webhook", id: s.id.uuidString.lowercased())
        return EditedResponse(status: .created, response: WebhookResponse(s, showSecret: true))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> PageResponse<WebhookResponse> {
        let q = try QueryInput(request)
        let (page, pageSize) = try q.paging()
        let result = try await service.list(page: page, pageSize: pageSize)
        return PageResponse(items: result.items.map { WebhookResponse($0) }, total: result.total, page: page, pageSize: pageSize)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> WebhookResponse {
        WebhookResponse(try await service.get(try context.id(of: .webhook)))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> WebhookResponse {
        let subscriptionID = try context.id(of: .webhook)
        _ = try await service.get(subscriptionID)
        let body = try await request.decodeStrict(WebhookRequest.self)
        return WebhookResponse(try await service.update(subscriptionID, body.input))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await service.delete(try context.id(of: .webhook))
        return Response(status: .noContent)
    }

    @Sendable func rotate(_ request: Request, context: AppRequestContext) async throws -> WebhookResponse {
        WebhookResponse(try await service.rotateSecret(try context.id(of: .webhook)), showSecret: true)
    }

    /// Newest first; `state` = pending | delivered | failed.
    @Sendable func deliveries(_ request: Request, context: AppRequestContext) async throws -> PageResponse<WebhookDeliveryResponse> {
        let subscriptionID = try context.id(of: .webhook)
        let q = try QueryInput(request)
        let state = try q.oneOf("state", WebhookDeliveryState.allCases.map(\.rawValue)).flatMap(WebhookDeliveryState.init(rawValue:))
        let (page, pageSize) = try q.paging()
        let result = try await service.deliveries(subscriptionID, state: state, page: page, pageSize: pageSize)
        return PageResponse(items: result.items.map(WebhookDeliveryResponse.init), total: result.total, page: page, pageSize: pageSize)
    }

    @Sendable func test(_ request: Request, context: AppRequestContext) async throws -> WebhookDeliveryResponse {
        WebhookDeliveryResponse(try await service.ping(try context.id(of: .webhook)))
    }

    @Sendable func redeliver(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<WebhookDeliveryResponse> {
        guard let text = context.parameters.get("id"), let deliveryID = Int64(text) else { throw APIError.notFound(.delivery) }
        let queued = try await service.redeliver(deliveryID)
        context.audit.target("webhook_delivery", id: text)
        return EditedResponse(status: .accepted, response: WebhookDeliveryResponse(queued))
    }
}
