import Catalog
import Domain
import Foundation
import Hummingbird

/// `GET /api/v1/storage` (bytes and hours recorded per source) and a source's retention
/// (`GET`/`PUT /api/v1/sources/:id/retention`).
struct RetentionController {
    let sources: SourcesService
    /// Reads `:id` and finds the source as every other source route does.
    let routes: SourcesController
    let settings: AppConfig.Recordings

    struct StorageItem: Encodable {
        var sourceID: String
        var name: String
        var pathName: String
        var retentionDays: Int
        var segments: Int
        var bytes: Int64
        var hours: Double

        enum CodingKeys: String, CodingKey {
            case name, segments, bytes, hours
            case sourceID = "source_id"
            case pathName = "path_name"
            case retentionDays = "retention_days"
        }
    }

    struct StorageResponse: ResponseEncodable {
        var items: [StorageItem]
        var totalBytes: Int64
        var totalHours: Double

        enum CodingKeys: String, CodingKey {
            case items
            case totalBytes = "total_bytes"
            case totalHours = "total_hours"
        }
    }

    struct RetentionResponse: ResponseEncodable {
        /// The source's own setting; null when it follows the default.
        var retentionDays: Int?
        var defaultDays: Int
        /// What applies: the source's own setting, else the default (0 keeps everything).
        var effectiveDays: Int

        enum CodingKeys: String, CodingKey {
            case retentionDays = "retention_days"
            case defaultDays = "default_days"
            case effectiveDays = "effective_days"
        }

        /// `retention_days` is always there, `null` when the source follows the default.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(retentionDays, forKey: .retentionDays)
            try c.encode(defaultDays, forKey: .defaultDays)
            try c.encode(effectiveDays, forKey: .effectiveDays)
        }
    }

    func addRoutes(to router: AppRouter) {
        router.get("api/v1/storage") { _, _ in try await storage() }
        router.get("api/v1/sources/:id/retention") { _, context in try await retention(of: try await routes.source(context).id) }
        router.put("api/v1/sources/:id/retention") { request, context in
            let source = try await routes.source(context)
            let body = try await request.decodeStrict(RetentionRequest.self)
            guard body.present else { throw APIError.missingField("retention_days") }
            try await sources.database.setRetentionDays(sourceID: source.id, body.days)
            context.audit.target("source", id: source.id.uuidString.lowercased())
            return try await retention(of: source.id)
        }
    }

    /// `{"retention_days": N}` sets the source's own retention; `null` makes it follow the default again.
    struct RetentionRequest: StrictBody {
        static let allowedKeys: Set<String> = ["retention_days"]
        static let nullableKeys: Set<String> = ["retention_days"]
        var present: Bool
        var days: Int?

        enum CodingKeys: String, CodingKey {
            case days = "retention_days"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            present = c.contains(.days)
            // As a number first: 1.5 is a bad value of this field, not malformed JSON.
            guard let number = try c.decodeIfPresent(Double.self, forKey: .days) else { return }
            guard number == number.rounded(), (0...36_500).contains(number) else {
                throw APIError.invalidField("retention_days", .notAnInteger("retention_days", min: 0, max: 36_500))
            }
            days = Int(number)
        }
    }

    func retention(of id: UUID) async throws -> RetentionResponse {
        let own = try await sources.database.retentionDays(sourceID: id)
        return RetentionResponse(retentionDays: own, defaultDays: settings.retentionDays, effectiveDays: own ?? settings.retentionDays)
    }

    func storage() async throws -> StorageResponse {
        let database = sources.database
        let overrides = try await database.retentionOverrides()
        let used = try await database.storage()
        let items = try await database.allSources().map { source in
            let s = used[source.pathName]
            return StorageItem(
                sourceID: source.id.uuidString.lowercased(), name: source.name, pathName: source.pathName,
                retentionDays: overrides[source.id] ?? settings.retentionDays,
                segments: s?.segments ?? 0, bytes: s?.bytes ?? 0, hours: (s?.seconds ?? 0) / 3600
            )
        }
        return StorageResponse(items: items, totalBytes: items.reduce(0) { $0 + $1.bytes }, totalHours: items.reduce(0) { $0 + $1.hours })
    }
}
