// ui.jsx: small shared pieces: avatar, icons, the modal dialog (focus trap, Escape), time format.
import { useEffect, useRef } from "preact/hooks";
import { isSafeImage } from "./safe.js";

function hash(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}

export function Avatar({ name, image, size = 32 }) {
  const cls = `avatar avatar-${size}`;
  if (image && isSafeImage(image))
    return <img class={cls} src={image} alt="" referrerpolicy="no-referrer" />;
  const letter = (name || "?").trim().charAt(0).toUpperCase() || "?";
  return <span class={`${cls} avatar-c${hash(name || "") % 8}`} aria-hidden="true">{letter}</span>;
}

export function Icon({ name, size = 20, label }) {
  const p = {
    width: size, height: size, viewBox: "0 0 24 24", fill: "none", stroke: "currentColor",
    "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round",
    "aria-hidden": label ? undefined : "true", role: label ? "img" : undefined, "aria-label": label,
    class: "icon",
  };
  switch (name) {
    case "menu": return <svg {...p}><path d="M3 6h18M3 12h18M3 18h18" /></svg>;
    case "more": return <svg {...p}><circle cx="5" cy="12" r="1.5" /><circle cx="12" cy="12" r="1.5" /><circle cx="19" cy="12" r="1.5" /></svg>;
    case "plus": return <svg {...p}><path d="M12 5v14M5 12h14" /></svg>;
    case "close": return <svg {...p}><path d="M6 6l12 12M18 6L6 18" /></svg>;
    case "bell": return <svg {...p}><path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" /><path d="M13.7 21a2 2 0 0 1-3.4 0" /></svg>;
    case "bell-off": return <svg {...p}><path d="M13.7 21a2 2 0 0 1-3.4 0M18.6 13A17.9 17.9 0 0 1 18 8M6.3 6.3A6 6 0 0 0 6 8c0 7-3 9-3 9h14M18 8a6 6 0 0 0-9.3-5M1 1l22 22" /></svg>;
    case "users": return <svg {...p}><path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2" /><circle cx="9" cy="7" r="4" /><path d="M23 21v-2a4 4 0 0 0-3-3.9M16 3.1a4 4 0 0 1 0 7.8" /></svg>;
    case "plug": return <svg {...p}><path d="M9 2v6M15 2v6M6 8h12v4a6 6 0 0 1-12 0zM12 18v4" /></svg>;
    case "send": return <svg {...p}><path d="M22 2L11 13M22 2l-7 20-4-9-9-4z" /></svg>;
    case "webhook": return (
      <svg {...p}><path d="M18 16.98h-5.99c-1.1 0-1.95.94-2.48 1.9A4 4 0 0 1 2 17c.01-.7.2-1.4.57-2" />
        <path d="M6 17l3.13-5.78c.53-.97.1-2.18-.5-3.1a4 4 0 1 1 6.89-4.06" />
        <path d="M12 6l3.13 5.73C15.66 12.7 16.9 13 18 13a4 4 0 0 1 0 8" /></svg>);
    case "hash": return <svg {...p}><path d="M4 9h16M4 15h16M10 3L8 21M16 3l-2 18" /></svg>;
    case "back": return <svg {...p}><path d="M15 18l-6-6 6-6" /></svg>;
    case "reply": return <svg {...p}><path d="M9 17l-5-5 5-5" /><path d="M4 12h11a5 5 0 0 1 5 5v2" /></svg>;
    case "copy": return <svg {...p}><rect x="9" y="9" width="12" height="12" rx="2" /><path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1" /></svg>;
    case "alert": return <svg {...p}><path d="M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0zM12 9v4M12 17h.01" /></svg>;
    case "key": return <svg {...p}><circle cx="7.5" cy="15.5" r="4.5" /><path d="M10.7 12.3L21 2M16 7l3 3M19 4l2 2" /></svg>;
    // connector types (drawn here, not the services' logos)
    case "github": return (
      <svg {...p}><path d="M9 19c-4.3 1.4-4.3-2.5-6-3m12 5v-3.5c0-1 .1-1.4-.5-2 2.8-.3 5.5-1.4 5.5-6a4.6 4.6 0 0 0-1.3-3.2 4.2 4.2 0 0 0-.1-3.2s-1.1-.3-3.5 1.3a12.3 12.3 0 0 0-6.2 0C6.5 2.8 5.4 3.1 5.4 3.1a4.2 4.2 0 0 0-.1 3.2A4.6 4.6 0 0 0 4 9.5c0 4.6 2.7 5.7 5.5 6-.6.6-.6 1.2-.5 2V21" /></svg>);
    case "gitlab": return <svg {...p}><path d="M12 21l-9.4-6.8a.8.8 0 0 1-.3-.9L5.2 4.4a.5.5 0 0 1 .9 0L8.4 11h7.2l2.3-6.6a.5.5 0 0 1 .9 0l2.9 8.9a.8.8 0 0 1-.3.9z" /></svg>;
    case "azure-devops": case "azure_devops": return <svg {...p}><path d="M3 8.5l8-5 7 3.5v11l-7 2.5-8-3.5zM3 8.5v7.5M11 3.5v17M18 7l3 1.5v8L18 18" /></svg>;
    case "trello": return <svg {...p}><rect x="3" y="3" width="18" height="18" rx="2" /><rect x="7" y="7" width="3.5" height="9" rx="1" /><rect x="13.5" y="7" width="3.5" height="5" rx="1" /></svg>;
    case "alertmanager": return <svg {...p}><path d="M7 18v-6a5 5 0 0 1 10 0v6M5 21h14M12 3v2M4.2 6.2l1.4 1.4M19.8 6.2l-1.4 1.4M5 18h14" /></svg>;
    case "grafana": return <svg {...p}><path d="M3 3v18h18" /><path d="M7 15l4-5 3 3 5-7" /></svg>;
    case "rss": return <svg {...p}><path d="M4 11a9 9 0 0 1 9 9M4 4a16 16 0 0 1 16 16" /><circle cx="5" cy="19" r="1" /></svg>;
    case "mail": return <svg {...p}><rect x="2" y="4" width="20" height="16" rx="2" /><path d="M22 7l-10 6L2 7" /></svg>;
    case "logout": return <svg {...p}><path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9" /></svg>;
    default: return <svg {...p}><rect x="3" y="3" width="18" height="18" rx="3" /></svg>;
  }
}

