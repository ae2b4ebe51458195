// The operators' UI: hash routes, each page rendered from the API. No framework, no build step.
import { api, APIError, liveEvents, session } from "./api.js";
import { language, setLanguage, t, translate } from "./i18n.js";

const main = document.getElementById("main");
const errorBox = document.getElementById("error");
let live = null;
/** The signed-in user, asked for once per sign-in. */
let me = null;

/** Builds an element: h("td", {class: "x"}, "text", child). */
function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else if (value !== false && value != null) el.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child != null) el.append(child instanceof Node ? child : String(child));
  return el;
}

function showError(error) {
  errorBox.textContent = error instanceof APIError || error instanceof Error ? error.message : String(error);
  errorBox.hidden = false;
}

function clearError() { errorBox.hidden = true; }

/** Runs an action, showing the API's message if it fails. */
async function attempt(action) {
  clearError();
  try { return await action(); } catch (error) { showError(error); }
}

function copyButton(text) {
  const button = h("button", { type: "button", class: "secondary" }, t("copy"));
  button.addEventListener("click", async () => {
    await navigator.clipboard?.writeText(text).catch(() => {});
    button.textContent = t("copied");
  });
  return button;
}

// MARK: Pages

function loginPage() {
  const form = h("form", { id: "login-form" },
    h("h1", {}, t("login.title")),
    h("label", {}, t("login.username"), h("input", { name: "username", autocomplete: "username", required: true })),
    h("label", {}, t("login.password"), h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, t("login.submit")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const data = new FormData(form);
      const answer = await api("POST", "/auth/login", { username: data.get("username"), password: data.get("password") });
      session.token = answer.access_token;
      me = null;
      location.hash = "#/sources";
    });
  });
  return form;
}

async function sourcesPage(query) {
  const page = Number(query.get("page") || 1);
  const params = new URLSearchParams({ with_status: "true", page, page_size: 25 });
  if (query.get("q")) params.set("q", query.get("q"));
  if (query.get("type")) params.set("type", query.get("type"));
  const list = await api("GET", `/sources?${params}`);
  const search = h("input", { type: "search", id: "source-search", value: query.get("q") || "", "aria-label": t("sources.search"), placeholder: t("sources.search") });
  const type = h("select", { id: "source-type", "aria-label": t("col.type") },
    h("option", { value: "" }, t("filter.all")), h("option", { value: "pull", selected: query.get("type") === "pull" }, "pull"),
    h("option", { value: "push", selected: query.get("type") === "push" }, "push"));
  const apply = () => { location.hash = `#/sources?${new URLSearchParams({ q: search.value, type: type.value })}`; };
  search.addEventListener("change", apply);
  type.addEventListener("change", apply);

  const rows = list.items.map((s) => {
    const status = s.status || {};
    return h("tr", { "data-path": s.path_name, "data-id": s.id },
      h("td", {}, h("a", { href: `#/sources/${s.id}` }, s.name)),
      h("td", {}, s.type),
      h("td", { class: "optional" }, h("code", {}, s.path_name)),
      h("td", { class: "optional" }, s.protocol || ""),
      h("td", {}, h("span", { class: `dot ${status.ready ? "live" : ""}`, "data-live": status.ready ? "true" : "false", title: status.ready ? t("live") : t("offline") })),
      h("td", { class: "readers" }, String(status.readers ?? 0)),
      h("td", { class: "recording" }, s.record_enabled && status.ready ? h("span", { class: "rec" }, t("rec")) : ""),
      h("td", { class: "optional" }, s.enabled ? t("yes") : t("no")));
  });
  const table = h("table", { id: "sources" },
    h("thead", {}, h("tr", {}, ["col.name", "col.type", "col.path", "col.protocol", "col.live", "col.readers", "col.recording", "col.enabled"]
      .map((k, i) => h("th", { class: [2, 3, 7].includes(i) ? "optional" : null }, t(k))))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 8 }, t("empty")))));
  // Status, readers and recording change in place as the index reports them.
  live = liveEvents((type, event) => {
    const row = table.querySelector(`tr[data-path="${CSS.escape(event.path_name)}"]`);
    if (!row) return;
    const status = event.status || {};
    const dot = row.querySelector(".dot");
    dot.classList.toggle("live", !!status.ready);
    dot.dataset.live = status.ready ? "true" : "false";
    row.querySelector(".readers").textContent = String(status.readers ?? 0);
    // A segment being written means recording; it ends with the segment or the stream.
    if (type === "segment-create") row.querySelector(".recording").replaceChildren(h("span", { class: "rec" }, t("rec")));
    if (type === "segment-complete" || type === "unavailable") row.querySelector(".recording").replaceChildren("");
  });
  return h("section", {},
    h("div", { class: "row" }, h("h1", {}, t("sources.title")), h("a", { href: "#/sources/new", id: "new-source" }, t("sources.new"))),
    h("div", { class: "row" }, search, type), table, pager(list, page, (p) => `#/sources?${new URLSearchParams({ q: search.value, type: type.value, page: p })}`));
}

