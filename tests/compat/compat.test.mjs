// Compatibility of Switchboard's incoming webhooks with real client libraries from npm:
//   ms-teams-webhook (Teams: MessageCard and Adaptive Card) and @slack/webhook (IncomingWebhook).
// Starts its own server (server.mjs: SWITCHBOARD_BIN, default ../../build/switchboard) on a free
// port with a temporary data directory, bootstraps a user with the admin CLI, creates a team and one
// webhook per library through the REST API, sends with each library and checks both what the
// library reports and what arrived in the channel.
//
// Run: ./run.sh  (or: npm ci && node --test)
//
// What the libraries do (read from node_modules):
// - ms-teams-webhook 2.2.2: axios.post(url, payload) with proxy:false and no check of the host, so
//   the Switchboard URL is used as is. send() resolves with response.data; axios JSON-parses the text
//   body, so Teams' "1" becomes the number 1. sendAdaptiveCard()/sendRawAdaptiveCard() resolve with
//   the whole axios response (status 200, data 1). sendAdaptiveCard() wraps the expanded template in
//   {"type":"message","summary":"Adaptive Card","attachments":[{contentType, content}]}.
// - @slack/webhook 8.0.2: fetch(url, POST JSON); a non-2xx answer rejects with
//   IncomingWebhookHTTPError {statusCode, body}; success resolves with {text: <body>}. It does not
//   look at the host either. Slack replies "ok": senders written for Slack get the Slack dialect by
//   adding /slack to the Switchboard URL (the plain URL answers Teams-style "1").

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { IncomingWebhook as TeamsWebhook } from 'ms-teams-webhook';
import { IncomingWebhook as SlackWebhook } from '@slack/webhook';

import { startServer } from './server.mjs';

let server, base;
let channel, teamsHook, slackHook;

const api = (method, p, body) => server.api(method, p, body);

async function newestMessages(limit = 20) {
  const r = await api('GET', `/api/v1/channels/${channel.id}/messages?limit=${limit}`);
  assert.equal(r.status, 200, r.text);
  return r.json.messages;
}

// Every string in a JSON value.
function strings(v, out = []) {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => strings(x, out));
  return out;
}

async function createHook(name) {
  const r = await api('POST', `/api/v1/channels/${channel.id}/connectors`, { type: 'incoming_webhook', name });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.url, new RegExp(`^${base}/webhook/${r.json.id}/`));
  return r.json;
}

before(async () => {
  server = await startServer({ args: ['--webhook-burst', '1000', '--webhook-rate', '1000'] });
  base = server.base;

  const team = await api('POST', '/api/v1/teams', { name: 'Compat' });
  assert.equal(team.status, 201, team.text);
  const chans = await api('GET', `/api/v1/teams/${team.json.id}/channels`);
  channel = chans.json.channels.find((c) => c.name === 'general');
  assert.ok(channel, chans.text);
  teamsHook = await createHook('Teams lib');
  slackHook = await createHook('Slack lib');
});

after(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// ms-teams-webhook

test('ms-teams-webhook: send() a MessageCard resolves with Teams\' "1"', async () => {
  const hook = new TeamsWebhook(teamsHook.url);
  const result = await hook.send({
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: 'Issue 176715375',
    themeColor: '0078D7',
    title: 'Issue opened: "Push notifications not working"',
    sections: [{
      activityTitle: 'Miguel Garcie',
      activitySubtitle: '9/13/2016, 11:46am',
      text: "There is a problem with Push notifications, they don't seem to be picked up by the connector.",
      facts: [{ name: 'Priority', value: 'High' }],
    }],
    potentialAction: [{ '@type': 'OpenUri', name: 'View', targets: [{ os: 'default', uri: 'https://example.com/issues/176715375' }] }],
  });
  assert.equal(result, 1); // the body "1", JSON-parsed by axios

  const [m] = await newestMessages(1);
  assert.equal(m.author.type, 'connector');
  assert.equal(m.author.id, teamsHook.id);
  assert.equal(m.author.name, 'Teams lib');
  const env = m.card.envelope;
  assert.equal(env.dialect, 'messagecard');
  assert.equal(env.summary, 'Issue 176715375');
  assert.equal(env.themeColor, '#0078D7');
  assert.equal(env.sender.name, 'Teams lib');
  const s = strings(m.card.content);
  assert.ok(s.some((x) => x.includes('Issue opened: "Push notifications not working"')), s);
  assert.ok(s.some((x) => x.includes('Miguel Garcie')), s);
  assert.ok(s.includes('https://example.com/issues/176715375'), s);
  assert.ok(m.text.includes('Priority') && m.text.includes('High'), m.text);
});

test('ms-teams-webhook: sendAdaptiveCard() expands the template and gets 200 "1"', async () => {
  const hook = new TeamsWebhook(teamsHook.url);
  const template = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.4',
    body: [
      { type: 'TextBlock', text: 'Build ${build} ${status}', weight: 'Bolder', wrap: true },
      { type: 'FactSet', facts: [{ title: 'Branch', value: '${branch}' }] },
    ],
    actions: [{ type: 'Action.OpenUrl', title: 'Open', url: 'https://ci.example.com/${build}' }],
  };
  const res = await hook.sendAdaptiveCard(template, { build: 42, status: 'passed', branch: 'main' });
  assert.equal(res.status, 200);
  assert.equal(res.data, 1);

  const [m] = await newestMessages(1);
  assert.equal(m.author.type, 'connector');
  assert.equal(m.card.envelope.dialect, 'adaptive');
  const s = strings(m.card.content);
  assert.ok(s.includes('Build 42 passed'), s);
  assert.ok(s.includes('https://ci.example.com/42'), s);
  assert.ok(m.text.includes('Build 42 passed'), m.text);
  assert.ok(m.text.includes('main'), m.text);
});

