// messages.jsx: what the channel feed and the thread panel share: the scrolling message list
// (older pages on scroll, stuck to the bottom for live appends), one message (text, card or system
// notice; its reply count and the "Reply in thread" action) and the composer.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { markdown } from "./safe.js";
import { CardFrame } from "./card.jsx";
import { Avatar, Icon, Time, fmtTime } from "./ui.jsx";

/** A scrolling list over a feed state {list, hasMore, loading, loaded}: keeps the bottom in view
 *  while the reader is there, keeps the reading position while an older page is inserted above,
 *  and asks for older pages near the top (or while the first page cannot scroll yet). */
export function MessageList({ f, items, onOlder, onBottom, label, class: cls, children }) {
  const scroller = useRef(null);
  const inner = useRef(null);
  const stick = useRef(true);
  const anchor = useRef(null); // {height, top} while an older page is being inserted above

  const older = () => {
    const el = scroller.current;
    if (!el || !f || !f.hasMore || f.loading || !f.loaded) return;
    anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    Promise.resolve(onOlder()).catch(() => { anchor.current = null; });
  };

  const onScroll = () => {
    const el = scroller.current;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    if (stick.current && !document.hidden && onBottom) onBottom();
    if (el.scrollTop < 120) older();
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
    // a short first page: keep loading older ones until the list can scroll
    if (f && f.loaded && f.hasMore && !f.loading && el.scrollHeight <= el.clientHeight + 10)
      Promise.resolve(onOlder()).catch(() => {});
  }, [items, f && f.loading]);

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
    <div class={`feed ${cls || ""}`} ref={scroller} onScroll={onScroll} role="log" aria-live="polite"
      aria-relevant="additions" aria-label={label} tabIndex={0}>
      <div class="feed-inner" ref={inner}>{children}</div>
    </div>
  );
}

export const repliesText = (n) => `${n} ${n === 1 ? "reply" : "replies"}`;

/** One message. `onReply(m, button)`: the feed's "Reply in thread" (and the reply count, which
 *  opens the thread too); absent inside the thread panel. */
export function MessageItem({ m, prev, onReply, active }) {
  const a = m.author || {};
  const id = m.id;
  if (a.type === "system")
    return <div class="msg msg-system" data-id={id}><div class="system-text"><Markdown text={m.text} /><Time iso={m.created} /></div></div>;
  const n = m.replies || 0;
  const foot = onReply && (
    <div class="msg-foot">
      {n > 0 && (
        <button type="button" class="replies-link" onClick={(e) => onReply(m, e.currentTarget)}>
          <Icon name="reply" size={14} /> {repliesText(n)}
        </button>
      )}
      <div class="msg-actions">
        <button type="button" class="icon-btn small" aria-label="Reply in thread" title="Reply in thread"
          onClick={(e) => onReply(m, e.currentTarget)}><Icon name="reply" size={16} /></button>
      </div>
    </div>
  );
  const edited = m.edited ? <Edited iso={m.edited} card={!!m.card} /> : null;
  if (m.card) {
    return (
      <div class={`msg msg-card${active ? " active" : ""}`} data-id={id}>
        <CardFrame card={m.card} time={<>{edited}<Time iso={m.created} /></>} />
        {foot}
      </div>
    );
  }
  const name = a.username || a.name || "unknown";
  const grouped = prev && !prev.card && !(prev.replies > 0 && onReply) && prev.author && prev.author.type === a.type &&
    prev.author.id === a.id && new Date(m.created) - new Date(prev.created) < 5 * 60 * 1000;
  return (
    <div class={`msg msg-user${grouped ? " grouped" : ""}${active ? " active" : ""}`} data-id={id}>
      {grouped ? <span class="avatar-gap" /> : <Avatar name={name} image={a.image} size={32} />}
      <div class="msg-main">
        {!grouped && <div class="msg-head"><span class="msg-author">{name}</span> <Time iso={m.created} />{edited}</div>}
        <Markdown text={m.text} />
        {grouped && edited}
        {foot}
      </div>
    </div>
  );
}

function Edited({ iso, card }) {
  return <span class="edited" title={`${card ? "Updated" : "Edited"} ${fmtTime(iso, true)}`}>{card ? "updated" : "edited"}</span>;
}

export function Markdown({ text }) {
  const ref = useRef(null);
  useLayoutEffect(() => { if (ref.current) ref.current.innerHTML = markdown(text); }, [text]);
  return <div class="md" ref={ref} />;
}

/** The message box: Enter sends, Shift+Enter is a new line; grows up to 200 px. */
export function Composer({ id, label, placeholder, onSend, hint = true, sendLabel = "Send" }) {
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
    try { await onSend(t); setText(""); }
    catch (e) { setErr(e.message); }
    finally { setBusy(false); ta.current && ta.current.focus(); }
  }
  return (
    <form class="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
      {err && <p class="error" role="alert">{err}</p>}
      <div class="composer-row">
        <label for={id} class="sr-only">{label}</label>
        <textarea id={id} ref={ta} rows={1} value={text} placeholder={placeholder}
          maxLength={16000}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
          }} />
        <button type="submit" class="btn primary send" aria-label={sendLabel} disabled={busy || !text.trim()}>
          <Icon name="send" size={18} />
        </button>
      </div>
      {hint && <p class="hint muted">Markdown · Enter to send · Shift+Enter for a new line</p>}
    </form>
  );
}
