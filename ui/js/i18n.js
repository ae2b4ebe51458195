// The UI's words in English and Chinese; the language follows the browser until the user picks one.
const words = {
  en: {
    "nav.sources": "Sources", "nav.assets": "Assets", language: "Language", logout: "Log out",
    "login.title": "Sign in", "login.username": "User name", "login.password": "Password", "login.submit": "Sign in",
    "sources.title": "Media sources", "sources.new": "New source", "sources.search": "Search by name",
    "col.name": "Name", "col.type": "Type", "col.path": "Path", "col.protocol": "Protocol", "col.live": "Live",
    "col.readers": "Readers", "col.recording": "Recording", "col.enabled": "Enabled", "col.tags": "Tags",
    "filter.all": "All types", yes: "yes", no: "no", rec: "REC", live: "live", offline: "offline",
    "new.title": "New media source", "new.name": "Name", "new.type": "Type", "new.url": "Stream URL (rtsp://, rtmp://, http(s)://, srt://…)",
    "new.record": "Record", "new.create": "Create", "type.pull": "pull (MediaMTX pulls a camera or URL)", "type.push": "push (an encoder such as OBS publishes)",
    "push.title": "Publish to this source", "push.url": "Push URL", "push.server": "OBS → Server", "push.key": "OBS → Stream key", copy: "Copy", copied: "Copied",
    "detail.status": "Status", "detail.preview": "Preview", "detail.player": "Open MediaMTX's player",
    "detail.record.start": "Start recording", "detail.record.stop": "Stop recording", "detail.enable": "Enable", "detail.disable": "Disable",
    "detail.delete": "Delete", "detail.confirmDelete": "Delete this source and its MediaMTX path?", "detail.segments": "Recorded segments",
    "col.start": "Start", "col.duration": "Duration (s)", "col.size": "Size", "col.state": "State", "state.recording": "recording", "state.complete": "complete",
    "assets.title": "Stream assets", "assets.tag": "Filter by tag", "assets.fromURL": "New stream from a URL", "assets.fromSource": "From an existing source",
    "assets.source": "Source", "assets.tags": "Tags (comma-separated)", "assets.create": "Create asset", "loading": "Loading…", empty: "Nothing here yet.",
    prev: "Previous", next: "Next",
    "timeline.title": "Recordings", "timeline.day": "Day (UTC)", "timeline.hint": "Click a moment on the timeline, or type a time, to play it", "timeline.sessions": "sessions",
    "timeline.time": "Time (UTC)", "timeline.play": "Play", "detail.tracks": "Tracks", pages: "Pages",
    "preview.start": "Play live (WebRTC)", "preview.stop": "Stop live", "preview.connecting": "Connecting…", "preview.failed": "The live preview could not start",
    "events.title": "Event history", "events.older": "Older events", "col.time": "Time (UTC)", "col.event": "Event", "col.detail": "Details",
    "event.available": "stream available", "event.unavailable": "stream unavailable", "event.online": "online", "event.offline": "offline",
    "event.read": "reader joined", "event.unread": "reader left", "event.segment-create": "segment started", "event.segment-complete": "segment complete",
    "clip.title": "Create a clip", "clip.hint": "Click the timeline to start the clip there, or play a recording and mark its start and end.",
    "clip.start": "Start (UTC, on the chosen day)", "clip.duration": "Duration (s)", "clip.markStart": "Start at player position", "clip.markEnd": "End at player position",
    "clip.create": "Create clip", "clip.created": "Clip created:",
    "asset.source": "Its media source", "asset.delete": "Delete asset", "asset.confirmDelete": "Delete this asset? Its media source and recordings stay.", "asset.clip": "Clip",
    "nav.users": "Users", "nav.audit": "Audit", "users.title": "Users", "users.add": "Add user", "users.role": "Role", "users.newPassword": "New password",
    "users.setPassword": "Change password", "users.remove": "Remove", "users.confirmRemove": "Remove the user", "users.saved": "Password changed",
    "col.user": "User", "col.created": "Created (UTC)", "col.actions": "Actions", "col.action": "Action", "col.outcome": "Outcome", "col.status": "HTTP", "col.ip": "Address",
    "role.admin": "admin", "role.operator": "operator", "role.viewer": "viewer",
    "audit.title": "Audit log", "audit.target": "Target", "audit.from": "From (UTC)", "audit.to": "To (UTC)", "audit.filter": "Filter",
    "audit.anyAction": "Any action", "audit.anyOutcome": "Any outcome", "outcome.ok": "ok", "outcome.denied": "denied", "outcome.failed": "failed",

    "nav.nodes": "Nodes", "nodes.title": "MediaMTX nodes", "nodes.refresh": "Refresh", "col.node": "Node", "col.labels": "Labels",
    "nodes.reachable": "Reachable", "nodes.version": "Version", "nodes.started": "Started (UTC)", "nodes.sources": "Sources",
    "nodes.paths": "Paths / limit", "nodes.traffic": "Received / sent", "nodes.unlimited": "no limit", "nodes.notChecked": "not checked yet",
    "nodeState.active": "active", "nodeState.draining": "draining", "nodeState.down": "down", nodeDown: "node down",
    "nodes.drain": "Drain", "nodes.undrain": "Undrain", "nodes.delete": "Delete",
    "nodes.confirmDrain": "Take no new sources on this node and move its pull sources to other nodes (push sources stay)? Node:",
    "nodes.confirmDelete": "Delete the node", "drain.title": "Drain report", "drain.moved": "Moved", "drain.stayed": "Stayed",
    "drain.reason.push": "push source: move it yourself when its encoder can follow", "drain.reason.no_node_available": "no other active node with room",
    "drain.reason.move_failed": "the move failed and was undone (the server's log says why)",
    "nodes.add": "Add node", "nodes.api_address": "API address (as the companion reaches it)", "nodes.playback_address": "Playback address",
    "nodes.rtsp_address": "RTSP address", "nodes.rtmp_address": "RTMP address", "nodes.hls_address": "HLS address",
    "nodes.webrtc_address": "WebRTC address", "nodes.srt_address": "SRT address", "nodes.labelsField": "Labels (k=v, k=v)",
    "nodes.maxPaths": "Most sources (empty: no limit)", "nodes.added": "Node added", "nodes.tokenOnce": "Its auth token, shown only this once:",
    "nodes.tokenHint": "It goes into that node's MediaMTX authHTTPAddress as ?node_token= (with the companion's address as that node reaches it):",
    "new.node": "Node", "new.autoNode": "automatic (least loaded)", "filter.allNodes": "All nodes",
    "move.title": "Move to node", "move.submit": "Move", "move.done": "Moved",
    "move.pushChanged": "The push URL changed: point the encoder at the new push URL below. Until then it publishes to the old node, which refuses it.",
  },
  zh: {
    "nav.sources": "媒体源", "nav.assets": "资产", language: "语言", logout: "退出登录",
    "login.title": "登录", "login.username": "用户名", "login.password": "密码", "login.submit": "登录",
    "sources.title": "媒体源", "sources.new": "新建媒体源", "sources.search": "按名称搜索",
    "col.name": "名称", "col.type": "类型", "col.path": "路径", "col.protocol": "协议", "col.live": "在线",
    "col.readers": "观看数", "col.recording": "录制", "col.enabled": "启用", "col.tags": "标签",
    "filter.all": "全部类型", yes: "是", no: "否", rec: "录制中", live: "在线", offline: "离线",
    "new.title": "新建媒体源", "new.name": "名称", "new.type": "类型", "new.url": "流地址（rtsp://、rtmp://、http(s)://、srt:// 等）",
    "new.record": "录制", "new.create": "创建", "type.pull": "拉流（MediaMTX 拉取摄像头或地址）", "type.push": "推流（OBS 等编码器推送）",
    "push.title": "向此媒体源推流", "push.url": "推流地址", "push.server": "OBS → 服务器", "push.key": "OBS → 串流密钥", copy: "复制", copied: "已复制",
    "detail.status": "状态", "detail.preview": "预览", "detail.player": "打开 MediaMTX 播放页",
    "detail.record.start": "开始录制", "detail.record.stop": "停止录制", "detail.enable": "启用", "detail.disable": "停用",
    "detail.delete": "删除", "detail.confirmDelete": "删除此媒体源及其 MediaMTX 路径？", "detail.segments": "录像分段",
    "col.start": "开始时间", "col.duration": "时长（秒）", "col.size": "大小", "col.state": "状态", "state.recording": "录制中", "state.complete": "已完成",
    "assets.title": "流媒体资产", "assets.tag": "按标签筛选", "assets.fromURL": "从流地址新建", "assets.fromSource": "从已有媒体源创建",
    "assets.source": "媒体源", "assets.tags": "标签（逗号分隔）", "assets.create": "创建资产", "loading": "加载中…", empty: "暂无内容。",
    prev: "上一页", next: "下一页",
    "timeline.title": "录像", "timeline.day": "日期（UTC）", "timeline.hint": "点击时间轴上的时间点或输入时间即可回放", "timeline.sessions": "段录像",
    "timeline.time": "时间（UTC）", "timeline.play": "播放", "detail.tracks": "轨道", pages: "分页",
    "preview.start": "实时播放（WebRTC）", "preview.stop": "停止实时播放", "preview.connecting": "连接中…", "preview.failed": "实时预览无法启动",
    "events.title": "事件记录", "events.older": "更早的事件", "col.time": "时间（UTC）", "col.event": "事件", "col.detail": "详情",
    "event.available": "流可用", "event.unavailable": "流不可用", "event.online": "上线", "event.offline": "下线",
    "event.read": "观看者加入", "event.unread": "观看者离开", "event.segment-create": "分段开始", "event.segment-complete": "分段完成",
    "clip.title": "创建剪辑", "clip.hint": "点击时间轴从该处开始剪辑，或回放录像并标记起点和终点。",
    "clip.start": "开始时间（UTC，所选日期）", "clip.duration": "时长（秒）", "clip.markStart": "以播放位置为起点", "clip.markEnd": "以播放位置为终点",
    "clip.create": "创建剪辑", "clip.created": "已创建剪辑：",
    "asset.source": "对应的媒体源", "asset.delete": "删除资产", "asset.confirmDelete": "删除此资产？其媒体源和录像会保留。", "asset.clip": "剪辑",
    "nav.users": "用户", "nav.audit": "审计", "users.title": "用户", "users.add": "添加用户", "users.role": "角色", "users.newPassword": "新密码",
    "users.setPassword": "修改密码", "users.remove": "删除", "users.confirmRemove": "删除用户", "users.saved": "密码已修改",
    "col.user": "用户", "col.created": "创建时间（UTC）", "col.actions": "操作", "col.action": "动作", "col.outcome": "结果", "col.status": "HTTP", "col.ip": "地址",
    "role.admin": "管理员", "role.operator": "操作员", "role.viewer": "查看者",
    "audit.title": "审计日志", "audit.target": "对象", "audit.from": "起始（UTC）", "audit.to": "截止（UTC）", "audit.filter": "筛选",
    "audit.anyAction": "全部动作", "audit.anyOutcome": "全部结果", "outcome.ok": "成功", "outcome.denied": "拒绝", "outcome.failed": "失败",

    "nav.nodes": "节点", "nodes.title": "MediaMTX 节点", "nodes.refresh": "刷新", "col.node": "节点", "col.labels": "标签",
    "nodes.reachable": "可达", "nodes.version": "版本", "nodes.started": "启动时间（UTC）", "nodes.sources": "媒体源",
    "nodes.paths": "路径数 / 上限", "nodes.traffic": "接收 / 发送", "nodes.unlimited": "不限", "nodes.notChecked": "尚未检查",
    "nodeState.active": "正常", "nodeState.draining": "排空中", "nodeState.down": "宕机", nodeDown: "节点宕机",
    "nodes.drain": "排空", "nodes.undrain": "取消排空", "nodes.delete": "删除",
    "nodes.confirmDrain": "此节点不再接收新的媒体源，并将其拉流媒体源迁移到其他节点（推流媒体源保留）？节点：",
    "nodes.confirmDelete": "删除节点", "drain.title": "排空报告", "drain.moved": "已迁移", "drain.stayed": "未迁移",
    "drain.reason.push": "推流媒体源：待编码器可以跟随时请手动迁移", "drain.reason.no_node_available": "没有其他有余量的正常节点",
    "drain.reason.move_failed": "迁移失败，已撤销（原因见服务器日志）",
    "nodes.add": "添加节点", "nodes.api_address": "API 地址（本服务访问它所用的地址）", "nodes.playback_address": "回放地址",
    "nodes.rtsp_address": "RTSP 地址", "nodes.rtmp_address": "RTMP 地址", "nodes.hls_address": "HLS 地址",
    "nodes.webrtc_address": "WebRTC 地址", "nodes.srt_address": "SRT 地址", "nodes.labelsField": "标签（k=v, k=v）",
    "nodes.maxPaths": "最多媒体源数（留空：不限）", "nodes.added": "已添加节点", "nodes.tokenOnce": "其认证令牌（仅显示这一次）：",
    "nodes.tokenHint": "请将它以 ?node_token= 的形式写入该节点 MediaMTX 的 authHTTPAddress（使用该节点访问本服务的地址）：",
    "new.node": "节点", "new.autoNode": "自动（负载最低的节点）", "filter.allNodes": "全部节点",
    "move.title": "迁移到节点", "move.submit": "迁移", "move.done": "已迁移",
    "move.pushChanged": "推流地址已变更：请将编码器改为推送到下面的新推流地址。在此之前它仍推向旧节点，旧节点会拒绝。",
  },
};

export let language = localStorage.getItem("language") || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");

export function t(key) {
  return (words[language] && words[language][key]) || words.en[key] || key;
}

export function setLanguage(value) {
  language = value === "zh" ? "zh" : "en";
  localStorage.setItem("language", language);
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
}

/** Fills every element with data-i18n under `root` with its words. */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}
