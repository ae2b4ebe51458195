// Building pages: elements, the error box, actions that show the API's message, and what a page closes when left.
import { APIError } from "./api.js";
import { t } from "./i18n.js";

const errorBox = document.getElementById("error");
const leaving = [];

/** Builds an element: h("td", {class: "x"}, "text", child). */
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else if (value !== false && value != null) el.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child != null) el.append(child instanceof Node ? child : String(child));
  return el;
}

/** A labelled field: the label wraps the control, so every input has its name. */
export function field(label, control) {
  return h("label", {}, label, control);
}

export function showError(error) {
  errorBox.textContent = error instanceof APIError || error instanceof Error ? error.message : String(error);
  errorBox.hidden = false;
}

export function clearError() { errorBox.hidden = true; }

/** Runs an action, showing the API's message if it fails. */
export async function attempt(action) {
  clearError();
  try { return await action(); } catch (error) { showError(error); }
}

/** "a, b ,c" → ["a", "b", "c"]. */
export const tagList = (text) => (text || "").split(",").map((s) => s.trim()).filter(Boolean);

/** Runs `close` when the user leaves the page (live event streams, WebRTC sessions). */
export function onLeave(close) { leaving.push(close); }

export function leavePage() {
  while (leaving.length) leaving.pop()();
}

export function copyButton(text) {
  const button = h("button", { type: "button", class: "secondary" }, t("copy"));
  button.addEventListener("click", async () => {
    await navigator.clipboard?.writeText(text).catch(() => {});
    button.textContent = t("copied");
  });
  return button;
}

/** A table that scrolls sideways on its own on narrow screens; `rows` empty shows "Nothing here yet." */
export function table(id, headings, rows) {
  return h("div", { class: "scroll" }, h("table", { id },
    h("thead", {}, h("tr", {}, headings.map((k) => h("th", {}, t(k))))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: headings.length }, t("empty"))))));
}

/** Previous/next links of a paged list ({total, page, page_size}). */
export function pager(list, link) {
  const pages = Math.max(1, Math.ceil(list.total / list.page_size));
  return h("nav", { class: "row", "aria-label": t("pages") },
    list.page > 1 ? h("a", { href: link(list.page - 1) }, t("prev")) : null, `${list.page} / ${pages}`,
    list.page < pages ? h("a", { href: link(list.page + 1) }, t("next")) : null);
}