const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex="-1"])';

/** A modal dialog: traps Tab inside, closes on Escape or a click on the backdrop, gives focus
 *  back to whatever had it before. */
export function Dialog({ title, onClose, children, wide, id }) {
  const ref = useRef(null);
  const titleId = `${id || "dlg"}-title`;
  useEffect(() => {
    const before = document.activeElement;
    const node = ref.current;
    const first = node.querySelector("[autofocus]") || node.querySelector(FOCUSABLE);
    (first || node).focus();
    // views inside the dialog change (form -> URL -> list): focus a new [autofocus] element, and
    // never leave focus on the page behind the dialog when the focused element goes away
    const mo = new MutationObserver((records) => {
      for (const r of records)
        for (const n of r.addedNodes) {
          if (n.nodeType !== 1) continue;
          const af = n.matches("[autofocus]") ? n : n.querySelector("[autofocus]");
          if (af) { af.focus(); return; }
        }
      if (!node.contains(document.activeElement)) node.focus();
    });
    mo.observe(node, { childList: true, subtree: true });
    return () => {
      mo.disconnect();
      if (before && before.focus && document.contains(before)) before.focus();
    };
  }, []);
  const onKey = (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== "Tab") return;
    const items = Array.from(ref.current.querySelectorAll(FOCUSABLE)).filter((el) => el.offsetParent !== null);
    if (!items.length) { e.preventDefault(); return; }
    const first = items[0], last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !ref.current.contains(document.activeElement))) {
      e.preventDefault(); last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault(); first.focus();
    }
  };
  return (
    <div class="backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div class={`dialog${wide ? " dialog-wide" : ""}`} role="dialog" aria-modal="true"
        aria-labelledby={titleId} ref={ref} tabIndex={-1} onKeyDown={onKey} id={id}>
        <div class="dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" class="icon-btn" aria-label="Close" onClick={onClose}><Icon name="close" /></button>
        </div>
        <div class="dialog-body">{children}</div>
      </div>
    </div>
  );
}

export function fmtTime(iso, withDate) {
  const d = new Date(iso);
  if (isNaN(d)) return "";
  const today = new Date().toDateString() === d.toDateString();
  const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (today && !withDate) return t;
  return d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + t;
}

export function Time({ iso }) {
  return <time class="time" dateTime={iso} title={new Date(iso).toLocaleString()}>{fmtTime(iso)}</time>;
}
