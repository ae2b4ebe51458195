/// One hook event as `mtx-hook` sends it (and as the index stores it): snake_case keys, every one optional.
struct HookWireEvent: Codable {
    var event_id: String?
    var type: String?
    var occurred_at: String?
    var node: String?
    var path: String?
    var query: String?
    var source_type: String?
    var source_id: String?
    var reader_type: String?
    var reader_id: String?
    var segment_path: String?
    var segment_duration: Double?
    var segment_size: Int64?
}
