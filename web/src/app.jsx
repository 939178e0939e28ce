// app.jsx: the shell: sign-in, sidebar (teams, channels, unread counts), the open channel's
// header with its "…" menu, the feed (older pages on scroll, live appends) and the composer.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { loadSession, signIn, signOut } from "./api.js";
import {
  S, bump, useStore, loadAll, openChannel, loadOlder, sendMessage, markRead, connectEvents,
  resetStore, findChannel, findTeam, toggleNotify,
} from "./store.js";
import { markdown } from "./safe.js";
import { CardFrame } from "./card.jsx";
import { Avatar, Icon, Time } from "./ui.jsx";
import { ConnectorsDialog } from "./connectors.jsx";
import { MembersDialog, NewChannelDialog, NewTeamDialog } from "./teams.jsx";

export function App() {
  const s = useStore();
  const [phase, setPhase] = useState("loading");
  const [err, setErr] = useState(null);

  async function start(user) {
    S.me = user;
    connectEvents();
    await loadAll();
    const m = /^\/channels\/(\d+)/.exec(location.pathname);
    const wanted = m ? Number(m[1]) : null;
    const first = (wanted && findChannel(wanted)) || Object.values(S.channels).flat()[0];
    if (first) openChannel(first.id, !wanted || first.id !== wanted);
    setPhase("app");
  }

  useEffect(() => {
    loadSession()
      .then((u) => (u ? start(u) : setPhase("signin")))
      .catch((e) => { setErr(e.message); setPhase("signin"); });
    const onPop = () => {
      const m = /^\/channels\/(\d+)/.exec(location.pathname);
      if (m && findChannel(Number(m[1]))) openChannel(Number(m[1]), false);
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
          <li role="none"><button type="button" role="menuitem" onClick={() => choose(() => toggleNotify(channel.id))}>
            <Icon name="bell" size={16} /> {on ? "Turn off notifications" : "Notify me here"}</button></li>
        </ul>
      )}
      {note && <p class="menu-note" role="alert" onClick={() => setNote(null)}>{note}</p>}
    </div>
  );
}

function ChannelView({ channel, team, open }) {
  return (
    <div class="channel">
      <TopBar title={<><span class="muted">#</span>{channel.name}</>} sub={team ? team.name : ""}>
        <ChannelMenu channel={channel} team={team} open={open} />
      </TopBar>
      <Feed channel={channel} />
      <Composer channel={channel} />
    </div>
  );
}

function Feed({ channel }) {
  const s = useStore();
  const f = s.msgs[channel.id];
  const list = f ? f.list : [];
  const scroller = useRef(null);
  const inner = useRef(null);
  const stick = useRef(true);
  const anchor = useRef(null); // {height, top} while an older page is being inserted above

  const onScroll = () => {
    const el = scroller.current;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    if (stick.current && !document.hidden) markRead(channel.id);
    if (el.scrollTop < 120 && f && f.hasMore && !f.loading && f.loaded) {
      anchor.current = { height: el.scrollHeight, top: el.scrollTop };
      loadOlder(channel.id).catch(() => { anchor.current = null; });
    }
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (anchor.current && !(f && f.loading)) {
      el.scrollTop = el.scrollHeight - anchor.current.height + anchor.current.top;
      anchor.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    // a short first page: keep loading older ones until the feed can scroll
    if (f && f.loaded && f.hasMore && !f.loading && el.scrollHeight <= el.clientHeight + 10) {
      loadOlder(channel.id).catch(() => {});
    }
  }, [list.length, f && f.loading]);

  useEffect(() => {
    // cards render after layout and grow: keep the bottom in view while stuck to it
    const ro = new ResizeObserver(() => {
      const el = scroller.current;
      if (el && stick.current && !anchor.current) el.scrollTop = el.scrollHeight;
    });
    if (inner.current) ro.observe(inner.current);
    return () => ro.disconnect();
  }, []);

  return (
    <div class="feed" ref={scroller} onScroll={onScroll} role="log" aria-live="polite" aria-relevant="additions"
      aria-label={`Messages in #${channel.name}`} tabIndex={0}>
      <div class="feed-inner" ref={inner}>
        {f && f.loading && <p class="muted center loading">Loading…</p>}
        {f && f.loaded && !f.hasMore && (
          <div class="feed-start"><h2>#{channel.name}</h2><p class="muted">This is the start of the channel.</p></div>
        )}
        {list.map((m, i) => <MessageItem key={m.id} m={m} prev={list[i - 1]} />)}
      </div>
    </div>
  );
}

function MessageItem({ m, prev }) {
  const a = m.author || {};
  if (a.type === "system")
    return <div class="msg msg-system" data-id={m.id}><div class="system-text"><Markdown text={m.text} /><Time iso={m.created} /></div></div>;
  if (m.card) {
    return (
      <div class="msg msg-card" data-id={m.id}>
        <CardFrame card={m.card} time={<Time iso={m.created} />} />
      </div>
    );
  }
  const name = a.username || a.name || "unknown";
  const grouped = prev && !prev.card && prev.author && prev.author.type === a.type && prev.author.id === a.id &&
    new Date(m.created) - new Date(prev.created) < 5 * 60 * 1000;
  return (
    <div class={`msg msg-user${grouped ? " grouped" : ""}`} data-id={m.id}>
      {grouped ? <span class="avatar-gap" /> : <Avatar name={name} image={a.image} size={32} />}
      <div class="msg-main">
        {!grouped && <div class="msg-head"><span class="msg-author">{name}</span> <Time iso={m.created} /></div>}
        <Markdown text={m.text} />
      </div>
    </div>
  );
}

function Markdown({ text }) {
  const ref = useRef(null);
  useLayoutEffect(() => { if (ref.current) ref.current.innerHTML = markdown(text); }, [text]);
  return <div class="md" ref={ref} />;
}

function Composer({ channel }) {
  const [text, setText] = useState("");
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const ta = useRef(null);
  useLayoutEffect(() => {
    const el = ta.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = Math.min(el.scrollHeight, 200) + "px";
  }, [text]);
  async function send() {
    const t = text;
    if (!t.trim() || busy) return;
    setBusy(true); setErr(null);
    try { await sendMessage(channel.id, t); setText(""); }
    catch (e) { setErr(e.message); }
    finally { setBusy(false); ta.current && ta.current.focus(); }
  }
  return (
    <form class="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
      {err && <p class="error" role="alert">{err}</p>}
      <div class="composer-row">
        <label for="composer-text" class="sr-only">Message #{channel.name}</label>
        <textarea id="composer-text" ref={ta} rows={1} value={text} placeholder={`Message #${channel.name}`}
          maxLength={16000}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
          }} />
        <button type="submit" class="btn primary send" aria-label="Send" disabled={busy || !text.trim()}>
          <Icon name="send" size={18} />
        </button>
      </div>
      <p class="hint muted">Markdown · Enter to send · Shift+Enter for a new line</p>
    </form>
  );
}
