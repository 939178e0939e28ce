// The GitHub connector against every example payload GitHub documents, as packaged by Octokit
// (@octokit/webhooks-examples, api.github.com/index.json: [{name, examples:[payload…]}…]).
//
// Starts its own server (server.mjs) with a webhook rate limit too high to matter, creates a team,
// a channel and a GitHub connector through the REST API, and delivers each example to the
// connector's secret URL the way GitHub does: POST, Content-Type application/json, the payload
// JSON-encoded, X-GitHub-Event, a fresh X-GitHub-Delivery UUID, X-Hub-Signature-256 (HMAC-SHA256
// of the body bytes keyed by the connector's secret), a GitHub-Hookshot User-Agent. Every one must
// be answered 200 {"ok":true} with a "message_id" (a card was posted) or an "ignored" reason.
// A few go form-encoded (payload=…, signed over the form bytes), a few with a missing or wrong
// signature (401, nothing posted), one is redelivered with the same delivery id (nothing posted
// twice). Then the channel is read back through the API (top-level messages and the replies of
// each thread) and the delivery log is checked. A table of posted / ignored per event is printed.
//
// Run: ./run.sh github.test.mjs  (or: node --test github.test.mjs)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

import { startServer } from './server.mjs';

const require = createRequire(import.meta.url);
const EVENTS = require('@octokit/webhooks-examples'); // api.github.com/index.json
const MAX_BODY = 5 * 1024 * 1024; // examples over this are skipped (none is)

let server, channel, connector;
const api = (method, p, body) => server.api(method, p, body);

// What the connector answered to the sweep of all examples, per event:
// {posted, ignored, reasons: Map(reason → count)}.
const byEvent = new Map();
// Every message the connector said it posted: id → {event, thread (the answer's, or null)}.
const postedIds = new Map();
// Answers that were not 200 {"ok":true, message_id | ignored}: {event, action, index, status, text}.
const anomalies = [];
const markupIds = new Set(); // messages posted from the examples with <script> added
let sentSigned = 0, skipped = 0, refusedSent = 0, deliveriesSent = 0;

const sign = (secret, body) => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');

// One delivery as GitHub makes it. body: the bytes sent (a string); signature: the header value,
// undefined for the right one, null for none. Answers {status, text, json (null unless JSON)}.
async function deliver(event, body, { contentType = 'application/json', signature, delivery = randomUUID() } = {}) {
  const headers = {
    'Content-Type': contentType,
    'User-Agent': 'GitHub-Hookshot/a1b2c3d',
    'X-GitHub-Event': event,
    'X-GitHub-Delivery': delivery,
    'X-GitHub-Hook-ID': '123456789',
    'X-GitHub-Hook-Installation-Target-ID': '17273051',
    'X-GitHub-Hook-Installation-Target-Type': 'repository',
    'X-Hub-Signature': 'sha1=' + createHmac('sha1', connector.secret).update(body).digest('hex'),
  };
  const sig = signature === undefined ? sign(connector.secret, body) : signature;
  if (sig !== null) headers['X-Hub-Signature-256'] = sig;
  deliveriesSent++;
  const res = await fetch(connector.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(15000) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, text, json, contentType: res.headers.get('content-type') };
}

// Checks an answer to a signed delivery and records it (in byEvent when part of the sweep).
// Answers 'posted', 'ignored' or null (an anomaly).
function record(event, example, index, r, via = 'json', sweep = false) {
  const ok = r.status === 200 && r.json && r.json.ok === true &&
    ((Number.isInteger(r.json.message_id) && r.json.message_id > 0 && !('ignored' in r.json)) ||
     (typeof r.json.ignored === 'string' && r.json.ignored.length > 0 && !('message_id' in r.json)));
  if (!ok) {
    anomalies.push({ event, action: example.action ?? null, index, via, status: r.status, text: r.text.slice(0, 500) });
    return null;
  }
  const e = sweep ? byEvent.get(event) ?? { posted: 0, ignored: 0, reasons: new Map() } : { reasons: new Map() };
  if (sweep) byEvent.set(event, e);
  if (r.json.message_id) {
    assert.ok(!postedIds.has(r.json.message_id), `message_id ${r.json.message_id} answered twice`);
    postedIds.set(r.json.message_id, { event, thread: r.json.thread ?? null });
    e.posted++;
    return 'posted';
  }
  e.ignored++;
  e.reasons.set(r.json.ignored, (e.reasons.get(r.json.ignored) ?? 0) + 1);
  return 'ignored';
}

const find = (event, pred = () => true) => {
  const e = EVENTS.find((x) => x.name === event);
  assert.ok(e, `no examples for ${event}`);
  const ex = e.examples.find(pred);
  assert.ok(ex, `no matching example for ${event}`);
  return ex;
};