function pager(list, page, link) {
  const pages = Math.max(1, Math.ceil(list.total / list.page_size));
  return h("div", { class: "row" },
    page > 1 ? h("a", { href: link(page - 1) }, t("prev")) : null, `${page} / ${pages}`, page < pages ? h("a", { href: link(page + 1) }, t("next")) : null);
}

function pushPanel(pushURL) {
  // OBS wants the URL split at the last "/": server rtmp://host:1935/live, stream key NAME?key=KEY.
  const at = pushURL.lastIndexOf("/");
  const server = pushURL.slice(0, at);
  const key = pushURL.slice(at + 1);
  return h("div", { class: "panel", id: "push-panel" },
    h("h2", {}, t("push.title")),
    h("p", {}, t("push.url"), ": ", h("code", { class: "url", id: "push-url" }, pushURL), " ", copyButton(pushURL)),
    h("p", {}, t("push.server"), ": ", h("code", { class: "url", id: "obs-server" }, server), " ", copyButton(server)),
    h("p", {}, t("push.key"), ": ", h("code", { class: "url", id: "obs-key" }, key), " ", copyButton(key)));
}

function newSourcePage() {
  const url = h("input", { name: "url", id: "source-url", type: "url" });
  const urlLabel = h("label", {}, t("new.url"), url);
  const type = h("select", { name: "type", id: "source-kind" }, h("option", { value: "pull" }, t("type.pull")), h("option", { value: "push" }, t("type.push")));
  type.addEventListener("change", () => { urlLabel.hidden = type.value === "push"; });
  const form = h("form", { id: "new-source-form" },
    h("h1", {}, t("new.title")),
    h("label", {}, t("new.name"), h("input", { name: "name", id: "source-name", required: true, maxlength: 255 })),
    h("label", {}, t("new.type"), type), urlLabel,
    h("label", {}, h("span", {}, h("input", { type: "checkbox", name: "record_enabled" }), " ", t("new.record"))),
    h("button", { type: "submit" }, t("new.create")));
  const result = h("div", {});
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const data = new FormData(form);
      const body = { name: data.get("name"), type: data.get("type"), record_enabled: data.get("record_enabled") === "on" };
      if (body.type === "pull") body.url = data.get("url");
      const source = await api("POST", "/sources", body);
      form.reset();
      urlLabel.hidden = false;
      result.replaceChildren(source.push_url ? pushPanel(source.push_url) : "", h("p", {}, h("a", { href: `#/sources/${source.id}`, id: "created-source" }, source.name)));
    });
  });
  return h("section", {}, form, result);
}

