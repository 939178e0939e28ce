// connectors.jsx: the channel's Connectors dialog: the catalog (search, add with a form drawn from
// the type's settings schema; after Save the URL and a generated secret, each shown once, and the
// type's setup steps) and the configured connectors (type, state, a feed's last error; edit
// settings, rotate the URL or the secret, take over, remove, delivery log with outcomes).
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { get, post, patch, del } from "./api.js";
import { S, bump, useStore, upsertConnector } from "./store.js";
import { Dialog, Icon, fmtTime } from "./ui.jsx";
import { isSafeImage, isSafeLink, markdown } from "./safe.js";

const MAX_IMAGE = 256 * 1024;
const POLL_MS = 10000; // a pulled connector's feed status, while the Configured tab is open
let typesCache = null;

// Settings that are the connector's own fields rather than entries of its "settings" object.
const OWN = new Set(["name", "image"]);
const secretSetting = (type) => (type && (type.settings || []).find((s) => s.type === "secret")) || null;
const passwordSetting = (type) => (type && (type.settings || []).find((s) => s.type === "password")) || null;
const isPush = (type) => !type || type.kind !== "pulled";

function TypeIcon({ type, size = 40 }) {
  const id = type && type.id ? ` type-${type.id}` : "";
  return <span class={`type-icon type-${size}${id}`} aria-hidden="true"><Icon name={type && type.icon} size={Math.round(size * 0.6)} /></span>;
}

export function ConnectorsDialog({ channel, team, onClose }) {
  const s = useStore();
  const [tab, setTab] = useState("catalog");
  const [types, setTypes] = useState(typesCache);
  const [err, setErr] = useState(null);
  const refresh = () => get(`/api/v1/channels/${channel.id}/connectors`)
    .then((r) => { S.connectors[channel.id] = r.connectors; bump(); }).catch((e) => setErr(e.message));
  useEffect(() => { if (tab === "configured") refresh(); }, [tab]);
  useEffect(() => {
    if (!typesCache) get("/api/v1/connector-types").then((r) => { typesCache = r.types; setTypes(r.types); }).catch((e) => setErr(e.message));
    refresh();
    return () => { delete S.connectors[channel.id]; };
  }, [channel.id]);
  const list = s.connectors[channel.id];
  const pulled = (list || []).some((c) => c.feed);
  const unfetched = (list || []).some((c) => c.feed && !c.feed.last_fetch && c.state === "active");
  useEffect(() => {
    // feeds are fetched by the server on its own schedule: keep their status fresh while shown
    // (a new feed's first fetch comes soon after it is added: look more often until it shows)
    if (tab !== "configured" || !pulled) return;
    const t = setInterval(() => { if (!document.hidden) refresh(); }, unfetched ? 2000 : POLL_MS);
    return () => clearInterval(t);
  }, [tab, pulled, unfetched]);
  const tabKey = (e) => {
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      const next = tab === "catalog" ? "configured" : "catalog";
      setTab(next);
      setTimeout(() => document.getElementById(`tab-${next}`)?.focus());
    }
  };
  return (
    <Dialog title={`Connectors · #${channel.name}`} onClose={onClose} wide id="connectors">
      <div class="tabs" role="tablist" aria-label="Connectors" onKeyDown={tabKey}>
        <button type="button" role="tab" id="tab-catalog" aria-controls="panel-catalog"
          aria-selected={tab === "catalog" ? "true" : "false"} tabIndex={tab === "catalog" ? 0 : -1}
          onClick={() => setTab("catalog")}>Catalog</button>
        <button type="button" role="tab" id="tab-configured" aria-controls="panel-configured"
          aria-selected={tab === "configured" ? "true" : "false"} tabIndex={tab === "configured" ? 0 : -1}
          onClick={() => setTab("configured")}>Configured{list ? ` (${list.length})` : ""}</button>
      </div>
      {err && <p class="error" role="alert">{err}</p>}
      {tab === "catalog" ? (
        <div role="tabpanel" id="panel-catalog" aria-labelledby="tab-catalog">
          <Catalog types={types} channel={channel} onDone={() => setTab("configured")} />
        </div>
      ) : (
        <div role="tabpanel" id="panel-configured" aria-labelledby="tab-configured">
          <Configured list={list} types={types} team={team} refresh={refresh} />
        </div>
      )}
    </Dialog>
  );
}

