// The Recordings page's player. MediaMTX's playback `/get` serves one MP4 per request, joining the segments from a
// start for a duration; the player asks the API for spans of up to a minute (localStorage.playbackSpan overrides it,
// in seconds) and plays them back to back without a visible stop: two <video> elements, the next span loading in the
// hidden one while the current plays, swapped in when the current ends (double buffering). Gaps between recording
// sessions are skipped. The position (absolute time, in ms) is in the container's data-position attribute.
import { api, APIError } from "./api.js";
import { h } from "./dom.js";
import { timeText, timeTitle } from "./format.js";
import { t } from "./i18n.js";
import { SECOND, iso, sessionEnd } from "./timeline.js";

export const SPEEDS = [0.5, 1, 1.5, 2, 4, 8];
/** The next span starts loading when the current has this little left to play (wall-clock milliseconds). */
const AHEAD = 20 * SECOND;

/** Seconds asked per span: 60, or localStorage.playbackSpan (0.5 s to an hour). */
export function spanSeconds() {
  const value = Number(localStorage.getItem("playbackSpan"));
  return Number.isFinite(value) && value >= 0.5 ? Math.min(value, 3600) : 60;
}

/** Where to play `at` (ms) of `sessions`: {ms, iso, session}, or null when nothing is recorded there. Within
 * `tolerance` ms before a session (a click beside a narrow bar), its start. Outside every session, `direction` > 0 or
 * < 0 takes the start of the next session after `at` (a jump into a gap goes on to the recording that follows, a jump
 * back before a session's start clamps to it). The API takes a session's start to the microsecond, as it says it. */
export function locate(sessions, at, { tolerance = 0, direction = 0 } = {}) {
  for (const s of sessions) {
    if (at >= s.startMs - tolerance && at < sessionEnd(s)) {
      return at <= s.startMs ? { ms: s.startMs, iso: s.start, session: s } : { ms: at, iso: iso(at), session: s };
    }
  }
  if (direction) {
    const next = sessions.find((s) => s.startMs > at);
    if (next) return { ms: next.startMs, iso: next.start, session: next };
  }
  return null;
}

/** `lookup(sourceId)`: the source's item as the page last read it ({source_id, name, sessions: [...]}), so spans
 * follow recordings as they grow. `onPosition(ms | null, sourceId)` runs as the position moves. */