async function sourceDetailPage(id) {
  const source = await api("GET", `/sources/${id}`);
  const [status, preview, segments] = await Promise.all([
    api("GET", `/sources/${id}/status`), api("GET", `/sources/${id}/preview`), api("GET", `/sources/${id}/record/files?page_size=50`),
  ]);
  const reload = () => route();
  const action = (label, method, path, cls) => h("button", { type: "button", class: cls, onclick: () => attempt(async () => { await api(method, path); reload(); }) }, t(label));
  const remove = h("button", { type: "button", class: "danger", id: "delete-source" }, t("detail.delete"));
  remove.addEventListener("click", () => attempt(async () => {
    if (!confirm(t("detail.confirmDelete"))) return;
    await api("DELETE", `/sources/${id}`);
    location.hash = "#/sources";
  }));
  return h("section", {},
    h("h1", {}, source.name), h("p", {}, h("code", {}, source.path_name)),
    source.push_url ? pushPanel(source.push_url) : null,
    h("div", { class: "grid" },
      h("div", { class: "panel", id: "status-panel" }, h("h2", {}, t("detail.status")),
        h("p", {}, h("span", { class: `dot ${status.ready ? "live" : ""}` }), " ", status.ready ? t("live") : t("offline")),
        h("p", {}, `${t("col.readers")}: ${status.readers ?? 0}`), h("p", {}, `${t("col.recording")}: ${source.record_enabled ? t("yes") : t("no")}`)),
      h("div", { class: "panel" }, h("h2", {}, t("detail.preview")),
        h("p", {}, h("a", { href: preview.webrtc_player_url, target: "_blank", rel: "noopener" }, t("detail.player"))),
        h("p", {}, "HLS: ", h("code", { class: "url" }, preview.hls_url)))),
    h("div", { class: "row" },
      source.record_enabled ? action("detail.record.stop", "POST", `/sources/${id}/record/stop`, "secondary") : action("detail.record.start", "POST", `/sources/${id}/record/start`),
      source.enabled ? action("detail.disable", "POST", `/sources/${id}/disable`, "secondary") : action("detail.enable", "POST", `/sources/${id}/enable`),
      remove),
    await timeline(id),
    h("h2", {}, t("detail.segments")),
    h("table", { id: "segments" },
      h("thead", {}, h("tr", {}, ["col.start", "col.duration", "col.size", "col.state"].map((k) => h("th", {}, t(k))))),
      h("tbody", {}, segments.items.length ? segments.items.map((s) => h("tr", {}, h("td", {}, s.start), h("td", {}, s.duration ?? ""), h("td", {}, s.size ?? ""), h("td", {}, s.state)))
        : h("tr", {}, h("td", { colspan: 4 }, t("empty"))))));
}

/** A day's recording sessions as bars on a 24 h axis (UTC); a click plays from that moment in the page. */
async function timeline(id, day = new Date().toISOString().slice(0, 10)) {
  const panel = h("div", { class: "panel", id: "timeline-panel" });
  const picker = h("input", { type: "date", id: "timeline-day", value: day, "aria-label": t("timeline.day") });
  const axis = h("div", { class: "axis", id: "timeline", role: "button", tabindex: "0", title: t("timeline.hint") });
  const video = h("video", { id: "player", controls: true, preload: "none" });
  const from = new Date(`${day}T00:00:00Z`);
  const sessions = await api("GET", `/sources/${id}/record/sessions?from=${from.toISOString()}&to=${new Date(from.getTime() + 86400000).toISOString()}`);
  for (const hour of [0, 6, 12, 18]) {
    const mark = h("span", { class: "hour" }, `${String(hour).padStart(2, "0")}:00`);
    mark.style.left = `${(hour / 24) * 100}%`;
    axis.append(mark);
  }
  for (const session of sessions.items) {
    const start = (new Date(session.start) - from) / 1000;
    const bar = h("span", { class: "session", title: `${session.start} · ${session.duration}s · ${session.segment_count}` });
    bar.style.left = `${Math.max(0, start / 864)}%`;
    bar.style.width = `${Math.max(0.15, session.duration / 864)}%`;
    axis.append(bar);
  }
  const play = (fraction) => attempt(async () => {
    const at = new Date(from.getTime() + fraction * 86400000);
    // A click on a bar beside its recorded part starts at the bar's start (the API's exact time: JavaScript dates
    // stop at milliseconds, recordings start on microseconds).
    const ends = (s) => new Date(new Date(s.start).getTime() + s.duration * 1000);
    const hit = sessions.items.find((s) => at > new Date(s.start) && at < ends(s));
    const near = sessions.items.find((s) => Math.abs(new Date(s.start) - at) < 86400000 / 200 || (at >= new Date(s.start) && at < ends(s)));
    const start = hit ? at.toISOString() : near ? near.start : at.toISOString();
    const answer = await api("GET", `/sources/${id}/playback?start=${encodeURIComponent(start)}&format=mp4`);
    video.src = answer.url;
    video.play().catch(() => {});
  });
  axis.addEventListener("click", (event) => {
    const box = axis.getBoundingClientRect();
    play((event.clientX - box.left) / box.width);
  });
  axis.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && sessions.items.length) play((new Date(sessions.items[0].start) - from) / 86400000);
  });
  picker.addEventListener("change", async () => panel.replaceWith(await timeline(id, picker.value)));
  panel.append(h("h2", {}, t("timeline.title")), h("div", { class: "row" }, picker, `${sessions.items.length} ${t("timeline.sessions")}`), axis, video);
  return panel;
}

