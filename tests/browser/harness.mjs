// harness.mjs: starts the real Switchboard server for the browser tests (free port, temporary data
// directory, users and bearer tokens made with `switchboard admin`), talks to its API with fetch,
// and launches Debian's Chromium through playwright-core with a fresh profile.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "../..");
export const BIN = process.env.SWITCHBOARD_BIN || join(REPO, "build/switchboard");
export const WEB_DIST = process.env.WEB_DIST || join(REPO, "web/dist");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const SHOTS = process.env.SCREENSHOTS || join(here, "..", "..", "docs", "screenshots");

export const password = (name) => `pw-${name}-correct horse`;

// Servers still running when node exits (a test threw before its cleanup) are killed.
const live = new Set();
process.on("exit", () => { for (const p of live) p.kill("SIGKILL"); });

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); });
    s.on("error", rej);
  });
}

function admin(data, args, input) {
  return execFileSync(BIN, ["admin", "--data", data, ...args], { input, encoding: "utf8", timeout: 30000 }).trim();
}

/** Starts a server with the given users; returns {base, tokens, stop(), log()}. */
export async function startServer(users) {
  if (!existsSync(BIN)) throw new Error(`no server binary at ${BIN} (build it: ninja -C build)`);
  if (!existsSync(join(WEB_DIST, "index.html"))) throw new Error(`no web client at ${WEB_DIST} (npm run build in web/)`);
  const data = mkdtempSync(join(tmpdir(), "sb-browser-"));
  const tokens = {};
  for (const u of users) {
    admin(data, ["create-user", u, "--password-stdin"], password(u) + "\n");
    tokens[u] = admin(data, ["create-token", u]);
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let out = "";
  const proc = spawn(BIN, ["serve", "--data", data, "--listen", `127.0.0.1:${port}`, "--web", WEB_DIST],
    { stdio: ["ignore", "pipe", "pipe"] });
  live.add(proc);
  proc.on("exit", () => live.delete(proc));
  proc.stdout.on("data", (d) => { out += d; });
  proc.stderr.on("data", (d) => { out += d; });
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited (${proc.exitCode}):\n${out}`);
    try { const r = await fetch(`${base}/api/v1/connector-types`, { headers: { Authorization: `Bearer ${tokens[users[0]]}` } }); if (r.ok) break; } catch { /* not yet */ }
    if (Date.now() > deadline) { proc.kill("SIGKILL"); throw new Error(`server did not start:\n${out}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base, tokens, data,
    log: () => out,
    /** null while running, else how it ended (a crash is a server bug the tests must show). */
    exited: () => (proc.exitCode === null && proc.signalCode === null ? null : `exit ${proc.exitCode} signal ${proc.signalCode}`),
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await Promise.race([new Promise((r) => proc.once("exit", r)), new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill("SIGKILL");
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Calls the API with a bearer token; throws on an error status unless `ok` says otherwise. */
export async function api(base, token, method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Posts a payload to a webhook URL like an outside service would. */
export async function postHook(url, payload) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
  return { status: r.status, body: await r.text() };
}

export const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Chromium with a fresh profile directory; returns {context, close()}. */
export async function launch(base) {
  const profile = mkdtempSync(join(tmpdir(), "sb-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    viewport: { width: 1280, height: 800 },
    locale: "en-US",
    timezoneId: "UTC",
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  // No network but loopback: card images from elsewhere get a small PNG, so a failed image load
  // never shows up as a console error.
  await context.route((url) => !url.href.startsWith(base), (route) =>
    route.fulfill({ status: 200, contentType: "image/png", body: PNG }));
  return {
    context,
    async close() { await context.close().catch(() => {}); rmSync(profile, { recursive: true, force: true }); },
  };
}

/** Watches a page for anything a script injection would cause: dialogs, console errors, page errors. */
export function watch(page) {
  const problems = [];
  page.on("dialog", (d) => { problems.push(`dialog: ${d.type()} ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

// A 48×48 PNG (a purple square with a light diagonal) for uploads and routed external images.
function makePng(size) {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (t, d) => { const l = Buffer.alloc(4); l.writeUInt32BE(d.length); const td = Buffer.concat([Buffer.from(t), d]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([l, td, c]); };
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const o = y * (size * 3 + 1) + 1 + x * 3, on = Math.abs(x - y) < size / 8;
    raw[o] = on ? 0xf0 : 0x4f; raw[o + 1] = on ? 0xb4 : 0x52; raw[o + 2] = on ? 0x29 : 0xb2;
  }
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}
export const PNG = makePng(48);

/** Page helpers bound to a server and a browser: a signed-in tab, opening a channel, the
 *  Connectors dialog. */
export function appHelpers(getSrv, getBr, T = 15000) {
  /** A new tab signed in as `user` (through the form when the profile has no session yet). */
  async function openApp(path = "/", viewport, user = "alice") {
    const page = await getBr().context.newPage();
    if (viewport) await page.setViewportSize(viewport);
    const problems = watch(page);
    page.setDefaultTimeout(T);
    await page.goto(getSrv().base + path);
    const form = page.getByRole("button", { name: "Sign in" });
    const shell = page.locator(".shell");
    await form.or(shell).first().waitFor();
    if (await form.isVisible()) {
      await page.getByLabel("Username").fill(user);
      await page.getByLabel("Password").fill(password(user));
      await form.click();
      await shell.waitFor();
    }
    await page.locator(".live-dot.on").waitFor({ state: "attached" }); // the event stream is open
    return { page, problems };
  }
  async function openChannel(page, name) {
    if (await page.locator(".menu-btn").isVisible()) await page.locator(".menu-btn").click();
    await page.locator(".sidebar .chan", { hasText: new RegExp(`^#?\\s*${name}`) }).click();
    await page.getByRole("heading", { level: 1, name: new RegExp(name) }).waitFor();
  }
  async function openConnectors(page) {
    await page.getByRole("button", { name: "Channel menu" }).click();
    await page.getByRole("menuitem", { name: "Connectors" }).click();
    const dialog = page.getByRole("dialog", { name: /Connectors/ });
    await dialog.waitFor();
    return dialog;
  }
  return { openApp, openChannel, openConnectors };
}

/** Polls `f` until it returns something truthy (or throws after `ms`). */
export async function until(f, ms = 10000, what = "condition") {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
