import Domain

/// The MediaMTX nodes and where each path was placed over time.
public protocol NodeStore: Sendable {
    /// By name.
    func nodes() async throws -> [MediaNode]
    func node(named name: String) async throws -> MediaNode?
    /// `CatalogError.nameTaken` when a node has the name.
    func insertNode(_ node: MediaNode) async throws
    /// Every configured column (not `health`); `CatalogError.notFound` when it is gone.
    func updateNode(_ node: MediaNode) async throws
    /// False when there was no such node; `CatalogError.nodeHasSources` while sources are placed on it.
    func deleteNode(named name: String) async throws -> Bool
    /// What the reconciler observed.
    func saveNodeHealth(_ name: String, _ health: NodeHealth) async throws
    /// Sources per node name (nodes without any are absent).
    func sourceCountsByNode() async throws -> [String: Int]
    /// Each path's placements, oldest first (paths never placed are absent).
    func placements(paths: [String]) async throws -> [String: [Placement]]
}

extension AppDatabase: NodeStore {}