function Catalog({ types, channel, onDone }) {
  const [q, setQ] = useState("");
  const [adding, setAdding] = useState(null);
  const [created, setCreated] = useState(null);
  if (created) return <CreatedView connector={created} type={adding} onDone={() => { setCreated(null); setAdding(null); onDone(); }} />;
  if (adding)
    return <AddForm type={adding} channel={channel} onCancel={() => setAdding(null)} onCreated={(c) => { upsertConnector(c); setCreated(c); }} />;
  const needle = q.trim().toLowerCase();
  const shown = (types || []).filter((t) => !needle || t.name.toLowerCase().includes(needle) || (t.description || "").toLowerCase().includes(needle));
  return (
    <div class="catalog">
      <label for="catalog-search" class="sr-only">Search connectors</label>
      <input id="catalog-search" type="search" placeholder="Search connectors" value={q}
        onInput={(e) => setQ(e.currentTarget.value)} autofocus />
      {!types && <p class="muted">Loading…</p>}
      {types && !shown.length && <p class="muted">No connector matches “{q}”.</p>}
      <ul class="type-list">
        {shown.map((t) => (
          <li class="type-item" key={t.id} data-type={t.id}>
            <TypeIcon type={t} />
            <div class="type-text">
              <h3>{t.name}{t.kind === "pulled" && <span class="kind">feed</span>}</h3>
              <p class="muted">{t.description}</p>
            </div>
            <button type="button" class="btn" aria-label={`Add ${t.name}`} onClick={() => setAdding(t)}>Add</button>
          </li>
        ))}
      </ul>
    </div>
  );
}

// ---------- fields ----------

function readImage(file) {
  return new Promise((resolve, reject) => {
    if (!/^image\/(png|jpeg|gif|webp)$/.test(file.type)) return reject(new Error("Choose a PNG, JPEG, GIF or WebP image."));
    if (file.size > MAX_IMAGE) return reject(new Error("The image is larger than 256 KB."));
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(new Error("Cannot read the file."));
    r.readAsDataURL(file);
  });
}

const describedBy = (id, help, error) => [help && `${id}-help`, error && `${id}-err`].filter(Boolean).join(" ") || undefined;

function Label({ id, label, required }) {
  return <label for={id}>{label}{required && <span class="req" aria-hidden="true"> *</span>}</label>;
}

function FieldNotes({ id, help, error }) {
  return <>
    {help && <p class="help muted small" id={`${id}-help`}>{help}</p>}
    {error && <p class="field-error" id={`${id}-err`}>{error}</p>}
  </>;
}

function ImageField({ id, label, value, required, error, help, onChange, onError }) {
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <Label id={id} label={label} required={required} />
      <div class="image-field">
        {value && isSafeImage(value) ? <img class="image-preview" src={value} alt="Preview of the chosen image" />
          : <span class="image-preview empty" aria-hidden="true"><Icon name="webhook" size={24} /></span>}
        <input id={id} type="file" accept="image/png,image/jpeg,image/gif,image/webp" required={required && !value}
          aria-invalid={error ? "true" : undefined} aria-describedby={describedBy(id, help, error)}
          onChange={async (e) => {
            const f = e.currentTarget.files && e.currentTarget.files[0];
            if (!f) return;
            try { onChange(await readImage(f)); onError(null); } catch (x) { onError(x.message); e.currentTarget.value = ""; }
          }} />
        {value && <button type="button" class="btn ghost small" onClick={() => onChange(null)}>Remove image</button>}
      </div>
      <FieldNotes id={id} help={help} error={error} />
    </div>
  );
}

const INPUT_TYPE = { url: "url", password: "password", number: "number" };

function TextField({ id, label, value, required, type = "string", error, help, onChange, autofocus, max, min, placeholder }) {
  const secret = type === "password";
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <Label id={id} label={label} required={required} />
      <input id={id} type={INPUT_TYPE[type] || "text"} value={value ?? ""} required={required}
        autocomplete={secret ? "new-password" : "off"} autofocus={autofocus} placeholder={placeholder}
        maxLength={type === "number" || secret ? undefined : max || 2048}
        min={type === "number" ? min : undefined} max={type === "number" ? max : undefined}
        step={type === "number" ? 1 : undefined} inputMode={type === "number" ? "numeric" : type === "url" ? "url" : undefined}
        spellcheck={type === "string" ? undefined : false}
        class={type === "pattern" ? "mono" : undefined}
        aria-required={required ? "true" : undefined} aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, help, error)}
        onInput={(e) => onChange(e.currentTarget.value)} />
      <FieldNotes id={id} help={help} error={error} />
    </div>
  );
}

