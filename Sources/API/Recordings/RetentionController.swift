import Domain
import Foundation
import Hummingbird

/// `GET /api/v1/storage` (bytes and hours recorded per source) and a source's retention
/// (`GET`/`PUT /api/v1/sources/:id/retention`).
struct RetentionController {
    let service: RetentionService

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

        init(_ r: RetentionService.Retention) {
            retentionDays = r.days
            defaultDays = r.defaultDays
            effectiveDays = r.effectiveDays
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
        router.get("api/v1/sources/:id/retention") { _, context in
            RetentionResponse(try await service.retention(of: try await service.source(try context.id(of: .source))))
        }
        router.put("api/v1/sources/:id/retention") { request, context in
            let source = try await service.source(try context.id(of: .source))
            let body = try await request.decodeStrict(RetentionRequest.self)
            guard body.present else { throw APIError.missingField("retention_days") }
            try await service.setRetention(of: source, days: body.days)
            context.audit.target("source", id: source.id.uuidString.lowercased())
            return RetentionResponse(try await service.retention(of: source))
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

    func storage() async throws -> StorageResponse {
        let items = try await service.storage().map { u in
            StorageItem(
                sourceID: u.source.id.uuidString.lowercased(), name: u.source.name, pathName: u.source.pathName, retentionDays: u.retentionDays,
                segments: u.segments, bytes: u.bytes, hours: u.seconds / 3600
            )
        }
        return StorageResponse(items: items, totalBytes: items.reduce(0) { $0 + $1.bytes }, totalHours: items.reduce(0) { $0 + $1.hours })
    }
}
