import Catalog
import Domain
import Foundation
import Logging
import MediaMTX

/// Orchestrates the catalogue and MediaMTX for media sources (design §2): MediaMTX first, then the row,
/// undoing the MediaMTX change when the row write fails.
public struct SourcesService: Sendable {
    let database: any CatalogBackend
    public let nodes: MediaNodes
    let settings: AppConfig.MediaMTX
    let logger: Logger
    /// Segments at most this far apart (µs) are one recording session.
    let sessionGap: Int64
    /// Draws the id (and so the path_name suffix) of a new source.
    let makeID: @Sendable () -> UUID

    public init(
        database: any CatalogBackend, nodes: MediaNodes, settings: AppConfig.MediaMTX, logger: Logger,
        sessionGap: Duration = .seconds(1), makeID: @escaping @Sendable () -> UUID = { UUID() }
    ) {
        self.database = database
        self.nodes = nodes
        self.settings = settings
        self.logger = logger
        self.sessionGap = micros(sessionGap)
        self.makeID = makeID
    }

    // MARK: - Create

    public struct NewSource: Sendable {
        var name: String
        var kind: MediaSource.Kind
        var url: String?
        var `protocol`: String?
        var enabled: Bool
        var recordEnabled: Bool
        /// The node asked for, else labels the node must carry; neither: the least loaded node.
        var node: String?
        var labels: [String: String]

        public init(
            name: String, kind: MediaSource.Kind, url: String?, protocol: String?, enabled: Bool, recordEnabled: Bool, node: String? = nil,
            labels: [String: String] = [:]
        ) {
            self.node = node
            self.labels = labels
            self.name = name
            self.kind = kind
            self.url = url
            self.protocol = `protocol`
            self.enabled = enabled
            self.recordEnabled = recordEnabled
        }
    }

    /// node → path_name → AddPath → insert; DeletePath if the insert fails (§2.1).
    /// `insert` writes the row and the `source.created` webhook event it is given in one transaction; assets pass
    /// one that also writes the asset in it.
    public func create(_ input: NewSource, insert: (@Sendable (MediaSource, ServiceEvent) async throws -> Void)? = nil) async throws -> MediaSource {
        let now = Self.now()
        let node = try await nodes.place(named: input.node, labels: input.labels)
        let mediamtx = nodes.client(node)
        var source = MediaSource(
            id: makeID(), name: input.name, pathName: "", kind: input.kind, url: input.url,
            protocol: input.protocol, enabled: input.enabled, recordEnabled: input.recordEnabled, createdAt: now, updatedAt: now,
            node: node.name
        )
        source.pathName = PathName.make(name: source.name, id: source.id)
        // The 8-hex suffix makes a clash rare; if the catalogue has it anyway, draw another id.
        var attempts = 0
        while try await database.sourceExists(pathName: source.pathName), attempts < 8 {
            source.id = makeID()
            source.pathName = PathName.make(name: source.name, id: source.id)
            attempts += 1
        }
        if source.enabled {
            try await mediamtx.addPath(source.pathName, pathConf(for: source))
        }
        let created = ServiceEvent(
            type: "source.created", source: source,
            data: [
                "type": .string(source.kind.rawValue), "url": .optional(source.url.map(Redaction.url)), "enabled": .bool(source.enabled),
                "record_enabled": .bool(source.recordEnabled), "node": .string(source.node),
            ])
        do {
            if let insert { try await insert(source, created) } else { try await database.insertSource(source, announcing: [created]) }
        } catch {
            logger.error("insert of source failed; removing its MediaMTX path", metadata: ["path": "\(source.pathName)", "error": "\(error)"])
            if source.enabled { await compensate("deletePath \(source.pathName)") { try await mediamtx.deletePath(source.pathName) } }
            throw error
        }
        logger.info("source created", metadata: ["id": "\(source.id)", "path": "\(source.pathName)", "node": "\(source.node)"])
        return source
    }

    // MARK: - Read

    public func get(_ id: UUID) async throws -> MediaSource {
        guard let source = try await database.source(id: id) else { throw ServiceError.notFound(.source) }
        return source
    }

    public func list(_ query: SourceQuery) async throws -> Page<MediaSource> {
        try await database.sources(query)
    }

    /// Indexed live state of many sources: two catalogue queries, no MediaMTX call.
    public func indexedStates(of sources: [MediaSource]) async throws -> [String: PathState] {
        try await database.pathStates(sources.map(\.pathName))
    }

