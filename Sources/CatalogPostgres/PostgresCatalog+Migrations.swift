import Logging
import PostgresNIO

/// The schema, in versions. A migration is a list of statements run in one transaction; its name is recorded in
/// `schema_migrations`. The meaning follows the SQLite schema (Catalog/AppDatabase*.swift); the names differ where
/// the two backends' histories do.
extension PostgresCatalog {
    static let migrations =
        coreMigrations + assetMigrations + authMigrations + indexMigrations + operationsMigrations + instanceMigrations
        + ingestMigrations + nodeMigrations + sessionMigrations

    static let coreMigrations: [(name: String, statements: [String])] = [
        (
            "v1_media_sources",
            [
                """
                CREATE TABLE media_sources (
                    id uuid PRIMARY KEY,
                    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
                    path_name text NOT NULL UNIQUE CHECK (char_length(path_name) <= 255),
                    type text NOT NULL CHECK (type IN ('pull', 'push')),
                    url text CHECK (url IS NULL OR char_length(url) <= 1024),
                    protocol text CHECK (protocol IS NULL OR char_length(protocol) <= 20),
                    enabled boolean NOT NULL DEFAULT true,
                    record_enabled boolean NOT NULL DEFAULT false,
                    created_at bigint NOT NULL,
                    updated_at bigint NOT NULL
                )
                """,
                "CREATE INDEX media_sources_created_at ON media_sources (created_at DESC, id)",
            ]
        ),
        (
            "v2_webhooks",
            [
                """
                CREATE TABLE webhook_subscriptions (
                    id uuid PRIMARY KEY,
                    url text NOT NULL,
                    events text[] NOT NULL,
                    source_ids uuid[],
                    secret text NOT NULL,
                    previous_secret text,
                    previous_secret_expires_at bigint,
                    enabled boolean NOT NULL,
                    disabled_reason text,
                    failing_since bigint,
                    created_at bigint NOT NULL,
                    updated_at bigint NOT NULL
                )
                """,
                "CREATE INDEX webhook_subscriptions_created ON webhook_subscriptions (created_at, id)",
                """
                CREATE TABLE webhook_deliveries (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
                    event_id text NOT NULL,
                    event_type text NOT NULL,
                    order_key text NOT NULL,
                    payload jsonb NOT NULL,
                    state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at bigint NOT NULL,
                    created_at bigint NOT NULL,
                    last_attempt_at bigint,
                    last_status integer,
                    last_error text,
                    last_latency_ms double precision,
                    delivered_at bigint
                )
                """,
                "CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, id)",
                // The worker's scan: the oldest pending delivery of each stream of a subscription (covering).
                """
                CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, order_key, id)
                    INCLUDE (next_attempt_at) WHERE state = 'pending'
                """,
                "CREATE INDEX webhook_deliveries_done ON webhook_deliveries (created_at) WHERE state <> 'pending'",
            ]
        ),
    ]

    /// An arbitrary constant: the advisory lock every instance takes while migrating.
    static let migrationLock: Int64 = 0x6D74_785F_6D69_6772

    /// Applies the migrations not applied yet, each in its own transaction, under a transaction-scoped advisory lock.
    func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name text PRIMARY KEY, applied_order integer GENERATED ALWAYS AS IDENTITY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
        }
        for migration in Self.migrations {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                let done = try await connection.query("SELECT 1 FROM schema_migrations WHERE name = \(migration.name)", logger: logger)
                    .collect()
                guard done.isEmpty else { return }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migrations (name) VALUES (\(migration.name))", logger: logger)
            }
        }
    }
}
