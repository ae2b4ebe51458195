import Foundation

/// Where a packaged install keeps the files the server reads (`/usr/share/mtx-companion`): the web UI and the OpenAPI
/// document. A relative `server.ui_directory` or `server.openapi_file` that does not exist from the working
/// directory (a unit starts in `/`) is looked up there instead.
public enum InstalledPaths {
    public static let share = "/usr/share/mtx-companion"
    /// The package's configuration: `config.production.yaml` and the secrets in `env`. `--env NAME` reads
    /// `configs/config.NAME.yaml` from the working directory, else `config.NAME.yaml` here.
    public static let configuration = "/etc/mtx-companion"

    /// `path` as given when it exists, is absolute or empty (the UI turned off); else the installed file of the same
    /// relative name when that exists; else `path` (the server then says what is missing).
    public static func resolve(_ path: String, share: String = share) -> String {
        let files = FileManager.default
        guard !path.isEmpty, !path.hasPrefix("/"), !files.fileExists(atPath: path) else { return path }
        let installed = share + "/" + path
        return files.fileExists(atPath: installed) ? installed : path
    }
}
