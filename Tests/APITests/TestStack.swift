import API
import Catalog
import CatalogPostgres
import Domain
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import MediaMTXSimulator
import NIOCore
import NIOFoundationCompat
import PostgresNIO
import PostgresScratch
import Testing

/// A companion on a fresh catalogue of the backend under test (`TestBackend`), talking to a fresh simulator, driven
/// over loopback HTTP. `client` signs its requests as the admin unless a request carries its own Authorization
/// header; `raw` sends what it is given.
struct TestStack {
    let sim: MediaMTXSimulator
    let config: AppConfig
    let client: any TestClientProtocol
    let raw: any TestClientProtocol
    let catalogue: TestCatalogue

    var state: SimulatorState { sim.state }

    /// Opens the companion's SQLite file directly. On PostgreSQL it throws rather than open an empty file: a test
    /// that needs it is disabled there (`.disabled(if: TestBackend.isPostgres, …)`).
    func database() throws -> DatabaseQueue {
        guard case .sqlite(let path) = config.database.backend else {
            throw TestBackend.SQLiteOnly(description: "stack.database() opens the SQLite file, and this stack runs on \(config.database.location)")
        }
        return try DatabaseQueue(path: path)
    }
}

/// The catalogue backend of the API tests: a SQLite file per stack, or with `MTX_TEST_BACKEND=postgres` a new
/// database per stack on the server in `MTX_TEST_POSTGRES_URL` (scripts/test.sh runs the core suites both ways).
enum TestBackend {
    static let name = ProcessInfo.processInfo.environment["MTX_TEST_BACKEND"] ?? ""
    static let isPostgres = name == "postgres"

    struct SQLiteOnly: Error, CustomStringConvertible {
        var description: String
    }
}

/// One test's catalogue, which several stacks in a row may share (a restart): a SQLite file, or a PostgreSQL database
/// with a pool (connecting on first use) for the tests' own SQL.
struct TestCatalogue: Sendable {
    let settings: CatalogSettings
    let postgres: PostgresClient?
}

/// Runs `body` with a new catalogue of the backend under test, deleted afterwards.
func withTestCatalogue(_ body: (TestCatalogue) async throws -> Void) async throws {
    switch TestBackend.name {
    case "", "sqlite":
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await body(TestCatalogue(settings: CatalogSettings(path: dir.appendingPathComponent("catalog.sqlite").path), postgres: nil))
    case "postgres":
        // Never a skip: a run that asks for PostgreSQL (scripts/test.sh's second pass, CI) fails without a server.
        let server = try #require(
            ProcessInfo.processInfo.environment["MTX_TEST_POSTGRES_URL"],
            "MTX_TEST_BACKEND=postgres needs MTX_TEST_POSTGRES_URL (scripts/postgres.sh start DIR prints one)")
        await PostgresSlots.shared.acquire()
        do {
            try await withScratchDatabase(on: server) { url, client in
                try await body(TestCatalogue(settings: CatalogSettings(path: "", url: url), postgres: client))
            }
        } catch {
            await PostgresSlots.shared.release()
            throw error
        }
        await PostgresSlots.shared.release()
    default:
        Issue.record("MTX_TEST_BACKEND is sqlite or postgres, not \"\(TestBackend.name)\"")
    }
}

