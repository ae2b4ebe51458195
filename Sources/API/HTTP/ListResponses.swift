import Hummingbird

/// A page of a list: `{items, total, page, page_size}`.
struct PageResponse<Item: Encodable & Sendable>: ResponseEncodable {
    var items: [Item]
    var total: Int
    var page: Int
    var pageSize: Int

    enum CodingKeys: String, CodingKey {
        case items, total, page
        case pageSize = "page_size"
    }
}

struct ItemsResponse<Item: Encodable & Sendable>: ResponseEncodable {
    var pathName: String
    var items: [Item]

    enum CodingKeys: String, CodingKey {
        case items
        case pathName = "path_name"
    }
}

/// `{"items": [...]}`: a short list that needs no paging.
struct ItemsOnlyResponse<Item: Encodable & Sendable>: ResponseEncodable {
    var items: [Item]
}
