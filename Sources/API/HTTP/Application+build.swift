import AsyncHTTPClient
import Catalog
import Domain
import Foundation
import Hummingbird
import Logging
import MediaMTX
import NIOCore
import ServiceLifecycle

public typealias AppRouter = Router<AppRequestContext>

/// Builds the companion: database, MediaMTX client, services and router. `serve` and the tests build the same app.
/// The long-lived parts the server and the admin commands share.
public struct AppServices: Sendable {
    public let config: AppConfig
    public let database: any CatalogBackend
    public let httpClient: HTTPClient
    public let sources: SourcesService
    public let assets: AssetsService
    public let metrics: AppMetrics
    public let leases: Leases
    public let logger: Logger

    /// `makeSourceID` exists so tests can provoke a path_name clash; the server uses random UUIDs.
    public init(_ config: AppConfig, logger: Logger, makeSourceID: @escaping @Sendable () -> UUID = { UUID() }) async throws {
        self.config = config
        self.logger = logger
        let metrics = AppMetrics(instance: config.server.instanceName)
        self.metrics = metrics
        database = try await openCatalog(config.database, logger: logger)
        leases = Leases(database: database, instance: config.server.instanceName, timeout: config.database.leaseTimeout, logger: logger)
        httpClient = MediaMTXClient.makeHTTPClient(connectTimeout: .init(config.mediamtx.connectTimeout))
        let nodes = MediaNodes(
            database: database, httpClient: httpClient, settings: config.mediamtx, logger: logger,
            observer: { metrics.mediamtx(operation: $0, outcome: $1, duration: $2) })
        do {
            try await nodes.declare(config.mediamtx.declaredNodes)
            // Sessions are kept with the configured gap: a changed one rebuilds them once, here.
            if try await database.prepareSessions(gap: micros(config.hooks.sessionGap)) {
                logger.info("recording sessions rebuilt", metadata: ["session_gap": "\(config.hooks.sessionGap)"])
            }
        } catch {
            try? await httpClient.shutdown()
            await database.shutdown()
            throw error
        }
        sources = SourcesService(
            database: database, nodes: nodes, settings: config.mediamtx, logger: logger,
            sessionGap: config.hooks.sessionGap, makeID: makeSourceID
        )
        assets = AssetsService(database: database, sources: sources, logger: logger)
    }

    public var retention: RetentionService {
        RetentionService(
            database: database, sources: sources, settings: config.recordings, logger: logger, metrics: metrics,
            leases: leases)
    }

    public var reconciler: Reconciler {
        Reconciler(
            sources: sources, settings: config.mediamtx, retentionDays: config.hooks.eventRetentionDays, logger: logger, metrics: metrics,
            leases: leases)
    }
}

/// Builds the companion: database, MediaMTX client, services and router. `serve` and the tests build the same app.
public func buildApplication(
    _ config: AppConfig, logger: Logger? = nil, makeSourceID: @escaping @Sendable () -> UUID = { UUID() }
) async throws -> some ApplicationProtocol {
    try await buildApplication(await AppServices(config, logger: logger ?? Logger(label: "mtx-companion"), makeSourceID: makeSourceID))
}

/// The application on services the caller keeps (`serve` closes the database after the server stopped).
public func buildApplication(_ app: AppServices) async throws -> some ApplicationProtocol {
    let (router, services) = try await buildRouter(app)
    return Application(
        router: router,
        configuration: .init(address: .hostname(app.config.server.host, port: app.config.server.port), serverName: "mtx-companion"),
        services: services,
        logger: app.logger
    )
}

