// threads.test.mjs: message threads in the web client against the real server: (a) reply in a
// thread through the UI, the reply count on the root, a live reply from another user in the open
// thread; the count from the server after a reload; older replies on scroll; (b) a connector's card
// replaced in place (message.updated: an Alertmanager alert firing, then resolved); (e) the thread
// as a full-screen view on a phone. Screenshots: thread-desktop.png, thread-phone.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startServer, api, launch, SHOTS, appHelpers, until } from "./harness.mjs";

let srv, br, A, B, team, general;
const T = 15000;
const { openApp } = appHelpers(() => srv, () => br, T);

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  srv = await startServer(["alice", "bob"]);
  A = srv.tokens.alice;
  B = srv.tokens.bob;
  team = await api(srv.base, A, "POST", "/api/v1/teams", { name: "Ops" });
  await api(srv.base, A, "POST", `/api/v1/teams/${team.id}/members`, { username: "bob" });
  general = (await api(srv.base, A, "GET", `/api/v1/teams/${team.id}/channels`)).channels.find((c) => c.name === "general");
  br = await launch(srv.base);
});

after(async () => {
  if (srv && srv.exited()) console.log(`# the server stopped during the tests (${srv.exited()}); its log ends:\n` + srv.log().slice(-3000).replace(/^/gm, "# "));
  if (br) await br.close();
  if (srv) await srv.stop();
});

const say = (token, text, thread, ch = general.id) =>
  api(srv.base, token, "POST", `/api/v1/channels/${ch}/messages`, thread ? { text, thread } : { text });
const feedMsg = (page, id) => page.locator(`.channel .feed .msg[data-id="${id}"]`);
const threadPanel = (page) => page.getByRole("complementary", { name: "Thread" });

let root; // the thread of test (a), reused by the phone test