export function recordingPlayer({ lookup, onPosition }) {
  const videos = [0, 1].map(() => h("video", { class: "rec-video standby", playsinline: true, preload: "auto" }));
  const box = h("div", { class: "rec-player", id: "rec-player", "data-state": "idle", "data-spans": "0" }, videos,
    h("p", { class: "rec-idle", id: "rec-idle" }, t("player.idle")));
  const message = h("p", { class: "rec-message", id: "rec-message", role: "alert", hidden: true });
  const title = h("p", { class: "rec-playing", id: "rec-playing" });
  const position = h("time", { id: "rec-position" }, "—");
  const toggle = h("button", { type: "button", id: "rec-toggle", disabled: true }, t("player.play"));
  const back = h("button", { type: "button", class: "secondary", id: "rec-back", disabled: true, "aria-label": t("player.backLabel") }, t("player.back"));
  const forward = h("button", { type: "button", class: "secondary", id: "rec-forward", disabled: true, "aria-label": t("player.forwardLabel") }, t("player.forward"));
  const speed = h("select", { id: "rec-speed", "aria-label": t("player.speed") },
    SPEEDS.map((s) => h("option", { value: String(s), selected: s === 1 }, `${s}×`)));

  let sourceId = null;
  /** The span playing: {video, startMs, duration (s), session}. */
  let current = null;
  /** The span after it: {pending: Promise}, then {video, startMs, duration, session} or {none} or {failed}. */
  let next = null;
  /** Counts the player's starts: answers for an earlier one are dropped. */
  let turn = 0;
  let spans = 0;

  const setState = (state) => { box.dataset.state = state; };
  const say = (key) => {
    message.textContent = key ? t(key) : "";
    message.hidden = !key;
    message.dataset.key = key || "";
  };
  const rate = () => Number(speed.value);
  const other = (video) => videos[1 - videos.indexOf(video)];
  const clear = (video) => {
    video.pause();
    video.removeAttribute("src");
    video.load();
  };
  const show = (video) => {
    for (const v of videos) {
      v.classList.toggle("standby", v !== video);
      v.classList.toggle("active", v === video);
    }
  };
  const now = () => (current ? current.startMs + current.video.currentTime * SECOND : null);

  /** Starts `video`; a browser that refuses sound without a click in the page plays it muted. */
  const start = (video) => {
    video.defaultPlaybackRate = video.playbackRate = rate();
    video.play().catch((error) => {
      if (error?.name === "NotAllowedError" && !video.muted) {
        video.muted = true;
        video.play().catch(() => {});
      }
    });
  };

  /** Asks the API for the span from `at` ({ms, iso, session}): up to spanSeconds(), not past the end of a finished
   * session. */
  const request = async (at) => {
    const left = at.session.recording ? Infinity : (at.session.endMs - at.ms) / SECOND;
    const seconds = Math.max(0.001, Math.min(spanSeconds(), left));
    const answer = await api("GET", `/sources/${sourceId}/playback?${new URLSearchParams({ start: at.iso, duration: seconds.toFixed(3), format: "fmp4" })}`);
    return { url: answer.url, startMs: at.ms, duration: Math.min(seconds, answer.duration || seconds), session: at.session };
  };

  /** Where the span after `span` starts: in the same session, else the next session's start; null at the end. */
  const following = (span) => {
    const item = lookup(sourceId);
    if (!item) return null;
    const end = span.startMs + span.duration * SECOND;
    const at = locate(item.sessions, end, { direction: 1 });
    // Not past what exists yet (a session still recording).
    return at && at.ms < sessionEnd(at.session) - 100 ? at : null;
  };

  /** Starts loading the next span in the hidden <video>. */
  const prepare = () => {
    if (next || !current) return;
    const mine = turn;
    const span = current;
    const at = following(span);
    if (!at) {
      next = { none: true, pending: Promise.resolve() };
      return;
    }
    const video = other(span.video);
    next = { pending: null };
    next.pending = request(at).then((answer) => {
      if (mine !== turn) return;
      video.muted = span.video.muted;
      video.src = answer.url;
      video.load();
      Object.assign(next, answer, { video });
    }, (error) => {
      if (mine !== turn) return;
      next.failed = error;
    });
  };

  /** The current span ended: the next one is shown and played. */
  const advance = async () => {
    if (!current) return;
    const mine = turn;
    if (!next) prepare();
    await next.pending;
    if (mine !== turn) return;
    if (next.none) {
      setState("ended");
      say("player.end");
      toggle.textContent = t("player.play");
      return;
    }
    if (next.failed || next.mediaError) {
      fail(next.failed);
      return;
    }
    const old = current.video;
    current = { video: next.video, startMs: next.startMs, duration: next.duration, session: next.session };
    next = null;
    spans += 1;
    box.dataset.spans = String(spans);
    box.dataset.spanStart = String(Math.round(current.startMs));
    show(current.video);
    start(current.video);
    clear(old);
    update();
  };

  /** A span that cannot be played: the recording is missing there (deleted, or not on the node), or nothing was
   * recorded; another error is the API's own message. */
  const fail = (error) => {
    setState("error");
    toggle.textContent = t("player.play");
    if (!error || (error instanceof APIError && (error.status === 404 || error.code === "no_recording"))) say("player.missing");
    else {
      message.textContent = error.message;
      message.hidden = false;
      message.dataset.key = "";
    }
  };

  for (const video of videos) {
    video.addEventListener("ended", () => { if (video === current?.video) advance(); });
    video.addEventListener("error", () => {
      if (!video.getAttribute("src")) return;
      if (video === current?.video) fail(null);
      else if (next && video === next.video) next.mediaError = true;
    });
    video.addEventListener("playing", () => {
      if (video !== current?.video) return;
      setState("playing");
      toggle.textContent = t("player.pause");
      say(null);
    });
    video.addEventListener("pause", () => {
      if (video !== current?.video || video.ended || video.error || box.dataset.state === "error") return;
      setState("paused");
      toggle.textContent = t("player.play");
    });
    video.addEventListener("timeupdate", () => { if (video === current?.video) update(); });
    video.addEventListener("seeked", () => { if (video === current?.video) update(); });
  }

  /** The position on the page: the attribute, the text, the line on the timeline; the next span starts loading when
   * the current one is close to its end. */
  const update = () => {
    const at = now();
    box.dataset.position = at == null ? "" : String(Math.round(at));
    if (at != null) {
      position.textContent = timeText(iso(at));
      position.title = timeTitle(iso(at));
      position.dateTime = iso(at);
    }
    if (current && !next && (current.duration - current.video.currentTime) * SECOND / rate() < AHEAD) prepare();
    onPosition(at, sourceId);
  };
  const ticker = setInterval(() => { if (current && !current.video.paused) update(); }, 200);

  /** Plays source `id` from `at` (ms); `paused` loads without playing; `direction` as locate() takes it. */
  const play = async (id, at, { paused = false, direction = 0, tolerance = 0 } = {}) => {
    const mine = ++turn;
    for (const v of videos) clear(v);
    current = null;
    next = null;
    sourceId = id;
    spans = 0;
    const item = lookup(id);
    box.dataset.source = id;
    box.dataset.spans = "0";
    box.querySelector(".rec-idle").hidden = true;
    title.replaceChildren(item ? h("a", { href: `#/sources/${id}` }, item.name) : "");
    const place = item ? locate(item.sessions, at, { direction, tolerance }) : null;
    if (!place) {
      setState("idle");
      box.dataset.position = "";
      say("player.nothing");
      onPosition(null, id);
      return;
    }
    setState("loading");
    say(null);
    let answer;
    try {
      answer = await request(place);
    } catch (error) {
      if (mine === turn) fail(error);
      return;
    }
    if (mine !== turn) return;
    const video = videos[0];
    video.src = answer.url;
    video.muted = videos[1].muted;
    current = { ...answer, video };
    spans = 1;
    box.dataset.spans = "1";
    box.dataset.spanStart = String(Math.round(answer.startMs));
    show(video);
    for (const b of [toggle, back, forward]) b.disabled = false;
    if (paused) {
      video.load();
      setState("paused");
      toggle.textContent = t("player.play");
    } else start(video);
    update();
  };

  /** Moves the position by `delta` ms: within the span when the browser has it, else from a new span. */
  const jump = (delta) => {
    if (!current) return;
    const target = now() + delta;
    const offset = (target - current.startMs) / SECOND;
    const video = current.video;
    const has = (ranges) => [...Array(ranges.length).keys()].some((i) => offset >= ranges.start(i) && offset <= ranges.end(i) - 0.05);
    if (offset >= 0 && offset < current.duration - 0.05 && (has(video.seekable) || has(video.buffered))) {
      video.currentTime = offset;
      update();
      return;
    }
    play(sourceId, target, { paused: video.paused, direction: delta });
  };

  toggle.addEventListener("click", () => {
    if (!current) return;
    if (box.dataset.state === "ended" || box.dataset.state === "error") play(sourceId, current.startMs);
    else if (current.video.paused) start(current.video);
    else current.video.pause();
  });
  back.addEventListener("click", () => jump(-10 * SECOND));
  forward.addEventListener("click", () => jump(10 * SECOND));
  speed.addEventListener("change", () => {
    box.dataset.speed = speed.value;
    for (const v of videos) v.defaultPlaybackRate = v.playbackRate = rate();
  });

  const panel = h("div", { class: "panel rec-player-panel", id: "rec-player-panel" },
    h("h2", {}, t("player.title")), title, box, message,
    h("div", { class: "row rec-controls" }, back, toggle, forward,
      h("label", { class: "inline-label" }, t("player.speed"), speed),
      h("span", { class: "rec-position-line" }, `${t("player.position")}: `, position)));
  return {
    panel,
    play,
    jump,
    /** The position (ms) and its source, or null. */
    position: () => (current ? { at: now(), sourceId } : null),
    pause: () => current?.video.pause(),
    close() {
      clearInterval(ticker);
      turn += 1;
      for (const v of videos) clear(v);
    },
  };
}
