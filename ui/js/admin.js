// The admins' pages: users (add, change role or password, remove) and the audit log (filtered, paged).
import { api } from "./api.js";
import { attempt, field, h, pager, table } from "./dom.js";
import { t } from "./i18n.js";
import { fromInputTime, inputTime, when, zoneLabel } from "./format.js";

const ROLES = ["admin", "operator", "viewer"];
const ACTIONS = ["auth.login", "source.create", "source.update", "source.delete", "source.enable", "source.disable", "publish_key.rotate",
  "source.move", "recording.start", "recording.stop", "asset.create", "asset.update", "asset.delete", "clip.create", "node.create", "node.update",
  "node.delete", "node.drain", "source.retention", "user.add", "user.update", "user.remove"];

const roleSelect = (attributes, selected) =>
  h("select", attributes, ROLES.map((r) => h("option", { value: r, selected: r === selected }, t(`role.${r}`))));

/** `reload` renders the page anew after a change. */
export async function usersPage(reload) {
  const users = (await api("GET", "/users")).items;
  const saved = h("p", { role: "status", id: "users-status" });
  const rows = users.map((u) => {
    const path = `/users/${encodeURIComponent(u.username)}`;
    const role = roleSelect({ class: "user-role", "aria-label": `${t("users.role")}: ${u.username}` }, u.role);
    role.addEventListener("change", () => attempt(async () => {
      try {
        await api("PUT", path, { role: role.value });
      } catch (error) {
        role.value = u.role; // refused (the last admin): the select shows the role the user still has
        throw error;
      }
      reload();
    }));
    const password = h("input", { type: "password", autocomplete: "new-password", minlength: 8, maxlength: 72, required: true,
      "aria-label": `${t("users.newPassword")}: ${u.username}` });
    const passwordForm = h("form", { class: "inline" }, password, h("button", { type: "submit", class: "secondary" }, t("users.setPassword")));
    passwordForm.addEventListener("submit", (event) => {
      event.preventDefault();
      attempt(async () => {
        await api("PUT", path, { password: password.value });
        password.value = "";
        saved.textContent = `${t("users.saved")}: ${u.username}`;
      });
    });
    const remove = h("button", { type: "button", class: "danger", onclick: () => attempt(async () => {
      if (!confirm(`${t("users.confirmRemove")} ${u.username}`)) return;
      await api("DELETE", path);
      reload();
    }) }, t("users.remove"));
    return h("tr", { "data-user": u.username }, h("td", {}, u.username), h("td", {}, role), h("td", {}, passwordForm),
      h("td", {}, when(u.created_at)), h("td", {}, remove));
  });
  const add = h("form", { id: "add-user" }, h("h2", {}, t("users.add")),
    field(t("login.username"), h("input", { name: "username", autocomplete: "off", required: true })),
    field(t("login.password"), h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: 8, maxlength: 72, required: true })),
    field(t("users.role"), roleSelect({ name: "role" }, "viewer")),
    h("button", { type: "submit" }, t("users.add")));
  add.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const data = new FormData(add);
      await api("POST", "/users", { username: data.get("username"), password: data.get("password"), role: data.get("role") });
      reload();
    });
  });
  return h("section", {}, h("h1", {}, t("users.title")), saved,
    table("users", ["col.user", "users.role", "users.newPassword", "col.created", "col.actions"], rows), add);
}

export async function auditPage(query) {
  const keys = ["username", "action", "target_id", "outcome", "from", "to"];
  // Times are typed in the zone times are shown in (datetime-local, no zone); the link and the API hold RFC 3339 UTC.
  const rfc3339 = (value) => (/(Z|[+-]\d\d:\d\d)$/.test(value) ? value : fromInputTime(value));
  const params = new URLSearchParams({ page: query.get("page") || 1, page_size: 25 });
  for (const key of keys) if (query.get(key)) params.set(key, key === "from" || key === "to" ? rfc3339(query.get(key)) : query.get(key));
  const list = await api("GET", `/audit?${params}`);
  const value = (key) => query.get(key) || "";
  const choice = (name, all, options) => h("select", { name }, h("option", { value: "" }, t(all)),
    options.map(([v, label]) => h("option", { value: v, selected: v === value(name) }, label)));
  const filters = h("form", { id: "audit-filters", class: "filters" },
    field(t("col.user"), h("input", { name: "username", value: value("username") })),
    field(t("col.action"), choice("action", "audit.anyAction", ACTIONS.map((a) => [a, a]))),
    field(t("audit.target"), h("input", { name: "target_id", value: value("target_id") })),
    field(t("col.outcome"), choice("outcome", "audit.anyOutcome", ["ok", "denied", "failed"].map((o) => [o, t(`outcome.${o}`)]))),
    field(`${t("audit.from")} (${zoneLabel()})`, h("input", { name: "from", type: "datetime-local", step: 1, value: inputTime(rfc3339(value("from"))) })),
    field(`${t("audit.to")} (${zoneLabel()})`, h("input", { name: "to", type: "datetime-local", step: 1, value: inputTime(rfc3339(value("to"))) })),
    h("button", { type: "submit" }, t("audit.filter")));
  const chosen = () => new URLSearchParams([...new FormData(filters)].filter(([, v]) => v)
    .map(([k, v]) => [k, k === "from" || k === "to" ? fromInputTime(v) || v : v]));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/audit?${chosen()}`;
  });
  const rows = list.items.map((e) => h("tr", { "data-action": e.action, "data-outcome": e.outcome },
    h("td", {}, when(e.at)), h("td", {}, e.username || ""), h("td", {}, e.action), h("td", {}, [e.target_type, e.target_id].filter(Boolean).join(" ")),
    h("td", {}, t(`outcome.${e.outcome}`)), h("td", {}, e.status ?? ""), h("td", {}, e.ip || ""), h("td", {}, e.detail || "")));
  return h("section", {}, h("h1", {}, t("audit.title")), filters,
    table("audit", ["col.time", "col.user", "col.action", "audit.target", "col.outcome", "col.status", "col.ip", "col.detail"], rows),
    pager(list, (p) => `#/audit?${new URLSearchParams([...chosen(), ["page", p]])}`));
}
