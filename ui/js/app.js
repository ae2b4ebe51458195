// The operators' UI: hash routes, each page rendered from the API. No framework, no build step.
import { auditPage, usersPage } from "./admin.js";
import { api, liveEvents, session } from "./api.js";
import { attempt, clearError, copyButton, field, h, leavePage, onLeave, pager, showError, table, tagList } from "./dom.js";
import { duration, setUTCTimes, utcTimes, when } from "./format.js";
import { language, setLanguage, t, translate } from "./i18n.js";
import { listNodes, nodeOption, nodesPage } from "./nodes.js";
import { recordingsPage } from "./recordings.js";
import { storagePage } from "./storage.js";
import { assetStream, sourceStream, streamPanels } from "./stream.js";

const main = document.getElementById("main");
/** The signed-in user, asked for once per sign-in. */
let me = null;

/** Operators and admins: they may change sources and see the nodes. */
const operates = () => me?.role === "admin" || me?.role === "operator";

function showWho() {
  document.getElementById("who").textContent = me ? `${me.username} (${t(`role.${me.role}`)})` : "";
}

// MARK: Pages

function loginPage() {
  const form = h("form", { id: "login-form" },
    h("h1", {}, t("login.title")),
    field(t("login.username"), h("input", { name: "username", autocomplete: "username", required: true, autofocus: true })),
    field(t("login.password"), h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
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
  if (query.get("node")) params.set("node", query.get("node"));
  const [list, nodes] = await Promise.all([api("GET", `/sources?${params}`), operates() ? listNodes() : null]);
  const search = h("input", { type: "search", id: "source-search", value: query.get("q") || "", "aria-label": t("sources.search"), placeholder: t("sources.search") });
  const type = h("select", { id: "source-type", "aria-label": t("col.type") },
    h("option", { value: "" }, t("filter.all")), h("option", { value: "pull", selected: query.get("type") === "pull" }, "pull"),
    h("option", { value: "push", selected: query.get("type") === "push" }, "push"));
  // The node filter: only for those who may list the nodes (and while a link asks for one).
  const node = nodes || query.get("node") ? h("select", { id: "source-node-filter", "aria-label": t("col.node") },
    h("option", { value: "" }, t("filter.allNodes")),
    (nodes || [{ name: query.get("node") }]).map((n) => h("option", { value: n.name, selected: n.name === query.get("node") }, n.name))) : null;
  const filters = (more = {}) => new URLSearchParams(Object.entries({ q: search.value, type: type.value, node: node?.value || "", ...more })
    .filter(([k, v]) => v || k !== "node"));
  const apply = () => { location.hash = `#/sources?${filters()}`; };
  search.addEventListener("change", apply);
  type.addEventListener("change", apply);
  node?.addEventListener("change", apply);

  // A row's live cells, from a status of the index (the list's, or a live event's).
  const showStatus = (row, status, recording) => {
    const dot = row.querySelector(".dot");
    dot.classList.toggle("live", !!status.ready);
    dot.dataset.live = status.ready ? "true" : "false";
    dot.title = status.ready ? t("live") : t("offline");
    row.querySelector(".readers").textContent = String(status.readers ?? 0);
    row.querySelector(".recording").replaceChildren(recording ? h("span", { class: "rec" }, t("rec")) : "");
    row.querySelector(".node-down").hidden = !status.node_down;
  };
  const rows = list.items.map((s) => {
    const row = h("tr", { "data-path": s.path_name, "data-id": s.id },
      h("td", {}, h("a", { href: `#/sources/${s.id}` }, s.name)),
      h("td", {}, t(`kind.${s.type}`)),
      h("td", { class: "optional" }, h("code", {}, s.path_name)),
      h("td", { class: "node" }, s.node),
      h("td", { class: "optional" }, s.protocol || ""),
      h("td", {}, h("span", { class: "dot" }), " ", h("span", { class: "badge down node-down", hidden: true }, t("nodeDown"))),
      h("td", { class: "readers" }),
      h("td", { class: "recording" }),
      h("td", { class: "optional" }, s.enabled ? t("yes") : t("no")));
    showStatus(row, s.status || {}, s.record_enabled && s.status?.ready);
    return row;
  });
  const sources = h("table", { id: "sources" },
    h("thead", {}, h("tr", {}, ["col.name", "col.type", "col.path", "col.node", "col.protocol", "col.live", "col.readers", "col.recording", "col.enabled"]
      .map((k, i) => h("th", { class: [2, 4, 8].includes(i) ? "optional" : null }, t(k))))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 9 }, t("empty")))));
  // Status, readers and recording change in place as the index reports them; at each (re)connection of the
  // stream the page's rows are read again, for what happened while it was not connected.
  const rowOf = (path) => sources.querySelector(`tr[data-path="${CSS.escape(path)}"]`);
  const events = liveEvents((type, event) => {
    const row = rowOf(event.path_name);
    if (!row) return;
    const recording = row.querySelector(".rec") !== null;
    // A segment being written means recording; it ends with the segment or the stream.
    showStatus(row, event.status || {}, type === "segment-create" || (recording && type !== "segment-complete" && type !== "unavailable"));
  }, () => api("GET", `/sources?${params}`).then((fresh) => {
    for (const s of fresh.items) {
      const row = rowOf(s.path_name);
      if (row) showStatus(row, s.status || {}, s.record_enabled && s.status?.ready);
    }
  }).catch(showError));
  onLeave(() => events.close());
  return h("section", {},
    h("div", { class: "row" }, h("h1", {}, t("sources.title")), h("a", { href: "#/sources/new", id: "new-source" }, t("sources.new"))),
    h("div", { class: "row" }, search, type, node), h("div", { class: "scroll" }, sources),
    pager(list, (p) => `#/sources?${filters({ page: p })}`));
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

