// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mtx-companion",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mtx-companion", targets: ["mtx-companion"]),
        .executable(name: "mediamtx-sim", targets: ["mediamtx-sim"]),
        .executable(name: "mtx-hook", targets: ["HookRunner"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // The hook event's names and fields, shared by mtx-hook and the API. No dependencies.
        .target(name: "HookWire"),
        // mtx-hook: run by MediaMTX on stream events. Glibc only, linked fully statically in release builds (no
        // dynamic loader work at start, ~25% faster to start than with only the Swift stdlib static), so it starts in
        // a few ms. Debug builds link it normally: the test target depends on it (so `swift test` builds it), and the
        // flag would otherwise reach the test bundle's link.
        .executableTarget(
            name: "HookRunner",
            dependencies: ["HookWire"],
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]
        ),
        // Starting child processes with posix_spawn (the simulator's hooks and ffmpeg, tests, benchmarks).
        .target(name: "ChildProcess"),
        // The product's pure rules and types, with no storage and no HTTP: sources, assets, users, the path_name
        // rule, hook index types and order-tolerant status transitions, recording sessions, the hook → webhook
        // event mapping and payload, record-path patterns, redaction.
        .target(name: "Domain", dependencies: ["HookWire"]),
        // The catalogue: its public surface is Domain types and async methods; GRDB, SQL and migrations stay inside.
        .target(
            name: "Catalog",
            dependencies: ["Domain", "HookWire", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The catalogue on PostgreSQL (PostgresNIO's client pool), for several instances on one database: the same
        // interfaces as the SQLite catalogue (Catalog/CatalogStores*.swift), chosen by `database.url`.
        .target(
            name: "CatalogPostgres",
            dependencies: [
                "Domain", "Catalog", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // Its pool's errors (ConnectionPoolError), told apart in PostgresCatalog+Availability.swift.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
            ]
        ),
        // Typed client of MediaMTX's v3 control API and of its playback server.
        .target(
            name: "MediaMTX",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // The Hummingbird application: config, services, routes, DTOs, error mapping.
        .target(
            name: "API",
            dependencies: [
                "Domain", "Catalog", "CatalogPostgres", "MediaMTX", "HookWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "mtx-companion",
            dependencies: [
                "API", "Domain", "Catalog", "CatalogPostgres", "MediaMTX", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Benchmarks that print figures: `swift run -c release mtx-bench`.
        .executableTarget(
            name: "mtx-bench",
            dependencies: [
                "API", "Domain", "Catalog", "CatalogPostgres", "ChildProcess", "HookWire", "MediaMTXSimulator",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Test support: a MediaMTX stand-in written from ../shared/reference/mediamtx.
        .target(
            name: "MediaMTXSimulator",
            dependencies: [
                "ChildProcess", "HookWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "mediamtx-sim",
            dependencies: ["MediaMTXSimulator", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "DomainTests", dependencies: ["Domain", "HookWire", "MediaMTXSimulator"]),
        // Throwaway PostgreSQL databases for the catalogue's and the API's tests.
        .target(
            name: "PostgresScratch",
            dependencies: [
                "CatalogPostgres", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/PostgresScratch"
        ),
        .testTarget(
            name: "CatalogTests",
            dependencies: [
                "Domain", "Catalog", "CatalogPostgres", "PostgresScratch", "HookWire", "MediaMTXSimulator",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MediaMTXTests",
            dependencies: [
                "MediaMTX", "MediaMTXSimulator", "ChildProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "APITests",
            dependencies: [
                // The executables the tests run as child processes: `swift test` builds them first.
                "API", "Domain", "Catalog", "CatalogPostgres", "ChildProcess", "MediaMTX", "MediaMTXSimulator", "mtx-companion", "HookRunner",
                "mediamtx-sim", "PostgresScratch",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
    ]
)
