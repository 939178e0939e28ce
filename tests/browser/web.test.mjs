// web.test.mjs: the web client in Debian's Chromium against the real server, the five scenarios of
// issue 4: (1) the seed flow (sign in → Connectors → Incoming Webhook → URL; a MessageCard posted
// from outside shows up live), (2) Slack and Adaptive Card payloads, (3) removing the webhook's
// owner suspends it, (4) the XSS table, (5) the phone layout. Screenshots go to docs/screenshots/ (README.md shows the desktop one).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startServer, api, postHook, launch, PNG, SHOTS, appHelpers } from "./harness.mjs";
import { messageCard, slack, adaptive, xssPayloads, VECTORS } from "./payloads.mjs";

let srv, br, A, B, team, general;
const T = 15000; // per-step timeout in the browser

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  srv = await startServer(["alice", "bob"]);
  A = srv.tokens.alice;
  B = srv.tokens.bob;
  team = await api(srv.base, A, "POST", "/api/v1/teams", { name: "Ops" });
  await api(srv.base, A, "POST", `/api/v1/teams/${team.id}/members`, { username: "bob" });
  general = (await api(srv.base, A, "GET", `/api/v1/teams/${team.id}/channels`)).channels.find((c) => c.name === "general");
  await api(srv.base, B, "POST", `/api/v1/channels/${general.id}/messages`, { text: "Morning! The **deploy** is at 10:00, details in [the runbook](https://wiki.example.com/deploy)." });
  br = await launch(srv.base);
});

after(async () => {
  if (srv && srv.exited()) console.log(`# the server stopped during the tests (${srv.exited()}); its log ends:\n` + srv.log().slice(-3000).replace(/^/gm, "# "));
  if (br) await br.close();
  if (srv) await srv.stop();
});

const { openApp, openChannel, openConnectors } = appHelpers(() => srv, () => br, T);

/** Waits for the card of a given title to show up in the open feed; returns it and the time taken. */
async function waitForCard(page, title, since) {
  const card = page.locator(".msg-card .card", { hasText: title }).last();
  await card.locator(".ac-adaptiveCard").waitFor({ timeout: 5000 });
  return { card, ms: Date.now() - since };
}

