// store.js: the client's state (teams, channels, messages per channel, unread counts, the live
// event stream) and the actions that change it. Components re-render through useStore().
import { useEffect, useState } from "preact/hooks";
import { get, post } from "./api.js";

const listeners = new Set();
export const S = {
  me: null,
  teams: [],            // Team[] in id order
  channels: {},         // teamId -> Channel[] by name
  msgs: {},             // channelId -> {list: Message[] ascending, ids: Set, hasMore, loading, loaded}
  unread: {},           // channelId -> count
  current: null,        // open channel id
  live: false,          // event stream connected
  connectors: {},       // channelId -> Connector[] (loaded while the dialog is open)
  thread: null,         // the open thread: {channel, root} (ids)
  threads: {},          // rootId -> {root: Message|null, list: replies ascending, ids, hasMore, loading, loaded, error}
  notify: new Set(loadJSON("sb.notify", [])),
  drawer: false,        // phone: sidebar open
};
let version = 0;
export function bump() { version++; listeners.forEach((f) => f(version)); }
export function useStore() {
  const [, force] = useState(0);
  useEffect(() => { listeners.add(force); return () => listeners.delete(force); }, []);
  return S;
}

function loadJSON(key, dflt) {
  try { const v = JSON.parse(localStorage.getItem(key)); return v ?? dflt; } catch { return dflt; }
}
function saveJSON(key, v) { try { localStorage.setItem(key, JSON.stringify(v)); } catch { /* private mode */ } }

const lastRead = loadJSON("sb.lastRead", {});

export const findChannel = (id) => {
  for (const list of Object.values(S.channels)) for (const c of list) if (c.id === id) return c;
  return null;
};
export const findTeam = (id) => S.teams.find((t) => t.id === id) || null;

// ---------- loading ----------
export async function loadAll() {
  const { teams } = await get("/api/v1/teams");
  S.teams = teams;
  await Promise.all(teams.map((t) => loadChannels(t.id)));
  bump();
  countUnread();
}

export async function loadChannels(teamId) {
  const { channels } = await get(`/api/v1/teams/${teamId}/channels`);
  S.channels[teamId] = channels;
  bump();
}

async function countUnread() {
  const all = Object.values(S.channels).flat();
  await Promise.all(all.map(async (c) => {
    const after = lastRead[c.id];
    if (after == null || c.id === S.current) return;
    try {
      const r = await get(`/api/v1/channels/${c.id}/messages?after=${after}&limit=100`);
      const n = r.messages.filter((m) => !isMine(m)).length;
      S.unread[c.id] = Math.max(S.unread[c.id] || 0, n);
    } catch { /* channel gone */ }
  }));
  bump();
}

const isMine = (m) => S.me && m.author && m.author.type === "user" && m.author.id === S.me.id;

const emptyFeed = () => ({ list: [], ids: new Set(), hasMore: true, loading: false, loaded: false });
function feed(chId) {
  return (S.msgs[chId] ||= emptyFeed());
}

/** Adds messages (any order) to a feed, skipping ids already there. Returns the new ones. */
function mergeInto(f, messages) {
  const fresh = messages.filter((m) => !f.ids.has(m.id));
  if (!fresh.length) return fresh;
  fresh.forEach((m) => f.ids.add(m.id));
  f.list = f.list.concat(fresh).sort((a, b) => a.id - b.id);
  return fresh;
}
/** The channel feed holds top-level messages only: replies live in their thread. */
const merge = (chId, messages) => mergeInto(feed(chId), messages.filter((m) => !m.thread));

export async function loadNewest(chId) {
  const f = feed(chId);
  if (f.loaded || f.loading) return;
  f.loading = true; bump();
  try {
    const r = await get(`/api/v1/channels/${chId}/messages?limit=50`);
    merge(chId, r.messages);
    f.hasMore = r.has_more;
    f.loaded = true;
  } finally { f.loading = false; bump(); }
  markRead(chId);
}

