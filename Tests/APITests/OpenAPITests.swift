import API
import Foundation
import HummingbirdTesting
import NIOCore
import Testing
import Yams

@Suite("GET /api/openapi.yaml: the OpenAPI document, served to everyone and covering every route", .timeLimit(.minutes(3)))
struct OpenAPITests {
    /// `/api/v1/sources/:id` → `/api/v1/sources/{id}`.
    static func openAPIPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }.joined(separator: "/")
    }

    @Test func theDocumentIsServedAndListsEveryRoute() async throws {
        try await withStack { stack in
            let reply = try await stack.raw.execute(uri: "/api/openapi.yaml", method: .get) { response in
                (response.status, response.headers[.contentType], String(buffer: response.body))
            }
            #expect(reply.0 == .ok)
            #expect(reply.1?.hasPrefix("application/yaml") == true)
            let onDisk = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
            #expect(reply.2 == onDisk)

            let document = try #require(try Yams.load(yaml: reply.2) as? [String: Any])
            #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
            let paths = try #require(document["paths"] as? [String: Any])
            for rule in AccessPolicy.rules {
                let operations = paths[Self.openAPIPath(rule.path)] as? [String: Any]
                #expect(operations?[rule.method.rawValue.lowercased()] != nil, "docs/openapi.yaml lacks \(rule.method) \(rule.path)")
            }
            // And nothing under /api/ that the router does not have.
            let routed = Set(AccessPolicy.rules.map { "\($0.method.rawValue.lowercased()) \(Self.openAPIPath($0.path))" })
            let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
            for (path, item) in paths where path.hasPrefix("/api/") {
                for method in ((item as? [String: Any]) ?? [:]).keys where methods.contains(method) {
                    #expect(routed.contains("\(method) \(path)"), "docs/openapi.yaml lists \(method) \(path), which AccessPolicy.rules lacks")
                }
            }
        }
    }
}