    /// The runtime path, or nil when MediaMTX has no such path (e.g. a disabled source): not live, not an error.
    public func status(of source: MediaSource) async throws -> Path? {
        do {
            return try await nodes.client(for: source).getPath(source.pathName)
        } catch MediaMTXError.notFound {
            return nil
        }
    }

    public func isReady(_ source: MediaSource) async throws -> Bool {
        try await nodes.client(for: source).isPathReady(source.pathName)
    }

    /// The hook events of a source's path, newest first; `before` pages back.
    public func history(of source: MediaSource, limit: Int, before: Date?) async throws -> [HistoryEvent] {
        try await database.history(path: source.pathName, limit: limit, before: before?.micros)
    }

    /// The publish keys of the push sources among `sources`.
    public func publishKeys(of sources: [MediaSource]) async throws -> [UUID: String] {
        try await database.publishKeys(sourceIDs: sources.filter { $0.kind == .push }.map(\.id))
    }

    /// A new publish key for a push source: the old one stops working at once (MediaMTX asks us on every publish).
    public func rotatePublishKey(of source: MediaSource) async throws -> String {
        guard source.kind == .push else { throw ServiceError(.notAPushSource, .notAPushSource) }
        return try await database.rotatePublishKey(sourceID: source.id)
    }

    // MARK: - Update

    public struct Changes: Sendable {
        var name: String?
        var url: String?
        var `protocol`: String?
        var enabled: Bool?
        var recordEnabled: Bool?
    }

    /// Applies `changes`: MediaMTX first (PatchPath, or Add/Delete when `enabled` flips), then the row;
    /// if the row update fails, MediaMTX's previous state is restored.
    public func update(_ id: UUID, _ changes: Changes) async throws -> MediaSource {
        let old = try await get(id)
        var new = old
        if let name = changes.name { new.name = name }
        if let url = changes.url {
            guard old.kind == .pull else { throw ServiceError.invalid("url", .pushTakesNoURL) }
            new.url = url
            new.protocol = changes.protocol ?? StreamProtocol.derive(fromURL: url)
        } else if let proto = changes.protocol {
            new.protocol = proto
        }
        if let enabled = changes.enabled { new.enabled = enabled }
        if let record = changes.recordEnabled { new.recordEnabled = record }
        guard new != old else { return old }
        new.updatedAt = Self.now()

        let undo = try await applyToMediaMTX(from: old, to: new)
        do {
            try await database.updateSource(new)
        } catch {
            logger.error("update of source failed; restoring MediaMTX", metadata: ["path": "\(old.pathName)", "error": "\(error)"])
            await undo()
            throw error
        }
        return new
    }

    /// Re-asserts an enabled source's path in MediaMTX (adds it back if MediaMTX lost it).
    public func enable(_ id: UUID) async throws -> MediaSource {
        let source = try await get(id)
        if source.enabled {
            try await ensurePath(source)
            return source
        }
        return try await update(id, Changes(enabled: true))
    }

    public func disable(_ id: UUID) async throws -> MediaSource {
        try await update(id, Changes(enabled: false))
    }

    public func setRecording(_ id: UUID, _ on: Bool) async throws -> MediaSource {
        try await update(id, Changes(recordEnabled: on))
    }

    // MARK: - Delete

    /// DeletePath, then the row (§2.1). A path MediaMTX already lost is not an error.
    public func delete(_ id: UUID) async throws {
        let source = try await get(id)
        try await checkDeletable(source)
        if source.enabled { try await deletePathIfPresent(source) }
        do {
            let deleted = ServiceEvent(type: "source.deleted", source: source, data: [:])
            guard try await database.deleteSource(id: id, announcing: [deleted]) else { throw ServiceError.notFound(.source) }
        } catch CatalogError.sourceHasAssets {
            // An asset was linked between the check and the delete.
            if source.enabled { await compensate("re-add \(source.pathName)") { try await ensurePath(source) } }
            let users = try await database.assetsUsing(sourceID: id, limit: 5)
            throw ServiceError(.sourceHasAssets, .sourceHasAssets(count: users.count, names: users.first.map(\.name)))
        } catch {
            if source.enabled { await compensate("re-add \(source.pathName)") { try await ensurePath(source) } }
            throw error
        }
        logger.info("source deleted", metadata: ["id": "\(id)", "path": "\(source.pathName)"])
    }