export async function loadOlder(chId) {
  const f = feed(chId);
  if (f.loading || !f.hasMore || !f.list.length) return false;
  f.loading = true; bump();
  try {
    const r = await get(`/api/v1/channels/${chId}/messages?before=${f.list[0].id}&limit=50`);
    merge(chId, r.messages);
    f.hasMore = r.has_more;
  } finally { f.loading = false; bump(); }
  return true;
}

export async function sendMessage(chId, text) {
  const m = await post(`/api/v1/channels/${chId}/messages`, { text });
  merge(chId, [m]);
  markRead(chId);
  bump();
  return m;
}

export function markRead(chId) {
  const f = S.msgs[chId];
  const top = f && f.list.length ? f.list[f.list.length - 1].id : null;
  if (top != null && (lastRead[chId] ?? -1) < top) { lastRead[chId] = top; saveJSON("sb.lastRead", lastRead); }
  else if (top == null && lastRead[chId] == null) { lastRead[chId] = 0; saveJSON("sb.lastRead", lastRead); }
  if (S.unread[chId]) { S.unread[chId] = 0; bump(); }
}

export function openChannel(chId, push = true) {
  if (S.thread && S.thread.channel !== chId) S.thread = null;
  S.current = chId;
  S.drawer = false;
  if (push && location.pathname !== `/channels/${chId}`) history.pushState({}, "", `/channels/${chId}`);
  bump();
  loadNewest(chId).catch(() => {});
  markRead(chId);
}

// ---------- threads ----------
// A thread is a root message (top level, in the channel feed) and its replies (Message.thread =
// root id), listed under ?thread=ROOT. Reply counts (Message.replies) come from the server and are
// bumped locally for replies seen live; `counted` keeps a reply from being counted twice (once
// from the POST answer, once from the event stream, once from a loaded page).
const counted = new Set();

function threadState(rootId) {
  return (S.threads[rootId] ||= { ...emptyFeed(), root: null, error: null });
}

/** The root as currently known: the thread's copy, else the channel feed's. */
export function threadRoot(rootId, chId) {
  const t = S.threads[rootId];
  if (t && t.root) return t.root;
  const f = chId && S.msgs[chId];
  return (f && f.ids.has(rootId) && f.list.find((m) => m.id === rootId)) || null;
}

/** Replaces a message wherever it is shown (channel feed, thread root, thread replies). */
function updateMessage(id, channelId, fn) {
  const f = S.msgs[channelId];
  if (f && f.ids.has(id)) f.list = f.list.map((x) => (x.id === id ? fn(x) : x));
  const t = S.threads[id];
  if (t && t.root) t.root = fn(t.root);
  for (const th of Object.values(S.threads))
    if (th.ids.has(id)) th.list = th.list.map((x) => (x.id === id ? fn(x) : x));
}

function countReply(m) {
  if (counted.has(m.id)) return;
  counted.add(m.id);
  updateMessage(m.thread, m.channel_id, (r) => ({ ...r, replies: (r.replies || 0) + 1 }));
}

/** A reply that arrived (live or as the answer to our POST). */
function addReply(m) {
  const t = S.threads[m.thread];
  if (t && (t.loaded || t.loading)) mergeInto(t, [m]);
  countReply(m);
  if (t && t.loaded && !t.hasMore) settleCount(m.thread);
}

/** With every reply loaded the count is known exactly. */
function settleCount(rootId) {
  const t = S.threads[rootId];
  const root = t && t.root;
  if (!root || (root.replies || 0) === t.list.length) return;
  updateMessage(rootId, root.channel_id, (r) => ({ ...r, replies: t.list.length }));
}

export function openThread(chId, rootId, push = true) {
  S.thread = { channel: chId, root: rootId };
  const path = `/channels/${chId}/threads/${rootId}`;
  if (push && location.pathname !== path) history.pushState({ threadOf: chId }, "", path);
  bump();
  loadThread(chId, rootId).catch(() => {});
}

/** Closes the open thread; `fromHistory` when the browser's Back already changed the address. */
export function closeThread(fromHistory = false) {
  if (!S.thread) return;
  const chId = S.thread.channel;
  S.thread = null;
  bump();
  if (fromHistory) return;
  if (history.state && history.state.threadOf === chId) history.back();
  else history.replaceState({}, "", `/channels/${chId}`);
}

