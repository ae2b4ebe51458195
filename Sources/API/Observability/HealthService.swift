import Catalog
import Domain
import Foundation
import MediaMTX

/// What readiness checks (the database takes a write, MediaMTX's API answers) and what metrics read of the
/// catalogue.
struct HealthService: Sendable {
    let database: any CatalogBackend
    let mediamtx: MediaMTXClient
    let leases: Leases
    var instance: String { leases.instance }

    /// `ok`, or what failed, for `database` and `mediamtx`.
    func checks() async -> [String: String] {
        var checks: [String: String] = [:]
        do {
            try await database.checkWritable()
            checks["database"] = "ok"
        } catch {
            checks["database"] = "not writable: \(error)"
        }
        do {
            _ = try await mediamtx.info()
            checks["mediamtx"] = "ok"
        } catch {
            checks["mediamtx"] = "unreachable: \(error)"
        }
        return checks
    }

    /// Rows and bytes of the catalogue, for metrics.
    /// The leases this instance holds (name → fencing token).
    func heldLeases() -> [String: Int64] {
        leases.snapshot()
    }

    func catalogueSizes() async throws -> AppDatabase.Sizes {
        try await database.sizes()
    }
}