    /// A source that stream assets point at can't be deleted (§2.1, §3.3): 409, nothing changed.
    func checkDeletable(_ source: MediaSource) async throws {
        let users = try await database.assetsUsing(sourceID: source.id, limit: 5)
        guard users.count > 0 else { return }
        throw ServiceError(.sourceHasAssets, .sourceHasAssets(count: users.count, names: users.first.map(\.name)))
    }

    // MARK: - MediaMTX

    /// The path configuration a source asks of MediaMTX (§2.4: recording settings from config).
    func pathConf(for source: MediaSource) -> PathConf {
        var conf = PathConf(source: source.kind == .push ? "publisher" : source.url, record: source.recordEnabled)
        if source.recordEnabled { applyRecordSettings(&conf) }
        return conf
    }

    func applyRecordSettings(_ conf: inout PathConf) {
        conf.recordPath = settings.recordPath
        conf.recordFormat = settings.recordFormat
        conf.recordSegmentDuration = settings.segmentDuration
    }

    /// Makes MediaMTX match `new` (on the source's node); returns how to put back `old`.
    private func applyToMediaMTX(from old: MediaSource, to new: MediaSource) async throws -> @Sendable () async -> Void {
        let mediamtx = try await nodes.client(for: new)
        switch (old.enabled, new.enabled) {
        case (false, false):
            return {}
        case (true, false):
            try await deletePathIfPresent(old)
            return { await compensate("re-add \(old.pathName)") { try await ensurePath(old) } }
        case (false, true):
            try await ensurePath(new)
            return { await compensate("deletePath \(new.pathName)") { try await mediamtx.deletePath(new.pathName) } }
        case (true, true):
            var patch = PathConf()
            if new.url != old.url { patch.source = new.url }
            if new.recordEnabled != old.recordEnabled {
                patch.record = new.recordEnabled
                if new.recordEnabled { applyRecordSettings(&patch) }
            }
            guard patch != PathConf() else { return {} }
            let previous: PathConf
            do {
                previous = try await mediamtx.getPathConfig(new.pathName)
            } catch MediaMTXError.notFound {
                // MediaMTX lost the path (it keeps API-added paths in memory only): add it back whole.
                try await ensurePath(new)
                return { await compensate("deletePath \(new.pathName)") { try await mediamtx.deletePath(new.pathName) } }
            }
            try await mediamtx.patchPath(new.pathName, patch)
            let restore = Self.restoring(patch, from: previous)
            return { await compensate("restore \(new.pathName)") { try await mediamtx.patchPath(new.pathName, restore) } }
        }
    }

    /// The fields set in `patch`, with the values `previous` had.
    static func restoring(_ patch: PathConf, from previous: PathConf) -> PathConf {
        var out = PathConf()
        if patch.source != nil { out.source = previous.source }
        if patch.record != nil { out.record = previous.record }
        if patch.recordPath != nil { out.recordPath = previous.recordPath }
        if patch.recordFormat != nil { out.recordFormat = previous.recordFormat }
        if patch.recordSegmentDuration != nil { out.recordSegmentDuration = previous.recordSegmentDuration }
        return out
    }

    /// AddPath on the source's node (or `client`); if MediaMTX already has the path, overwrite it with the source's
    /// configuration.
    func ensurePath(_ source: MediaSource, on client: MediaMTXClient? = nil) async throws {
        let mediamtx = if let client { client } else { try await nodes.client(for: source) }
        do {
            try await mediamtx.addPath(source.pathName, pathConf(for: source))
        } catch MediaMTXError.conflict {
            try await mediamtx.replacePath(source.pathName, pathConf(for: source))
        }
    }

    func deletePathIfPresent(_ source: MediaSource, on client: MediaMTXClient? = nil) async throws {
        let mediamtx = if let client { client } else { try await nodes.client(for: source) }
        do {
            try await mediamtx.deletePath(source.pathName)
        } catch MediaMTXError.notFound {
            logger.notice("MediaMTX had no path to delete", metadata: ["path": "\(source.pathName)", "node": "\(source.node)"])
        }
    }

    func compensate(_ what: String, _ action: () async throws -> Void) async {
        do {
            try await action()
        } catch {
            logger.error("rollback failed: \(what)", metadata: ["error": "\(error)"])
        }
    }

    /// Millisecond precision, as stored, so a source reads back exactly as it was returned.
    static func now() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}

extension SourcesService.Changes {
    init(enabled: Bool? = nil, recordEnabled: Bool? = nil) {
        self.init(name: nil, url: nil, protocol: nil, enabled: enabled, recordEnabled: recordEnabled)
    }
}