export async function loadThread(chId, rootId) {
  const t = threadState(rootId);
  if (t.loaded || t.loading) return;
  t.loading = true; t.error = null; bump();
  try {
    if (!t.root) t.root = threadRoot(rootId, chId);
    if (!t.root) {
      // no call reads one message: the oldest top-level message after ROOT-1 is the root itself
      const r = await get(`/api/v1/channels/${chId}/messages?after=${rootId - 1}&limit=1`);
      const m = r.messages.find((x) => x.id === rootId);
      if (!m) throw new Error("This thread is not in the channel.");
      t.root = m;
    }
    const r = await get(`/api/v1/channels/${chId}/messages?thread=${rootId}&limit=50`);
    r.messages.forEach((m) => counted.add(m.id));
    mergeInto(t, r.messages);
    t.hasMore = r.has_more;
    t.loaded = true;
    if (!t.hasMore) settleCount(rootId);
  } catch (e) {
    t.error = e.message;
  } finally { t.loading = false; bump(); }
}

export async function loadOlderReplies(chId, rootId) {
  const t = S.threads[rootId];
  if (!t || t.loading || !t.hasMore || !t.list.length) return false;
  t.loading = true; bump();
  try {
    const r = await get(`/api/v1/channels/${chId}/messages?thread=${rootId}&before=${t.list[0].id}&limit=50`);
    r.messages.forEach((m) => counted.add(m.id));
    mergeInto(t, r.messages);
    t.hasMore = r.has_more;
    if (!t.hasMore) settleCount(rootId);
  } finally { t.loading = false; bump(); }
  return true;
}

export async function sendReply(chId, rootId, text) {
  const m = await post(`/api/v1/channels/${chId}/messages`, { text, thread: rootId });
  addReply(m);
  bump();
  return m;
}

// ---------- notifications ----------
export async function toggleNotify(chId) {
  if (S.notify.has(chId)) {
    S.notify.delete(chId);
  } else {
    if (!("Notification" in window)) return "unsupported";
    let perm = Notification.permission;
    if (perm === "default") perm = await Notification.requestPermission();
    if (perm !== "granted") return "denied";
    S.notify.add(chId);
  }
  saveJSON("sb.notify", [...S.notify]);
  bump();
  return "ok";
}

/** Markdown's backslash escapes (a card's fallback text has them: "host\\-3") read as plain text. */
const plainText = (t) => String(t || "").replace(/\\([!-/:-@[-`{-~])/g, "$1");

function maybeNotify(m) {
  if (!S.notify.has(m.channel_id) || isMine(m)) return;
  if (!document.hidden && S.current === m.channel_id && (!m.thread || (S.thread && S.thread.root === m.thread))) return;
  if (m.thread) { const root = threadRoot(m.thread, m.channel_id); if (!root || !isMine(root)) return; } // replies: only to my messages
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const ch = findChannel(m.channel_id);
  const who = m.card?.envelope?.sender?.name || m.author?.username || m.author?.name || "Switchboard";
  try {
    const n = new Notification(`${who} in #${ch ? ch.name : m.channel_id}`, {
      body: plainText(m.text).slice(0, 240), tag: `sb-${m.id}`, icon: "/icon-192.png",
    });
    n.onclick = () => { window.focus(); openChannel(m.channel_id); if (m.thread) openThread(m.channel_id, m.thread); n.close(); };
  } catch { /* some platforms only allow notifications from a service worker */ }
}

