// mailbox.jsx: the team's Group mailbox dialog: connector cards posted in chosen channels are also
// sent by e-mail to members who opted in. Owners turn it on and pick the channels (all, or chosen
// ones); every member picks how they get cards (off, each card, hourly or daily digest) and sets the
// e-mail address they go to (the user's own, shared by every team). A note says so when the server
// has no SMTP relay. API: GET/PUT /api/v1/teams/{team}/mailbox, PUT …/mailbox/me, PATCH /api/v1/me.
import { useEffect, useState } from "preact/hooks";
import { get, put, patch } from "./api.js";
import { S, bump, useStore, loadChannels } from "./store.js";
import { Dialog } from "./ui.jsx";

export const MODES = [
  { id: "off", label: "Off", help: "No e-mail." },
  { id: "each", label: "Each card", help: "A mail for every card, as it arrives." },
  { id: "hourly", label: "Hourly digest", help: "At most one mail an hour." },
  { id: "daily", label: "Daily digest", help: "One mail a day." },
];

// The server's own check (local@domain with a dot in the domain, printable ASCII without blanks,
// brackets, quotes, commas, colons or semicolons, at most 254 characters), to tell before sending.
const looksLikeAddress = (a) => a.length <= 254 && /^[!-~]+@[!-~]*\.[!-~]*$/.test(a) && !/[<>()[\]\\,;:"]/.test(a) && a.split("@").length === 2 && !a.endsWith("@");

export function MailboxDialog({ team, onClose }) {
  const s = useStore();
  const [box, setBox] = useState(null);
  const [err, setErr] = useState(null);
  const [missing, setMissing] = useState(false);
  const owner = team.role === "owner";
  const channels = s.channels[team.id] || [];
  useEffect(() => {
    get(`/api/v1/teams/${team.id}/mailbox`).then(setBox).catch((e) => {
      if (e.status === 404) setMissing(true); // a server without the route
      setErr(e.message);
    });
    if (!S.channels[team.id]) loadChannels(team.id).catch(() => {});
  }, [team.id]);
  const got = (b) => {
    setBox(b);
    if (S.me && b && b.email !== undefined && S.me.email !== b.email) { S.me = { ...S.me, email: b.email }; bump(); }
  };
  return (
    <Dialog title={`Group mailbox · ${team.name}`} onClose={onClose} id="mailbox">
      <p class="muted intro">Connector cards posted in the team's channels can also be sent by e-mail to the members who ask for them.</p>
      {missing ? <p class="notice" role="note">This server does not offer the group mailbox yet.</p>
        : err && !box ? <p class="error" role="alert">{err}</p>
        : !box ? <p class="muted" aria-busy="true">Loading…</p>
        : <>
          {!box.smtp && (
            <p class="notice" role="note" id="mailbox-no-smtp">
              This server has no mail relay (SMTP) configured, so no e-mail goes out until an administrator sets one up.
              The settings below are kept.
            </p>
          )}
          {owner ? <TeamForm team={team} box={box} channels={channels} onSaved={got} />
            : <TeamSummary box={box} channels={channels} />}
          <MineForm team={team} box={box} onSaved={got} />
        </>}
    </Dialog>
  );
}

const chanName = (channels, id) => { const c = channels.find((x) => x.id === id); return c ? `#${c.name}` : null; };

function scopeText(box, channels) {
  if (!box.channels || !box.channels.length) return "all channels";
  const names = box.channels.map((id) => chanName(channels, id)).filter(Boolean);
  return names.length ? names.join(", ") : "the chosen channels";
}

/** What a member who is not an owner sees of the team's setting. */
function TeamSummary({ box, channels }) {
  return (
    <section class="mb-section" aria-labelledby="mb-team-title">
      <h3 id="mb-team-title">For the team</h3>
      <p class="mb-state">
        <span class={`state ${box.enabled ? "state-active" : "state-off"}`}>{box.enabled ? "On" : "Off"}</span>{" "}
        {box.enabled ? <>Cards from <strong>{scopeText(box, channels)}</strong> are sent to members who ask for them.</>
          : "The team's owners have not turned the group mailbox on."}
      </p>
      <p class="muted small">Only the team's owners can change this.</p>
    </section>
  );
}

/** The owners' part: on/off and which channels. */
function TeamForm({ team, box, channels, onSaved }) {
  const [enabled, setEnabled] = useState(box.enabled);
  const [scope, setScope] = useState(box.channels && box.channels.length ? "chosen" : "all");
  const [chosen, setChosen] = useState(() => new Set(box.channels || []));
  const [err, setErr] = useState(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const known = new Set(channels.map((c) => c.id));
  const picked = [...chosen].filter((id) => known.has(id));
  const toggle = (id, on) => {
    const next = new Set(chosen);
    on ? next.add(id) : next.delete(id);
    setChosen(next); setErr(null); setStatus("");
  };
  async function save(e) {
    e.preventDefault();
    if (busy) return;
    if (scope === "chosen" && !picked.length) { setErr("Choose at least one channel, or All channels."); return; }
    setBusy(true); setErr(null); setStatus("");
    try {
      const b = await put(`/api/v1/teams/${team.id}/mailbox`, { enabled, channels: scope === "all" ? [] : picked.sort((a, b) => a - b) });
      onSaved(b);
      setStatus("Saved.");
    } catch (x) {
      setErr(x.status === 403 ? "Only the team's owners can change this." : x.message);
    } finally { setBusy(false); }
  }
  return (
    <form class="mb-section" aria-labelledby="mb-team-title" onSubmit={save} noValidate>
      <h3 id="mb-team-title">For the team</h3>
      <div class="switch-row">
        <input type="checkbox" role="switch" id="mb-enabled" class="switch" checked={enabled}
          aria-describedby="mb-enabled-help"
          onChange={(e) => { setEnabled(e.currentTarget.checked); setStatus(""); }} />
        <label for="mb-enabled">Deliver connector cards by e-mail</label>
      </div>
      <p class="help muted small" id="mb-enabled-help">Members still choose for themselves whether, and how often, they get mail.</p>
      <fieldset class={`field mb-channels${enabled ? "" : " dim"}`} aria-describedby={err ? "mb-team-err" : undefined}>
        <legend>Channels</legend>
        <div class="check">
          <input type="radio" id="mb-scope-all" name="mb-scope" checked={scope === "all"}
            onChange={() => { setScope("all"); setErr(null); setStatus(""); }} />
          <label for="mb-scope-all">All channels</label>
        </div>
        <div class="check">
          <input type="radio" id="mb-scope-chosen" name="mb-scope" checked={scope === "chosen"}
            onChange={() => { setScope("chosen"); setStatus(""); }} />
          <label for="mb-scope-chosen">Only the channels chosen below</label>
        </div>
        {scope === "chosen" && (
          <div class="chan-options" role="group" aria-label="Channels to send by e-mail">
            {channels.map((c) => (
              <div class="check" key={c.id}>
                <input type="checkbox" id={`mb-chan-${c.id}`} checked={chosen.has(c.id)}
                  onChange={(e) => toggle(c.id, e.currentTarget.checked)} />
                <label for={`mb-chan-${c.id}`}>#{c.name}</label>
              </div>
            ))}
          </div>
        )}
        {err && <p class="field-error" id="mb-team-err" role="alert">{err}</p>}
      </fieldset>
      <div class="form-actions">
        <span class="saved" role="status">{status}</span>
        <button type="submit" class="btn primary" aria-disabled={busy ? "true" : undefined}>Save team settings</button>
      </div>
    </form>
  );
}

/** Every member's part: how they get cards, and the address they go to. */
function MineForm({ team, box, onSaved }) {
  const email = box.email ?? (S.me && S.me.email) ?? null;
  const [mode, setMode] = useState((box.me && box.me.mode) || "off");
  const [changing, setChanging] = useState(false);
  const [addr, setAddr] = useState("");
  const [addrErr, setAddrErr] = useState(null);
  const [err, setErr] = useState(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const editing = !email || changing;
  const newAddr = addr.trim();
  async function save(e) {
    e.preventDefault();
    if (busy) return;
    setAddrErr(null); setErr(null); setStatus("");
    let have = email;
    if (editing && newAddr && newAddr !== email) {
      if (!looksLikeAddress(newAddr)) { setAddrErr("Enter an e-mail address, like name@example.com."); focus("mb-email"); return; }
    } else if (!have && mode !== "off") {
      setAddrErr("Add your e-mail address to get cards by e-mail."); focus("mb-email"); return;
    }
    setBusy(true);
    try {
      let b = box;
      if (editing && newAddr && newAddr !== email) {
        try {
          const u = await patch("/api/v1/me", { email: newAddr });
          have = u.email;
          if (S.me) { S.me = { ...S.me, email: u.email }; bump(); }
          b = { ...b, email: u.email };
        } catch (x) {
          setAddrErr(x.message); focus("mb-email"); return;
        }
      }
      if (mode !== ((box.me && box.me.mode) || "off")) {
        try { b = await put(`/api/v1/teams/${team.id}/mailbox/me`, { mode }); }
        catch (x) {
          if (x.status === 400 && /e-?mail/i.test(x.message) && editing) { setAddrErr(x.message); focus("mb-email"); }
          else if (x.status === 400 && /e-?mail/i.test(x.message)) { setChanging(true); setAddr(""); setAddrErr(x.message); focus("mb-email"); }
          else setErr(x.message);
          onSaved(b);
          return;
        }
      }
      onSaved(b);
      setChanging(false); setAddr("");
      setStatus("Saved.");
    } finally { setBusy(false); }
  }
  return (
    <form class="mb-section" aria-labelledby="mb-me-title" onSubmit={save} noValidate>
      <h3 id="mb-me-title">For you</h3>
      <fieldset class="field">
        <legend>Send me cards by e-mail</legend>
        <div class="mode-options">
          {MODES.map((m) => (
            <div class="mode-option" key={m.id}>
              <input type="radio" id={`mb-mode-${m.id}`} name="mb-mode" value={m.id} checked={mode === m.id}
                aria-describedby={`mb-mode-${m.id}-help`}
                onChange={() => { setMode(m.id); setStatus(""); setErr(null); }} />
              <label for={`mb-mode-${m.id}`}>{m.label}</label>
              <span class="muted small" id={`mb-mode-${m.id}-help`}>{m.help}</span>
            </div>
          ))}
        </div>
        {mode !== "off" && !box.enabled && (
          <p class="help muted small">The group mailbox is off for this team: mail starts once an owner turns it on.</p>
        )}
      </fieldset>
      {editing ? (
        <div class={`field${addrErr ? " invalid" : ""}`}>
          <label for="mb-email">{email ? "New e-mail address" : "Your e-mail address"}</label>
          <div class="inline-fields">
            <div class="grow">
              <input id="mb-email" type="email" autocomplete="email" inputMode="email" value={addr} maxLength={254}
                autofocus={changing} placeholder="name@example.com"
                aria-invalid={addrErr ? "true" : undefined}
                aria-describedby={`mb-email-help${addrErr ? " mb-email-err" : ""}`}
                onInput={(e) => { setAddr(e.currentTarget.value); setAddrErr(null); setStatus(""); }} />
            </div>
            {changing && <button type="button" class="btn ghost" onClick={() => { setChanging(false); setAddr(""); setAddrErr(null); }}>Cancel</button>}
          </div>
          <p class="help muted small" id="mb-email-help">Your address for every team you are in; only the server sees it.</p>
          {addrErr && <p class="field-error" id="mb-email-err">{addrErr}</p>}
        </div>
      ) : (
        <div class="field mb-address">
          <span class="label">Your e-mail address</span>
          <div class="address-row">
            <span class="address">{email}</span>
            <button type="button" class="btn small" onClick={() => { setChanging(true); setAddr(email); setStatus(""); }}>Change address</button>
          </div>
        </div>
      )}
      {err && <p class="error" role="alert">{err}</p>}
      <div class="form-actions">
        <span class="saved" role="status">{status}</span>
        <button type="submit" class="btn primary" aria-disabled={busy ? "true" : undefined}>Save my settings</button>
      </div>
    </form>
  );
}

function focus(id) { setTimeout(() => { const el = document.getElementById(id); if (el) el.focus(); }); }