/// Stacks on PostgreSQL at once. Swift Testing starts every test together, and each stack's pool may open 20
/// connections (plus the change feed's, the users', this file's): 8 stay under the test server's 200
/// (scripts/postgres.sh). Fewer would make the last tests wait past their time limit (waiting counts).
actor PostgresSlots {
    static let shared = PostgresSlots(8)
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ slots: Int) { free = slots }

    func acquire() async {
        if free > 0 {
            free -= 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// A new database on the server `serverURL` names (`PostgresScratch`), and a pool on it, for `body`.
private func withScratchDatabase(on serverURL: String, _ body: (String, PostgresClient) async throws -> Void) async throws {
    try await PostgresScratch.with(serverURL, prefix: "api_") { url in
        let scratch = PostgresClient(configuration: try PostgresURL(url).clientConfiguration, backgroundLogger: quietLogger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await scratch.run() }
            defer { group.cancelAll() }
            try await body(url, scratch)
        }
    }
}

/// The tests' own SQL on the stack's catalogue, whichever the backend: the SQL must mean the same to SQLite and
/// PostgreSQL (or be chosen with `TestBackend.isPostgres`).
extension TestStack {
    /// The first row of `sql` as integers, NULL as 0 (e.g. `SELECT count(*) …`).
    func integers(_ sql: String) async throws -> [Int] {
        if let client = catalogue.postgres {
            for try await row in try await client.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger) {
                return try row.map { try $0.decode(Int?.self) ?? 0 }
            }
            return []
        }
        return try await database().read { db in
            guard let row = try Row.fetchOne(db, sql: sql) else { return [] }
            return (0..<row.count).map { (row[$0] as Int?) ?? 0 }
        }
    }

    func integer(_ sql: String) async throws -> Int { try await integers(sql).first ?? 0 }

    func execute(_ sql: String) async throws {
        if let client = catalogue.postgres {
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger)
        } else {
            try await database().write { try $0.execute(sql: sql) }
        }
    }

    /// Makes every `operation` (INSERT, UPDATE or DELETE) of a row of `table` fail, as a full disk would, until
    /// `allowWrites`: a trigger that raises.
    func failWrites(_ operation: String, on table: String) async throws {
        let trigger = "fail_\(operation.lowercased())_\(table)"
        if catalogue.postgres != nil {
            try await execute(
                "CREATE OR REPLACE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$")
            try await execute("CREATE TRIGGER \(trigger) BEFORE \(operation) ON \(table) FOR EACH ROW EXECUTE FUNCTION injected_failure()")
        } else {
            try await execute("CREATE TRIGGER \(trigger) BEFORE \(operation) ON \(table) BEGIN SELECT RAISE(ABORT, 'injected'); END")
        }
    }

    func allowWrites(_ operation: String, on table: String) async throws {
        let trigger = "fail_\(operation.lowercased())_\(table)"
        try await execute(catalogue.postgres != nil ? "DROP TRIGGER \(trigger) ON \(table)" : "DROP TRIGGER \(trigger)")
    }
}

let hookToken = "test-hook-token"
let testJWTSecret = "test-jwt-secret-0123456789abcdef0123456789"
/// The password of every test user.
let testPassword = "correct horse battery"

/// One user per role, made in every stack's database.
enum TestUser: String, CaseIterable, Sendable {
    case admin, `operator`, viewer

    var id: UUID {
        switch self {
        case .admin: UUID(uuidString: "00000000-0000-4000-8000-00000000000a")!
        case .operator: UUID(uuidString: "00000000-0000-4000-8000-00000000000b")!
        case .viewer: UUID(uuidString: "00000000-0000-4000-8000-00000000000c")!
        }
    }

    var role: User.Role { User.Role(rawValue: rawValue)! }
    var name: String { rawValue }

    /// A valid access token of this user, signed as the server signs them.
    var token: String {
        get async throws { try await signAccessToken(sub: id.uuidString.lowercased(), name: name) }
    }

    var bearer: HTTPFields {
        get async throws { [.authorization: "Bearer \(try await token)"] }
    }
}

/// What the server puts in an access token; tests sign their own to forge expired or foreign ones.
struct TestAccessClaims: JWTPayload {
    var sub: SubjectClaim
    var name: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var typ: String
    var ver: Int

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

func signAccessToken(
    sub: String, name: String, secret: String = testJWTSecret, expires: Date = Date().addingTimeInterval(600), typ: String = "access",
    version: Int = 0
) async throws -> String {
    let keys = JWTKeyCollection()
    await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    return try await keys.sign(
        TestAccessClaims(sub: .init(value: sub), name: name, iat: .init(value: Date()), exp: .init(value: expires), typ: typ, ver: version)
    )
}

/// bcrypt of `testPassword` at cost 10, computed once.
let testPasswordHash: Task<String, Never> = Task { await Authenticator.hashPassword(testPassword, cost: 10) }

/// Adds the admin's bearer token to requests that carry no Authorization header.
struct SignedClient: TestClientProtocol {
    let base: any TestClientProtocol
    let token: String

    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        var headers = headers
        if headers[.authorization] == nil { headers[.authorization] = "Bearer \(token)" }
        return try await base.executeRequest(uri: uri, method: method, headers: headers, body: body)
    }

    var port: Int? { base.port }
}

