import Catalog
import Domain
import Foundation

/// What goes into the URLs the API hands out: publish keys in push URLs (for callers who may publish), and
/// short-lived media tokens in preview and playback URLs, which MediaMTX checks with us (`POST /api/v1/mediamtx/auth`).
struct StreamAccess: Sendable {
    let authenticator: Authenticator
    let sources: SourcesService

    /// Publish keys of the push sources among `sources`; none for viewers, who may not publish.
    func pushKeys(_ sources: [MediaSource], for identity: Identity?) async throws -> [UUID: String] {
        guard let identity, identity.role >= .operator else { return [:] }
        return try await self.sources.publishKeys(of: sources)
    }

    /// Camera credentials in pull URLs: operators and admins only. Operators may set a source's URL (and so could
    /// point it at a server of their own to catch the password), so hiding it from them would protect nothing.
    func mayReadCredentials(_ identity: Identity?) -> Bool {
        (identity?.role ?? .viewer) >= .operator
    }

    func pushKey(_ source: MediaSource, for identity: Identity?) async throws -> String? {
        try await pushKeys([source], for: identity)[source.id]
    }

    func readToken(_ path: String) async throws -> String {
        try await authenticator.mediaToken(path: path, action: "read")
    }

    func playbackToken(_ path: String) async throws -> String {
        try await authenticator.mediaToken(path: path, action: "playback")
    }

    /// `url` (a MediaMTX playback URL of `path`) with a playback token.
    func signedPlayback(_ url: String, path: String) async throws -> String {
        StreamURLs.adding("token", try await playbackToken(path), to: url)
    }
}