// Every message of a channel's timeline or of one thread, newest first, paging with before=.
async function allMessages(channelId, thread) {
  const out = [];
  let before;
  for (;;) {
    const q = new URLSearchParams({ limit: '200' });
    if (thread) q.set('thread', String(thread));
    if (before) q.set('before', String(before));
    const r = await api('GET', `/api/v1/channels/${channelId}/messages?${q}`);
    assert.equal(r.status, 200, r.text);
    out.push(...r.json.messages);
    if (!r.json.has_more || r.json.messages.length === 0) return out;
    before = r.json.messages[r.json.messages.length - 1].id;
  }
}

before(async () => {
  server = await startServer({ prefix: 'sb-github-', args: ['--webhook-rate', '100000', '--webhook-burst', '100000'] });
  const team = await api('POST', '/api/v1/teams', { name: 'GitHub compat' });
  assert.equal(team.status, 201, team.text);
  const ch = await api('POST', `/api/v1/teams/${team.json.id}/channels`, { name: 'github' });
  assert.equal(ch.status, 201, ch.text);
  channel = ch.json;
  const c = await api('POST', `/api/v1/channels/${channel.id}/connectors`, { type: 'github', name: 'GitHub' });
  assert.equal(c.status, 201, c.text);
  connector = c.json;
  assert.equal(connector.type, 'github');
  assert.match(connector.url, new RegExp(`^${server.base}/webhook/${connector.id}/[^/]+$`));
  assert.ok(typeof connector.secret === 'string' && connector.secret.length >= 16, `secret: ${JSON.stringify(connector.secret)}`);
  // the secret is shown once: reading the connector again does not answer it (nor the URL)
  const again = await api('GET', `/api/v1/connectors/${connector.id}`);
  assert.equal(again.status, 200, again.text);
  assert.ok(!again.text.includes(connector.secret), 'GET /connectors/{id} repeats the signing secret');
  assert.ok(!again.text.includes(connector.url), 'GET /connectors/{id} repeats the secret URL');
});

after(async () => {
  await server?.stop();
});

test('the examples package is the one expected (58 events, 329 examples)', () => {
  assert.equal(EVENTS.length, 58);
  assert.equal(EVENTS.reduce((n, e) => n + e.examples.length, 0), 329);
});

test('every example, signed JSON: 200 {"ok":true} with message_id or ignored', async (t) => {
  const t0 = Date.now();
  for (const { name, examples } of EVENTS) {
    await t.test(name, async () => {
      const before = anomalies.length;
      for (const [i, example] of examples.entries()) {
        const body = JSON.stringify(example);
        if (Buffer.byteLength(body) > MAX_BODY) { skipped++; continue; }
        const r = await deliver(name, body);
        sentSigned++;
        if (record(name, example, i, r, 'json', true) && !/^application\/json\b/.test(r.contentType ?? ''))
          anomalies.push({ event: name, action: example.action ?? null, index: i, via: 'json', status: r.status, text: `Content-Type ${r.contentType}` });
      }
      const mine = anomalies.slice(before);
      assert.deepEqual(mine, [], `${name}: ${mine.length} unexpected answer(s):\n` +
        mine.map((a) => `  example ${a.index} action=${a.action}: ${a.status} ${a.text}`).join('\n'));
    });
  }
  console.log(`${sentSigned} signed JSON deliveries in ${Date.now() - t0} ms (${skipped} skipped as over 5 MiB)`);
  assert.ok(server.alive(), `the server died:\n${server.stderr().slice(-2000)}`);
});

test('form-encoded deliveries (payload=…, signed over the form bytes) are taken like JSON', async () => {
  const picks = [
    ['ping', find('ping')],
    ['push', find('push')],
    ['issues', find('issues', (x) => x.action === 'opened')],
    ['pull_request', find('pull_request', (x) => x.action === 'opened')],
    ['star', find('star', (x) => x.action === 'created')],
    ['label', find('label')], // probably ignored: still 200
  ];
  for (const [k, [event, example]] of picks.entries()) {
    const json = JSON.stringify(example);
    // GitHub's form bodies: payload= and the JSON URL-encoded; one with '+' for spaces as well
    const form = k === 1 ? new URLSearchParams({ payload: json }).toString() : 'payload=' + encodeURIComponent(json);
    const asJson = await deliver(event, json);
    const kindJson = record(event, example, `form-pair-json`, asJson);
    const asForm = await deliver(event, form, { contentType: 'application/x-www-form-urlencoded' });
    const kindForm = record(event, example, 'form', asForm, 'form');
    assert.ok(kindJson && kindForm, `${event}: JSON ${asJson.status} ${asJson.text} / form ${asForm.status} ${asForm.text}`);
    assert.equal(kindForm, kindJson, `${event}: as JSON ${asJson.text}, as a form ${asForm.text}`);
    if (kindJson === 'ignored') assert.equal(asForm.json.ignored, asJson.json.ignored);
  }
  // a form without payload= is refused (and posts nothing)
  const r = await deliver('push', 'foo=bar', { contentType: 'application/x-www-form-urlencoded' });
  refusedSent++;
  assert.equal(r.status, 400, r.text);
});