/** "events": every option as a checkbox, and "All events", which is what none chosen means. */
function EventsField({ id, label, options, value, error, help, onChange }) {
  const chosen = Array.isArray(value) ? value : [];
  const toggle = (o, on) => onChange(on ? options.filter((x) => x === o || chosen.includes(x)) : chosen.filter((x) => x !== o));
  return (
    <fieldset class={`field events${error ? " invalid" : ""}`} id={id} aria-describedby={describedBy(id, help, error)}>
      <legend>{label}</legend>
      <div class="check all-events">
        <input id={`${id}-all`} type="checkbox" checked={!chosen.length}
          onChange={(e) => { if (e.currentTarget.checked) onChange([]); else e.currentTarget.checked = !chosen.length; }} />
        <label for={`${id}-all`}>All events</label>
      </div>
      <div class="event-options">
        {(options || []).map((o) => (
          <div class="check" key={o}>
            <input id={`${id}-${o}`} type="checkbox" checked={chosen.includes(o)} onChange={(e) => toggle(o, e.currentTarget.checked)} />
            <label for={`${id}-${o}`}>{o.replace(/_/g, " ")}</label>
          </div>
        ))}
      </div>
      <FieldNotes id={id} help={help || (chosen.length ? null : "Every event is posted; choose some to post only those.")} error={error} />
    </fieldset>
  );
}

/** "list": names as removable tags; Enter, a comma or leaving the box adds what was typed. */
function ListField({ id, label, value, required, error, help, onChange }) {
  const items = Array.isArray(value) ? value : [];
  const [text, setText] = useState("");
  const add = (raw) => {
    const more = raw.split(/[,\n]/).map((x) => x.trim()).filter((x) => x && !items.includes(x));
    if (more.length) onChange([...items, ...new Set(more)]);
    setText("");
  };
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <Label id={id} label={label} required={required} />
      <div class="tags">
        {items.length > 0 && (
          <ul class="tag-list" aria-label={label}>
            {items.map((x) => (
              <li class="tag" key={x}><span>{x}</span>
                <button type="button" class="tag-x" aria-label={`Remove ${x}`} onClick={() => onChange(items.filter((y) => y !== x))}>
                  <Icon name="close" size={12} /></button>
              </li>
            ))}
          </ul>
        )}
        <input id={id} type="text" value={text} autocomplete="off" placeholder={items.length ? "Add another" : "Type a name, then Enter or a comma"}
          aria-invalid={error ? "true" : undefined} aria-describedby={describedBy(id, help, error)}
          onInput={(e) => { const v = e.currentTarget.value; if (v.includes(",")) add(v); else setText(v); }}
          onKeyDown={(e) => {
            if (e.key === "Enter") { e.preventDefault(); if (text.trim()) add(text); }
            else if (e.key === "Backspace" && !text && items.length) onChange(items.slice(0, -1));
          }}
          onBlur={() => { if (text.trim()) add(text); }} />
      </div>
      <FieldNotes id={id} help={help} error={error} />
    </div>
  );
}

/** One form field per entry of the type's settings schema. `editing`: the connector being changed. */
function SettingsFields({ settings, values, errors, set, setError, prefix, editing }) {
  let first = true;
  return settings.map((st) => {
    const id = `${prefix}-${st.name}`;
    const common = { key: st.name, id, label: st.label, value: values[st.name], required: st.required, error: errors[st.name], help: st.help };
    const af = first && st.type !== "image" && st.type !== "secret" && st.type !== "events";
    if (af) first = false;
    switch (st.type) {
      case "image":
        return <ImageField {...common} onChange={(v) => set(st.name, v)} onError={(m) => setError(st.name, m)} />;
      case "boolean":
        return (
          <div class="field check" key={st.name}>
            <input id={id} type="checkbox" checked={!!values[st.name]} onChange={(e) => set(st.name, e.currentTarget.checked)} />
            <label for={id}>{st.label}</label>
            <FieldNotes id={id} help={st.help} error={errors[st.name]} />
          </div>
        );
      case "events":
        return <EventsField {...common} options={st.options || []} onChange={(v) => set(st.name, v)} />;
      case "list":
        return <ListField {...common} onChange={(v) => set(st.name, v)} />;
      case "secret":
        return (
          <div class="field" key={st.name}>
            <span class="label">{st.label}</span>
            <p class="muted small secret-note" id={`${id}-help`}>
              <Icon name="key" size={14} /> {editing ? "Set. Use “Rotate secret” to get a new one." : "Generated when you save, and shown once."}
              {st.help && <> {st.help}</>}
            </p>
          </div>
        );
      case "password":
        return <TextField {...common} type="password" required={st.required && !(editing && editing.has_secret)} autofocus={af}
          placeholder={editing && editing.has_secret ? "Unchanged (leave empty to keep it)" : undefined}
          onChange={(v) => set(st.name, v)} />;
      default: // string, url, number, pattern
        return <TextField {...common} type={st.type} autofocus={af} min={st.min} max={st.max}
          placeholder={st.type === "pattern" ? "e.g. main or release/*" : st.type === "url" ? "https://" : undefined}
          onChange={(v) => set(st.name, v)} />;
    }
  });
}

