// Readable values for the whole UI, in one place: sizes, durations and times. Times are shown in the viewer's time
// zone with the UTC time on hover, or in UTC (the local time on hover) when the header's setting says so; the setting
// is kept in localStorage.
import { t } from "./i18n.js";

const pad = (n, width = 2) => String(n).padStart(width, "0");

// MARK: Sizes

/** Binary units throughout the UI: 1 KB = 1024 B, 1 MB = 1024 KB… */
const UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];

/** Bytes as "512 B", "1.5 MB", "3.2 GB" (one decimal from KB on); "—" when unknown. */
export function bytes(n) {
  if (n == null || n === "" || !Number.isFinite(Number(n))) return "—";
  let value = Number(n);
  let unit = 0;
  // 1023.96 KB would round to "1024.0 KB": it is "1.0 MB".
  while (Math.abs(value) >= 1023.95 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit ? `${value.toFixed(1)} ${UNITS[unit]}` : `${Math.round(value)} B`;
}

// MARK: Durations

/** Seconds as "4.0 s", "2 min 05 s", "1 h 02 min" (in Chinese "4.0 秒", "2 分 05 秒", "1 小时 02 分"); "—" when unknown. */
export function duration(seconds) {
  if (seconds == null || seconds === "" || !Number.isFinite(Number(seconds))) return "—";
  const s = Math.max(0, Number(seconds));
  if (s < 59.95) return `${s.toFixed(1)} ${t("unit.s")}`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} ${t("unit.min")} ${pad(whole % 60)} ${t("unit.s")}`;
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)} ${t("unit.h")} ${pad(minutes % 60)} ${t("unit.min")}`;
}

/** Whole days of a retention: "7 days", "1 day", 0 as "keep everything". */
export function days(n) {
  if (n == null) return "—";
  if (Number(n) === 0) return t("days.forever");
  return `${n} ${t(Number(n) === 1 ? "days.one" : "days.many")}`;
}

// MARK: Times

const ZONE_KEY = "times";

/** True when times are shown in UTC rather than in the viewer's time zone. */
export let utcTimes = localStorage.getItem(ZONE_KEY) === "utc";

export function setUTCTimes(on) {
  utcTimes = !!on;
  localStorage.setItem(ZONE_KEY, utcTimes ? "utc" : "local");
}

/** The viewer's time zone as the browser names it ("Asia/Shanghai"), else its offset ("UTC+08:00"). */
export function zoneName() {
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (name) return name;
  const offset = -new Date().getTimezoneOffset();
  return `UTC${offset < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/** An API time (RFC 3339, maybe to the microsecond: a Date keeps milliseconds) as a Date; null when it is none. */
function parse(iso) {
  if (!iso) return null;
  const date = new Date(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(+date) ? null : date;
}

/** "2026-11-25 20:02:47" in UTC or in the viewer's zone. */
function stamp(date, utc) {
  const [y, mo, d, hh, mm, ss] = utc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  return `${y}-${pad(mo)}-${pad(d)} ${pad(hh)}:${pad(mm)}:${pad(ss)}`;
}

/** The text of a time as the setting shows it: "2026-11-26 04:02:47" (the viewer's zone) or "2026-11-25 20:02:47 UTC". */
export function timeText(iso) {
  const date = parse(iso);
  if (!date) return iso || "";
  return utcTimes ? `${stamp(date, true)} UTC` : stamp(date, false);
}

/** What hovering a time shows: its UTC time, or (times shown in UTC) the viewer's. */
export function timeTitle(iso) {
  const date = parse(iso);
  if (!date) return "";
  return utcTimes ? `${stamp(date, false)} (${zoneName()})` : `${stamp(date, true)} UTC`;
}

/** A time of the API as a <time> element, the other zone on hover; null when there is none. */
export function when(iso) {
  if (!iso) return null;
  const el = document.createElement("time");
  el.dateTime = iso;
  el.title = timeTitle(iso);
  el.textContent = timeText(iso);
  return el;
}

/** The zone typed times are in, for a field's label: "UTC" or "local time". */
export const zoneLabel = () => (utcTimes ? "UTC" : t("zone.local"));

/** An API time as a datetime-local field's value, in the zone times are shown in. */
export function inputTime(iso) {
  const date = parse(iso);
  return date ? stamp(date, utcTimes).replace(" ", "T") : "";
}

/** A datetime-local field's value (in the zone times are shown in) as RFC 3339 UTC; "" when it is none. */
export function fromInputTime(value) {
  if (!value) return "";
  const full = value.length === 16 ? `${value}:00` : value;
  const date = new Date(utcTimes ? `${full}Z` : full);
  return Number.isNaN(+date) ? "" : date.toISOString();
}
