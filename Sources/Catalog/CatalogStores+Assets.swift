import Domain
import Foundation

/// Stream assets (clips included) and their tags. A stream asset points at a media source (`sourceID`, its
/// path_name in `path`); a source cannot be deleted while assets point at it (`SourceStore.deleteSource` throws
/// `CatalogError.sourceHasAssets`). Tags keep their order; an asset's tags are distinct.
public protocol AssetStore: Sendable {
    /// Inserts `source` when given (a stream made from a URL), the asset and the webhook events `announcing` them in
    /// one transaction: all or none. `CatalogError.pathNameTaken` when another source has the new source's path name;
    /// `CatalogError.notFound` when the asset's `sourceID` names no source.
    func insertAsset(_ asset: MediaAsset, withNewSource source: MediaSource?, announcing events: [ServiceEvent]) async throws
    /// Inserts every asset with its tags in one transaction (seeding, imports): all or none.
    func insertAssets(_ assets: [MediaAsset]) async throws
    /// Every column of an existing asset, its tags replaced by `asset.tags`; `CatalogError.notFound` when the asset is
    /// gone or its `sourceID` names no source.
    func updateAsset(_ asset: MediaAsset) async throws
    /// Deletes the asset and its tags; false when there was no such asset.
    func deleteAsset(id: UUID) async throws -> Bool
    /// The asset with its tags in their order, or nil.
    func asset(id: UUID) async throws -> MediaAsset?
    /// Newest first (`createdAt`, then id, both descending). Every given filter applies: `type`, `sourceType`,
    /// `sourceID` equal; `tags` must all be present (a repeated tag counts once); `nameContains` is case-insensitive and
    /// takes `%` and `_` literally (an empty string does not filter). `total` counts every match, not only the page.
    func assets(_ query: AssetQuery) async throws -> Page<MediaAsset>
    /// How many assets point at the source, and the oldest `limit` of them, oldest first, without their tags (`tags`
    /// is empty): the 409 on deleting the source names them.
    func assetsUsing(sourceID: UUID, limit: Int) async throws -> (count: Int, first: [MediaAsset])
}

extension AssetStore {
    /// An asset on an existing source.
    public func insertAsset(_ asset: MediaAsset, announcing events: [ServiceEvent] = []) async throws {
        try await insertAsset(asset, withNewSource: nil, announcing: events)
    }
}

extension AppDatabase: AssetStore {}
