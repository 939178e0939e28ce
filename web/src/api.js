// api.js: the HTTP API (docs/api.md) as used by the browser: the session cookie plus the CSRF
// token, which is kept in memory only (re-read from GET /api/v1/session on load).
let csrf = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
  /** The field an invalid_field error names ('name' must ...), or null. */
  get field() {
    const m = /'([A-Za-z0-9_]+)'/.exec(this.message || "");
    return this.code === "invalid_field" && m ? m[1] : null;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "network", "Cannot reach the server");
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = data && data.error;
    throw new ApiError(res.status, err ? err.code : "http", err ? err.message : `HTTP ${res.status}`);
  }
  return data;
}

export const get = (p) => api("GET", p);
export const post = (p, b = {}) => api("POST", p, b);
export const patch = (p, b) => api("PATCH", p, b);
export const put = (p, b) => api("PUT", p, b);
export const del = (p) => api("DELETE", p);

// A hint (not a secret) that this browser has signed in before: without it the app shows the
// sign-in page at once instead of asking the server (whose 401 a browser logs as an error).
const HINT = "sb.signedIn";
const hint = (on) => { try { on ? localStorage.setItem(HINT, "1") : localStorage.removeItem(HINT); } catch { /* private mode */ } };
const hasHint = () => { try { return localStorage.getItem(HINT) === "1"; } catch { return true; } };

/** The session's user, with the e-mail address whether the server puts it in the user or beside it. */
function withEmail(s) {
  const u = { ...s.user };
  if (u.email === undefined && s.email !== undefined) u.email = s.email;
  return u;
}

export async function loadSession() {
  if (!hasHint()) return null;
  try {
    const s = await get("/api/v1/session");
    csrf = s.csrf_token;
    return withEmail(s);
  } catch (e) {
    if (e.status === 401) { hint(false); return null; }
    throw e;
  }
}

export async function signIn(username, password) {
  const s = await post("/api/v1/session", { username, password });
  csrf = s.csrf_token;
  hint(true);
  return withEmail(s);
}

export async function signOut() {
  try { await del("/api/v1/session"); } finally { csrf = null; hint(false); }
}
