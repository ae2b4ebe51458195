// The MediaMTX nodes: their state, health and load for operators; adding, draining and deleting them for admins.
import { api } from "./api.js";
import { attempt, copyButton, field, h, table } from "./dom.js";
import { t } from "./i18n.js";
import { bytes, when } from "./format.js";

const ADDRESSES = [["api_address", "http://10.0.1.10:9997"], ["playback_address", "http://10.0.1.10:9996"],
  ["rtsp_address", "rtsp://north-1.example.com:8554"], ["rtmp_address", "rtmp://north-1.example.com:1935"],
  ["hls_address", "http://north-1.example.com:8888"], ["webrtc_address", "http://north-1.example.com:8889"],
  ["srt_address", "srt://north-1.example.com:8890"]];

/** The nodes, or null when they cannot be listed (viewers may not). */
export const listNodes = () => api("GET", "/nodes").then((list) => list.items, () => null);

/** A node as a choice: its name, and its state when it takes no sources now. */
export const nodeOption = (n) => h("option", { value: n.name }, n.state === "active" ? n.name : `${n.name} (${t(`nodeState.${n.state}`)})`);

const stateBadge = (state) => h("span", { class: `badge ${state}` }, t(`nodeState.${state}`));

/** "site=north, rack=2" → {site: "north", rack: "2"} (a pair without "=" is sent as is, for the API to name). */
function labelMap(text) {
  return Object.fromEntries((text || "").split(",").map((s) => s.trim()).filter(Boolean).map((pair) => {
    const at = pair.indexOf("=");
    return at < 0 ? [pair, ""] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
  }));
}

const labelText = (labels) => Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join(", ");

/** `admin`: the page also drains, undrains, deletes and adds nodes. The list is read again after each change, so
 * a drain's report or a new node's token stays on the page. */
