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
            // Compared with the routes the router really serves, both ways.
            let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
            var documented = Set<String>()
            for (path, item) in paths {
                for method in ((item as? [String: Any]) ?? [:]).keys where methods.contains(method) {
                    documented.insert("\(method.uppercased()) \(RoleMatrixTests.pattern(path))")
                }
            }
            let served = try await RoleMatrixTests.servedRoutes()
            for route in served.subtracting(documented).sorted() { Issue.record("docs/openapi.yaml lacks \(route), which the router serves") }
            for route in documented.subtracting(served).sorted() { Issue.record("docs/openapi.yaml lists \(route), which the router does not serve") }
            #expect(served.count >= 60)
        }
    }
}