function useForm(initial) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const set = (k, v) => { setValues((o) => ({ ...o, [k]: v })); setErrors((o) => ({ ...o, [k]: null })); };
  const setError = (k, m) => setErrors((o) => ({ ...o, [k]: m }));
  return { values, errors, set, setError, setErrors };
}

const empty = (v) => v == null || v === "" || (Array.isArray(v) && !v.length);

/** Checks the values against the schema; returns {name: message} (empty when all is well). */
function validate(settings, values, editing) {
  const errs = {};
  for (const s of settings) {
    const v = values[s.name];
    if (s.type === "secret" || s.type === "image" || s.type === "boolean") continue;
    if (empty(v)) {
      const kept = s.type === "password" && editing && editing.has_secret;
      if (s.required && s.type !== "events" && !kept) errs[s.name] = `${s.label} is required.`;
      continue;
    }
    if (s.type === "number") {
      const n = Number(v);
      const lo = s.min ?? -Infinity, hi = s.max ?? Infinity;
      if (!/^-?\d+$/.test(String(v).trim()) || n < lo || n > hi)
        errs[s.name] = s.min != null && s.max != null ? `${s.label} must be a whole number from ${s.min} to ${s.max}.` : `${s.label} must be a whole number.`;
    } else if (s.type === "url" && !/^https?:\/\/\S+$/i.test(String(v).trim())) {
      errs[s.name] = `${s.label} must be an http:// or https:// address.`;
    }
  }
  return errs;
}

/** The value to send for a setting, from what the form holds. */
function wire(s, v) {
  if (s.type === "number") return empty(v) ? null : Number(String(v).trim());
  if (s.type === "events" || s.type === "list") return Array.isArray(v) ? v : [];
  if (typeof v === "string") return s.type === "password" ? v : v.trim();
  return v;
}

/** Puts an API error on the field it names (a setting, or "secret" for a password setting). */
function applyError(e, settings, form, setGeneral) {
  let f = e.field;
  if (f === "secret") f = (settings.find((s) => s.type === "password") || {}).name || f;
  if (f && settings.some((s) => s.name === f)) form.setError(f, e.message);
  else setGeneral(e.message);
}

function initialValues(settings, current) {
  const v = {};
  for (const s of settings) {
    if (current && s.name in current) v[s.name] = current[s.name];
    else if (s.default !== undefined) v[s.name] = s.default;
    if (s.type === "number" && v[s.name] != null) v[s.name] = String(v[s.name]);
  }
  return v;
}