async function assetsPage(query) {
  const params = new URLSearchParams({ page_size: 50 });
  if (query.get("tag")) params.set("tag", query.get("tag"));
  const [assets, sources] = await Promise.all([api("GET", `/assets?${params}`), api("GET", "/sources?page_size=500")]);
  const tag = h("input", { type: "search", id: "asset-tag", value: query.get("tag") || "", "aria-label": t("assets.tag"), placeholder: t("assets.tag") });
  tag.addEventListener("change", () => { location.hash = `#/assets?${new URLSearchParams({ tag: tag.value })}`; });
  const tags = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
  const create = (form, body) => form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => { await api("POST", "/assets", body(new FormData(form))); route(); });
  });
  const fromURL = h("form", { id: "asset-from-url" }, h("h2", {}, t("assets.fromURL")),
    h("label", {}, t("new.name"), h("input", { name: "name", required: true })),
    h("label", {}, t("new.url"), h("input", { name: "stream_url", type: "url", required: true })),
    h("label", {}, t("assets.tags"), h("input", { name: "tags" })), h("button", { type: "submit" }, t("assets.create")));
  create(fromURL, (d) => ({ type: "stream", source_type: "live", name: d.get("name"), stream_url: d.get("stream_url"), tags: tags(d.get("tags")) }));
  const fromSource = h("form", { id: "asset-from-source" }, h("h2", {}, t("assets.fromSource")),
    h("label", {}, t("new.name"), h("input", { name: "name", required: true })),
    h("label", {}, t("assets.source"), h("select", { name: "source_id", required: true }, sources.items.map((s) => h("option", { value: s.id }, `${s.name} (${s.path_name})`)))),
    h("label", {}, t("assets.tags"), h("input", { name: "tags" })), h("button", { type: "submit" }, t("assets.create")));
  create(fromSource, (d) => ({ type: "stream", source_type: "live", name: d.get("name"), source_id: d.get("source_id"), tags: tags(d.get("tags")) }));
  return h("section", {}, h("h1", {}, t("assets.title")), h("div", { class: "row" }, tag),
    h("table", { id: "assets" },
      h("thead", {}, h("tr", {}, ["col.name", "col.type", "col.path", "col.tags"].map((k) => h("th", {}, t(k))))),
      h("tbody", {}, assets.items.length ? assets.items.map((a) => h("tr", {},
        h("td", {}, a.source_id ? h("a", { href: `#/sources/${a.source_id}` }, a.name) : a.name), h("td", {}, `${a.type}/${a.source_type}`),
        h("td", {}, h("code", {}, a.path || "")), h("td", {}, (a.tags || []).join(", ")))) : h("tr", {}, h("td", { colspan: 4 }, t("empty"))))),
    h("div", { class: "grid" }, fromURL, fromSource));
}

// MARK: Routing

async function route() {
  if (live) { live.close(); live = null; }
  clearError();
  const [path, queryText] = (location.hash.slice(1) || "/sources").split("?");
  const query = new URLSearchParams(queryText || "");
  const signedIn = !!session.token;
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("logout").hidden = !signedIn;
  if (!signedIn && path !== "/login") { location.hash = "#/login"; return; }
  main.replaceChildren(h("p", {}, t("loading")));
  try {
    let page;
    if (path === "/login") page = loginPage();
    else if (path === "/sources") page = await sourcesPage(query);
    else if (path === "/sources/new") page = newSourcePage();
    else if (path.startsWith("/sources/")) page = await sourceDetailPage(path.split("/")[2]);
    else if (path === "/assets") page = await assetsPage(query);
    else page = h("p", {}, t("empty"));
    main.replaceChildren(page);
    if (signedIn && !me) {
      me = await api("GET", "/auth/me");
      document.getElementById("who").textContent = `${me.username} (${me.role})`;
    }
  } catch (error) {
    main.replaceChildren();
    showError(error);
  }
}

const picker = document.getElementById("language");
picker.value = language;
setLanguage(language);
picker.addEventListener("change", () => { setLanguage(picker.value); translate(); route(); });
document.getElementById("logout").addEventListener("click", () => {
  session.token = null;
  me = null;
  document.getElementById("who").textContent = "";
  location.hash = "#/login";
});
window.addEventListener("hashchange", route);
translate();
route();