test("a. thread: reply through the UI, the count on the root, a live reply from bob in the open thread", async () => {
  await say(B, "Deploy window is **10:00–11:00** today.");
  root = await say(B, "Who owns the **deploy** today?");
  const other = await say(A, "Unrelated: the wiki moved.");
  const { page, problems } = await openApp(`/channels/${general.id}`);
  const rootEl = feedMsg(page, root.id);
  await rootEl.waitFor();

  // "Reply in thread" on the message opens the panel beside the channel, its composer focused
  await rootEl.getByRole("button", { name: "Reply in thread" }).click();
  const panel = threadPanel(page);
  await panel.waitFor();
  assert.equal(await page.evaluate(() => location.pathname), `/channels/${general.id}/threads/${root.id}`);
  assert.match(await panel.locator(".thread-root").innerText(), /Who owns the deploy today\?/);
  await panel.getByText("No replies yet").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), "thread-composer-text");
  const main = await page.locator(".channel").boundingBox();
  const side = await panel.boundingBox();
  assert.ok(side.x >= main.x + main.width - 1 && side.width >= 320, `side panel beside the channel: ${JSON.stringify({ main, side })}`);

  // a reply written in the thread: shown there, counted on the root, not in the channel feed
  const box = panel.getByLabel("Reply", { exact: true });
  await box.fill("I do, starting at 10.");
  await box.press("Enter");
  await panel.locator(".msg-user", { hasText: "I do, starting at 10." }).waitFor();
  assert.equal(await box.inputValue(), "");
  await rootEl.getByRole("button", { name: "1 reply" }).waitFor();
  await panel.getByRole("separator", { name: "1 reply" }).waitFor();
  assert.equal(await page.locator(".channel .feed", { hasText: "I do, starting at 10." }).count(), 0, "replies are not in the channel feed");
  const mine = (await api(srv.base, A, "GET", `/api/v1/channels/${general.id}/messages?thread=${root.id}`)).messages;
  assert.deepEqual(mine.map((m) => [m.text, m.thread]), [["I do, starting at 10.", root.id]]);

  // bob's reply arrives live in the open thread and bumps the count
  const t0 = Date.now();
  await say(B, "Thanks! Ping me when it is **done**.", root.id);
  await panel.locator(".msg-user", { hasText: "Ping me when it is done." }).waitFor();
  const ms = Date.now() - t0;
  assert.ok(ms < 2000, `live reply took ${ms} ms`);
  assert.equal(await panel.locator(".msg-user strong", { hasText: "done" }).count(), 1, "markdown in replies");
  await rootEl.getByRole("button", { name: "2 replies" }).waitFor();
  await panel.getByRole("separator", { name: "2 replies" }).waitFor();
  assert.equal(await page.locator(".channel .feed", { hasText: "Ping me when it is" }).count(), 0);

  // a live reply to another message bumps that one's count, and stays out of the open thread
  await say(B, "Noted.", other.id);
  await feedMsg(page, other.id).getByRole("button", { name: "1 reply" }).waitFor();
  assert.equal(await panel.locator(".msg", { hasText: "Noted." }).count(), 0);
  // and a new top-level message still lands in the feed
  await say(B, "Top-level again.");
  await page.locator(".channel .feed .msg-user", { hasText: "Top-level again." }).waitFor();

  await page.waitForTimeout(200);
  await page.screenshot({ path: join(SHOTS, "thread-desktop.png") });

  // Escape closes the thread (focus goes back to the button that opened it); the count reopens it
  await box.focus();
  await page.keyboard.press("Escape");
  await panel.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => location.pathname), `/channels/${general.id}`);
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Reply in thread");
  await rootEl.getByRole("button", { name: "2 replies" }).click();
  await panel.locator(".msg-user", { hasText: "Ping me when it is done." }).waitFor();

  // the thread's address opens it again after a reload
  await page.reload();
  await threadPanel(page).locator(".msg-user", { hasText: "I do, starting at 10." }).waitFor();
  await threadPanel(page).locator(".msg-user", { hasText: "Ping me when it is done." }).waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test("a2. reply counts come from the server when the feed loads", async (t) => {
  const page1 = (await api(srv.base, A, "GET", `/api/v1/channels/${general.id}/messages?limit=1`)).messages;
  if (!page1.length || !("replies" in page1[0])) { t.skip("waits on the server: Message.replies"); return; }
  const r = await say(A, "Counted by the server");
  for (let i = 0; i < 3; i++) await say(B, `reply ${i}`, r.id);
  const { page, problems } = await openApp(`/channels/${general.id}`);
  await feedMsg(page, r.id).getByRole("button", { name: "3 replies" }).waitFor();
  if (root) await feedMsg(page, root.id).getByRole("button", { name: "2 replies" }).waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test("a3. a long thread loads older replies on scroll", async () => {
  const ch = await api(srv.base, A, "POST", `/api/v1/teams/${team.id}/channels`, { name: "long-thread" });
  const r = await say(A, "A thread with many replies", null, ch.id);
  for (let i = 1; i <= 65; i++) await say(i % 2 ? B : A, `reply number ${i}`, r.id, ch.id);
  const { page, problems } = await openApp(`/channels/${ch.id}/threads/${r.id}`);
  const panel = threadPanel(page);
  await panel.locator(".msg-user", { hasText: "reply number 65" }).waitFor();
  // the newest page first; the rest as the reader scrolls up (or asks for it)
  const feed = panel.locator(".feed");
  const replies = panel.locator(".thread-feed > .feed-inner > .msg");
  assert.equal(await replies.count(), 50, "the newest 50 first");
  await until(async () => {
    await feed.evaluate((el) => { el.scrollTop = 0; });
    return (await panel.getByText("reply number 1", { exact: true }).count()) === 1;
  }, 10000, "the oldest reply");
  assert.equal(await replies.count(), 65);
  await panel.getByRole("separator", { name: "65 replies" }).waitFor();
  assert.equal(await panel.getByRole("button", { name: "Show older replies" }).count(), 0);
  assert.deepEqual(problems, []);
  await page.close();
});

/** The Alertmanager payload of the brief; `status` firing or resolved. */
function alert(status) {
  return {
    version: "4", groupKey: '{}:{alertname="HighCPU"}', status, receiver: "sb",
    groupLabels: { alertname: "HighCPU" },
    commonLabels: { alertname: "HighCPU", severity: "critical" },
    commonAnnotations: { summary: "CPU high" },
    externalURL: "http://am",
    alerts: [{
      status, labels: { alertname: "HighCPU", instance: "host-3", severity: "critical" },
      annotations: { summary: "CPU high" }, startsAt: "2026-11-27T10:00:00Z",
      endsAt: status === "resolved" ? "2026-11-27T10:20:00Z" : "0001-01-01T00:00:00Z",
      generatorURL: "http://prom/graph", fingerprint: "abc",
    }],
  };
}

test("b. message.updated: an alert's firing card becomes its resolved card, in place", async (t) => {
  const types = (await api(srv.base, A, "GET", "/api/v1/connector-types")).types;
  const am = types.find((x) => x.id === "alertmanager");
  if (!am) { t.skip("waits on the server: the alertmanager connector type"); return; }
  const ch = await api(srv.base, A, "POST", `/api/v1/teams/${team.id}/channels`, { name: "alerts" });
  const body = { type: "alertmanager", name: "Prometheus" };
  const headers = { "Content-Type": "application/json" };
  const pw = (am.settings || []).find((s) => s.type === "password" && s.required);
  if (pw) { body.secret = "sb-test-token-0123456789"; headers.Authorization = `Bearer ${body.secret}`; }
  const conn = await api(srv.base, A, "POST", `/api/v1/channels/${ch.id}/connectors`, body);
  const { page, problems } = await openApp(`/channels/${ch.id}`);
  await page.getByRole("heading", { level: 1, name: /alerts/ }).waitFor();

  const send = async (payload) => {
    const r = await fetch(conn.url, { method: "POST", headers, body: JSON.stringify(payload) });
    return { status: r.status, body: await r.text() };
  };
  let r = await send(alert("firing"));
  assert.ok(r.status < 300, `firing: ${r.status} ${r.body}`);
  const cards = async () => (await api(srv.base, A, "GET", `/api/v1/channels/${ch.id}/messages`)).messages.filter((m) => m.card);
  let firing = null;
  try { firing = (await until(cards, 4000, "the firing card"))[0]; } catch { /* below */ }
  if (!firing) {
    const log = (await api(srv.base, A, "GET", `/api/v1/connectors/${conn.id}/deliveries`)).deliveries;
    t.skip(`waits on the server: Alertmanager translation (delivery: ${JSON.stringify(log[0] && { outcome: log[0].outcome, error: log[0].error })})`);
    await page.close();
    return;
  }
  const el = feedMsg(page, firing.id);
  await el.locator(".ac-adaptiveCard").waitFor();
  const before = await el.innerText();
  assert.match(before, /HighCPU/);
  await el.evaluate((node) => { node.dataset.marker = "firing"; }); // the same element must stay

  r = await send(alert("resolved"));
  assert.ok(r.status < 300, `resolved: ${r.status} ${r.body}`);
  const t0 = Date.now();
  await until(async () => /resolved/i.test(await el.innerText()), 5000, "the card to show resolved");
  assert.ok(Date.now() - t0 < 2000, `update took ${Date.now() - t0} ms`);
  assert.equal(await el.getAttribute("data-marker"), "firing", "replaced in place, not re-added");
  assert.notEqual(await el.innerText(), before);
  const top = await page.locator(".channel .feed .msg-card", { hasText: "HighCPU" }).count();
  assert.equal(top, 1, "one top-level card for the alert");
  // after a reload the feed shows the resolved card from history
  await page.reload();
  await feedMsg(page, firing.id).locator(".ac-adaptiveCard").waitFor();
  assert.match(await feedMsg(page, firing.id).innerText(), /resolved/i);
  assert.deepEqual(problems, []);
  await page.close();
});

test("e. phone 390×844: the thread is a full-screen view with a back button", async () => {
  const vp = { width: 390, height: 844 };
  const { page, problems } = await openApp(`/channels/${general.id}`, vp);
  const rootEl = feedMsg(page, root.id);
  await rootEl.waitFor();
  await rootEl.getByRole("button", { name: /2 replies|\d+ replies/ }).click();
  const panel = threadPanel(page);
  await panel.locator(".msg-user", { hasText: "Ping me when it is done." }).waitFor();
  const box = await panel.boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 390, 844], "covers the screen");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "no horizontal overflow");
  assert.ok(await page.locator(".channel").evaluate((el) => el.inert), "the channel behind is inert");
  for (const right of await panel.locator(".msg, .composer").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right)))
    assert.ok(right <= 390, `right edge ${right}`);

  const reply = panel.getByLabel("Reply", { exact: true });
  await reply.fill("Replying from the phone");
  await reply.press("Enter");
  await panel.locator(".msg-user", { hasText: "Replying from the phone" }).waitFor();
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(SHOTS, "thread-phone.png") });

  // the back button closes it; so does the browser's Back after opening it again
  await panel.getByRole("button", { name: "Close thread" }).click();
  await panel.waitFor({ state: "detached" });
  assert.ok(await page.locator(".channel").isVisible());
  await rootEl.getByRole("button", { name: /replies/ }).click();
  await panel.waitFor();
  await page.goBack();
  await panel.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => location.pathname), `/channels/${general.id}`);
  assert.deepEqual(problems, []);
  await page.close();
});
