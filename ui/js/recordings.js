// The Recordings page: every source's recording sessions on one shared time axis (GET /recordings/sessions), zoomed
// from 24 h to a minute and panned with buttons, the mouse wheel, a drag, a pinch or the keyboard; a "now" line that
// moves, gaps visible, offline spans shaded. A click (or Enter) plays from that moment in the player below (player.js);
// a range selected with shift+drag or marked from the player is downloaded as MP4 or saved as a clip asset.
import { api, liveEvents } from "./api.js";
import { attempt, field, h, onLeave, pager, showError } from "./dom.js";
import { duration, fromInputTime, timeText, timeTitle, utcTimes, zoneLabel, zoneName } from "./format.js";
import { t } from "./i18n.js";
import { listNodes } from "./nodes.js";
import { locate, recordingPlayer } from "./player.js";
import { DAY, HOUR, MINUTE, SECOND, fieldValue, iso, ms, session, sessionEnd, ticks } from "./timeline.js";

const MIN_SPAN = MINUTE;
const MAX_SPAN = DAY;
const DEFAULT_SPAN = HOUR;
const PAGE_SIZE = 50;
/** A drag shorter than this (px) is a click. */
const CLICK = 4;

/** A time of the page's query (RFC 3339 or ms since 1970) as ms; NaN when it is none. */
const queryTime = (text) => (text && /^\d+$/.test(text) ? Number(text) : ms(text));

