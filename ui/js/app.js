// The operators' UI: hash routes, each page rendered from the API. No framework, no build step.
import { auditPage, usersPage } from "./admin.js";
import { api, liveEvents, session } from "./api.js";
import { attempt, clearError, copyButton, field, h, leavePage, onLeave, pager, showError, table, tagList } from "./dom.js";
import { language, setLanguage, t, translate } from "./i18n.js";
import { assetStream, sourceStream, streamPanels, when } from "./stream.js";

const main = document.getElementById("main");
/** The signed-in user, asked for once per sign-in. */
let me = null;

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
  const list = await api("GET", `/sources?${params}`);
  const search = h("input", { type: "search", id: "source-search", value: query.get("q") || "", "aria-label": t("sources.search"), placeholder: t("sources.search") });
  const type = h("select", { id: "source-type", "aria-label": t("col.type") },
    h("option", { value: "" }, t("filter.all")), h("option", { value: "pull", selected: query.get("type") === "pull" }, "pull"),
    h("option", { value: "push", selected: query.get("type") === "push" }, "push"));
  const apply = () => { location.hash = `#/sources?${new URLSearchParams({ q: search.value, type: type.value })}`; };
  search.addEventListener("change", apply);
  type.addEventListener("change", apply);

  // A row's live cells, from a status of the index (the list's, or a live event's).
  const showStatus = (row, status, recording) => {
    const dot = row.querySelector(".dot");
    dot.classList.toggle("live", !!status.ready);
    dot.dataset.live = status.ready ? "true" : "false";
    dot.title = status.ready ? t("live") : t("offline");
    row.querySelector(".readers").textContent = String(status.readers ?? 0);
    row.querySelector(".recording").replaceChildren(recording ? h("span", { class: "rec" }, t("rec")) : "");
  };
  const rows = list.items.map((s) => {
    const row = h("tr", { "data-path": s.path_name, "data-id": s.id },
      h("td", {}, h("a", { href: `#/sources/${s.id}` }, s.name)),
      h("td", {}, s.type),
      h("td", { class: "optional" }, h("code", {}, s.path_name)),
      h("td", { class: "optional" }, s.protocol || ""),
      h("td", {}, h("span", { class: "dot" })),
      h("td", { class: "readers" }),
      h("td", { class: "recording" }),
      h("td", { class: "optional" }, s.enabled ? t("yes") : t("no")));
    showStatus(row, s.status || {}, s.record_enabled && s.status?.ready);
    return row;
  });
  const sources = h("table", { id: "sources" },
    h("thead", {}, h("tr", {}, ["col.name", "col.type", "col.path", "col.protocol", "col.live", "col.readers", "col.recording", "col.enabled"]
      .map((k, i) => h("th", { class: [2, 3, 7].includes(i) ? "optional" : null }, t(k))))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 8 }, t("empty")))));
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
    h("div", { class: "row" }, search, type), h("div", { class: "scroll" }, sources),
    pager(list, (p) => `#/sources?${new URLSearchParams({ q: search.value, type: type.value, page: p })}`));
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
  const urlLabel = field(t("new.url"), url);
  const type = h("select", { name: "type", id: "source-kind" }, h("option", { value: "pull" }, t("type.pull")), h("option", { value: "push" }, t("type.push")));
  type.addEventListener("change", () => { urlLabel.hidden = type.value === "push"; });
  const form = h("form", { id: "new-source-form" },
    h("h1", {}, t("new.title")),
    field(t("new.name"), h("input", { name: "name", id: "source-name", required: true, maxlength: 255 })),
    field(t("new.type"), type), urlLabel,
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "record_enabled" }), t("new.record")),
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
  const action = (label, path, cls) => h("button", { type: "button", class: cls, onclick: () => attempt(async () => { await api("POST", path); route(); }) }, t(label));
  const remove = h("button", { type: "button", class: "danger", id: "delete-source" }, t("detail.delete"));
  remove.addEventListener("click", () => attempt(async () => {
    if (!confirm(t("detail.confirmDelete"))) return;
    await api("DELETE", `/sources/${id}`);
    location.hash = "#/sources";
  }));
  return h("section", {},
    h("h1", {}, source.name), h("p", {}, h("code", {}, source.path_name)),
    source.push_url ? pushPanel(source.push_url) : null,
    h("div", { class: "row" },
      source.enabled ? action("detail.disable", `/sources/${id}/disable`, "secondary") : action("detail.enable", `/sources/${id}/enable`),
      remove),
    await streamPanels(sourceStream(id), route));
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
      h("p", {}, `${t("col.start")}: ${when(asset.start)} · ${t("col.duration")}: ${asset.duration} · ${asset.format}`),
      h("video", { id: "clip-player", controls: true, preload: "metadata", src: asset.playback_url }))
      : await streamPanels(assetStream(asset), route));
}

// MARK: Routing

/** Counts renderings: a page that finishes loading after the user went on is dropped. */
let routing = 0;

async function route() {
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
    const [, section, id] = path.split("/");
    let page;
    if (path === "/login") page = loginPage();
    else if (path === "/sources") page = await sourcesPage(query);
    else if (path === "/sources/new") page = newSourcePage();
    else if (section === "sources" && id) page = await sourceDetailPage(id);
    else if (path === "/assets") page = await assetsPage(query);
    else if (section === "assets" && id) page = await assetDetailPage(id);
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
document.getElementById("logout").addEventListener("click", () => {
  session.token = null;
  me = null;
  showWho();
  location.hash = "#/login";
});
window.addEventListener("hashchange", route);
translate();
route();