function AddForm({ type, channel, onCancel, onCreated }) {
  const settings = type.settings || [];
  const form = useForm(() => initialValues(settings));
  const [general, setGeneral] = useState(null);
  const [busy, setBusy] = useState(false);
  const isWebhook = type.id === "incoming_webhook";
  async function submit(e) {
    e.preventDefault();
    setGeneral(null);
    const errs = validate(settings, form.values);
    if (Object.keys(errs).length) {
      form.setErrors(errs);
      const first = settings.find((s) => errs[s.name]);
      setTimeout(() => document.getElementById(`add-${first.name}`)?.focus());
      return;
    }
    const body = { type: type.id };
    const conf = {};
    for (const s of settings) {
      const v = form.values[s.name];
      if (s.type === "secret") continue;
      if (s.type === "password") { if (!empty(v)) body.secret = v; continue; }
      if (OWN.has(s.name)) { if (!empty(v)) body[s.name] = wire(s, v); continue; }
      if (s.type === "number" && empty(v)) continue;
      if ((s.type === "string" || s.type === "url" || s.type === "pattern") && empty(v)) continue;
      if (v !== undefined) conf[s.name] = wire(s, v);
    }
    if (Object.keys(conf).length) body.settings = conf;
    setBusy(true);
    try { onCreated(await post(`/api/v1/channels/${channel.id}/connectors`, body)); }
    catch (x) { applyError(x, settings, form, setGeneral); setBusy(false); }
  }
  return (
    <form class="add-form" onSubmit={submit} noValidate aria-labelledby="add-title">
      <div class="sub-head">
        <button type="button" class="icon-btn small" aria-label="Back to the catalog" onClick={onCancel}><Icon name="back" size={16} /></button>
        <TypeIcon type={type} size={32} />
        <h3 id="add-title">Add {type.name}</h3>
      </div>
      <p class="muted">{type.description}</p>
      {type.setup && <SetupSteps setup={type.setup} preview />}
      <SettingsFields settings={settings} values={form.values} errors={form.errors} set={form.set} setError={form.setError} prefix="add" />
      <p class="muted small"><span class="req">*</span> required</p>
      {general && <p class="error" role="alert">{general}</p>}
      <div class="form-actions">
        <button type="button" class="btn ghost" onClick={onCancel}>Cancel</button>
        <button type="submit" class="btn primary" disabled={busy}>{isWebhook ? "Create" : "Save"}</button>
      </div>
    </form>
  );
}

// ---------- shown once: URL, secret, setup steps ----------

function curlFor(url) {
  return `curl -H 'Content-Type: application/json' \\\n  -d '{"title":"Hello","text":"Sent from **curl**"}' \\\n  '${url}'`;
}

async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) { input.select(); try { return document.execCommand("copy"); } catch { return false; } }
    return false;
  }
}

/** A value shown this once, read-only, with Copy. */
function CopyField({ id, label, value, note, what = "it" }) {
  const [copied, setCopied] = useState(null);
  const input = useRef(null);
  return (
    <div class="secret">
      <label for={id} id={`${id}-label`}>{label}</label>
      <div class="copy-row">
        <input id={id} ref={input} readOnly value={value} spellcheck={false} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="btn primary" aria-describedby={`${id}-label`}
          onClick={async () => setCopied((await copyText(value, input.current)) ? "Copied" : `Copy failed: select ${what} and copy it`)}>
          <Icon name="copy" size={16} /> Copy</button>
      </div>
      <p class="muted small" role="status">{copied || note}</p>
    </div>
  );
}

function SecretUrl({ url, label = "Webhook URL", curl }) {
  return (
    <>
      <CopyField id="webhook-url" label={label} value={url} what="the URL"
        note="Copy it now: it is shown only once. Rotate it to get a new one." />
      {curl && (
        <details class="curl" open>
          <summary>Try it with curl</summary>
          <pre><code>{curlFor(url)}</code></pre>
        </details>
      )}
    </>
  );
}

function SecretValue({ secret, type, label }) {
  const st = secretSetting(type);
  return <CopyField id="signing-secret" label={label || (st && st.label) || "Secret"} value={secret} what="the secret"
    note="Copy it now: it is shown only once. Rotate the secret to get a new one." />;
}

const URL_TOKEN = "https://sb-setup-url.invalid/0";
const SECRET_TOKEN = "SbSetupSecretToken0";

/** The type's setup steps (markdown, through the same pipeline as cards) with {url} and {secret}
 *  filled in. The values go in after sanitising, as text (and as a link target for a safe URL),
 *  so whatever the steps wrap them in (code spans, links, plain text) they stay exact. */
