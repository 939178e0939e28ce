// app.jsx: the shell: sign-in, sidebar (teams, channels, unread counts), the open channel's
// header with its "…" menu, the feed (top-level messages; older pages on scroll, live appends),
// the composer, and the open thread beside it.
import { useEffect, useRef, useState } from "preact/hooks";
import { loadSession, signIn, signOut } from "./api.js";
import {
  S, bump, useStore, loadAll, openChannel, loadOlder, sendMessage, markRead, connectEvents,
  resetStore, findChannel, findTeam, toggleNotify, openThread, closeThread,
} from "./store.js";
import { Avatar, Icon } from "./ui.jsx";
import { MessageList, MessageItem, Composer } from "./messages.jsx";
import { ThreadPanel } from "./thread.jsx";
import { ConnectorsDialog } from "./connectors.jsx";
import { MembersDialog, NewChannelDialog, NewTeamDialog } from "./teams.jsx";
import { MailboxDialog } from "./mailbox.jsx";

const PATH_RE = /^\/channels\/(\d+)(?:\/threads\/(\d+))?/;

export function App() {
  const s = useStore();
  const [phase, setPhase] = useState("loading");
  const [err, setErr] = useState(null);

  async function start(user) {
    S.me = user;
    connectEvents();
    await loadAll();
    const m = PATH_RE.exec(location.pathname);
    const wanted = m ? Number(m[1]) : null;
    const first = (wanted && findChannel(wanted)) || Object.values(S.channels).flat()[0];
    if (first) openChannel(first.id, !wanted || first.id !== wanted);
    if (first && first.id === wanted && m[2]) openThread(wanted, Number(m[2]), false);
    setPhase("app");
  }

  useEffect(() => {
    loadSession()
      .then((u) => (u ? start(u) : setPhase("signin")))
      .catch((e) => { setErr(e.message); setPhase("signin"); });
    const onPop = () => {
      const m = PATH_RE.exec(location.pathname);
      if (!m || !findChannel(Number(m[1]))) return;
      if (S.current !== Number(m[1])) openChannel(Number(m[1]), false);
      if (m[2]) openThread(Number(m[1]), Number(m[2]), false);
      else closeThread(true);
    };
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  if (phase === "loading") return <div class="splash" aria-busy="true">Loading…</div>;
  if (phase === "signin" || !s.me)
    return <SignIn error={err} onDone={(u) => start(u).catch((e) => { setErr(e.message); })} />;
  return <Shell onSignOut={async () => { await signOut().catch(() => {}); resetStore(); setPhase("signin"); }} />;
}

function SignIn({ onDone, error }) {
  const [username, setU] = useState("");
  const [password, setP] = useState("");
  const [msg, setMsg] = useState(error);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true); setMsg(null);
    try { onDone(await signIn(username.trim(), password)); }
    catch (x) {
      setMsg(x.code === "invalid_credentials" ? "Wrong username or password." : x.message);
      setBusy(false);
    }
  }
  return (
    <main class="signin">
      <form class="signin-box" onSubmit={submit} aria-labelledby="signin-title">
        <img src="/icon-192.png" alt="" width="56" height="56" />
        <h1 id="signin-title">Sign in to Switchboard</h1>
        <label for="si-user">Username</label>
        <input id="si-user" name="username" autocomplete="username" required autofocus
          value={username} onInput={(e) => setU(e.currentTarget.value)} />
        <label for="si-pass">Password</label>
        <input id="si-pass" name="password" type="password" autocomplete="current-password" required
          value={password} onInput={(e) => setP(e.currentTarget.value)} />
        {msg && <p class="error" role="alert">{msg}</p>}
        <button class="btn primary" type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </main>
  );
}

