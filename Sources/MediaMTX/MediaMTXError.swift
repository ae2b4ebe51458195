/// What went wrong talking to MediaMTX, in the terms the companion acts on.
public enum MediaMTXError: Error, Sendable, Equatable {
    /// Connection refused, timeout, or a 5xx: MediaMTX can't serve us now.
    case unavailable(String)
    /// AddPath of a name that already exists (MediaMTX answers 400 "path already exists").
    case conflict(String)
    /// MediaMTX's 404.
    case notFound(String)
    /// MediaMTX refused the request (a 400 other than a conflict), with its message.
    case rejected(status: Int, message: String)
    /// MediaMTX answered something we could not read.
    case badResponse(String)
}
