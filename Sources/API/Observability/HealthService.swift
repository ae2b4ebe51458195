import Catalog
import Domain
import Foundation
import MediaMTX

/// What readiness checks (the database takes a write, MediaMTX's API answers) and what metrics read of the
/// catalogue.
struct HealthService: Sendable {
    let database: any CatalogBackend
    let nodes: MediaNodes
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
        // Ready while some node answers: one node down takes its own sources down, not the companion.
        do {
            let nodes = try await nodes.currentOrLast()
            let answers = await withTaskGroup(of: (String, String?).self) { group in
                for node in nodes {
                    group.addTask {
                        do {
                            _ = try await self.nodes.client(node).info()
                            return (node.name, nil)
                        } catch {
                            return (node.name, "\(error)")
                        }
                    }
                }
                return await group.reduce(into: [String: String?]()) { $0[$1.0] = $1.1 }
            }
            let failed = answers.filter { $0.value != nil }.sorted { $0.key < $1.key }
            if nodes.isEmpty {
                checks["mediamtx"] = "no node declared"
            } else if failed.count == nodes.count {
                checks["mediamtx"] = "unreachable: " + failed.map { nodes.count == 1 ? $0.value! : "\($0.key): \($0.value!)" }.joined(separator: "; ")
            } else {
                checks["mediamtx"] = "ok"
            }
        } catch {
            checks["mediamtx"] = "nodes unknown: \(error)"
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