/// Settings that point at `sim`; `apiAddress` overrides where MediaMTX's API is (e.g. a closed port).
func testConfig(
    sim: MediaMTXSimulator, databasePath: String, apiAddress: String? = nil, requestTimeout: Duration = .seconds(5),
    recordPath: String = "/srv/mediamtx/recordings/%path/%Y-%m-%d_%H-%M-%S-%f"
) async -> AppConfig {
    let simAPI = await sim.apiURL
    var server = AppConfig.Server(host: "127.0.0.1", port: 0)
    server.uiDirectory = repositoryRoot.appendingPathComponent("ui").path
    server.openAPIFile = repositoryRoot.appendingPathComponent("docs/openapi.yaml").path
    return AppConfig(
        server: server,
        database: .init(path: databasePath),
        mediamtx: .init(
            apiAddress: apiAddress ?? simAPI,
            rtspAddress: "rtsp://media.example:8554",
            rtmpAddress: "rtmp://media.example:1935",
            hlsAddress: "https://media.example:8888",
            webrtcAddress: "https://media.example:8889",
            srtAddress: "srt://media.example:8890",
            playbackAddress: await sim.playbackURL,
            recordPath: recordPath,
            recordFormat: "fmp4",
            segmentDuration: "2s",
            connectTimeout: .seconds(1),
            requestTimeout: requestTimeout
        ).with { $0.reconcileInterval = .zero },
        hooks: .init(token: hookToken),
        auth: {
            var auth = AppConfig.Auth(jwtSecret: testJWTSecret)
            auth.bcryptCost = 10
            return auth
        }()
    ).with { $0.webhooks = testWebhookSettings() }
}

/// Webhooks for tests: receivers on loopback allowed, fast retries.
func testWebhookSettings(_ change: (inout AppConfig.Webhooks) -> Void = { _ in }) -> AppConfig.Webhooks {
    var settings = AppConfig.Webhooks()
    settings.allowPrivateTargets = true
    settings.retryBase = .milliseconds(50)
    settings.requestTimeout = .seconds(2)
    change(&settings)
    return settings
}

extension AppConfig {
    func with(_ change: (inout Self) -> Void) -> Self {
        var copy = self
        change(&copy)
        return copy
    }
}

func makeTempDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtx-companion-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

var quietLogger: Logger {
    var logger = Logger(label: "mtx-companion-test")
    logger.logLevel = .critical
    return logger
}

/// Runs `body` against a live companion and a simulator; both are torn down afterwards. The catalogue is a new one
/// of the backend under test, or `catalogue` (to restart on one), or the SQLite file `databasePath`.
func withStack(
    apiAddress: String? = nil,
    requestTimeout: Duration = .seconds(5),
    catalogue: TestCatalogue? = nil,
    databasePath: String? = nil,
    recordPath: String = "/srv/mediamtx/recordings/%path/%Y-%m-%d_%H-%M-%S-%f",
    makeSourceID: @escaping @Sendable () -> UUID = { UUID() },
    sim existing: MediaMTXSimulator? = nil,
    logger: Logger? = nil,
    webhooks: AppConfig.Webhooks = testWebhookSettings(),
    configure: (inout AppConfig) -> Void = { _ in },
    _ body: @Sendable (TestStack) async throws -> Void
) async throws {
    guard let catalogue else {
        if let databasePath {
            // A file the test itself reads or reuses: such a test is disabled on PostgreSQL, or shares a TestCatalogue.
            try #require(!TestBackend.isPostgres, "withStack(databasePath:) names a SQLite file, and the backend is postgres")
            let file = TestCatalogue(settings: CatalogSettings(path: databasePath), postgres: nil)
            return try await withStack(
                apiAddress: apiAddress, requestTimeout: requestTimeout, catalogue: file, recordPath: recordPath, makeSourceID: makeSourceID,
                sim: existing, logger: logger, webhooks: webhooks, configure: configure, body)
        }
        return try await withTestCatalogue { catalogue in
            try await withStack(
                apiAddress: apiAddress, requestTimeout: requestTimeout, catalogue: catalogue, recordPath: recordPath, makeSourceID: makeSourceID,
                sim: existing, logger: logger, webhooks: webhooks, configure: configure, body)
        }
    }
    let sim = existing ?? MediaMTXSimulator()
    if existing == nil { try await sim.start() }
    let config = await testConfig(
        sim: sim, databasePath: catalogue.settings.path, apiAddress: apiAddress, requestTimeout: requestTimeout, recordPath: recordPath
    ).with {
        $0.database = catalogue.settings
        $0.webhooks = webhooks
        configure(&$0)
    }
    do {
        try await addTestUsers(config.database)
        let app = try await buildApplication(config, logger: logger ?? quietLogger, makeSourceID: makeSourceID)
        let adminToken = try await TestUser.admin.token
        try await app.test(.live) { client in
            try await body(
                TestStack(sim: sim, config: config, client: SignedClient(base: client, token: adminToken), raw: client, catalogue: catalogue))
        }
    } catch {
        if existing == nil { await sim.stop() }
        throw error
    }
    if existing == nil { await sim.stop() }
}