test("1. seed flow: sign in, add an Incoming Webhook with an image, copy its URL; a MessageCard arrives live", async () => {
  const { page, problems } = await openApp("/");
  await openChannel(page, "general");
  const dialog = await openConnectors(page);

  await dialog.getByLabel("Search connectors").fill("webhook");
  await dialog.getByRole("heading", { name: "Incoming Webhook" }).waitFor();
  await dialog.getByRole("button", { name: "Add Incoming Webhook" }).click();

  // The settings form from the schema: Name is required (marked), Image is an upload.
  const nameField = dialog.getByLabel(/^Name/);
  assert.equal(await nameField.getAttribute("aria-required"), "true");
  await dialog.getByRole("button", { name: "Create" }).click(); // empty: the error shows beside the field
  await dialog.locator(".field.invalid .field-error", { hasText: /required/i }).waitFor();
  await nameField.fill("Build server");
  await dialog.getByLabel(/^Image/).setInputFiles({ name: "ci.png", mimeType: "image/png", buffer: PNG });
  await dialog.getByRole("img", { name: "Preview of the chosen image" }).waitFor();
  await dialog.getByRole("button", { name: "Create" }).click();

  const urlBox = dialog.getByLabel("Webhook URL");
  await urlBox.waitFor();
  const url = await urlBox.inputValue();
  assert.match(url, new RegExp(`^${srv.base}/webhook/\\d+/[A-Za-z0-9_-]{20,}$`));
  await dialog.getByRole("button", { name: "Copy" }).click();
  await dialog.getByText("Copied").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
  assert.ok((await dialog.locator(".curl pre").textContent()).includes(url), "sample curl names the URL");
  await dialog.getByRole("button", { name: "Done" }).click();

  // The Configured tab lists it, active, with its image and owner.
  const item = dialog.locator(".conn", { hasText: "Build server" });
  await item.waitFor();
  assert.match(await item.textContent(), /Active/);
  assert.match(await item.textContent(), /added by alice/);
  assert.match(await item.locator("img.conn-img").getAttribute("src"), /^\/api\/v1\/images\//);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });

  // A MessageCard posted from outside the browser appears within 2 s, without a reload.
  const t0 = Date.now();
  const r = await postHook(url, messageCard);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, "1");
  const { card, ms } = await waitForCard(page, "Build #42 passed", t0);
  assert.ok(ms < 2000, `card took ${ms} ms`);
  assert.equal(await card.locator(".card-sender").textContent(), "Build server");
  assert.match(await card.locator(".card-head img").getAttribute("src"), /^\/api\/v1\/images\//);
  const facts = await card.locator(".ac-factset").innerText();
  for (const f of ["Branch", "main", "Duration", "3m 12s", "Tests", "127 passed"]) assert.ok(facts.includes(f), `fact ${f} in ${facts}`);
  const view = card.locator("button", { hasText: "View build" }); // OpenUrl: role link
  assert.ok(await view.isEnabled());
  const retry = card.locator("button", { hasText: "Retry" });
  assert.ok(await retry.isDisabled(), "HttpPOST shown disabled");
  assert.ok((await retry.getAttribute("title")).length > 0, "disabled action has a tooltip");
  assert.equal(await card.evaluate((el) => getComputedStyle(el).borderLeftColor), "rgb(0, 118, 215)");
  // OpenUri opens a new tab on the target (routed: no network here).
  const [popup] = await Promise.all([br.context.waitForEvent("page"), view.click()]);
  assert.equal(popup.url(), "https://ci.example.com/42");
  assert.equal(await popup.evaluate(() => window.opener), null);
  await popup.close();
  assert.equal(await page.evaluate(() => location.pathname), `/channels/${general.id}`, "no reload or navigation");
  assert.deepEqual(problems, []);
  await page.close();
});

test("2. a Slack payload and an Adaptive Card arrive live and render", async () => {
  const hook = await api(srv.base, B, "POST", `/api/v1/channels/${general.id}/connectors`, { type: "incoming_webhook", name: "Ops bot" });
  const { page, problems } = await openApp(`/channels/${general.id}`);
  await page.getByRole("heading", { level: 1, name: /general/ }).waitFor();
  await page.locator(".msg").first().waitFor();

  let t0 = Date.now();
  let r = await postHook(hook.url, slack);
  assert.equal(r.status, 200, r.body);
  let { card, ms } = await waitForCard(page, "Deploy #7", t0);
  assert.ok(ms < 2000, `slack card took ${ms} ms`);
  assert.equal(await card.locator(".card-sender").textContent(), "Jenkins");
  assert.equal(await card.locator(".card-via").textContent(), "via Ops bot");
  const text = await card.innerText();
  for (const s of ["Deploy of", "api", "Rolled out to all regions", "Environment", "production", "Version", "1.4.2"]) assert.ok(text.includes(s), `${s} in ${text}`);
  assert.equal(await card.locator(".ac-textBlock strong, .ac-textBlock b").first().textContent(), "api", "mrkdwn *bold*");

  t0 = Date.now();
  r = await postHook(hook.url, adaptive);
  assert.equal(r.status, 200, r.body);
  ({ card, ms } = await waitForCard(page, "Incident INC-12 resolved", t0));
  assert.ok(ms < 2000, `adaptive card took ${ms} ms`);
  assert.equal(await card.locator(".card-sender").textContent(), "Ops bot");
  assert.match(await card.locator(".ac-factset").innerText(), /Severity\s+SEV-2/);
  assert.equal(await card.locator(".ac-textBlock strong").first().textContent(), "completed");
  assert.ok(await card.locator("button", { hasText: "Open incident" }).isEnabled());
  const ack = card.locator("button", { hasText: "Acknowledge" });
  assert.ok(await ack.isDisabled(), "Action.Submit is shown disabled");
  assert.ok(await ack.getAttribute("title"), "with a tooltip");

  await page.waitForTimeout(300); // images settle
  // the screenshot starts at the MessageCard of scenario 1, so all three dialects are in view
  await page.locator(".card", { hasText: "Build #42 passed" }).evaluate((el) => {
    const feed = el.closest(".feed");
    feed.scrollTop += el.getBoundingClientRect().top - feed.getBoundingClientRect().top - 12;
  });
  await page.screenshot({ path: join(SHOTS, "channel-desktop.png") });
  assert.deepEqual(problems, []);
  await page.close();
});

test("3. removing the webhook's owner from the team shows the connector suspended", async () => {
  const hook = await api(srv.base, B, "POST", `/api/v1/channels/${general.id}/connectors`, { type: "incoming_webhook", name: "Bob's alerts" });
  const { page, problems } = await openApp(`/channels/${general.id}`);
  await page.getByRole("heading", { level: 1, name: /general/ }).waitFor();

  await page.getByRole("button", { name: "Members of Ops" }).click();
  const dialog = page.getByRole("dialog", { name: /Members/ });
  await dialog.getByRole("button", { name: "Remove bob" }).click();
  // Before confirming, the dialog names the connectors that will be suspended.
  const warn = dialog.locator(".will-suspend");
  await warn.waitFor();
  const listed = await warn.innerText();
  assert.ok(listed.includes("Bob's alerts") && listed.includes("Ops bot"), listed);
  assert.ok(!listed.includes("Build server"), "alice's own connector is not listed");
  await dialog.getByRole("button", { name: "Remove member" }).click();
  await dialog.locator(".member[data-user=bob]").waitFor({ state: "detached" });
  await page.keyboard.press("Escape");

  // The channel gets the system notice live; the Configured tab shows the suspension and why.
  await page.locator(".msg-system", { hasText: /suspend/i }).first().waitFor();
  const conn = await openConnectors(page);
  await conn.getByRole("tab", { name: /Configured/ }).click();
  const item = conn.locator(".conn", { hasText: "Bob's alerts" });
  await item.waitFor();
  await item.locator(".state-suspended").waitFor();
  assert.match(await item.innerText(), /Suspended/);
  assert.ok((await item.locator(".state-reason").innerText()).length > 3, "the reason is shown");
  assert.ok(await item.getByRole("button", { name: "Take over" }).isVisible());
  assert.match(await conn.locator(".conn", { hasText: "Build server" }).innerText(), /Active/);
  // The webhook itself now refuses deliveries.
  assert.equal((await postHook(hook.url, { text: "still there?" })).status, 403);
  assert.deepEqual(problems, []);
  await page.close();
});

async function assertClean(page, problems, where) {
  const found = await page.evaluate(() => {
    const bad = [];
    for (const s of document.querySelectorAll("script"))
      if (!/^\/assets\/app-[A-Za-z0-9]+\.js$/.test(s.getAttribute("src") || "")) bad.push("script: " + s.outerHTML.slice(0, 80));
    for (const el of document.querySelectorAll("*"))
      for (const a of el.attributes)
        if (/^on/i.test(a.name)) bad.push(`${el.tagName} ${a.name}=${a.value.slice(0, 40)}`);
    const scopes = document.querySelectorAll(".feed"); // the channel's, and an open thread's
    for (const el of [...(scopes.length ? scopes : [document])].flatMap((f) => [...f.querySelectorAll("iframe,object,embed,frame,svg,math,style,form,base,meta,link")]))
      if (!(el.matches("svg.icon") && el.closest(".msg-foot"))) // the app's own icons (thread actions), outside any content
        bad.push("element: " + el.tagName);
    for (const el of document.querySelectorAll("[href],[src],[action],[formaction],[xlink\\:href],[background],[poster],[data]")) {
      for (const n of ["href", "src", "action", "formaction", "xlink:href", "background", "poster", "data"]) {
        const v = (el.getAttribute(n) || "").trim();
        if (!v) continue;
        const okHref = /^(https?:|mailto:|\/)/i.test(v);
        const okSrc = /^(https?:|\/|data:image\/(png|jpe?g|gif|webp);)/i.test(v);
        if (n === "src" ? !okSrc : !okHref) bad.push(`${el.tagName} ${n}=${v.slice(0, 50)}`);
      }
    }
    if (window.__xss) bad.push("window.__xss set");
    return bad;
  });
  assert.deepEqual(found, [], `injected content (${where})`);
  assert.deepEqual(problems, [], `dialogs or console errors (${where})`);
}

test("4. XSS table: no script runs from any card field or plain message", async () => {
  const ch = await api(srv.base, A, "POST", `/api/v1/teams/${team.id}/channels`, { name: "xss" });
  const { page, problems } = await openApp(`/channels/${ch.id}`);
  await page.getByRole("heading", { level: 1, name: /xss/ }).waitFor();

  const payloads = xssPayloads();
  const hooks = [];
  for (let i = 0; i < 4; i++) hooks.push((await api(srv.base, A, "POST", `/api/v1/channels/${ch.id}/connectors`, { type: "incoming_webhook", name: `xss ${i}` })).url);
  let accepted = 0;
  const refused = [];
  for (let i = 0; i < payloads.length; i++) {
    const r = await postHook(hooks[i % 4], payloads[i]);
    if (r.status === 200 || r.status === 204) accepted++;
    else refused.push(`${i}: ${r.status} ${r.body}`);
  }
  for (const v of VECTORS) await api(srv.base, A, "POST", `/api/v1/channels/${ch.id}/messages`, { text: v });
  assert.ok(accepted >= payloads.length * 0.9, `webhook refused: ${refused.join("; ")}`);
  const total = accepted + VECTORS.length;
  await page.waitForFunction((n) => document.querySelectorAll(".feed .msg:not(.msg-system)").length >= n, total, { timeout: 20000 });
  await page.waitForTimeout(500);
  await assertClean(page, problems, "live");

  // Click everything clickable in the feed: links and card buttons must not run anything.
  const pagesBefore = br.context.pages().length;
  const buttons = page.locator(".feed .ac-pushButton:not([disabled]), .feed .ac-selectable");
  const n = Math.min(await buttons.count(), 60);
  for (let i = 0; i < n; i++) {
    await buttons.nth(i).click({ timeout: 2000, force: true }).catch(() => {});
    assert.equal(srv.exited(), null, "the server is still running");
  }
  for (const p of br.context.pages().slice(pagesBefore)) {
    assert.match(p.url(), /^(https?:|about:blank)/, `opened ${p.url()}`);
    await p.close();
  }
  await page.waitForTimeout(300);
  await assertClean(page, problems, "after clicks");

  // The same vectors as replies, in an open thread (live, then loaded when it opens again).
  const root = await api(srv.base, A, "POST", `/api/v1/channels/${ch.id}/messages`, { text: "thread root for the XSS table" });
  await page.locator(`.feed .msg[data-id="${root.id}"]`).getByRole("button", { name: "Reply in thread" }).click();
  const panel = page.getByRole("complementary", { name: "Thread" });
  await panel.getByText("No replies yet").waitFor();
  for (const v of VECTORS) await api(srv.base, A, "POST", `/api/v1/channels/${ch.id}/messages`, { text: v, thread: root.id });
  await page.waitForFunction((n) => document.querySelectorAll(".thread .feed .msg").length >= n + 1, VECTORS.length, { timeout: 20000 });
  await page.waitForTimeout(300);
  await assertClean(page, problems, "thread, live");
  await panel.getByRole("button", { name: "Close thread" }).click();
  await page.locator(`.feed .msg[data-id="${root.id}"]`).getByRole("button", { name: `${VECTORS.length} replies` }).click();
  await page.waitForFunction((n) => document.querySelectorAll(".thread .feed .msg").length >= n + 1, VECTORS.length, { timeout: 20000 });
  await assertClean(page, problems, "thread, loaded");
  await panel.getByRole("button", { name: "Close thread" }).click();

  // The same feed loaded from history (not live) is just as clean.
  await page.reload();
  await page.waitForFunction((n) => document.querySelectorAll(".feed .msg:not(.msg-system)").length >= Math.min(n, 50), total, { timeout: 20000 });
  await page.waitForTimeout(500);
  await assertClean(page, problems, "after reload");
  await page.close();
});

test("5. phone layout 390×844: the feed and the Connectors dialog are usable", async () => {
  const { page, problems } = await openApp(`/channels/${general.id}`, { width: 390, height: 844 });
  await page.getByRole("heading", { level: 1, name: /general/ }).waitFor();
  await page.locator(".msg-card .ac-adaptiveCard").first().waitFor();
  await page.waitForTimeout(300);

  // The sidebar is collapsed behind the menu button; nothing overflows sideways.
  assert.ok(await page.getByRole("button", { name: "Open channel list" }).isVisible());
  assert.ok(!(await page.locator(".sidebar").isVisible()), "sidebar hidden");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "no horizontal overflow");
  for (const box of await page.locator(".card").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right)))
    assert.ok(box <= 390, `card right edge ${box}`);
  await page.screenshot({ path: join(SHOTS, "channel-phone.png") });

  // Write a message: Enter sends, Shift+Enter is a new line.
  const box = page.getByLabel("Message #general");
  await box.fill("from the phone");
  await box.press("Shift+Enter");
  await box.type("second line");
  await box.press("Enter");
  const mine = page.locator(".msg-user", { hasText: "from the phone" });
  await mine.waitFor();
  assert.match(await mine.locator(".md").innerHTML(), /from the phone<br>\s*second line/);
  assert.equal(await box.inputValue(), "");

  // The drawer opens, shows teams and channels, and closes on choosing one.
  await page.getByRole("button", { name: "Open channel list" }).click();
  await page.locator(".sidebar").waitFor({ state: "visible" });
  await page.locator(".sidebar .chan", { hasText: "general" }).click();
  await page.locator(".sidebar").waitFor({ state: "hidden" });

  // The Connectors dialog fits the screen and works.
  const dialog = await openConnectors(page);
  const rect = await dialog.evaluate((el) => { const r = el.getBoundingClientRect(); return { l: r.left, r: r.right, t: r.top, b: r.bottom }; });
  assert.ok(rect.l >= 0 && rect.r <= 390 && rect.t >= 0 && rect.b <= 844, JSON.stringify(rect));
  await dialog.getByRole("button", { name: "Add Incoming Webhook" }).click();
  await dialog.getByLabel(/^Name/).fill("Phone hook");
  await dialog.getByRole("button", { name: "Create" }).click();
  const url = await dialog.getByLabel("Webhook URL").inputValue();
  assert.match(url, /\/webhook\/\d+\//);
  assert.ok(await dialog.getByRole("button", { name: "Copy" }).isVisible());
  await dialog.getByRole("button", { name: "Done" }).click();
  const item = dialog.locator(".conn", { hasText: "Phone hook" });
  await item.waitFor();
  await item.getByRole("button", { name: "Delivery log" }).click();
  await item.getByText("No deliveries yet.").waitFor();
  const ib = await item.evaluate((el) => el.getBoundingClientRect().right);
  assert.ok(ib <= 390, `connector row right edge ${ib}`);
  // Focus stays inside the dialog; Escape closes it.
  for (let i = 0; i < 25; i++) await page.keyboard.press("Tab");
  assert.ok(await dialog.evaluate((el) => el.contains(document.activeElement)), "focus trapped in the dialog");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  const t0 = Date.now();
  await postHook(url, { text: "Posted to **Phone hook**" });
  const { ms } = await waitForCard(page, "Posted to", t0);
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.deepEqual(problems, []);
  await page.close();
});