async function newSourcePage() {
  // The node to place it on: automatic unless chosen; left out when the nodes cannot be listed (viewers).
  const nodes = await listNodes();
  const node = nodes ? field(t("new.node"), h("select", { name: "node", id: "source-node" },
    h("option", { value: "" }, t("new.autoNode")), nodes.map(nodeOption))) : null;
  const url = h("input", { name: "url", id: "source-url", type: "url" });
  const urlLabel = field(t("new.url"), url);
  const type = h("select", { name: "type", id: "source-kind" }, h("option", { value: "pull" }, t("type.pull")), h("option", { value: "push" }, t("type.push")));
  type.addEventListener("change", () => { urlLabel.hidden = type.value === "push"; });
  const form = h("form", { id: "new-source-form" },
    h("h1", {}, t("new.title")),
    field(t("new.name"), h("input", { name: "name", id: "source-name", required: true, maxlength: 255 })),
    field(t("new.type"), type), urlLabel, node,
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "record_enabled" }), t("new.record")),
    h("button", { type: "submit" }, t("new.create")));
  const result = h("div", {});
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const data = new FormData(form);
      const body = { name: data.get("name"), type: data.get("type"), record_enabled: data.get("record_enabled") === "on" };
      if (body.type === "pull") body.url = data.get("url");
      if (data.get("node")) body.node = data.get("node");
      const source = await api("POST", "/sources", body);
      form.reset();
      urlLabel.hidden = false;
      result.replaceChildren(source.push_url ? pushPanel(source.push_url) : "", h("p", {}, h("a", { href: `#/sources/${source.id}`, id: "created-source" }, source.name)));
    });
  });
  return h("section", {}, form, result);
}

/** `moved`: the answer of a move just made here, shown above the page rendered anew. */
async function sourceDetailPage(id, moved) {
  const [source, nodes] = await Promise.all([api("GET", `/sources/${id}?with_status=true`), operates() ? listNodes() : null]);
  const action = (label, path, cls) => h("button", { type: "button", class: cls, onclick: () => attempt(async () => { await api("POST", path); route(); }) }, t(label));
  const remove = h("button", { type: "button", class: "danger", id: "delete-source" }, t("detail.delete"));
  remove.addEventListener("click", () => attempt(async () => {
    if (!confirm(t("detail.confirmDelete"))) return;
    await api("DELETE", `/sources/${id}`);
    location.hash = "#/sources";
  }));
  return h("section", {},
    h("h1", {}, source.name),
    h("p", {}, h("code", {}, source.path_name), ` · ${t("col.node")}: `, h("span", { id: "source-node" }, source.node),
      source.status?.node_down ? [" ", h("span", { class: "badge down", id: "source-node-down" }, t("nodeDown"))] : null),
    moved ? movedPanel(moved) : null,
    source.push_url ? pushPanel(source.push_url) : null,
    moveForm(source, nodes),
    h("div", { class: "row" },
      source.enabled ? action("detail.disable", `/sources/${id}/disable`, "secondary") : action("detail.enable", `/sources/${id}/enable`),
      remove),
    await streamPanels(sourceStream(id), route));
}

