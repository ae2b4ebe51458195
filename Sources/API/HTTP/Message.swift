/// Every message the API can show a person, in English and Chinese.
public enum Message: Sendable, Equatable {
    public enum Thing: Sendable, Equatable {
        case source
        case asset
        case user
        case webhook
        case delivery
        case node

        func text(_ language: Language) -> String {
            switch (self, language) {
            case (.source, .en): return "media source"
            case (.source, .zh): return "媒体源"
            case (.asset, .en): return "asset"
            case (.asset, .zh): return "资产"
            case (.user, .en): return "user"
            case (.user, .zh): return "用户"
            case (.webhook, .en): return "webhook subscription"
            case (.webhook, .zh): return "Webhook 订阅"
            case (.delivery, .en): return "webhook delivery"
            case (.delivery, .zh): return "Webhook 投递记录"
            case (.node, .en): return "MediaMTX node"
            case (.node, .zh): return "MediaMTX 节点"
            }
        }
    }

    case missingField(String)
    case unknownField(String)
    case wrongType(String, expected: String)
    case invalidJSON(String)
    case invalidRequest(String)
    case notOneOf(String, [String])
    case tooLong(String, max: Int)
    case mustNotBeEmpty(String)
    case givenMoreThanOnce(String)
    case containsNUL(String)
    case unsupportedURL(String)
    case pushTakesNoURL
    case typeIsFixed
    case notAnInteger(String, min: Int, max: Int)
    case notABoolean(String)
    case notATime(String)
    case notPositiveSeconds(String)
    case tooManySeconds(String, max: Int)
    case notAfter(String, String)
    case notFound(Thing)
    case routeNotFound
    case bodyTooLarge
    case internalError
    case mediamtxUnavailable(String)
    case databaseUnavailable
    case mediamtxRejected(String)
    case pathConflict(String)
    case sourceHasAssets(count: Int, names: [String])
    case streamURLOrSourceID
    case notAStreamAsset(String)
    case notALiveStream
    case fieldIsFixed(String)
    case noRecording
    case relinkOnlyLive
    case hookTokenRequired
    case tooMany(String, max: Int)
    case segmentOutsideRoot(String)
    case notASegmentName(String)
    case noSegmentAt
    case loginRequired
    case tokenInvalid
    case roleForbidden(required: String)
    case badCredentials
    case tooManyLogins(retryAfter: Int)
    case userExists(String)
    case notAPushSource
    case lastAdmin
    case tooShort(String, min: Int)
    case notAUserName(String)
    case notAWebhookURL(String)
    case blockedAddress(String, address: String)
    case hostNotFound(String, host: String)
    case unknownSource(String)
    case localURL(String, reason: String)
    case inTheFuture(String, maxSkew: Int)
    case segmentOfAnotherPath(path: String)
    case controlCharacters(String)
    case invalidPath
    case pathIsNotTheSources(String)
    case noMappedRole(String)
    case methodNotAllowed([String])
    case mustNotBeNull(String)
    case externalLogout
    case pathWithStreamURL
    case unknownNode(String)
    case noNodeAvailable
    case noNodeWithLabels
    case nodeHasSources(Int)
    case nodeExists(String)
    case notANodeName(String)
    case alreadyOnNode(String)
    case notALabel(String)

    public func text(_ language: Language) -> String {
        switch language {
        case .en: return english
        case .zh: return chinese
        }
    }