function SetupSteps({ setup, url, secret, preview }) {
  const ref = useRef(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const src = String(setup)
      .replaceAll("{url}", url ? URL_TOKEN : preview ? "the URL (shown once you save)" : "the URL above")
      .replaceAll("{secret}", secret ? SECRET_TOKEN : preview ? "the secret (shown once you save)" : "the secret above");
    el.innerHTML = markdown(src);
    const fill = (t) => t.replaceAll(URL_TOKEN, url || "").replaceAll(SECRET_TOKEN, secret || "");
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode())
      if (n.nodeValue.includes(URL_TOKEN) || n.nodeValue.includes(SECRET_TOKEN)) n.nodeValue = fill(n.nodeValue);
    el.querySelectorAll("a[href]").forEach((a) => {
      const h = a.getAttribute("href");
      if (!h.includes(URL_TOKEN) && !h.includes(SECRET_TOKEN)) return;
      const target = h.startsWith(URL_TOKEN) && !h.includes(SECRET_TOKEN) ? fill(h) : null;
      if (target && isSafeLink(target)) a.setAttribute("href", target);
      else a.replaceWith(document.createTextNode(a.textContent)); // a secret never goes into a link
    });
  }, [setup, url, secret]);
  if (preview)
    return (
      <details class="setup setup-preview">
        <summary>How to set it up</summary>
        <div class="md" ref={ref} />
      </details>
    );
  return (
    <section class="setup" aria-labelledby="setup-title">
      <h4 id="setup-title">Setup steps</h4>
      <div class="md" ref={ref} />
    </section>
  );
}

function CreatedView({ connector, type, onDone }) {
  return (
    <div class="created">
      <div class="sub-head">
        {connector.image && isSafeImage(connector.image) ? <img class="conn-img" src={connector.image} alt="" /> : <TypeIcon type={type} size={32} />}
        <h3>“{connector.name}” is ready</h3>
      </div>
      {connector.url && <SecretUrl url={connector.url} curl={type && type.id === "incoming_webhook"} />}
      {connector.secret && <SecretValue secret={connector.secret} type={type} />}
      {type && type.setup && <SetupSteps setup={type.setup} url={connector.url} secret={connector.secret} />}
      <div class="form-actions">
        <button type="button" class="btn primary" onClick={onDone} autofocus>Done</button>
      </div>
    </div>
  );
}

// ---------- configured connectors ----------

function Configured({ list, types, team, refresh }) {
  if (!list) return <p class="muted">Loading…</p>;
  if (!list.length) return <p class="muted empty-note">No connectors in this channel yet. Add one from the catalog.</p>;
  const sorted = list.slice().sort((a, b) => a.id - b.id);
  return (
    <ul class="conn-list">
      {sorted.map((c) => <ConnectorItem key={c.id} c={c} type={(types || []).find((t) => t.id === c.type)} team={team} refresh={refresh} />)}
    </ul>
  );
}

function FeedStatus({ feed }) {
  return (
    <>
      {feed.last_error && (
        <p class="feed-error" role="note"><Icon name="alert" size={16} />
          <span><strong>The feed is failing:</strong> <span class="feed-error-text">{feed.last_error}</span></span></p>
      )}
      <p class="muted small">
        Last fetched: {feed.last_fetch ? fmtTime(feed.last_fetch, true) : "not yet"}
        {feed.next_fetch && <> · next: {fmtTime(feed.next_fetch, true)}</>}
      </p>
    </>
  );
}

