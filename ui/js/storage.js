// Recording storage: what each source's recordings hold (GET /api/v1/storage) as bars, largest first, and each source's
// retention, which operators and admins change in place (PUT /api/v1/sources/:id/retention).
import { api } from "./api.js";
import { attempt, field, h } from "./dom.js";
import { bytes, days, duration } from "./format.js";
import { t } from "./i18n.js";

const segmentCount = (n) => `${n} ${t(n === 1 ? "storage.segment" : "storage.segments")}`;

/** `operates`: the user may change retention (operators and admins); viewers read it. */
export async function storagePage(operates) {
  const usage = await api("GET", "/storage");
  const items = [...usage.items].sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  const largest = Math.max(1, ...items.map((item) => item.bytes));
  const rows = items.map((item) => {
    // The page's CSP allows no inline style attributes, only the style object.
    const fill = h("span", { class: "fill" });
    fill.style.width = `${item.bytes ? Math.max(0.5, (item.bytes / largest) * 100) : 0}%`;
    return h("li", { class: "usage", "data-source": item.source_id, "data-bytes": item.bytes },
      h("div", { class: "usage-head" }, h("a", { href: `#/sources/${item.source_id}` }, item.name), h("code", {}, item.path_name)),
      h("div", { class: "bar", "aria-hidden": "true", title: bytes(item.bytes) }, fill),
      h("p", { class: "figures" }, `${bytes(item.bytes)} · ${duration(item.hours * 3600)} · ${segmentCount(item.segments)}`),
      operates ? retentionForm(item) : h("p", { class: "retention" }, `${t("storage.retentionShown")}: ${days(item.retention_days)}`));
  });
  return h("section", {},
    h("h1", {}, t("storage.title")),
    h("p", { id: "storage-total" }, `${t("storage.total")}: ${bytes(usage.total_bytes)} · ${duration(usage.total_hours * 3600)} · ${items.length} ${t("storage.sources")}`),
    h("p", { class: "hint" }, t("storage.hint")),
    h("ul", { id: "storage", class: "usage-list" }, rows.length ? rows : h("li", {}, t("empty"))));
}

/** A source's retention in days, saved in place; "Use default" makes it follow the configured default again. What the
 * field holds goes to the API as typed (a number when it reads as one), so a bad value gets the API's own message. */
function retentionForm(item) {
  const input = h("input", { name: "retention_days", class: "retention-days", inputmode: "numeric", autocomplete: "off",
    value: String(item.retention_days), size: 6 });
  const status = h("span", { class: "hint retention-status", role: "status" });
  const save = async (value) => {
    const answer = await api("PUT", `/sources/${item.source_id}/retention`, { retention_days: value });
    input.value = String(answer.effective_days);
    status.textContent = `${days(answer.effective_days)} (${answer.retention_days == null ? t("storage.followsDefault") : t("storage.own")})`;
  };
  const form = h("form", { class: "inline retention", novalidate: true },
    field(t("storage.retention"), input),
    h("button", { type: "submit" }, t("storage.save")),
    h("button", { type: "button", class: "secondary use-default", onclick: () => attempt(() => save(null)) }, t("storage.useDefault")),
    status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    attempt(() => save(/^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text));
  });
  return form;
}