    var english: String {
        switch self {
        case .missingField(let f): return "The field \(f) is required."
        case .unknownField(let f): return "Unknown field \(f)."
        case .wrongType(let f, let expected): return "The field \(f) must be \(expected)."
        case .invalidJSON(let detail): return "The request body is not valid JSON: \(detail)."
        case .invalidRequest(let detail): return "Invalid request: \(detail)."
        case .notOneOf(let f, let values): return "\(f) must be one of: \(values.joined(separator: ", "))."
        case .tooLong(let f, let max): return "\(f) is longer than \(max) characters."
        case .mustNotBeEmpty(let f): return "\(f) must not be empty."
        case .givenMoreThanOnce(let f): return "\(f) must be given at most once."
        case .containsNUL(let f): return "\(f) must not contain a NUL character."
        case .unsupportedURL(let url):
            return
                "MediaMTX cannot pull from \"\(url)\": use an rtsp, rtsps, rtmp, rtmps, http(s) (HLS), srt, whep/wheps, udp+mpegts, udp+rtp or moqt URL."
        case .pushTakesNoURL: return "A push source takes no url: encoders publish to its push_url."
        case .typeIsFixed: return "The type of a source cannot be changed; create a new source instead."
        case .notAnInteger(let f, let min, let max): return "\(f) must be a whole number from \(min) to \(max)."
        case .notABoolean(let f): return "\(f) must be true or false."
        case .notATime(let f): return "\(f) must be an RFC 3339 time (2026-01-02T15:04:05Z) or unix seconds."
        case .notPositiveSeconds(let f): return "\(f) must be a number of seconds greater than 0."
        case .tooManySeconds(let f, let max): return "\(f) must be at most \(max) seconds."
        case .notAfter(let f, let other): return "\(f) must be after \(other)."
        case .notFound(let thing): return "The \(thing.text(.en)) does not exist."
        case .routeNotFound: return "No such endpoint."
        case .bodyTooLarge: return "The request body is larger than 1 MiB."
        case .internalError: return "Internal error; the server log has the details."
        case .mediamtxUnavailable(let detail): return "The streaming server (MediaMTX) is unavailable right now (\(detail)). Try again later."
        case .databaseUnavailable: return "The database is unavailable right now. Try again in a few seconds."
        case .mediamtxRejected(let detail): return "The streaming server (MediaMTX) refused the request: \(detail)"
        case .pathConflict(let path): return "The path \(path) already exists in MediaMTX. Please retry."
        case .sourceHasAssets(let count, let names):
            let list = names.joined(separator: ", ") + (count > names.count ? ", …" : "")
            return
                "\(count) stream asset(s) use this media source (\(list)). Delete them, or relink them to another source with PUT /api/v1/assets/{id} and a new source_id, then delete the source."
        case .streamURLOrSourceID: return "Give exactly one of stream_url (a new stream) or source_id (an existing media source)."
        case .notAStreamAsset(let type): return "This asset is of type \(type), not a stream asset: it has no stream."
        case .notALiveStream: return "This asset is a recorded clip (vod), not a live stream: use its playback_url."
        case .fieldIsFixed(let f): return "\(f) cannot be changed."
        case .noRecording: return "Nothing was recorded in that time range."
        case .relinkOnlyLive: return "Only live stream assets can be relinked to another source."
        case .hookTokenRequired: return "A valid hook token is required (Authorization: Bearer …, the companion's hooks.token)."
        case .loginRequired: return "Sign in first: send Authorization: Bearer <access_token> from POST /api/v1/auth/login."
        case .tokenInvalid: return "The access token is invalid or has expired; sign in again."
        case .roleForbidden(let required): return "Your role may not do this; it needs the \(required) role."
        case .badCredentials: return "Wrong user name or password."
        case .tooManyLogins(let seconds): return "Too many failed sign-ins; try again in \(seconds) s."
        case .userExists(let name): return "A user named \"\(name)\" already exists."
        case .notAPushSource: return "Only push sources have a publish key."
        case .lastAdmin: return "This is the last admin; make another admin first."
        case .tooShort(let f, let min): return "\(f) must be at least \(min) characters."
        case .notAUserName(let f): return "\(f) must be 1 to 64 letters, digits, '.', '_', '-' or '@'."
        case .notAWebhookURL(let f): return "\(f) must be an http:// or https:// URL with a host, without user name or password."
        case .blockedAddress(let f, let address):
            return "\(f) points at \(address), a loopback, private, link-local, unspecified or multicast address; webhooks may not go there."
        case .hostNotFound(let f, let host): return "The host \(host) in \(f) could not be resolved."
        case .unknownSource(let f): return "\(f) names a media source that does not exist."
        case .tooMany(let f, let max): return "At most \(max) \(f) per request."
        case .localURL(let f, let reason):
            return "\(f) points at \(reason), which MediaMTX would reach on its own host; set sources.allow_local_urls to allow it."
        case .inTheFuture(let f, let skew): return "\(f) is more than \(skew) s in the future: check the clock of MediaMTX's host."
        case .segmentOfAnotherPath(let path): return "The segment file lies in the recordings of another path, not of \(path)."
        case .controlCharacters(let f): return "\(f) must not contain control characters."
        case .mustNotBeNull(let f): return "\(f) must not be null: leave it out to keep it as it is."
        case .methodNotAllowed(let methods): return "This endpoint does not take this method; it takes \(methods.joined(separator: ", "))."
        case .noMappedRole(let claim):
            return "The token is valid, but none of the values of its \(claim) claim is mapped to a role (auth.external.roles)."
        case .externalLogout: return "Tokens of the external identity provider end there: log out at the provider."
        case .pathIsNotTheSources(let expected): return "path must be the source's path_name (\(expected)), or be left out."
        case .pathWithStreamURL: return "path cannot be given with stream_url: the new source's path_name is made by the server."
        case .invalidPath: return "No route has this path: it is not canonical (an empty, . or .. segment)."
        case .segmentOutsideRoot(let root): return "The segment file is not under the record root \(root) (or its path has ..)."
        case .notASegmentName(let pattern): return "The segment file name does not follow record_path \(pattern) with .mp4 or .ts."
        case .noSegmentAt: return "No recording covers that time."
        case .unknownNode(let name): return "There is no MediaMTX node named \"\(name)\" (GET /api/v1/nodes lists them)."
        case .noNodeAvailable:
            return "No MediaMTX node can take the source: every matching node is full (max_paths), draining or down."
        case .noNodeWithLabels: return "No MediaMTX node carries all of these labels (GET /api/v1/nodes lists each node's labels)."
        case .nodeHasSources(let n): return "\(n) media source(s) are placed on this node: move them to another node first."
        case .nodeExists(let name): return "A node named \"\(name)\" already exists."
        case .notANodeName(let f): return "\(f) must be 1 to 63 of a-z, 0-9, '-' and '_', starting with a letter or digit."
        case .alreadyOnNode(let name): return "The source is already on node \(name)."
        case .notALabel(let f): return "\(f) must map names to values of 1 to 63 of a-z, 0-9, '.', '-' and '_'."
        }
    }