function ConnectorItem({ c, type, team, refresh }) {
  const s = useStore();
  const [view, setView] = useState(null); // edit | rotate | rotated | rotate-secret | secret | remove | log
  const [shown, setShown] = useState(null); // the new URL or secret, shown once
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const [checking, setChecking] = useState(false);
  const mine = s.me && c.owner && c.owner.id === s.me.id;
  const canManage = mine || (team && team.role === "owner");
  const suspended = c.state === "suspended";
  const failing = c.feed && c.feed.last_error;
  const push = isPush(type) && !c.feed;
  async function run(f) {
    setBusy(true); setErr(null);
    try { await f(); } catch (e) { setErr(e.message); } finally { setBusy(false); }
  }
  const ld = c.last_delivery;
  const toggle = (v) => setView(view === v ? null : v);
  return (
    <li class={`conn${suspended ? " suspended" : ""}${failing ? " failing" : ""}`} data-connector={c.id} data-type={c.type}>
      <div class="conn-row">
        {c.image && isSafeImage(c.image) ? <img class="conn-img" src={c.image} alt="" /> : <TypeIcon type={type || { icon: "webhook" }} size={40} />}
        <div class="conn-text">
          <h3 class="conn-name">{c.name}</h3>
          <p class="muted small conn-type">
            {c.image && type && <TypeIcon type={type} size={16} />}
            {type ? type.name : c.type} · added by {c.owner ? c.owner.username : "?"}
          </p>
          <p class="small">
            <span class={`state state-${c.state}`}>{suspended ? "Suspended" : "Active"}</span>
            {failing && !suspended && <span class="state state-failing">Failing</span>}
            {suspended && c.state_reason && <span class="state-reason"> — {c.state_reason}</span>}
          </p>
          {c.feed ? <FeedStatus feed={c.feed} /> : (
            <p class="muted small">Last delivery: {ld ? <>{fmtTime(ld.time, true)} · <span class={`status ${/^2/.test(String(ld.status)) ? "ok" : "bad"}`}>{String(ld.status)}</span></> : "none yet"}</p>
          )}
        </div>
      </div>
      <div class="conn-actions">
        {canManage && <button type="button" class="btn small" aria-expanded={view === "edit" ? "true" : "false"} onClick={() => toggle("edit")}>Edit</button>}
        {canManage && push && <button type="button" class="btn small" onClick={() => setView("rotate")}>Rotate URL</button>}
        {canManage && secretSetting(type) && <button type="button" class="btn small" onClick={() => setView("rotate-secret")}>Rotate secret</button>}
        {c.feed && !suspended && <button type="button" class="btn small" disabled={checking}
          onClick={() => run(async () => {
            // fetched at the server's next tick: look again a few times until the fetch shows
            await post(`/api/v1/connectors/${c.id}/check`);
            setChecking(true);
            const was = c.feed.last_fetch;
            for (const ms of [1000, 2000, 3000, 5000, 8000]) {
              await new Promise((r) => setTimeout(r, ms));
              await refresh();
              const now = (S.connectors[c.channel_id] || []).find((x) => x.id === c.id);
              if (!now || (now.feed && now.feed.last_fetch !== was)) break;
            }
            setChecking(false);
          })}>{checking ? "Checking…" : "Check now"}</button>}
        {suspended && <button type="button" class="btn small primary" disabled={busy}
          onClick={() => run(async () => { upsertConnector(await post(`/api/v1/connectors/${c.id}/takeover`)); })}>Take over</button>}
        {(canManage || suspended) && <button type="button" class="btn small danger" onClick={() => setView("remove")}>Remove</button>}
        <button type="button" class="btn small" aria-expanded={view === "log" ? "true" : "false"} onClick={() => toggle("log")}>Delivery log</button>
      </div>
      {err && <p class="error" role="alert">{err}</p>}
      {view === "edit" && <EditForm c={c} type={type} onClose={() => setView(null)} />}
      {view === "rotate" && (
        <Confirm label="Confirm rotation" text={`Rotate the URL of “${c.name}”? The current URL stops working at once.`}
          action="Rotate" busy={busy} onCancel={() => setView(null)}
          onConfirm={() => run(async () => { const r = await post(`/api/v1/connectors/${c.id}/rotate`); upsertConnector(r); setShown(r.url); setView("rotated"); })} />
      )}
      {view === "rotated" && shown && (
        <div class="confirm">
          <SecretUrl url={shown} label="New webhook URL" curl={c.type === "incoming_webhook"} />
          <div class="form-actions"><button type="button" class="btn primary" onClick={() => { setShown(null); setView(null); }}>Done</button></div>
        </div>
      )}
      {view === "rotate-secret" && (
        <Confirm label="Confirm secret rotation"
          text={`Rotate the secret of “${c.name}”? Deliveries signed with the current secret are refused until you paste the new one into ${type ? type.name : "the service"}.`}
          action="Rotate secret" busy={busy} onCancel={() => setView(null)}
          onConfirm={() => run(async () => { const r = await post(`/api/v1/connectors/${c.id}/rotate-secret`); upsertConnector(r); setShown(r.secret); setView("secret"); })} />
      )}
      {view === "secret" && shown && (
        <div class="confirm">
          <SecretValue secret={shown} type={type} label={`New ${((secretSetting(type) || {}).label || "secret").toLowerCase()}`} />
          <div class="form-actions"><button type="button" class="btn primary" onClick={() => { setShown(null); setView(null); }}>Done</button></div>
        </div>
      )}
      {view === "remove" && (
        <Confirm label="Confirm removal" danger action="Remove" busy={busy} onCancel={() => setView(null)}
          text={`Remove “${c.name}”? ${push ? "Its URL will answer 410 Gone. " : ""}Messages already posted stay.`}
          onConfirm={() => run(async () => {
            await del(`/api/v1/connectors/${c.id}`);
            const l = S.connectors[c.channel_id];
            if (l) { S.connectors[c.channel_id] = l.filter((x) => x.id !== c.id); bump(); }
          })} />
      )}
      {view === "log" && <DeliveryLog id={c.id} />}
    </li>
  );
}

