// The panels of a live stream, shared by source and asset details: status with the recording switch, the live
// preview (WebRTC), a day's recordings timeline (play from a moment; for assets, cut clips), segments, event history.
import { api, liveEvents } from "./api.js";
import { attempt, field, h, onLeave, showError, table, tagList } from "./dom.js";
import { bytes, duration, timeText, when } from "./format.js";
import { t } from "./i18n.js";
import { playWHEP } from "./whep.js";

const DAY = 86400000;

/** A source's stream endpoints. */
export function sourceStream(id) {
  const base = `/sources/${id}`;
  return { preview: `${base}/preview`, status: `${base}/status`, record: `${base}/record`, files: `${base}/record/files`,
    sessions: `${base}/record/sessions`, playback: `${base}/playback`, events: `${base}/events` };
}

/** A live stream asset's: its own, and its source's for sessions and events, which the asset routes do not repeat. */
export function assetStream(asset) {
  const base = `/assets/${asset.id}`;
  return { ...sourceStream(asset.source_id), preview: `${base}/preview`, status: `${base}/stream/status`, record: `${base}/stream/record`,
    files: `${base}/stream/recordings`, playback: `${base}/stream/playback`, clips: `${base}/clips` };
}

/** Every panel of a stream; `reload` renders the page anew after recording is switched. */
export async function streamPanels(stream, reload) {
  const [status, recording, preview] = await Promise.all([api("GET", stream.status), api("GET", `${stream.record}/status`), api("GET", stream.preview)]);
  const dot = h("span", { class: `dot ${status.ready ? "live" : ""}`, id: "status-dot", "data-live": String(!!status.ready) });
  const state = h("span", {}, status.ready ? t("live") : t("offline"));
  const readers = h("span", { id: "status-readers" }, String(status.readers ?? 0));
  const rec = h("span", { class: "rec", hidden: !recording.recording }, t("rec"));
  const record = (on) => h("button", { type: "button", class: on ? null : "secondary", onclick: () => attempt(async () => {
    await api("POST", `${stream.record}/${on ? "start" : "stop"}`);
    reload();
  }) }, t(on ? "detail.record.start" : "detail.record.stop"));
  const statusPanel = h("div", { class: "panel", id: "status-panel" }, h("h2", {}, t("detail.status")),
    h("p", {}, dot, " ", state),
    h("p", {}, `${t("col.readers")}: `, readers),
    status.tracks?.length ? h("p", {}, `${t("detail.tracks")}: ${status.tracks.join(", ")}`) : null,
    h("p", {}, `${t("col.recording")}: ${recording.record_enabled ? t("yes") : t("no")} `, rec),
    record(!recording.record_enabled));
  const history = await eventHistory(stream.events);
  const segments = h("div", { id: "segments-panel" });
  const listSegments = async () => {
    const files = await api("GET", `${stream.files}?page_size=50`);
    segments.replaceChildren(h("h2", {}, t("detail.segments")), table("segments", ["col.start", "col.duration", "col.size", "col.state"],
      files.items.map((f) => h("tr", {}, h("td", { class: "start" }, when(f.start)),
        h("td", { class: "duration" }, f.duration != null ? duration(f.duration) : ""), h("td", { class: "size", title: f.size != null ? `${f.size} B` : null }, f.size != null ? bytes(f.size) : ""),
        h("td", { "data-state": f.state }, t(`state.${f.state}`))))));
  };
  await listSegments();
  // Status, segments and history change in place as the index reports the path's events (in the background: an
  // error message on the page stays).
  const showLive = (status) => {
    const live = !!status?.ready;
    dot.classList.toggle("live", live);
    dot.dataset.live = String(live);
    state.textContent = live ? t("live") : t("offline");
    readers.textContent = String(status?.readers ?? 0);
  };
  // At each (re)connection of the live stream, everything it would have told is read again.
  const catchUp = () => {
    history.refresh();
    listSegments().catch(showError);
    Promise.all([api("GET", stream.status), api("GET", `${stream.record}/status`)]).then(([fresh, recorded]) => {
      showLive(fresh);
      rec.hidden = !recorded.recording;
    }).catch(showError);
  };
  const events = liveEvents((type, event) => {
    if (event.path_name !== preview.path_name) return;
    showLive(event.status);
    // A segment being written means recording; it ends with the segment or the stream.
    if (type === "segment-create") rec.hidden = false;
    if (type === "segment-complete" || type === "unavailable") rec.hidden = true;
    if (type.startsWith("segment-")) listSegments().catch(showError);
    history.refresh();
  }, catchUp);
  onLeave(() => events.close());
  return [
    h("div", { class: "grid" }, statusPanel, previewPanel(stream, preview)),
    await timeline(stream),
    segments,
    history.panel,
  ];
}