/** Moving the source to another node (operators; only with another node to go to); the page is rendered anew with
 * the answer. */
function moveForm(source, nodes) {
  const others = (nodes || []).filter((n) => n.name !== source.node);
  if (!others.length) return null;
  const target = h("select", { name: "node", id: "move-node", required: true }, others.map(nodeOption));
  const form = h("form", { class: "inline", id: "move-source" }, field(t("move.title"), target), h("button", { type: "submit" }, t("move.submit")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => route(await api("POST", `/sources/${source.id}/move`, { node: target.value })));
  });
  return form;
}

/** What a move did; a push source's encoder must follow it to the new push URL. */
function movedPanel(moved) {
  return h("div", { class: "panel", id: "move-result", role: "status" },
    h("p", {}, `${t("move.done")}: `, h("code", {}, moved.previous_node), " → ", h("code", {}, moved.source.node)),
    moved.push_url_changed ? h("p", { class: "notice", id: "push-url-changed" }, t("move.pushChanged")) : null);
}

async function assetsPage(query) {
  const page = Number(query.get("page") || 1);
  const params = new URLSearchParams({ page, page_size: 50 });
  if (query.get("tag")) params.set("tag", query.get("tag"));
  const [assets, sources] = await Promise.all([api("GET", `/assets?${params}`), api("GET", "/sources?page_size=500")]);
  const tag = h("input", { type: "search", id: "asset-tag", value: query.get("tag") || "", "aria-label": t("assets.tag"), placeholder: t("assets.tag") });
  tag.addEventListener("change", () => { location.hash = `#/assets?${new URLSearchParams({ tag: tag.value })}`; });
  const create = (form, body) => form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => { await api("POST", "/assets", body(new FormData(form))); route(); });
  });
  const fromURL = h("form", { id: "asset-from-url" }, h("h2", {}, t("assets.fromURL")),
    field(t("new.name"), h("input", { name: "name", required: true })),
    field(t("new.url"), h("input", { name: "stream_url", type: "url", required: true })),
    field(t("assets.tags"), h("input", { name: "tags" })), h("button", { type: "submit" }, t("assets.create")));
  create(fromURL, (d) => ({ type: "stream", source_type: "live", name: d.get("name"), stream_url: d.get("stream_url"), tags: tagList(d.get("tags")) }));
  const fromSource = h("form", { id: "asset-from-source" }, h("h2", {}, t("assets.fromSource")),
    field(t("new.name"), h("input", { name: "name", required: true })),
    field(t("assets.source"), h("select", { name: "source_id", required: true }, sources.items.map((s) => h("option", { value: s.id }, `${s.name} (${s.path_name})`)))),
    field(t("assets.tags"), h("input", { name: "tags" })), h("button", { type: "submit" }, t("assets.create")));
  // The design's short body (§3.2): type and source_type default to stream/live.
  create(fromSource, (d) => ({ source_id: d.get("source_id"), name: d.get("name"), tags: tagList(d.get("tags")) }));
  return h("section", {}, h("h1", {}, t("assets.title")), h("div", { class: "row" }, tag),
    table("assets", ["col.name", "col.type", "col.path", "col.tags"], assets.items.map((a) => h("tr", {},
      h("td", {}, h("a", { href: `#/assets/${a.id}` }, a.name)), h("td", {}, `${a.type}/${a.source_type}`),
      h("td", {}, h("code", {}, a.path || "")), h("td", {}, (a.tags || []).join(", "))))),
    pager(assets, (p) => `#/assets?${new URLSearchParams({ tag: tag.value, page: p })}`),
    h("div", { class: "grid" }, fromURL, fromSource));
}