function Confirm({ label, text, action, danger, busy, onCancel, onConfirm }) {
  return (
    <div class="confirm" role="group" aria-label={label}>
      <p>{text}</p>
      <div class="form-actions">
        <button type="button" class="btn ghost" onClick={onCancel}>Cancel</button>
        <button type="button" class={`btn ${danger ? "danger" : "primary"}`} disabled={busy} autofocus onClick={onConfirm}>{action}</button>
      </div>
    </div>
  );
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function EditForm({ c, type, onClose }) {
  // the schema when the catalog knows the type; else name and image, as every connector has
  const settings = (type && type.settings) || [{ name: "name", label: "Name", type: "string", required: true, max: 80 }, { name: "image", label: "Image", type: "image" }];
  const current = { ...(c.settings || {}), name: c.name, image: c.image };
  const start = initialValues(settings, current);
  const form = useForm(() => start);
  const [general, setGeneral] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setGeneral(null);
    const errs = validate(settings, form.values, c);
    if (Object.keys(errs).length) { form.setErrors(errs); return; }
    const body = {};
    const conf = {};
    for (const s of settings) {
      const v = form.values[s.name];
      if (s.type === "secret") continue;
      if (s.type === "password") { if (!empty(v)) body.secret = v; continue; }
      if (s.name === "image") { if (v && v !== c.image) body.image = v; continue; }
      if (s.name === "name") { if (v.trim() !== c.name) body.name = v.trim(); continue; }
      if (same(wire(s, v), wire(s, start[s.name]))) continue;
      if (s.type === "number" && empty(v)) continue; // a number cannot be emptied
      conf[s.name] = wire(s, v) ?? "";
    }
    if (Object.keys(conf).length) body.settings = conf;
    if (!Object.keys(body).length) { onClose(); return; }
    setBusy(true);
    try { upsertConnector(await patch(`/api/v1/connectors/${c.id}`, body)); onClose(); }
    catch (x) { applyError(x, settings, form, setGeneral); setBusy(false); }
  }
  return (
    <form class="edit-form" onSubmit={submit} noValidate aria-label={`Edit ${c.name}`}>
      <SettingsFields settings={settings} values={form.values} errors={form.errors} set={form.set} setError={form.setError}
        prefix={`edit-${c.id}`} editing={c} />
      {general && <p class="error" role="alert">{general}</p>}
      <div class="form-actions">
        <button type="button" class="btn ghost" onClick={onClose}>Cancel</button>
        <button type="submit" class="btn primary" disabled={busy}>Save</button>
      </div>
    </form>
  );
}

const OUTCOME = { posted: "Posted", ignored: "Ignored", refused: "Refused" };

function DeliveryLog({ id }) {
  const [items, setItems] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => { get(`/api/v1/connectors/${id}/deliveries`).then((r) => setItems(r.deliveries)).catch((e) => setErr(e.message)); }, [id]);
  if (err) return <p class="error">{err}</p>;
  if (!items) return <p class="muted">Loading…</p>;
  if (!items.length) return <p class="muted small">No deliveries yet.</p>;
  return (
    <div class="log">
      <table>
        <caption class="sr-only">Delivery log</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">Outcome</th><th scope="col">Status</th><th scope="col">Dialect</th><th scope="col">Size</th><th scope="col">Details</th></tr></thead>
        <tbody>
          {items.map((d) => {
            const ok = /^2/.test(String(d.status));
            const outcome = d.outcome || (d.message_id ? "posted" : ok ? "ignored" : "refused");
            return (
              <tr key={d.id} class={`outcome-${outcome}`}>
                <td>{fmtTime(d.time, true)}</td>
                <td><span class={`outcome ${outcome}`}>{OUTCOME[outcome] || outcome}</span></td>
                <td><span class={`status ${ok ? "ok" : "bad"}`}>{d.status}</span></td>
                <td>{d.dialect || "—"}</td>
                <td>{d.size != null ? `${d.size} B` : "—"}</td>
                <td>
                  {d.error && <span class={outcome === "ignored" ? "ignored-text" : "error-text"}>{outcome === "ignored" ? `Not posted: ${d.error}` : d.error}</span>}
                  {d.body && <details><summary>Body</summary><pre>{d.body}</pre></details>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