/** MediaMTX's WHEP endpoint played in the page on request; its own player page when that fails. */
function previewPanel(stream, preview) {
  const video = h("video", { id: "preview", autoplay: true, muted: true, playsinline: true, controls: true });
  const message = h("p", { id: "preview-message", role: "status" });
  const button = h("button", { type: "button", id: "preview-start" }, t("preview.start"));
  let stop = null;
  onLeave(() => stop?.());
  button.addEventListener("click", async () => {
    if (stop) {
      stop();
      stop = null;
      button.textContent = t("preview.start");
      return;
    }
    button.disabled = true;
    message.replaceChildren(t("preview.connecting"));
    let urls = preview;
    try {
      urls = await api("GET", stream.preview); // a fresh read token: the page may have been open longer than one lasts
      stop = await playWHEP(urls.webrtc_url, video);
      button.textContent = t("preview.stop");
      message.replaceChildren();
    } catch (error) {
      message.replaceChildren(`${t("preview.failed")} (${error.message}). `,
        h("a", { href: urls.webrtc_player_url, target: "_blank", rel: "noopener", id: "preview-fallback" }, t("detail.player")));
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "panel", id: "preview-panel" }, h("h2", {}, t("detail.preview")), button, message, video,
    h("p", {}, "HLS: ", h("code", { class: "url" }, preview.hls_url)));
}

/** The path's hook events, newest first, 20 at a time; `refresh` merges the newest in. */
async function eventHistory(url) {
  const shown = new Map();
  const body = h("tbody");
  const older = h("button", { type: "button", class: "secondary", id: "events-older" }, t("events.older"));
  const detail = (d = {}) => [d.source_type, d.reader_type, d.segment_path?.split("/").pop(), d.segment_duration != null ? duration(d.segment_duration) : null]
    .filter(Boolean).join(" · ");
  let newestFirst = [];
  /** The 20 events before `before`, or the newest 20. */
  const load = async (before) => {
    const page = await api("GET", `${url}?limit=20${before ? `&before=${encodeURIComponent(before)}` : ""}`);
    for (const event of page.items) shown.set(event.event_id, event);
    if (before || !newestFirst.length) older.hidden = page.items.length < 20;
    newestFirst = [...shown.values()].sort((a, b) => (a.occurred_at < b.occurred_at ? 1 : -1));
    body.replaceChildren(...(newestFirst.length ? newestFirst.map((e) => h("tr", { "data-type": e.type },
      h("td", {}, when(e.occurred_at)), h("td", {}, t(`event.${e.type}`)), h("td", {}, detail(e.data)))) : [h("tr", {}, h("td", { colspan: 3 }, t("empty")))]));
  };
  await load();
  older.addEventListener("click", () => attempt(() => load(newestFirst.at(-1).occurred_at)));
  const panel = h("div", { class: "panel", id: "events-panel" }, h("h2", {}, t("events.title")),
    h("div", { class: "scroll" }, h("table", { id: "events" },
      h("thead", {}, h("tr", {}, ["col.time", "col.event", "col.detail"].map((k) => h("th", {}, t(k))))), body)), older);
  return { panel, refresh: () => load().catch(showError) };
}

/** Puts `el` on the 24 h axis at `second` of the day, `seconds` wide (at least visible); the page's CSP allows no
 * inline style attributes, only the style object. */
function place(el, second, seconds) {
  el.style.left = `${Math.max(0, second / 864)}%`;
  if (seconds !== undefined) el.style.width = `${Math.max(0.15, seconds / 864)}%`;
  return el;
}

/** A day's recording sessions as bars on a 24 h axis (UTC). A click on the axis, Enter on it, or a time typed in plays
 * from that moment in the page; where the stream takes clips, the moment also starts the clip. */
async function timeline(stream, day = new Date().toISOString().slice(0, 10)) {
  const from = new Date(`${day}T00:00:00Z`);
  const sessions = (await api("GET", `${stream.sessions}?from=${from.toISOString()}&to=${new Date(+from + DAY).toISOString()}`)).items;
  const picker = h("input", { type: "date", id: "timeline-day", value: day });
  const time = h("input", { type: "time", id: "timeline-time", step: "0.001", required: true });
  const axis = h("div", { class: "axis", id: "timeline", role: "button", tabindex: "0", "aria-label": t("timeline.hint"), title: t("timeline.hint") });
  const video = h("video", { id: "player", controls: true, preload: "none" });
  for (const hour of [0, 6, 12, 18]) {
    axis.append(place(h("span", { class: "hour" }, `${String(hour).padStart(2, "0")}:00`), hour * 3600));
  }
  for (const s of sessions) {
    axis.append(place(h("span", { class: "session", title: `${timeText(s.start)} · ${duration(s.duration)} · ${s.segment_count} ${t(s.segment_count === 1 ? "storage.segment" : "storage.segments")}` }), (new Date(s.start) - from) / 1000, s.duration));
  }
  const moment = (value) => new Date(`${day}T${value}Z`);
  // The start to ask the API for: a moment inside a recording stays; one beside a session (bars are wider than short
  // recordings, and JavaScript times stop at milliseconds where recordings start on microseconds) is its exact start.
  const resolve = (at) => {
    const inside = sessions.some((s) => at > new Date(s.start) && at < new Date(+new Date(s.start) + s.duration * 1000));
    const near = sessions.find((s) => Math.abs(new Date(s.start) - at) < DAY / 200);
    return !inside && near ? near.start : at.toISOString();
  };
  const clip = stream.clips ? clipForm(stream, { axis, video, from, moment, resolve }) : null;
  const play = (start) => attempt(async () => {
    time.value = start.slice(11, 23);
    const answer = await api("GET", `${stream.playback}?start=${encodeURIComponent(start)}&format=mp4`);
    video.src = answer.url;
    video.dataset.start = answer.start;
    video.play().catch(() => {});
    clip?.started(start);
  });
  axis.addEventListener("click", (event) => {
    // Bars are placed inside the axis's border, so the click is measured from there too.
    const left = axis.getBoundingClientRect().left + axis.clientLeft;
    play(resolve(new Date(+from + ((event.clientX - left) / axis.clientWidth) * DAY)));
  });
  axis.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && sessions.length) {
      event.preventDefault();
      play(sessions[0].start);
    }
  });
  const goto = h("form", { class: "inline", id: "timeline-goto" }, field(t("timeline.time"), time), h("button", { type: "submit" }, t("timeline.play")));
  goto.addEventListener("submit", (event) => {
    event.preventDefault();
    play(resolve(moment(time.value)));
  });
  const panel = h("div", { class: "panel", id: "timeline-panel" }, h("h2", {}, t("timeline.title")),
    h("div", { class: "row" }, field(t("timeline.day"), picker), h("span", {}, `${sessions.length} ${t("timeline.sessions")}`)),
    h("p", { class: "hint" }, t("timeline.hint")), axis, goto, video, clip?.form);
  picker.addEventListener("change", () => attempt(async () => panel.replaceWith(await timeline(stream, picker.value))));
  return panel;
}