test('a missing or wrong signature is refused with 401 and posts nothing', async () => {
  const [event, example] = ['push', find('push')];
  const body = JSON.stringify(example);
  const other = JSON.stringify({ ...example, ref: 'refs/heads/evil' });
  const cases = {
    'no X-Hub-Signature-256': null,
    'empty': '',
    'signed with another secret': sign('not-the-secret', body),
    'the signature of another body': sign(connector.secret, other),
    'sha1 in the sha256 header': 'sha1=' + createHmac('sha1', connector.secret).update(body).digest('hex'),
    'no sha256= prefix': sign(connector.secret, body).slice(7),
    'one hex digit short': sign(connector.secret, body).slice(0, -1),
    'one hex digit wrong': sign(connector.secret, body).replace(/.$/, (c) => (c === '0' ? '1' : '0')),
  };
  const before = (await allMessages(channel.id)).length;
  for (const [what, sig] of Object.entries(cases)) {
    const r = await deliver(event, body, { signature: sig });
    refusedSent++;
    assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
    assert.ok(!r.json?.ok, `${what}: ${r.text}`);
  }
  // a form body signed over its decoded JSON instead of the bytes sent
  const form = 'payload=' + encodeURIComponent(body);
  const r = await deliver(event, form, { contentType: 'application/x-www-form-urlencoded', signature: sign(connector.secret, body) });
  refusedSent++;
  assert.equal(r.status, 401, `form signed over the JSON: ${r.status} ${r.text}`);
  // upper-case hex is the same signature (GitHub writes lower case; the connector takes any case)
  const up = await deliver(event, body, { signature: 'sha256=' + sign(connector.secret, body).slice(7).toUpperCase() });
  assert.ok(record(event, example, 'upper-case-signature', up), `${up.status} ${up.text}`);
  const after = (await allMessages(channel.id)).length;
  assert.equal(after - before, up.json?.thread ? 0 : 1, 'a refused delivery posted something');
});

test('a redelivery (the same X-GitHub-Delivery) answers the first message and posts nothing new', async () => {
  const example = find('issues', (x) => x.action === 'opened');
  const body = JSON.stringify(example);
  const delivery = randomUUID();
  const first = await deliver('issues', body, { delivery });
  assert.equal(record('issues', example, 'redelivery', first), 'posted', first.text);
  const count = (await allMessages(channel.id)).length;
  const again = await deliver('issues', body, { delivery });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json?.ok, true, again.text);
  assert.equal(again.json.message_id, first.json.message_id, `first ${first.text}, redelivered ${again.text}`);
  assert.equal((await allMessages(channel.id)).length, count);
});

// No example carries markup, so a few are sent again with some in their titles, bodies and commit
// messages: the card's text (markdown) must not carry it raw; markdown-escaped (\<script\>) is
// text (checked with all the others below).
test('examples with <script> in their texts are posted', async () => {
  const evil = '<script>alert(1)</script>';
  const bodyText = `Hello ${evil}\n<SCRIPT src="https://evil.example/x.js"></SCRIPT> <img src=x onerror=alert(1)>`;
  const clone = (x) => structuredClone(x);
  const issue = clone(find('issues', (x) => x.action === 'opened'));
  issue.issue.title = `${evil} Issue`; issue.issue.body = bodyText;
  const pr = clone(find('pull_request', (x) => x.action === 'opened'));
  pr.pull_request.title = `${evil} PR`; pr.pull_request.body = bodyText;
  const comment = clone(find('issue_comment', (x) => x.action === 'created'));
  comment.comment.body = bodyText;
  const push = clone(find('push', (x) => Array.isArray(x.commits) && x.commits.length > 0));
  push.commits[0].message = `${evil} commit\n\n${bodyText}`;
  if (push.head_commit) push.head_commit.message = push.commits[0].message;
  const release = clone(find('release', (x) => x.action === 'published'));
  release.release.name = `${evil} v1`; release.release.body = bodyText;
  for (const [event, payload] of [['issues', issue], ['pull_request', pr], ['issue_comment', comment], ['push', push], ['release', release]]) {
    const r = await deliver(event, JSON.stringify(payload));
    assert.equal(record(event, payload, 'markup', r), 'posted', `${event}: ${r.status} ${r.text}`);
    markupIds.add(r.json.message_id);
  }
});