/** A live stream asset with its source's panels and clips; a clip (vod) with its recording in a player. */
async function assetDetailPage(id) {
  const asset = await api("GET", `/assets/${id}`);
  const remove = h("button", { type: "button", class: "danger", id: "delete-asset" }, t("asset.delete"));
  remove.addEventListener("click", () => attempt(async () => {
    if (!confirm(t("asset.confirmDelete"))) return;
    await api("DELETE", `/assets/${id}`);
    location.hash = "#/assets";
  }));
  const clip = asset.source_type === "vod";
  return h("section", {},
    h("h1", {}, asset.name),
    h("p", {}, `${asset.type}/${asset.source_type} · `, h("code", {}, asset.path || ""), asset.tags.length ? ` · ${asset.tags.join(", ")}` : ""),
    asset.description ? h("p", {}, asset.description) : null,
    h("div", { class: "row" },
      asset.source_id ? h("a", { href: `#/sources/${asset.source_id}`, id: "asset-source" }, t("asset.source")) : null, remove),
    clip ? h("div", { class: "panel", id: "clip-panel" }, h("h2", {}, t("asset.clip")),
      h("p", {}, `${t("col.start")}: `, when(asset.start), ` · ${t("col.duration")}: ${duration(asset.duration)} · ${asset.format}`),
      h("video", { id: "clip-player", controls: true, preload: "metadata", src: asset.playback_url }))
      : await streamPanels(assetStream(asset), route));
}

// MARK: Routing

/** Counts renderings: a page that finishes loading after the user went on is dropped. */
let routing = 0;

/** `state`: what an action hands the page it renders anew (a move's answer). */
async function route(state) {
  const turn = ++routing;
  leavePage();
  clearError();
  const [path, queryText] = (location.hash.slice(1) || "/sources").split("?");
  const query = new URLSearchParams(queryText || "");
  const signedIn = !!session.token;
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("logout").hidden = !signedIn;
  if (!signedIn && path !== "/login") { location.hash = "#/login"; return; }
  main.replaceChildren(h("p", {}, t("loading")));
  try {
    if (signedIn && !me) {
      me = await api("GET", "/auth/me");
      showWho();
    }
    for (const link of document.querySelectorAll("[data-admin]")) link.hidden = me?.role !== "admin";
    for (const link of document.querySelectorAll("[data-operator]")) link.hidden = !operates();
    const [, section, id] = path.split("/");
    let page;
    if (path === "/login") page = loginPage();
    else if (path === "/sources") page = await sourcesPage(query);
    else if (path === "/sources/new") page = await newSourcePage();
    else if (section === "sources" && id) page = await sourceDetailPage(id, state);
    else if (path === "/recordings") page = await recordingsPage(query, operates());
    else if (path === "/assets") page = await assetsPage(query);
    else if (section === "assets" && id) page = await assetDetailPage(id);
    else if (path === "/storage") page = await storagePage(operates());
    else if (path === "/nodes") page = await nodesPage(me?.role === "admin");
    else if (path === "/users") page = await usersPage(route);
    else if (path === "/audit") page = await auditPage(query);
    else page = h("p", {}, t("empty"));
    if (turn !== routing) return;
    main.replaceChildren(page);
    main.querySelector("[autofocus]")?.focus();
  } catch (error) {
    if (turn !== routing) return;
    main.replaceChildren();
    showError(error);
  }
}

const picker = document.getElementById("language");
picker.value = language;
setLanguage(language);
picker.addEventListener("change", () => {
  setLanguage(picker.value);
  translate();
  showWho();
  route();
});
// Times in the viewer's zone, or in UTC: kept in the browser, every page rendered anew when it changes.
const utcSwitch = document.getElementById("utc-times");
utcSwitch.checked = utcTimes;
utcSwitch.addEventListener("change", () => {
  setUTCTimes(utcSwitch.checked);
  route();
});
document.getElementById("logout").addEventListener("click", () => {
  session.token = null;
  me = null;
  showWho();
  location.hash = "#/login";
});
window.addEventListener("hashchange", () => route());
translate();
route();