/// Every route and middleware, and the background services they rely on. Tests read the routes from here
/// (`router.routes`) to check the access table against what the server really serves.
public func buildRouter(_ app: AppServices) async throws -> (router: AppRouter, services: [any Service]) {
    let config = app.config
    let logger = app.logger
    let authenticator = try await Authenticator(settings: config.auth, database: app.database, httpClient: app.httpClient)
    if try await app.database.users().isEmpty {
        logger.warning("no users yet: create the first admin with `mtx-companion users add NAME --role admin --password-stdin`")
    }
    if config.auth.secretWasGenerated {
        logger.warning("auth.jwt_secret is empty: generated a random key for this run (tokens end with a restart); set MTX_COMPANION_JWT_SECRET")
    }
    let router = AppRouter(context: AppRequestContext.self)
    if !config.server.trustedProxies.isEmpty {
        router.add(middleware: TrustedProxyMiddleware(proxies: Set(config.server.trustedProxies.compactMap(TrustedProxyMiddleware.normalized))))
    }
    router.add(middleware: RequestLogMiddleware(metrics: app.metrics))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: CanonicalPathMiddleware())
    if !config.server.uiDirectory.isEmpty {
        router.add(middleware: UIFilesMiddleware(directory: InstalledPaths.resolve(config.server.uiDirectory)))
    }
    if !config.auth.corsOrigins.isEmpty { router.add(middleware: AllowedOriginsCORSMiddleware(origins: Set(config.auth.corsOrigins))) }
    let auth = AuthService(authenticator: authenticator, database: app.database)
    router.add(middleware: AccessMiddleware(authenticator: authenticator, auth: auth, logger: logger))

    let access = StreamAccess(authenticator: authenticator, sources: app.sources)
    let urls = NodeURLs(nodes: app.sources.nodes)
    SourcesController(service: app.sources, urls: urls, access: access, allowLocalURLs: config.sources.allowLocalURLs)
        .addRoutes(to: router.group("api/v1/sources"))
    AssetsController(
        service: app.assets, sources: app.sources, urls: urls, access: access, allowLocalURLs: config.sources.allowLocalURLs
    ).addRoutes(to: router.group("api/v1/assets"))
    NodesController(service: NodesService(nodes: app.sources.nodes, sources: app.sources, logger: logger))
        .addRoutes(to: router.group("api/v1/nodes"))
    AuthController(service: auth).addRoutes(to: router)
    MediaMTXAuthController(
        service: MediaMTXAuthService(
            authenticator: authenticator, database: app.database, trustedAddresses: Set(config.auth.trustedAddresses), nodes: app.sources.nodes),
        stats: AuthDecisionStats(), metrics: app.metrics, logger: logger
    ).addRoutes(to: router)
    let timeZone = TimeZone(identifier: config.hooks.recordTimezone) ?? TimeZone(identifier: "UTC")!
    let bus = EventBus()
    let webhooks = WebhookWorker(
        database: app.database, settings: config.webhooks, retentionDays: config.hooks.eventRetentionDays, metrics: app.metrics, logger: logger,
        leases: app.leases
    )
    let live = LiveFeed(database: app.database, bus: bus, webhooks: webhooks, logger: logger)
    WebhooksController(service: WebhooksService(database: app.database, settings: config.webhooks, worker: webhooks, logger: logger))
        .addRoutes(to: router.group("api/v1/webhooks"))
    let ingest = HookIngestService(
        queue: IngestQueue(database: app.database, sessionGap: app.sources.sessionGap), metrics: app.metrics, webhooks: webhooks)
    HooksController(
        service: ingest, token: config.hooks.token, pattern: RecordPathPattern(config.mediamtx.recordPath, timeZone: timeZone), live: live,
        maxClockSkew: config.hooks.maxClockSkew, nodes: app.sources.nodes, metrics: app.metrics
    ).addRoutes(to: router)
    HealthController(service: HealthService(database: app.database, nodes: app.sources.nodes, leases: app.leases), metrics: app.metrics)
        .addRoutes(to: router)
    RetentionController(service: app.retention).addRoutes(to: router)
    EventStreamController(bus: bus, heartbeat: .seconds(15)).addRoutes(to: router.group("api/v1/events"))
    RecordingsController(service: RecordingsService(database: app.database), export: RecordingsExport(database: app.database)).addRoutes(
        to: router.group("api/v1/recordings"))
    OpenAPIController(path: InstalledPaths.resolve(config.server.openAPIFile)).addRoutes(to: router)
    // Last: it wraps only the router's not-found answer.
    router.add(middleware: MethodNotAllowedMiddleware<AppRequestContext>(router.routes.map { ($0.path.description, $0.method.rawValue) }))
    if config.hooks.token.isEmpty { logger.warning("hooks.token is empty: hook events are refused (set MTX_COMPANION_HOOK_TOKEN)") }
    var services: [any Service] = [HTTPClientService(client: app.httpClient), app.leases, webhooks, live]
    if config.mediamtx.reconcileInterval > .zero { services.append(app.reconciler) }
    services.append(app.retention)
    return (router, services)
}

/// Shuts the MediaMTX HTTP client down when the application stops.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
