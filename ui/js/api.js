// The companion's /api/v1, with the logged-in user's token; errors carry the API's own message.
import { language } from "./i18n.js";

export class APIError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error && body.error.code;
    this.field = body && body.error && body.error.field;
  }
}

export const session = {
  get token() { return sessionStorage.getItem("token"); },
  set token(value) { value ? sessionStorage.setItem("token", value) : sessionStorage.removeItem("token"); },
};

export async function api(method, path, body) {
  const headers = { "Accept-Language": language };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (response.status === 401 && path !== "/auth/login") {
    session.token = null;
    location.hash = "#/login";
  }
  if (!response.ok) throw new APIError(response.status, json);
  return json;
}

/** Live changes from GET /api/v1/events/stream (EventSource cannot send headers: the token goes in the query).
 * Nothing is replayed: `onOpen` runs at each (re)connection, to refetch what the page shows, so a stream that
 * connects late or comes back after a drop never leaves the page stale. The page's `data-stream` attribute says
 * whether live changes are arriving (`open`) or the browser is reconnecting (`closed`). */
export function liveEvents(onEvent, onOpen) {
  const source = new EventSource(`/api/v1/events/stream?access_token=${encodeURIComponent(session.token || "")}`);
  const mark = (state) => { document.documentElement.dataset.stream = state; };
  mark("connecting");
  source.addEventListener("open", () => {
    mark("open");
    if (onOpen) onOpen();
  });
  source.addEventListener("error", () => mark("closed"));
  for (const type of ["available", "unavailable", "online", "offline", "read", "unread", "segment-create", "segment-complete"]) {
    source.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
  }
  return source;
}
