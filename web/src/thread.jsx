// thread.jsx: the open thread: a side panel beside the channel on wide screens, over the channel's
// right side on middle ones, the whole screen on phones. The root, its replies (older pages on
// scroll), and a composer that posts replies. Escape or the close/back button closes it.
import { useEffect, useRef } from "preact/hooks";
import { useStore, threadRoot, closeThread, loadOlderReplies, sendReply } from "./store.js";
import { MessageList, MessageItem, Composer, repliesText } from "./messages.jsx";
import { Icon } from "./ui.jsx";

const phone = () => window.matchMedia("(max-width: 760px)").matches;

export function ThreadPanel({ channel, rootId }) {
  const s = useStore();
  const t = s.threads[rootId];
  const root = threadRoot(rootId, channel.id);
  const list = t ? t.list : [];
  const panel = useRef(null);

  useEffect(() => {
    // focus moves into the thread (its composer; on a phone the panel, so no keyboard pops up),
    // and back to what opened it when it closes
    const opener = document.activeElement;
    const box = panel.current && panel.current.querySelector("textarea");
    if (box && !phone()) box.focus();
    else if (panel.current) panel.current.focus();
    return () => {
      const inside = !document.activeElement || document.activeElement === document.body ||
        (panel.current && panel.current.contains(document.activeElement));
      if (!inside) return;
      if (opener && document.contains(opener)) opener.focus();
      else {
        const b = document.querySelector(`.feed .msg[data-id="${rootId}"] .msg-actions button`);
        if (b) b.focus();
      }
    };
  }, [rootId]);

  const n = root ? root.replies || 0 : list.length;
  return (
    <aside class="thread" ref={panel} tabIndex={-1} aria-labelledby="thread-title" data-root={rootId}
      onKeyDown={(e) => { if (e.key === "Escape" && !e.defaultPrevented) { e.preventDefault(); closeThread(); } }}>
      <header class="thread-head">
        <button type="button" class="icon-btn thread-close" aria-label="Close thread" title="Close thread"
          onClick={() => closeThread()}>
          <span class="only-phone"><Icon name="back" /></span>
          <span class="only-wide"><Icon name="close" /></span>
        </button>
        <div class="thread-title">
          <h2 id="thread-title">Thread</h2>
          <span class="muted sub">#{channel.name}</span>
        </div>
      </header>
      <MessageList f={t} items={list.length + (root ? 1 : 0)} label="Replies in the thread" class="thread-feed"
        onOlder={() => loadOlderReplies(channel.id, rootId)}>
        {root && <div class="thread-root"><MessageItem m={root} /></div>}
        {t && t.error && <p class="error" role="alert">{t.error}</p>}
        {root && (
          <div class="thread-divider" role="separator" aria-label={n ? repliesText(n) : "No replies yet"}>
            <span>{n ? repliesText(n) : "No replies yet"}</span>
          </div>
        )}
        {t && t.hasMore && t.loaded && (
          <div class="center">
            <button type="button" class="btn ghost small" disabled={t.loading}
              onClick={() => loadOlderReplies(channel.id, rootId)}>Show older replies</button>
          </div>
        )}
        {t && t.loading && <p class="muted center loading">Loading…</p>}
        {list.map((m, i) => <MessageItem key={m.id} m={m} prev={list[i - 1]} />)}
      </MessageList>
      {root && (
        <Composer id="thread-composer-text" label="Reply" placeholder="Reply…" hint={false} sendLabel="Send reply"
          onSend={(text) => sendReply(channel.id, rootId, text)} />
      )}
    </aside>
  );
}