export async function nodesPage(admin) {
  const list = h("div", { id: "nodes-list" });
  const report = h("div", { id: "nodes-report", role: "status" });
  const headings = ["col.name", "col.state", "nodes.reachable", "nodes.version", "nodes.started", "nodes.sources", "nodes.paths",
    "col.readers", "nodes.traffic", "col.labels"];
  const show = async () => {
    const nodes = (await api("GET", "/nodes")).items;
    list.replaceChildren(table("nodes", admin ? [...headings, "col.actions"] : headings, nodes.map(row)));
  };
  const change = (action) => attempt(async () => {
    await action();
    await show();
  });

  const row = (n) => {
    const health = n.health;
    const path = `/nodes/${encodeURIComponent(n.name)}`;
    const reachable = !health ? h("span", { class: "hint" }, t("nodes.notChecked"))
      : health.reachable ? t("yes")
        : [h("span", { class: "rec" }, t("no")), health.error ? h("div", { class: "hint" }, health.error) : null,
          health.unreachable_since ? h("div", { class: "hint" }, when(health.unreachable_since)) : null];
    const actions = admin ? h("td", { class: "actions" },
      n.draining
        ? h("button", { type: "button", class: "secondary undrain", onclick: () => change(() => api("PUT", path, { draining: false })) }, t("nodes.undrain"))
        : h("button", { type: "button", class: "secondary drain", onclick: () => attempt(async () => {
          if (!confirm(`${t("nodes.confirmDrain")} ${n.name}`)) return;
          const answer = await api("POST", `${path}/drain`);
          report.replaceChildren(drainReport(answer));
          report.scrollIntoView();
          await show();
        }) }, t("nodes.drain")),
      " ",
      h("button", { type: "button", class: "danger delete", onclick: () => change(async () => {
        if (!confirm(`${t("nodes.confirmDelete")} ${n.name}`)) return;
        await api("DELETE", path);
      }) }, t("nodes.delete"))) : null;
    return h("tr", { "data-node": n.name, "data-state": n.state },
      h("td", {}, n.name), h("td", { class: "state" }, stateBadge(n.state)), h("td", {}, reachable),
      h("td", {}, health?.version || "—"), h("td", {}, when(health?.started) ?? "—"),
      h("td", {}, h("a", { href: `#/sources?${new URLSearchParams({ node: n.name })}`, class: "node-sources" }, String(n.sources))),
      h("td", {}, `${health ? health.paths : "—"} / ${n.max_paths ?? t("nodes.unlimited")}`),
      h("td", {}, health ? String(health.readers) : "—"),
      h("td", {}, health ? `${bytes(health.bytes_received)} / ${bytes(health.bytes_sent)}` : "—"),
      h("td", {}, labelText(n.labels)), actions);
  };
  await show();

  let add = null;
  if (admin) {
    add = h("form", { id: "add-node" }, h("h2", {}, t("nodes.add")),
      field(t("col.name"), h("input", { name: "name", required: true, maxlength: 63, autocomplete: "off" })),
      ADDRESSES.map(([key, example]) => field(t(`nodes.${key}`), h("input", { name: key, type: "url", required: true, placeholder: example }))),
      field(t("nodes.labelsField"), h("input", { name: "labels", placeholder: "site=north, rack=2" })),
      field(t("nodes.maxPaths"), h("input", { name: "max_paths", type: "number", min: 1, max: 1000000, step: 1 })),
      h("button", { type: "submit" }, t("nodes.add")));
    add.addEventListener("submit", (event) => {
      event.preventDefault();
      attempt(async () => {
        const data = new FormData(add);
        const body = { name: data.get("name"), labels: labelMap(data.get("labels")) };
        for (const [key] of ADDRESSES) body[key] = data.get(key);
        if (data.get("max_paths")) body.max_paths = Number(data.get("max_paths"));
        const node = await api("POST", "/nodes", body);
        add.reset();
        report.replaceChildren(tokenPanel(node));
        report.scrollIntoView();
        await show();
      });
    });
  }
  return h("section", {},
    h("div", { class: "row" }, h("h1", {}, t("nodes.title")),
      h("button", { type: "button", class: "secondary", id: "nodes-refresh", onclick: () => attempt(show) }, t("nodes.refresh"))),
    report, list, add);
}

/** A drain's answer: how many sources moved where, and which stayed and why. */
function drainReport(answer) {
  const { node, moved, stayed } = answer;
  return h("div", { class: "panel", id: "drain-report", "data-moved": moved.length, "data-stayed": stayed.length },
    h("h2", {}, `${t("drain.title")}: ${node.name}`),
    h("p", { id: "drain-moved" }, `${t("drain.moved")}: ${moved.length}`),
    moved.length ? h("ul", {}, moved.map((m) => h("li", { "data-source": m.source_id },
      h("a", { href: `#/sources/${m.source_id}` }, h("code", {}, m.path_name)), " → ", m.to))) : null,
    h("p", { id: "drain-stayed" }, `${t("drain.stayed")}: ${stayed.length}`),
    stayed.length ? h("ul", {}, stayed.map((s) => h("li", { "data-source": s.source_id, "data-reason": s.reason },
      h("a", { href: `#/sources/${s.source_id}` }, h("code", {}, s.path_name)), `: ${t(`drain.reason.${s.reason}`)}`))) : null);
}

/** A new node's token, shown this once, and where its MediaMTX must send it. */
function tokenPanel(node) {
  const line = `authHTTPAddress: ${location.origin}/api/v1/mediamtx/auth?node_token=${node.auth_token}`;
  return h("div", { class: "panel", id: "node-token" },
    h("h2", {}, `${t("nodes.added")}: ${node.name}`),
    h("p", {}, t("nodes.tokenOnce"), " ", h("code", { class: "url", id: "node-token-value" }, node.auth_token), " ", copyButton(node.auth_token)),
    h("p", { class: "notice" }, t("nodes.tokenHint")),
    h("p", {}, h("code", { class: "url", id: "node-token-line" }, line), " ", copyButton(line)));
}