/** `operates`: the user may save clips (operators and admins). */
export async function recordingsPage(query, operates) {
  // MARK: The visible range
  let view = (() => {
    const from = queryTime(query.get("from"));
    const to = queryTime(query.get("to"));
    if (from < to) return fit(from, to);
    const end = Date.now() + DEFAULT_SPAN * 0.05;
    return fit(end - DEFAULT_SPAN, end);
  })();
  const filters = { q: query.get("q") || "", tag: query.get("tag") || "", type: query.get("type") || "", node: query.get("node") || "" };
  const page = Number(query.get("page") || 1);
  /** The sources as last read, by id, each with its sessions in ms. */
  let items = [];
  const byId = new Map();
  const lookup = (id) => byId.get(id);

  // MARK: Filters
  const nodes = operates ? await listNodes() : null;
  const search = h("input", { type: "search", id: "rec-search", value: filters.q, "aria-label": t("sources.search"), placeholder: t("sources.search") });
  const tag = h("input", { type: "search", id: "rec-tag", value: filters.tag, "aria-label": t("assets.tag"), placeholder: t("assets.tag") });
  const type = h("select", { id: "rec-type", "aria-label": t("col.type") },
    h("option", { value: "" }, t("filter.all")), ["pull", "push"].map((v) => h("option", { value: v, selected: filters.type === v }, t(`kind.${v}`))));
  const node = nodes || filters.node ? h("select", { id: "rec-node", "aria-label": t("col.node") },
    h("option", { value: "" }, t("filter.allNodes")),
    (nodes || [{ name: filters.node }]).map((n) => h("option", { value: n.name, selected: n.name === filters.node }, n.name))) : null;
  const hashFor = (more = {}) => `#/recordings?${new URLSearchParams(Object.entries({
    q: search.value, tag: tag.value, type: type.value, node: node?.value || "", from: iso(view.from), to: iso(view.to), ...more,
  }).filter(([, v]) => v))}`;
  for (const control of [search, tag, type, node]) control?.addEventListener("change", () => { location.hash = hashFor(); });

  // MARK: The timeline
  const rangeText = h("p", { class: "rec-range", id: "rec-range" });
  const ruler = h("div", { class: "rec-ruler", id: "rec-axis", tabindex: "0", role: "slider", "aria-label": t("rec.axis"),
    "aria-describedby": "rec-hint" });
  const tracks = h("div", { class: "rec-tracks" });
  const labels = h("div", { class: "rec-labels" });
  const nowLine = h("div", { class: "rec-line rec-now", "aria-hidden": "true", title: t("rec.now") });
  const playhead = h("div", { class: "rec-line rec-playhead", id: "rec-playhead", "aria-hidden": "true", hidden: true });
  const cursor = h("div", { class: "rec-line rec-cursor", "aria-hidden": "true" });
  const hover = h("div", { class: "rec-hover", "aria-hidden": "true", hidden: true }, h("span", { class: "local" }), h("span", { class: "utc" }));
  const lanes = h("div", { class: "rec-lanes", id: "rec-lanes" }, ruler, tracks, nowLine, playhead, cursor, hover);
  const timeline = h("div", { class: "rec-timeline", id: "rec-timeline", "data-state": "loading" },
    h("div", { class: "rec-labels-column" }, h("div", { class: "rec-corner" }, utcTimes ? "UTC" : zoneName()), labels), lanes);
  const pages = h("div", {});

  /** ms → % of the lanes' width. */
  const percent = (at) => ((at - view.from) / (view.to - view.from)) * 100;
  const placeSpan = (el, start, end) => {
    el.style.left = `${percent(start)}%`;
    el.style.width = `${Math.max(0, percent(end) - percent(start))}%`;
    return el;
  };
  const placeLine = (el, at) => {
    el.hidden = !(at >= view.from && at <= view.to);
    el.style.left = `${percent(at)}%`;
  };
  /** The time under a pointer's x. */
  const timeAt = (clientX) => {
    const box = lanes.getBoundingClientRect();
    return view.from + ((clientX - box.left) / Math.max(1, box.width)) * (view.to - view.from);
  };
  const msPerPixel = () => (view.to - view.from) / Math.max(1, lanes.clientWidth);

  /** A row of a source: its label and its track. */
  const rows = new Map();
  const buildRows = () => {
    rows.clear();
    labels.replaceChildren();
    tracks.replaceChildren();
    if (!items.length) {
      labels.append(h("div", { class: "rec-label" }, t("empty")));
      tracks.append(h("div", { class: "rec-track empty" }));
    }
    for (const item of items) {
      const label = h("div", { class: "rec-label", "data-source": item.source_id, title: `${item.name} (${item.path_name})` },
        // Out of the tab order: Tab goes from the axis to the rows, each named for its source.
        h("a", { href: `#/sources/${item.source_id}`, tabindex: "-1" }, item.name),
        h("span", { class: "meta" }, `${t(`kind.${item.type}`)} · ${item.node}`, item.record_enabled ? "" : ` · ${t("rec.notRecording")}`));
      const track = h("div", { class: "rec-track", "data-source": item.source_id, tabindex: "0", role: "button" });
      track.addEventListener("keydown", (event) => keys(event, item.source_id));
      track.addEventListener("focus", () => { selected = item.source_id; });
      labels.append(label);
      tracks.append(track);
      rows.set(item.source_id, { label, track });
    }
  };

  /** The selected range to export: {sourceId, from, to} (ms), drawn on its source's track. */
  const range = { sourceId: null, from: NaN, to: NaN };
  /** The source Enter on the axis plays: the row last focused, clicked or played. */
  let selected = null;

  const render = () => {
    const span = view.to - view.from;
    const width = lanes.clientWidth || 800;
    // The axis's marks and texts change with the view (the bars and lines below also move with the time).
    const shape = `${view.from} ${view.to} ${width} ${utcTimes}`;
    const moved = ruler.dataset.shape !== shape;
    ruler.dataset.shape = shape;
    if (moved) {
      // A mark too close to the right edge for its label keeps only its line.
      const room = 100 - (58 / width) * 100;
      ruler.replaceChildren(...ticks(view.from, view.to, width, width < 500 ? 60 : 90).map((tick) => {
        const mark = h("span", { class: `tick${tick.day ? " day" : ""}` }, percent(tick.at) < room ? tick.label : "");
        mark.style.left = `${percent(tick.at)}%`;
        return mark;
      }));
    }
    const center = (view.from + view.to) / 2;
    ruler.setAttribute("aria-valuemin", String(view.from));
    ruler.setAttribute("aria-valuemax", String(view.to));
    ruler.setAttribute("aria-valuenow", String(Math.round(center)));
    ruler.setAttribute("aria-valuetext", `${timeText(iso(center))} (${t("rec.showing")} ${duration(span / SECOND)})`);
    ruler.dataset.from = String(view.from);
    ruler.dataset.to = String(view.to);
    // The end's date only when it is another day than the start's.
    const sameDay = timeText(iso(view.from)).slice(0, 10) === timeText(iso(view.to)).slice(0, 10);
    if (moved) rangeText.replaceChildren(`${t("rec.showing")}: `, timeEl(view.from), " – ", timeEl(view.to, sameDay), " ",
      h("span", { class: "nowrap" }, `(${duration(span / SECOND)})`));
    const now = Date.now();
    for (const item of items) {
      const { track } = rows.get(item.source_id);
      const inView = item.sessions.filter((s) => sessionEnd(s) > view.from && s.startMs < view.to);
      // Status spans end now at the latest (the API ends a still open one at the end of the range asked for).
      const status = (kind, label) => (o) => {
        const end = Math.min(ms(o.end), now);
        return { key: `${kind} ${o.start}`, kind, start: ms(o.start), end,
          title: `${label}: ${timeText(o.start)} – ${end === now ? t("rec.now") : timeText(o.end)}` };
      };
      const parts = [
        ...item.offline.map(status("off", t("offline"))),
        ...item.online.map(status("on", t("live"))),
        ...inView.map((s) => ({ key: `session ${s.start}`, kind: `session${s.recording ? " live" : ""}`, start: s.startMs, end: sessionEnd(s),
          attributes: { "data-start": s.start, "data-end": s.end },
          title: `${timeText(s.start)} · ${duration((sessionEnd(s) - s.startMs) / SECOND)} · ${s.segment_count} ${t(s.segment_count === 1 ? "storage.segment" : "storage.segments")}${s.recording ? ` · ${t("rec")}` : ""}\n${timeTitle(s.start)}` })),
      ];
      if (range.sourceId === item.source_id && range.from < range.to) {
        parts.push({ key: "selection", kind: "selection", start: range.from, end: range.to,
          attributes: { id: "rec-selection", "data-from": String(range.from), "data-to": String(range.to) } });
      }
      // The elements drawn before are moved and kept (a redraw each second leaves no reference to them stale).
      const drawn = new Map([...track.children].map((el) => [el.dataset.key, el]));
      track.replaceChildren(...parts.map((part) => {
        const el = drawn.get(part.key) || h("span", { "data-key": part.key });
        el.className = part.kind;
        if (part.title) el.title = part.title;
        for (const [name, value] of Object.entries(part.attributes || {})) el.setAttribute(name, value);
        return placeSpan(el, part.start, part.end);
      }));
      track.dataset.sessions = String(inView.length);
      track.setAttribute("aria-label", `${item.name}: ${t("rec.inView")}: ${inView.length}. ${t("rec.track")}`);
      rows.get(item.source_id).label.classList.toggle("playing", player?.position()?.sourceId === item.source_id);
      track.classList.toggle("playing", player?.position()?.sourceId === item.source_id);
    }
    placeLine(nowLine, now);
    placeLine(cursor, center);
    const at = player?.position();
    placeLine(playhead, at?.at);
    if (!at) playhead.hidden = true;
  };

  // MARK: Reading the sessions (the visible range and as much again either side, so a pan shows bars at once)
  let fetchTurn = 0;
  let fetchTimer = null;
  const load = async () => {
    const mine = ++fetchTurn;
    timeline.dataset.state = "loading";
    const span = view.to - view.from;
    const params = new URLSearchParams(Object.entries({ ...filters, from: iso(view.from - span), to: iso(view.to + span), page, page_size: PAGE_SIZE })
      .filter(([, v]) => v !== ""));
    const answer = await api("GET", `/recordings/sessions?${params}`);
    if (mine !== fetchTurn) return;
    const ids = items.map((i) => i.source_id).join();
    items = answer.items.map((item) => ({ ...item, sessions: (item.sessions || []).map(session).sort((a, b) => a.startMs - b.startMs),
      online: item.online || [], offline: item.offline || [] }));
    byId.clear();
    for (const item of items) byId.set(item.source_id, item);
    if (items.map((i) => i.source_id).join() !== ids || !rows.size) buildRows();
    render();
    pages.replaceChildren(answer.total > answer.page_size ? pager(answer, (p) => hashFor({ page: p })) : "");
    timeline.dataset.state = "ready";
    timeline.dataset.loadedFrom = String(view.from);
    timeline.dataset.loadedTo = String(view.to);
  };
  const reload = (delay = 250) => {
    clearTimeout(fetchTimer);
    timeline.dataset.state = "loading";
    fetchTimer = setTimeout(() => load().catch(showError), delay);
  };

  /** Keeps the view in the address (without rendering the page anew), so a reload or a link shows the same range. */
  let addressTimer = null;
  const remember = () => {
    clearTimeout(addressTimer);
    addressTimer = setTimeout(() => { if (location.hash.startsWith("#/recordings")) history.replaceState(null, "", hashFor({ page: page > 1 ? page : "" })); }, 300);
  };
  const setView = (next) => {
    const fitted = fit(next.from, next.to);
    if (fitted.from === view.from && fitted.to === view.to) return;
    view = fitted;
    render();
    reload();
    remember();
  };
  /** Zooms by `factor` (< 1 in) keeping `anchor` where it is. */
  const zoom = (factor, anchor = (view.from + view.to) / 2) => {
    const span = view.to - view.from;
    const wanted = Math.min(MAX_SPAN, Math.max(MIN_SPAN, span * factor));
    const from = anchor - ((anchor - view.from) / span) * wanted;
    setView({ from, to: from + wanted });
  };
  /** Pans by `fraction` of the visible span (< 0 earlier). */
  const pan = (fraction) => {
    const by = (view.to - view.from) * fraction;
    setView({ from: view.from + by, to: view.to + by });
  };
  const toNow = () => {
    const span = view.to - view.from;
    const end = Date.now() + span * 0.05;
    setView({ from: end - span, to: end });
  };

  // MARK: Playing
  const player = recordingPlayer({
    lookup,
    onPosition(at, sourceId) {
      placeLine(playhead, at);
      if (at == null) playhead.hidden = true;
      for (const [id, row] of rows) {
        row.track.classList.toggle("playing", id === sourceId);
        row.label.classList.toggle("playing", id === sourceId);
      }
    },
  });
  const play = (sourceId, at, options) => {
    selected = sourceId;
    player.play(sourceId, at, options).catch(showError);
    // The player into view when none of it shows (a phone), else the timeline stays where it is, under the pointer.
    const panel = document.getElementById("rec-player-panel");
    if (panel && panel.getBoundingClientRect().top > window.innerHeight - 40) panel.scrollIntoView({ block: "start" });
  };
  /** Enter: the row's source (on the axis, the selected one, else the first recorded at the cursor, else the first
   * recording after it) from the cursor, or from the next recording after it. */
  const playAtCursor = (sourceId) => {
    const center = (view.from + view.to) / 2;
    let id = sourceId || selected;
    if (!id) {
      const at = items.find((i) => locate(i.sessions, center));
      const after = items.map((i) => [i, locate(i.sessions, center, { direction: 1 })]).filter(([, p]) => p).sort((a, b) => a[1].ms - b[1].ms)[0];
      id = (at || after?.[0] || items[0])?.source_id;
    }
    if (id) play(id, center, { direction: 1 });
  };

  // MARK: Keys, pointer, wheel, pinch
  const keys = (event, sourceId) => {
    const k = event.key;
    if (k === "ArrowLeft" || k === "ArrowRight") pan((k === "ArrowLeft" ? -1 : 1) * (event.shiftKey ? 0.5 : 0.1));
    else if (k === "+" || k === "=" || k === "Add") zoom(0.5);
    else if (k === "-" || k === "_" || k === "Subtract") zoom(2);
    else if (k === "End") toNow();
    else if (k === "Enter" || k === " ") playAtCursor(sourceId);
    else return;
    event.preventDefault();
  };
  ruler.addEventListener("keydown", (event) => keys(event, null));

  const pointers = new Map();
  /** What the pointer(s) do: {kind: "pan" | "select" | "pinch", ...}. */
  let gesture = null;
  const trackOf = (target) => target.closest?.(".rec-track[data-source]");
  lanes.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    lanes.setPointerCapture?.(event.pointerId);
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      gesture = { kind: "pinch", distance: Math.max(10, Math.abs(a.x - b.x)), view: { ...view }, anchor: timeAt((a.x + b.x) / 2), moved: true };
      return;
    }
    const track = trackOf(event.target);
    gesture = event.shiftKey && track
      ? { kind: "select", sourceId: track.dataset.source, start: timeAt(event.clientX), x: event.clientX, moved: false }
      : { kind: "pan", x: event.clientX, view: { ...view }, track: track?.dataset.source, moved: false };
    if (gesture.kind === "select") event.preventDefault();
  });
  lanes.addEventListener("pointermove", (event) => {
    if (event.pointerType === "mouse" && !pointers.size) {
      const at = timeAt(event.clientX);
      hover.hidden = false;
      hover.style.left = `${percent(at)}%`;
      hover.classList.toggle("flip", percent(at) > 70);
      hover.querySelector(".local").textContent = timeText(iso(at));
      hover.querySelector(".utc").textContent = timeTitle(iso(at));
    }
    if (!pointers.has(event.pointerId) || !gesture) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (gesture.kind === "pinch" && pointers.size >= 2) {
      const [a, b] = [...pointers.values()];
      const distance = Math.max(10, Math.abs(a.x - b.x));
      const span = Math.min(MAX_SPAN, Math.max(MIN_SPAN, (gesture.view.to - gesture.view.from) * (gesture.distance / distance)));
      const box = lanes.getBoundingClientRect();
      const middle = ((a.x + b.x) / 2 - box.left) / Math.max(1, box.width);
      const from = gesture.anchor - middle * span;
      setView({ from, to: from + span });
      return;
    }
    if (Math.abs(event.clientX - gesture.x) > CLICK) gesture.moved = true;
    if (!gesture.moved) return;
    if (gesture.kind === "pan") {
      const by = ((event.clientX - gesture.x) / Math.max(1, lanes.clientWidth)) * (gesture.view.to - gesture.view.from);
      setView({ from: gesture.view.from - by, to: gesture.view.to - by });
      lanes.classList.add("dragging");
    } else if (gesture.kind === "select") {
      const at = timeAt(event.clientX);
      setRange(gesture.sourceId, Math.min(gesture.start, at), Math.max(gesture.start, at));
    }
  });
  const release = (event) => {
    if (!pointers.delete(event.pointerId)) return;
    const done = gesture;
    if (pointers.size) return; // a pinch goes on until every finger is up
    gesture = null;
    lanes.classList.remove("dragging");
    if (!done || done.moved || event.type === "pointercancel") return;
    // A click: on a row, play from there (a few pixels before a narrow bar count as its start); on the axis, centre it.
    const at = timeAt(event.clientX);
    if (done.kind === "pan" && done.track) play(done.track, at, { tolerance: 4 * msPerPixel() });
    else if (done.kind === "pan") setView({ from: at - (view.to - view.from) / 2, to: at + (view.to - view.from) / 2 });
  };
  lanes.addEventListener("pointerup", release);
  lanes.addEventListener("pointercancel", release);
  lanes.addEventListener("pointerleave", () => { hover.hidden = true; });
  lanes.addEventListener("wheel", (event) => {
    event.preventDefault();
    const horizontal = Math.abs(event.deltaX) > Math.abs(event.deltaY);
    if (horizontal || event.shiftKey) pan((horizontal ? event.deltaX : event.deltaY) / Math.max(1, lanes.clientWidth));
    else zoom(Math.exp(Math.max(-200, Math.min(200, event.deltaY)) * 0.004), timeAt(event.clientX));
  }, { passive: false });

  // MARK: The toolbar
  const tool = (id, key, action, label) => h("button", { type: "button", class: "secondary", id, title: t(label || key), "aria-label": t(label || key), onclick: action }, t(key));
  const toolbar = h("div", { class: "row rec-toolbar", role: "toolbar", "aria-label": t("rec.tools") },
    tool("rec-earlier", "rec.earlierShort", () => pan(-0.5), "rec.earlier"),
    tool("rec-zoom-out", "rec.zoomOutShort", () => zoom(2), "rec.zoomOut"),
    tool("rec-zoom-in", "rec.zoomInShort", () => zoom(0.5), "rec.zoomIn"),
    tool("rec-later", "rec.laterShort", () => pan(0.5), "rec.later"),
    tool("rec-now", "rec.nowButton", toNow),
    h("span", { class: "rec-presets" }, [[`1 ${t("unit.min")}`, MINUTE], [`1 ${t("unit.h")}`, HOUR], [`24 ${t("unit.h")}`, DAY]].map(([text, span]) =>
      h("button", { type: "button", class: "secondary preset", "data-span": String(span), onclick: () => zoom(span / (view.to - view.from)) }, text))));

  // MARK: Export and clips
  const startField = h("input", { type: "datetime-local", step: "0.001", id: "rec-range-start" });
  const endField = h("input", { type: "datetime-local", step: "0.001", id: "rec-range-end" });
  const rangeSource = h("strong", { id: "rec-range-source" }, "—");
  const rangeLength = h("p", { id: "rec-range-length", class: "hint" });
  const download = h("p", { id: "rec-download-line" });
  const clipName = h("input", { id: "rec-clip-name", maxlength: 255, required: true });
  const clipResult = h("p", { role: "status", id: "rec-clip-result" });
  const markStart = h("button", { type: "button", class: "secondary", id: "rec-mark-start", disabled: true }, t("clip.markStart"));
  const markEnd = h("button", { type: "button", class: "secondary", id: "rec-mark-end", disabled: true }, t("clip.markEnd"));
  const exportButton = h("button", { type: "button", id: "rec-export", disabled: true }, t("export.link"));
  const clipButton = h("button", { type: "submit", id: "rec-save-clip", disabled: true }, t("export.saveClip"));

  /** The part of the range that can be exported: from the first recording in it up to its session's end (MediaMTX
   * stops at a gap), or null when nothing is recorded in it. */
  const exportable = () => {
    const item = lookup(range.sourceId);
    if (!item || !(range.from < range.to)) return null;
    const s = item.sessions.find((x) => sessionEnd(x) > range.from && x.startMs < range.to);
    if (!s) return null;
    const start = range.from <= s.startMs ? { ms: s.startMs, iso: s.start } : { ms: range.from, iso: iso(range.from) };
    const end = Math.min(range.to, sessionEnd(s));
    return { start, seconds: Math.round(end - start.ms) / SECOND, trimmed: end < range.to || range.from < s.startMs };
  };
  const showRange = () => {
    const item = lookup(range.sourceId);
    rangeSource.textContent = item ? item.name : "—";
    const part = exportable();
    rangeLength.textContent = !(range.from < range.to) ? t("export.noRange")
      : part ? `${t("export.length")}: ${duration(part.seconds)}${part.trimmed ? ` ${t("export.trimmed")}` : ""}` : t("export.none");
    rangeLength.dataset.seconds = part ? String(part.seconds) : "";
    exportButton.disabled = clipButton.disabled = !part;
    download.replaceChildren();
  };
  /** Sets the range (ms) of `sourceId`, in the fields and on its track. */
  function setRange(sourceId, from, to) {
    range.sourceId = sourceId;
    range.from = from;
    range.to = to;
    startField.value = Number.isFinite(from) ? fieldValue(from) : "";
    endField.value = Number.isFinite(to) ? fieldValue(to) : "";
    showRange();
    render();
  }
  const fromField = (input) => ms(fromInputTime(input.value));
  for (const input of [startField, endField]) {
    input.addEventListener("change", () => {
      range.from = fromField(startField);
      range.to = fromField(endField);
      if (!range.sourceId) range.sourceId = player.position()?.sourceId || selected;
      showRange();
      render();
    });
  }
  const mark = (which) => {
    const at = player.position();
    if (!at) return;
    if (range.sourceId !== at.sourceId) setRange(at.sourceId, NaN, NaN);
    if (which === "start") setRange(at.sourceId, at.at, range.to > at.at ? range.to : NaN);
    else setRange(at.sourceId, range.from < at.at ? range.from : NaN, at.at);
  };
  markStart.addEventListener("click", () => mark("start"));
  markEnd.addEventListener("click", () => mark("end"));
  exportButton.addEventListener("click", () => attempt(async () => {
    const part = exportable();
    if (!part) return;
    const answer = await api("GET", `/sources/${range.sourceId}/playback?${new URLSearchParams({ start: part.start.iso, duration: part.seconds.toFixed(3), format: "mp4" })}`);
    download.replaceChildren(h("a", { href: answer.url, id: "rec-download", download: "", target: "_blank", rel: "noopener",
      "data-start": answer.start, "data-duration": String(answer.duration) }, `${t("export.download")} (${duration(answer.duration)})`));
  }));
  const clipForm = h("form", { class: "inline rec-clip", id: "rec-clip-form" },
    field(t("export.clipName"), clipName), clipButton);
  clipForm.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const part = exportable();
      if (!part) return;
      const item = lookup(range.sourceId);
      // Clips hang on a stream asset of the source: its first, or a new one named as the source.
      const assets = await api("GET", `/assets?${new URLSearchParams({ source_id: item.source_id, source_type: "live", page_size: 1 })}`);
      const parent = assets.items[0] || await api("POST", "/assets", { name: item.name, source_id: item.source_id });
      const clip = await api("POST", `/assets/${parent.id}/clips`, { name: clipName.value, start: part.start.iso, duration: part.seconds, format: "mp4" });
      clipResult.replaceChildren(`${t("clip.created")} `, h("a", { href: `#/assets/${clip.id}`, id: "rec-clip-link" }, clip.name));
    });
  });
  const exportPanel = h("div", { class: "panel rec-export-panel", id: "rec-export-panel" },
    h("h2", {}, t("export.title")),
    h("p", { class: "hint" }, t("export.hint")),
    h("p", {}, `${t("export.source")}: `, rangeSource),
    h("div", { class: "rec-range-fields" },
      field(`${t("export.start")} (${zoneLabel()})`, startField), markStart,
      field(`${t("export.end")} (${zoneLabel()})`, endField), markEnd),
    rangeLength,
    h("div", { class: "row" }, exportButton, download),
    operates ? clipForm : null, operates ? clipResult : null);
  // The mark buttons work once something plays.
  const enableMarks = new MutationObserver(() => {
    markStart.disabled = markEnd.disabled = !player.position();
  });
  enableMarks.observe(player.panel.querySelector("#rec-player"), { attributes: true, attributeFilter: ["data-position"] });

  // MARK: Live: the now line moves, and with it what is still recording or online; new segments and status changes are
  // read again
  const clockTimer = setInterval(() => {
    const now = Date.now();
    if (now >= view.from && now - view.to < SECOND * 2 && !gesture) render();
    else placeLine(nowLine, now);
  }, SECOND);
  const events = liveEvents((kind) => {
    if (["segment-create", "segment-complete", "online", "offline", "available", "unavailable"].includes(kind)) reload(1000);
  });
  const resize = new ResizeObserver(() => render());
  resize.observe(lanes);
  onLeave(() => {
    clearInterval(clockTimer);
    clearTimeout(fetchTimer);
    clearTimeout(addressTimer);
    events.close();
    resize.disconnect();
    enableMarks.disconnect();
    player.close();
  });

  await load();
  showRange();
  return h("section", { class: "rec-page", id: "recordings-page" },
    h("h1", {}, t("rec.title")),
    h("div", { class: "rec-filters" }, search, tag, type, node),
    h("div", { class: "rec-bar" }, toolbar, rangeText),
    timeline,
    h("div", { class: "rec-below" },
      h("p", { class: "rec-legend", "aria-hidden": "true" },
        h("span", { class: "key session" }), t("rec.legendRecorded"), h("span", { class: "key on" }), t("live"),
        h("span", { class: "key off" }), t("offline"), h("span", { class: "key now" }), t("rec.now"),
        h("span", { class: "key playhead" }), t("player.position")),
      h("p", { class: "hint", id: "rec-hint" }, t("rec.hint"))),
    pages,
    h("div", { class: "grid rec-grid" }, player.panel, exportPanel));
}

/** A view of at least a minute and at most a day, reaching at most half of itself past now. */
function fit(from, to) {
  const span = Math.min(MAX_SPAN, Math.max(MIN_SPAN, to - from));
  const center = (from + to) / 2;
  let start = center - span / 2;
  const latest = Date.now() + span / 2;
  if (start + span > latest) start = latest - span;
  return { from: Math.round(start), to: Math.round(start) + Math.round(span) };
}

/** A time as a <time> element, the other zone on hover; `short` leaves the date out. */
const timeEl = (at, short = false) => {
  const el = document.createElement("time");
  el.dateTime = iso(at);
  el.title = timeTitle(iso(at));
  el.textContent = short ? timeText(iso(at)).slice(11) : timeText(iso(at));
  return el;
};