// ---------- live events ----------
let es = null, lastEventId = 0, retryTimer = null;
const handlers = {
  "message.created"(m) {
    const f = S.msgs[m.channel_id];
    const known = m.thread ? counted.has(m.id) : f && f.ids.has(m.id);
    if (m.thread) addReply(m);
    else if (f && f.loaded) merge(m.channel_id, [m]);
    if (known) return;
    const conns = S.connectors[m.channel_id];
    if (conns && m.author && m.author.type === "connector") // an accepted delivery
      S.connectors[m.channel_id] = conns.map((c) => (c.id === m.author.id ? { ...c, last_delivery: { time: m.created, status: 200 } } : c));
    maybeNotify(m);
    if (m.thread) return; // replies do not count as unread in the channel
    const open = S.current === m.channel_id && !document.hidden;
    if (open) markRead(m.channel_id);
    else if (!isMine(m)) S.unread[m.channel_id] = (S.unread[m.channel_id] || 0) + 1;
  },
  "message.updated"(m) {
    // a connector replaced its card (an alert resolved...): the same message, shown in place
    updateMessage(m.id, m.channel_id, (old) => ({ ...m, replies: m.replies ?? old.replies }));
  },
  "team.created"(t) {
    if (!findTeam(t.id)) { S.teams = [...S.teams, t].sort((a, b) => a.id - b.id); loadChannels(t.id).catch(() => {}); }
  },
  "channel.created"(c) {
    const list = S.channels[c.team_id] || [];
    if (!list.some((x) => x.id === c.id)) S.channels[c.team_id] = [...list, c].sort((a, b) => a.name.localeCompare(b.name));
  },
  "member.added"(e) {
    if (S.me && e.user_id === S.me.id && !findTeam(e.team_id)) {
      S.teams = [...S.teams, { id: e.team_id, name: e.team.name, role: e.role }].sort((a, b) => a.id - b.id);
      loadChannels(e.team_id).catch(() => {});
    }
    S.membersVersion = (S.membersVersion || 0) + 1;
  },
  "member.removed"(e) {
    if (S.me && e.user_id === S.me.id) {
      const chans = S.channels[e.team_id] || [];
      S.teams = S.teams.filter((t) => t.id !== e.team_id);
      delete S.channels[e.team_id];
      if (chans.some((c) => c.id === S.current)) S.current = null;
    }
    S.membersVersion = (S.membersVersion || 0) + 1;
  },
  "connector.created"(c) { upsertConnector(c); },
  "connector.updated"(c) { upsertConnector(c); },
  "connector.deleted"(c) {
    const list = S.connectors[c.channel_id];
    if (list) S.connectors[c.channel_id] = list.filter((x) => x.id !== c.id);
  },
};

export function upsertConnector(c) {
  const list = S.connectors[c.channel_id];
  if (!list) return;
  const i = list.findIndex((x) => x.id === c.id);
  const next = list.slice();
  if (i >= 0) next[i] = { ...next[i], ...c };
  else next.push(c);
  S.connectors[c.channel_id] = next;
  bump();
}

export function connectEvents() {
  if (es) es.close();
  clearTimeout(retryTimer);
  const url = lastEventId ? `/api/v1/events?last_event_id=${lastEventId}` : "/api/v1/events";
  es = new EventSource(url);
  for (const type of Object.keys(handlers)) {
    es.addEventListener(type, (e) => {
      const id = Number(e.lastEventId);
      if (id && id <= lastEventId) return; // replayed after a reconnect
      if (id) lastEventId = id;
      let data;
      try { data = JSON.parse(e.data); } catch { return; }
      handlers[type](data);
      bump();
    });
  }
  es.onopen = () => { S.live = true; bump(); };
  es.onerror = () => {
    S.live = false; bump();
    if (es.readyState === EventSource.CLOSED) retryTimer = setTimeout(reconnect, 3000);
  };
}

async function reconnect() {
  if (!S.me) return;
  connectEvents();
}

export function disconnectEvents() {
  clearTimeout(retryTimer);
  if (es) es.close();
  es = null;
  lastEventId = 0;
}

window.addEventListener("online", () => { if (S.me && (!es || es.readyState === EventSource.CLOSED)) connectEvents(); });
document.addEventListener("visibilitychange", () => { if (!document.hidden && S.current) { markRead(S.current); } });

export function resetStore() {
  disconnectEvents();
  Object.assign(S, { me: null, teams: [], channels: {}, msgs: {}, unread: {}, current: null, live: false, connectors: {}, thread: null, threads: {} });
  counted.clear();
  bump();
}