/// The admin, operator and viewer test users, unless they exist (a stack may reuse a catalogue), added through the
/// catalogue `settings` names.
func addTestUsers(_ settings: CatalogSettings) async throws {
    let catalog = try await openCatalog(settings, logger: quietLogger)
    do {
        let hash = await testPasswordHash.value
        for user in TestUser.allCases where try await catalog.user(id: user.id) == nil {
            try await catalog.addUser(User(id: user.id, username: user.name, role: user.role, passwordHash: hash))
        }
    } catch {
        await catalog.shutdown()
        throw error
    }
    await catalog.shutdown()
}

func addTestUsers(databasePath: String) async throws {
    try await addTestUsers(CatalogSettings(path: databasePath))
}

/// A URL handed out by the API, split into the URL without its media token and the token.
func splitToken(_ url: String?) -> (url: String?, token: String?) {
    guard let url, let range = url.range(of: "token=", options: .backwards), range.lowerBound > url.startIndex else { return (url, nil) }
    let separator = url.index(before: range.lowerBound)
    guard url[separator] == "?" || url[separator] == "&" else { return (url, nil) }
    return (String(url[..<separator]), String(url[range.upperBound...]))
}

// MARK: - Requests

struct Reply: Sendable {
    let status: HTTPResponse.Status
    let json: JSONValue
    let headers: HTTPFields

    subscript(key: String) -> JSONValue? { json[key] }

    /// `error.field` of an error answer.
    var errorField: String? { json["error"]?["field"]?.stringValue }
    var errorCode: String? { json["error"]?["code"]?.stringValue }
    var errorMessage: String? { json["error"]?["message"]?.stringValue }
}

extension TestClientProtocol {
    /// Sends a request with an optional JSON body (a dictionary literal or raw text) and parses the JSON answer.
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, json: [String: any Sendable]? = nil, raw: String? = nil, headers: HTTPFields = [:])
        async throws -> Reply
    {
        var body: ByteBuffer?
        var headers = headers
        if let json {
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body) { response in
            let data = Data(buffer: response.body)
            let json = data.isEmpty ? JSONValue.null : ((try? JSONValue.parse(data)) ?? .string(String(decoding: data, as: UTF8.self)))
            return Reply(status: response.status, json: json, headers: response.headers)
        }
    }

    /// Creates a source and returns its JSON, failing the test unless the answer is 201.
    func createSource(_ body: [String: any Sendable], sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let reply = try await call(.post, "/api/v1/sources", json: body)
        #expect(reply.status == .created, "create answered \(reply.status): \(reply.json.serialized())", sourceLocation: sourceLocation)
        return reply.json
    }
}

extension JSONValue {
    var intValue: Int? {
        if case .number(let n) = self { return Int(n) }
        return nil
    }

    var doubleValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    var arrayValue: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }

    var isNull: Bool { self == .null }
}

// MARK: - Hook events

/// The file MediaMTX would write for a segment of `path` starting at `start` (test config's record_path, UTC).
func segmentFile(_ path: String, _ start: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: start)
    let micros = Int((start.timeIntervalSince1970 * 1_000_000).rounded()) % 1_000_000
    return String(
        format: "/srv/mediamtx/recordings/%@/%04d-%02d-%02d_%02d-%02d-%02d-%06d.mp4", path, c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!,
        micros)
}

func hookEvent(_ type: String, path: String, at: Date = Date(), id: String = UUID().uuidString, extra: [String: any Sendable] = [:]) -> [String:
    any Sendable]
{
    var event: [String: any Sendable] = [
        "event_id": id, "type": type, "path": path,
        "occurred_at": ISO8601DateFormatter.micro.string(from: at),
    ]
    for (k, v) in extra { event[k] = v }
    return event
}

/// segment-create then segment-complete of one segment.
func segmentEvents(path: String, start: Date, duration: Double, size: Int = 1000) -> [[String: any Sendable]] {
    let file = segmentFile(path, start)
    return [
        hookEvent("segment-create", path: path, at: start.addingTimeInterval(1), extra: ["segment_path": file, "segment_size": 10]),
        hookEvent(
            "segment-complete", path: path, at: start.addingTimeInterval(duration),
            extra: ["segment_path": file, "segment_duration": duration, "segment_size": size]),
    ]
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let micro: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}

extension TestClientProtocol {
    @discardableResult
    func postEvents(_ events: [[String: any Sendable]], token: String = hookToken) async throws -> Reply {
        try await call(.post, "/api/v1/hooks/events", json: ["events": events], headers: [.authorization: "Bearer \(token)"])
    }
}

extension AppConfig.MediaMTX {
    func with(_ change: (inout Self) -> Void) -> Self {
        var copy = self
        change(&copy)
        return copy
    }
}
