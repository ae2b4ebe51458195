import Domain
import Foundation
import Hummingbird

/// `GET /healthz`: the process answers, with its version. `GET /readyz`: the catalogue takes a write and MediaMTX's API answers;
/// otherwise 503 naming the part that failed (load balancers and orchestrators take traffic away until it is back). It also
/// says which instance answered, on which backend, and which leases (background work) it holds.
struct HealthController {
    let service: HealthService
    let metrics: AppMetrics

    struct Health: ResponseEncodable {
        var status: String
        var version: String? = nil
        var checks: [String: String]? = nil
        var instance: String? = nil
        var backend: String? = nil
        var leases: [String: Int64]? = nil
    }

    func addRoutes(to router: AppRouter) {
        router.get("healthz") { _, _ in Health(status: "ok", version: BuildInfo.version) }
        router.get("readyz") { _, _ in try await ready() }
        router.get("metrics") { _, _ in metrics.scrape(catalogue: try await service.catalogueSizes()) }
    }

    func ready() async throws -> Response {
        let checks = await service.checks()
        let ok = checks.values.allSatisfy { $0 == "ok" }
        let body = try JSONEncoder.api.encode(
            Health(
                status: ok ? "ready" : "not_ready", checks: checks, instance: service.instance, backend: service.database.backendName,
                leases: service.heldLeases()))
        return Response(
            status: ok ? .ok : .serviceUnavailable, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