test('the channel holds exactly the posted cards, all GitHub cards without raw <script', async () => {
  const top = await allMessages(channel.id);
  const all = [...top];
  for (const m of top) {
    if (!m.replies) continue;
    const replies = await allMessages(channel.id, m.id);
    assert.equal(replies.length, m.replies, `message ${m.id}: "replies" ${m.replies}, listed ${replies.length}`);
    for (const reply of replies) assert.equal(reply.thread, m.id, JSON.stringify(reply));
    all.push(...replies);
  }
  const ids = all.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'a message listed twice');
  assert.equal(all.length, postedIds.size, `messages in the channel ${all.length}, message_id answers ${postedIds.size}`);
  assert.deepEqual(new Set(ids), new Set(postedIds.keys()));
  const problems = [];
  for (const m of all) {
    const p = postedIds.get(m.id);
    if (m.author?.type !== 'connector' || m.author.id !== connector.id) problems.push(`${m.id} (${p.event}): author ${JSON.stringify(m.author)}`);
    if (m.card?.envelope?.dialect !== 'github') problems.push(`${m.id} (${p.event}): dialect ${m.card?.envelope?.dialect}`);
    if (typeof m.text !== 'string' || !m.text) problems.push(`${m.id} (${p.event}): empty text`);
    else if (/(?<!\\)<script/i.test(m.text)) problems.push(`${m.id} (${p.event}): raw <script in the text: ${m.text}`);
    else if (markupIds.has(m.id) && !/\\<script/i.test(m.text)) problems.push(`${m.id} (${p.event}): the text shows no <script at all: ${m.text}`);
    if ((m.thread ?? null) !== p.thread) problems.push(`${m.id} (${p.event}): thread ${m.thread}, answered ${p.thread}`);
  }
  assert.deepEqual(problems, []);
  console.log(`channel: ${top.length} top-level messages, ${all.length - top.length} replies`);
});

test('the delivery log records posted / ignored / refused outcomes', async () => {
  const r = await api('GET', `/api/v1/connectors/${connector.id}/deliveries`);
  assert.equal(r.status, 200, r.text);
  const list = r.json.deliveries;
  // (a redelivery answered from the first one may or may not be logged: there are more than 200)
  assert.ok(deliveriesSent > 201);
  assert.equal(list.length, 200, `the log has ${list.length} entries`);
  const outcomes = {};
  for (const d of list) {
    assert.ok(['posted', 'ignored', 'refused'].includes(d.outcome), JSON.stringify(d));
    outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
    assert.ok(!JSON.stringify(d).includes(connector.secret), 'the log holds the secret');
    if (d.outcome === 'posted') assert.ok(postedIds.has(d.message_id), JSON.stringify({ ...d, body: undefined }));
    else if (d.outcome === 'ignored') assert.equal(d.status, 200, JSON.stringify({ ...d, body: undefined }));
    else assert.ok(d.status === 400 || d.status === 401, JSON.stringify({ ...d, body: undefined }));
  }
  // the refusals are among the newest 200: one 400 (a form without payload=), the rest 401
  const refused = list.filter((d) => d.outcome === 'refused');
  assert.equal(refused.length, refusedSent, JSON.stringify(refused.map((d) => [d.status, d.error])));
  assert.equal(refused.filter((d) => d.status === 401).length, refusedSent - 1);
  for (const d of refused.filter((x) => x.status === 401)) assert.match(d.error ?? '', /X-Hub-Signature-256/);
  console.log(`delivery log (newest ${list.length}): ${JSON.stringify(outcomes)}`);
});

test('the server is still up and answering', async () => {
  assert.ok(server.alive(), server.stderr().slice(-2000));
  const r = await api('GET', '/api/v1/session');
  assert.equal(r.status, 200, r.text);
});

test('summary: posted / ignored per event', () => {
  const rows = [...byEvent.entries()].sort(([a], [b]) => a.localeCompare(b));
  const w = Math.max(5, ...rows.map(([n]) => n.length));
  const lines = [`${'event'.padEnd(w)}  posted  ignored`];
  let p = 0, g = 0;
  for (const [name, e] of rows) {
    lines.push(`${name.padEnd(w)}  ${String(e.posted).padStart(6)}  ${String(e.ignored).padStart(7)}`);
    p += e.posted; g += e.ignored;
  }
  lines.push(`${'total'.padEnd(w)}  ${String(p).padStart(6)}  ${String(g).padStart(7)}`);
  lines.push('', 'ignored reasons:');
  for (const [name, e] of rows)
    for (const [reason, n] of e.reasons) lines.push(`  ${name}: ${reason}${n > 1 ? ` (×${n})` : ''}`);
  if (anomalies.length) {
    lines.push('', 'ANOMALIES:');
    for (const a of anomalies) lines.push(`  ${a.event} action=${a.action} example ${a.index} (${a.via}): ${a.status} ${a.text}`);
  }
  console.log(lines.join('\n'));
  assert.deepEqual(anomalies, []);
});
