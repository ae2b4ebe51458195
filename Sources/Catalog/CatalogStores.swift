import Domain
import Foundation

// The catalogue's capabilities as interfaces, one per capability, so that each backend implements the same
// contract: SQLite (`AppDatabase`, the embedded default) and PostgreSQL (`PostgresCatalog` in `CatalogPostgres`,
// several instances on one database). Tests/CatalogTests/CatalogContractTests.swift runs one suite against both.
// The PostgreSQL backend implements every capability here and in CatalogStores+*.swift: sources, webhook
// subscriptions, assets, auth and audit, the hook index and ingest, retention, and the webhook outbox worker's reads
// and writes. Not yet on PostgreSQL: maintenance (sizes, backup: pg_dump's job there) and claims of webhook
// deliveries by several instances; the server still opens SQLite.

/// Media sources; `announcing`: webhook events written in the same transaction as the change.
public protocol SourceStore: Sendable {
    /// `CatalogError.pathNameTaken` when another source has the path name.
    func insertSource(_ source: MediaSource, announcing events: [ServiceEvent]) async throws
    func source(id: UUID) async throws -> MediaSource?
    func sourceExists(pathName: String) async throws -> Bool
    /// Every column of an existing source; `CatalogError.notFound` when it is gone.
    func updateSource(_ source: MediaSource) async throws
    /// False when there was no such source; `CatalogError.sourceHasAssets` while assets point at it.
    func deleteSource(id: UUID, announcing events: [ServiceEvent]) async throws -> Bool
    /// Newest first; `nameContains` is case-insensitive and takes `%` and `_` literally.
    func sources(_ query: SourceQuery) async throws -> Page<MediaSource>
    func sourceIDs(forPaths paths: [String]) async throws -> [String: UUID]
    /// Oldest first.
    func allSources() async throws -> [MediaSource]
}

/// Webhook subscriptions and their delivery log.
public protocol WebhookSubscriptionStore: Sendable {
    func insertSubscription(_ s: WebhookSubscription) async throws
    /// `CatalogError.notFound` when the subscription is gone.
    func updateSubscription(_ s: WebhookSubscription) async throws
    func subscription(id: UUID) async throws -> WebhookSubscription?
    /// Oldest first.
    func subscriptions(page: Int, pageSize: Int) async throws -> Page<WebhookSubscription>
    /// Deletes the subscription and its deliveries; false when there was none.
    func deleteSubscription(id: UUID) async throws -> Bool
    /// Newest first; `state` filters.
    func deliveries(subscriptionID: UUID, state: WebhookDeliveryState?, page: Int, pageSize: Int) async throws -> Page<WebhookDelivery>
}

extension AppDatabase: SourceStore, WebhookSubscriptionStore {}