/** A clip (a vod asset) of the recordings: its start from a click on the timeline or the player's position, its end
 * from the player's position or a duration; the range is drawn on the axis. */
function clipForm(stream, { axis, video, from, moment, resolve }) {
  const start = h("input", { type: "time", step: "0.001", id: "clip-start", required: true });
  const length = h("input", { type: "number", id: "clip-duration", min: "0.001", max: "86400", step: "any", value: "10", required: true });
  const selection = h("span", { class: "selection", hidden: true });
  axis.append(selection);
  const draw = () => {
    selection.hidden = !start.value;
    if (start.value) place(selection, (moment(start.value) - from) / 1000, Number(length.value));
  };
  start.addEventListener("input", draw);
  length.addEventListener("input", draw);
  const position = () => new Date(+new Date(video.dataset.start) + video.currentTime * 1000);
  const mark = (key, set) => h("button", { type: "button", class: "secondary", disabled: true, onclick: () => { set(position()); draw(); } }, t(key));
  const markStart = mark("clip.markStart", (at) => { start.value = at.toISOString().slice(11, 23); });
  const markEnd = mark("clip.markEnd", (at) => { length.value = ((at - moment(start.value)) / 1000).toFixed(3); });
  const result = h("p", { role: "status" });
  const form = h("form", { id: "clip-form" }, h("h3", {}, t("clip.title")), h("p", { class: "hint" }, t("clip.hint")),
    field(t("new.name"), h("input", { name: "name", id: "clip-name", required: true, maxlength: 255 })),
    h("div", { class: "row" }, field(t("clip.start"), start), field(t("clip.duration"), length)),
    h("div", { class: "row" }, markStart, markEnd),
    field(t("assets.tags"), h("input", { name: "tags" })),
    h("button", { type: "submit" }, t("clip.create")), result);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const data = new FormData(form);
      const asset = await api("POST", stream.clips, { name: data.get("name"), start: resolve(moment(start.value)), duration: Number(length.value),
        tags: tagList(data.get("tags")), format: "mp4" });
      result.replaceChildren(`${t("clip.created")} `, h("a", { href: `#/assets/${asset.id}`, id: "created-clip" }, asset.name));
    });
  });
  return {
    form,
    /** A recording plays from `iso`: the clip starts there, and the player's position can mark either end. */
    started(iso) {
      start.value = iso.slice(11, 23);
      markStart.disabled = markEnd.disabled = false;
      draw();
    },
  };
}