    var chinese: String {
        switch self {
        case .missingField(let f): return "缺少必填字段 \(f)。"
        case .unknownField(let f): return "未知字段 \(f)。"
        case .wrongType(let f, let expected): return "字段 \(f) 的类型应为 \(expected)。"
        case .invalidJSON(let detail): return "请求体不是合法的 JSON：\(detail)。"
        case .invalidRequest(let detail): return "请求无效：\(detail)。"
        case .notOneOf(let f, let values): return "\(f) 只能是以下之一：\(values.joined(separator: ", "))。"
        case .tooLong(let f, let max): return "\(f) 超过 \(max) 个字符。"
        case .mustNotBeEmpty(let f): return "\(f) 不能为空。"
        case .givenMoreThanOnce(let f): return "\(f) 只能给出一次。"
        case .containsNUL(let f): return "\(f) 不能包含 NUL 字符。"
        case .unsupportedURL(let url):
            return "MediaMTX 无法从“\(url)”拉流：请使用 rtsp、rtsps、rtmp、rtmps、http(s)（HLS）、srt、whep/wheps、udp+mpegts、udp+rtp 或 moqt 地址。"
        case .pushTakesNoURL: return "推流类型的媒体源不需要 url：编码器向其 push_url 推流。"
        case .typeIsFixed: return "媒体源的类型不能修改，请新建媒体源。"
        case .notAnInteger(let f, let min, let max): return "\(f) 必须是 \(min) 到 \(max) 之间的整数。"
        case .notABoolean(let f): return "\(f) 只能是 true 或 false。"
        case .notATime(let f): return "\(f) 必须是 RFC 3339 时间（如 2026-01-02T15:04:05Z）或 Unix 秒数。"
        case .notPositiveSeconds(let f): return "\(f) 必须是大于 0 的秒数。"
        case .tooManySeconds(let f, let max): return "\(f) 不能超过 \(max) 秒。"
        case .notAfter(let f, let other): return "\(f) 必须晚于 \(other)。"
        case .notFound(let thing): return "\(thing.text(.zh))不存在。"
        case .routeNotFound: return "接口不存在。"
        case .bodyTooLarge: return "请求体超过 1 MiB。"
        case .internalError: return "服务器内部错误，详情见服务日志。"
        case .mediamtxUnavailable(let detail): return "流媒体服务暂不可用（\(detail)），请稍后重试。"
        case .databaseUnavailable: return "数据库暂时不可用，请稍后重试。"
        case .mediamtxRejected(let detail): return "流媒体服务（MediaMTX）拒绝了请求：\(detail)"
        case .pathConflict(let path): return "路径 \(path) 在 MediaMTX 中已存在，请重试。"
        case .sourceHasAssets(let count, let names):
            let list = names.joined(separator: "、") + (count > names.count ? "等" : "")
            return "存在 \(count) 个关联的流媒体资产（\(list)），请先删除或解除关联（PUT /api/v1/assets/{id} 改为其他 source_id）后再删除媒体源。"
        case .streamURLOrSourceID: return "stream_url（新建流）与 source_id（已有媒体源）必须且只能提供一个。"
        case .notAStreamAsset(let type): return "该资产类型为 \(type)，不是流媒体资产，没有流。"
        case .notALiveStream: return "该资产是录像片段（vod），不是直播流，请使用其 playback_url。"
        case .fieldIsFixed(let f): return "\(f) 不能修改。"
        case .noRecording: return "该时间段没有录像。"
        case .relinkOnlyLive: return "只有直播类型的流媒体资产可以改为关联其他媒体源。"
        case .hookTokenRequired: return "需要有效的钩子令牌（Authorization: Bearer …，即 hooks.token）。"
        case .loginRequired: return "请先登录：携带 POST /api/v1/auth/login 返回的 Authorization: Bearer <access_token>。"
        case .tokenInvalid: return "访问令牌无效或已过期，请重新登录。"
        case .roleForbidden(let required): return "当前角色无权执行此操作，需要 \(required) 角色。"
        case .badCredentials: return "用户名或密码错误。"
        case .tooManyLogins(let seconds): return "登录失败次数过多，请 \(seconds) 秒后再试。"
        case .userExists(let name): return "用户“\(name)”已存在。"
        case .notAPushSource: return "只有推流（push）类型的媒体源才有推流密钥。"
        case .lastAdmin: return "这是最后一个管理员，请先设置另一个管理员。"
        case .tooShort(let f, let min): return "\(f) 至少需要 \(min) 个字符。"
        case .notAUserName(let f): return "\(f) 只能是 1 到 64 个字母、数字或 '.'、'_'、'-'、'@'。"
        case .notAWebhookURL(let f): return "\(f) 必须是带主机名的 http:// 或 https:// 地址，且不含用户名和密码。"
        case .blockedAddress(let f, let address): return "\(f) 指向 \(address)，这是回环、私有、链路本地、未指定或组播地址，Webhook 不能发往该地址。"
        case .hostNotFound(let f, let host): return "无法解析 \(f) 中的主机名 \(host)。"
        case .unknownSource(let f): return "\(f) 中的媒体源不存在。"
        case .tooMany(let f, let max): return "每个请求最多 \(max) 个 \(f)。"
        case .localURL(let f, let reason): return "\(f) 指向\(reason)，MediaMTX 会在它自己的主机上访问它；如需允许，请设置 sources.allow_local_urls。"
        case .inTheFuture(let f, let skew): return "\(f) 比当前时间晚了 \(skew) 秒以上：请检查 MediaMTX 所在主机的时钟。"
        case .segmentOfAnotherPath(let path): return "录像段文件位于其他路径的录像目录中，而不是 \(path) 的。"
        case .controlCharacters(let f): return "\(f) 不能包含控制字符。"
        case .mustNotBeNull(let f): return "\(f) 不能为 null：如需保持不变，请不要提供该字段。"
        case .methodNotAllowed(let methods): return "此接口不支持该请求方法；支持：\(methods.joined(separator: "、"))。"
        case .noMappedRole(let claim): return "令牌有效，但其 \(claim) 声明中没有任何值映射到角色（auth.external.roles）。"
        case .externalLogout: return "外部身份提供方的令牌只能在提供方处结束：请在提供方处退出登录。"
        case .pathIsNotTheSources(let expected): return "path 必须是该媒体源的 path_name（\(expected)），或不填。"
        case .pathWithStreamURL: return "提供 stream_url 时不能提供 path：新媒体源的 path_name 由服务器生成。"
        case .invalidPath: return "没有与此路径对应的路由：路径不规范（含空段、. 或 .. 段）。"
        case .segmentOutsideRoot(let root): return "录像段文件不在录像根目录 \(root) 之下（或路径含 ..）。"
        case .notASegmentName(let pattern): return "录像段文件名不符合 record_path \(pattern)（扩展名 .mp4 或 .ts）。"
        case .noSegmentAt: return "该时间点没有录像。"
        case .unknownNode(let name): return "不存在名为“\(name)”的 MediaMTX 节点（GET /api/v1/nodes 可列出节点）。"
        case .noNodeAvailable: return "没有可以承载该媒体源的 MediaMTX 节点：符合条件的节点已满（max_paths）、正在排空或已离线。"
        case .noNodeWithLabels: return "没有同时带有这些标签的 MediaMTX 节点（GET /api/v1/nodes 可查看各节点的标签）。"
        case .nodeHasSources(let n): return "该节点上有 \(n) 个媒体源，请先把它们迁移到其他节点。"
        case .nodeExists(let name): return "名为“\(name)”的节点已存在。"
        case .notANodeName(let f): return "\(f) 只能是 1 到 63 个 a-z、0-9、'-'、'_'，并以字母或数字开头。"
        case .alreadyOnNode(let name): return "该媒体源已在节点 \(name) 上。"
        case .notALabel(let f): return "\(f) 必须是名称到取值的映射，名称和取值均为 1 到 63 个 a-z、0-9、'.'、'-'、'_'。"
        }
    }
}