test('ms-teams-webhook: sendRawAdaptiveCard() with the documented envelope', async () => {
  const hook = new TeamsWebhook(teamsHook.url);
  const res = await hook.sendRawAdaptiveCard({
    type: 'message',
    attachments: [{
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: { type: 'AdaptiveCard', version: '1.2', body: [{ type: 'TextBlock', text: 'Raw envelope ✅' }] },
    }],
  });
  assert.equal(res.status, 200);
  assert.equal(res.data, 1);
  const [m] = await newestMessages(1);
  assert.equal(m.card.envelope.dialect, 'adaptive');
  assert.ok(m.text.includes('Raw envelope ✅'), m.text);
});

test('ms-teams-webhook: an empty MessageCard is refused (400 "Summary or Text is required.")', async () => {
  const hook = new TeamsWebhook(teamsHook.url);
  const before = (await newestMessages(1))[0].id;
  // The library's error mapping expects a JSON body; Teams (and Switchboard) answer plain text, so
  // what rejects may be the AxiosError or a TypeError from the library: either way, it rejects.
  await assert.rejects(hook.send({ '@type': 'MessageCard', title: 'no summary, no text' }));
  const r = await fetch(teamsHook.url, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ '@type': 'MessageCard', title: 'no summary, no text' }),
  });
  assert.equal(r.status, 400);
  assert.equal(await r.text(), 'Summary or Text is required.');
  assert.equal((await newestMessages(1))[0].id, before);
});

// ---------------------------------------------------------------------------------------------
// @slack/webhook

test('@slack/webhook: send(text) resolves with {text: "ok"}', async () => {
  const hook = new SlackWebhook(slackHook.url + '/slack', { timeout: 10000 });
  const res = await hook.send('Deploy *finished* for <https://ci.example.com/7|build 7>');
  assert.deepEqual(res, { text: 'ok' });
  const [m] = await newestMessages(1);
  assert.equal(m.author.type, 'connector');
  assert.equal(m.author.id, slackHook.id);
  assert.equal(m.card.envelope.dialect, 'slack');
  const s = strings(m.card.content);
  assert.ok(s.some((x) => x.includes('Deploy **finished**')), s);
  assert.ok(s.some((x) => x.includes('[build 7](https://ci.example.com/7)')), s);
});

test('@slack/webhook: send() with attachments', async () => {
  const hook = new SlackWebhook(slackHook.url + '/slack', { timeout: 10000 });
  const res = await hook.send({
    text: 'Alert',
    attachments: [{
      color: 'danger', fallback: 'CPU high on db1', title: 'CPU high', title_link: 'https://grafana.example.com/d/1',
      text: 'on *db1*', fields: [{ title: 'value', value: '97%', short: true }],
    }],
  });
  assert.deepEqual(res, { text: 'ok' });
  const [m] = await newestMessages(1);
  assert.equal(m.card.envelope.dialect, 'slack');
  const s = strings(m.card.content);
  assert.ok(s.some((x) => x.includes('CPU high')), s);
  assert.ok(s.includes('97%'), s);
  assert.ok(s.some((x) => x.includes('on **db1**')), s);
});

test('@slack/webhook: send() with blocks, username and icon_url', async () => {
  const hook = new SlackWebhook(slackHook.url + '/slack', { username: 'Release Bot', icon_url: 'https://example.com/r.png', timeout: 10000 });
  const res = await hook.send({
    text: 'Release 1.2 shipped',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Release 1.2' } },
      { type: 'section', text: { type: 'mrkdwn', text: 'Shipped *today* :rocket:' } },
      { type: 'divider' },
    ],
  });
  assert.deepEqual(res, { text: 'ok' });
  const [m] = await newestMessages(1);
  const env = m.card.envelope;
  assert.equal(env.dialect, 'slack');
  assert.equal(env.sender.name, 'Release Bot');
  assert.equal(env.senderOverride, true);
  assert.equal(env.via, 'Slack lib');
  assert.equal(m.author.type, 'connector');
  assert.equal(m.author.name, 'Slack lib');
  const s = strings(m.card.content);
  assert.ok(s.some((x) => x.includes('Release 1.2')), s);
  assert.ok(s.some((x) => x.includes('Shipped **today**')), s);
});

test('@slack/webhook: a refusal surfaces as IncomingWebhookHTTPError with Slack\'s error string', async () => {
  const hook = new SlackWebhook(slackHook.url + '/slack', { timeout: 10000 });
  await assert.rejects(hook.send({ text: '' }), (err) => {
    assert.equal(err.code, 'slack_webhook_http_error');
    assert.equal(err.statusCode, 400);
    assert.equal(err.body, 'no_text');
    return true;
  });
  const bad = new SlackWebhook(slackHook.url.replace(/\/[^/]+$/, '/wrong-secret') + '/slack', { timeout: 10000 });
  await assert.rejects(bad.send('x'), (err) => {
    assert.equal(err.statusCode, 404);
    assert.equal(err.body, 'no_service');
    return true;
  });
});
