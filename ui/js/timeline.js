// Time axis helpers for the Recordings page: API times as milliseconds, recording sessions as spans, tick marks that
// fall on round times of the zone times are shown in (format.js's setting), and short clock labels.
import { utcTimes } from "./format.js";

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** An API time (RFC 3339, maybe to the microsecond) as milliseconds since 1970, cut (not rounded) to the millisecond,
 * so it is never after the time itself; NaN when it is none. */
export function ms(iso) {
  if (!iso) return NaN;
  return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
}

/** Milliseconds as RFC 3339 UTC (to the millisecond). */
export const iso = (value) => new Date(Math.round(value)).toISOString();

/** A session of the API with its times in milliseconds; a session still recording ends now. */
export function session(s) {
  const startMs = ms(s.start);
  return { ...s, startMs, endMs: Number.isNaN(ms(s.end)) ? startMs + (s.duration || 0) * SECOND : ms(s.end) };
}

/** Where a session ends now: one still recording grows until now. */
export const sessionEnd = (s) => (s.recording ? Math.max(s.endMs, Date.now()) : s.endMs);

/** The zone's offset from UTC at `at` in milliseconds (0 when times are shown in UTC). */
const offset = (at) => (utcTimes ? 0 : -new Date(at).getTimezoneOffset() * MINUTE);

const pad = (n) => String(n).padStart(2, "0");

/** The fields of `at` in the zone times are shown in. */
function parts(at) {
  const d = new Date(at + offset(at));
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() };
}

/** "14:05" or, with `seconds`, "14:05:30", in the zone times are shown in. */
export function clock(at, seconds = false) {
  const p = parts(at);
  return `${pad(p.h)}:${pad(p.mi)}${seconds ? `:${pad(p.s)}` : ""}`;
}

/** "12-03" (month-day) in the zone times are shown in. */
export function monthDay(at) {
  const p = parts(at);
  return `${pad(p.mo)}-${pad(p.d)}`;
}

/** A datetime-local field's value for `at`, to the millisecond, in the zone times are shown in. */
export function fieldValue(at) {
  return new Date(Math.round(at) + offset(at)).toISOString().slice(0, 23);
}

/** The steps between ticks, from a second to a day. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * SECOND);

/** Tick marks for [from, to] on an axis `width` pixels wide, about one per `every` pixels: {at, label, day} where
 * `day` marks midnight (its label is then the date). */
export function ticks(from, to, width, every = 90) {
  const wanted = (to - from) / Math.max(1, width / every);
  const step = STEPS.find((s) => s >= wanted) || DAY;
  const out = [];
  let at = Math.ceil((from + offset(from)) / step) * step - offset(from);
  for (let n = 0; at <= to && n < 500; n += 1) {
    const local = at + offset(at);
    const midnight = local % DAY === 0;
    out.push({ at, day: midnight, label: midnight ? monthDay(at) : clock(at, step < MINUTE) });
    const next = at + step;
    // Across a change of the zone's offset (summer time), the next tick stays on a round time of the zone.
    at = Math.ceil((next + offset(next)) / step) * step - offset(next);
    if (at <= out.at(-1).at) at = next;
  }
  return out;
}