function Shell({ onSignOut }) {
  const s = useStore();
  const [dialog, setDialog] = useState(null); // {kind, team?, channel?}
  const channel = s.current ? findChannel(s.current) : null;
  const team = channel ? findTeam(channel.team_id) : null;
  useEffect(() => {
    document.title = channel ? `#${channel.name} · Switchboard` : "Switchboard";
  }, [channel && channel.id]);
  useEffect(() => {
    // phone drawer: focus moves into it when it opens; Escape closes it and returns to the button
    if (!s.drawer) return;
    const first = document.querySelector(".sidebar .chan.active") || document.querySelector(".sidebar .chan");
    if (first) setTimeout(() => first.focus(), 50);
    const onKey = (e) => {
      if (e.key !== "Escape") return;
      S.drawer = false; bump();
      const b = document.querySelector(".menu-btn");
      if (b) b.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [s.drawer]);
  return (
    <div class={`shell${s.drawer ? " drawer-open" : ""}`}>
      <Sidebar onSignOut={onSignOut} open={setDialog} />
      {s.drawer && <div class="scrim" onClick={() => { S.drawer = false; bump(); }} />}
      <main class="main" aria-label={channel ? `Channel ${channel.name}` : "Channel"}>
        {channel ? (
          <ChannelView key={channel.id} channel={channel} team={team} open={setDialog} />
        ) : (
          <div class="empty-main">
            <TopBar title="Switchboard" />
            <p class="muted center">No channel yet. Create a team to start.</p>
          </div>
        )}
      </main>
      {dialog && dialog.kind === "connectors" && (
        <ConnectorsDialog channel={dialog.channel} team={dialog.team} onClose={() => setDialog(null)} />
      )}
      {dialog && dialog.kind === "members" && <MembersDialog team={dialog.team} onClose={() => setDialog(null)} />}
      {dialog && dialog.kind === "mailbox" && <MailboxDialog team={dialog.team} onClose={() => setDialog(null)} />}
      {dialog && dialog.kind === "new-channel" && <NewChannelDialog team={dialog.team} onClose={() => setDialog(null)} />}
      {dialog && dialog.kind === "new-team" && <NewTeamDialog onClose={() => setDialog(null)} />}
    </div>
  );
}

function Sidebar({ onSignOut, open }) {
  const s = useStore();
  return (
    <nav class="sidebar" id="sidebar" aria-label="Teams and channels">
      <div class="brand">
        <img src="/icon-192.png" alt="" width="28" height="28" />
        <span>Switchboard</span>
        <span class={`live-dot${s.live ? " on" : ""}`} title={s.live ? "Live" : "Reconnecting…"}
          role="status" aria-label={s.live ? "Live updates connected" : "Reconnecting"} />
      </div>
      <div class="teams">
        {s.teams.map((t) => (
          <section class="team" key={t.id} aria-labelledby={`team-${t.id}`}>
            <div class="team-head">
              <h2 id={`team-${t.id}`}>{t.name}</h2>
              <button type="button" class="icon-btn small" aria-label={`Members of ${t.name}`} title="Members"
                onClick={() => open({ kind: "members", team: t })}><Icon name="users" size={16} /></button>
              <button type="button" class="icon-btn small" aria-label={`Group mailbox of ${t.name}`} title="Group mailbox"
                onClick={() => open({ kind: "mailbox", team: t })}><Icon name="mail" size={16} /></button>
              {t.role === "owner" && (
                <button type="button" class="icon-btn small" aria-label={`New channel in ${t.name}`} title="New channel"
                  onClick={() => open({ kind: "new-channel", team: t })}><Icon name="plus" size={16} /></button>
              )}
            </div>
            <ul class="channels">
              {(s.channels[t.id] || []).map((c) => {
                const n = s.unread[c.id] || 0;
                return (
                  <li key={c.id}>
                    <a href={`/channels/${c.id}`} class={`chan${s.current === c.id ? " active" : ""}${n ? " has-unread" : ""}`}
                      aria-current={s.current === c.id ? "page" : undefined}
                      onClick={(e) => { e.preventDefault(); openChannel(c.id); }}>
                      <span class="chan-hash" aria-hidden="true">#</span>
                      <span class="chan-name">{c.name}</span>
                      {n > 0 && <span class="badge" aria-label={`${n} unread`}>{n > 99 ? "99+" : n}</span>}
                    </a>
                  </li>
                );
              })}
            </ul>
          </section>
        ))}
        <button type="button" class="btn ghost new-team" onClick={() => open({ kind: "new-team" })}>
          <Icon name="plus" size={16} /> New team
        </button>
      </div>
      <div class="me">
        <Avatar name={s.me.username} size={28} />
        <span class="me-name">{s.me.username}</span>
        <button type="button" class="icon-btn small" aria-label="Sign out" title="Sign out" onClick={onSignOut}>
          <Icon name="logout" size={16} />
        </button>
      </div>
    </nav>
  );
}

function TopBar({ title, sub, children }) {
  const s = useStore();
  const total = Object.entries(s.unread).reduce((a, [k, v]) => a + (Number(k) === s.current ? 0 : v), 0);
  return (
    <header class="topbar">
      <button type="button" class="icon-btn menu-btn" aria-label="Open channel list" aria-controls="sidebar"
        aria-expanded={s.drawer ? "true" : "false"} onClick={() => { S.drawer = !S.drawer; bump(); }}>
        <Icon name="menu" />
        {total > 0 && <span class="dot-badge" aria-hidden="true" />}
      </button>
      <div class="topbar-title">
        <h1>{title}</h1>
        {sub && <span class="muted sub">{sub}</span>}
      </div>
      {children}
    </header>
  );
}

function ChannelMenu({ channel, team, open }) {
  const s = useStore();
  const [shown, setShown] = useState(false);
  const [note, setNote] = useState(null);
  const ref = useRef(null);
  useEffect(() => {
    if (!shown) return;
    const first = ref.current && ref.current.querySelector("[role=menuitem]");
    if (first) first.focus();
    const onDoc = (e) => { if (ref.current && !ref.current.contains(e.target)) setShown(false); };
    document.addEventListener("mousedown", onDoc);
    return () => document.removeEventListener("mousedown", onDoc);
  }, [shown]);
  const choose = (f) => { setShown(false); f(); };
  const onKey = (e) => {
    const items = Array.from(ref.current.querySelectorAll("[role=menuitem]"));
    const i = items.indexOf(document.activeElement);
    if (e.key === "Escape") { setShown(false); ref.current.querySelector(".more-btn").focus(); }
    else if (e.key === "ArrowDown") { e.preventDefault(); items[(i + 1) % items.length].focus(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); items[(i - 1 + items.length) % items.length].focus(); }
  };
  const on = s.notify.has(channel.id);
  return (
    <div class="menu-wrap" ref={ref} onKeyDown={onKey}>
      <button type="button" class={`icon-btn${on ? " on" : ""}`} aria-pressed={on ? "true" : "false"}
        aria-label={on ? "Notifications on for this channel" : "Notify me about new messages here"}
        title={on ? "Notifications on" : "Notifications off"}
        onClick={async () => { const r = await toggleNotify(channel.id); setNote(r === "ok" ? null : r === "denied" ? "Notifications are blocked by the browser." : "This browser has no notifications."); }}>
        <Icon name={on ? "bell" : "bell-off"} />
      </button>
      <button type="button" class="icon-btn more-btn" aria-label="Channel menu" aria-haspopup="menu"
        aria-expanded={shown ? "true" : "false"} onClick={() => setShown(!shown)}>
        <Icon name="more" />
      </button>
      {shown && (
        <ul class="menu" role="menu" aria-label={`#${channel.name}`}>
          <li role="none"><button type="button" role="menuitem" onClick={() => choose(() => open({ kind: "connectors", channel, team }))}>
            <Icon name="plug" size={16} /> Connectors</button></li>
          <li role="none"><button type="button" role="menuitem" onClick={() => choose(() => open({ kind: "members", team }))}>
            <Icon name="users" size={16} /> Members</button></li>
          {team && <li role="none"><button type="button" role="menuitem" onClick={() => choose(() => open({ kind: "mailbox", team }))}>
            <Icon name="mail" size={16} /> Group mailbox</button></li>}
          <li role="none"><button type="button" role="menuitem" onClick={() => choose(() => toggleNotify(channel.id))}>
            <Icon name="bell" size={16} /> {on ? "Turn off notifications" : "Notify me here"}</button></li>
        </ul>
      )}
      {note && <p class="menu-note" role="alert" onClick={() => setNote(null)}>{note}</p>}
    </div>
  );
}

/** Whether the phone layout (one breakpoint, 760 px) is in effect; follows resizes. */
function usePhone() {
  const q = useRef(window.matchMedia("(max-width: 760px)"));
  const [on, setOn] = useState(q.current.matches);
  useEffect(() => {
    const f = () => setOn(q.current.matches);
    q.current.addEventListener("change", f);
    return () => q.current.removeEventListener("change", f);
  }, []);
  return on;
}

function ChannelView({ channel, team, open }) {
  const s = useStore();
  const phone = usePhone();
  const thread = s.thread && s.thread.channel === channel.id ? s.thread.root : null;
  return (
    <>
      <div class={`channel${thread ? " with-thread" : ""}`} inert={thread && phone ? true : undefined}>
        <TopBar title={<><span class="muted">#</span>{channel.name}</>} sub={team ? team.name : ""}>
          <ChannelMenu channel={channel} team={team} open={open} />
        </TopBar>
        <Feed channel={channel} thread={thread} />
        <Composer id="composer-text" label={`Message #${channel.name}`} placeholder={`Message #${channel.name}`}
          onSend={(text) => sendMessage(channel.id, text)} />
      </div>
      {thread && <ThreadPanel key={thread} channel={channel} rootId={thread} />}
    </>
  );
}

function Feed({ channel, thread }) {
  const s = useStore();
  const f = s.msgs[channel.id];
  const list = f ? f.list : [];
  const onReply = (m) => openThread(channel.id, m.id);
  return (
    <MessageList f={f} items={list} label={`Messages in #${channel.name}`}
      onOlder={() => loadOlder(channel.id)} onBottom={() => markRead(channel.id)}>
      {f && f.loading && <p class="muted center loading">Loading…</p>}
      {f && f.loaded && !f.hasMore && (
        <div class="feed-start"><h2>#{channel.name}</h2><p class="muted">This is the start of the channel.</p></div>
      )}
      {list.map((m, i) => <MessageItem key={m.id} m={m} prev={list[i - 1]} onReply={onReply} active={m.id === thread} />)}
    </MessageList>
  );
}
