// connectors.jsx: the channel's Connectors dialog: the catalog (search, add with a form drawn from
// the type's settings schema, the secret URL shown once) and the configured connectors (edit,
// rotate, take over, remove, delivery log).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { get, post, patch, del } from "./api.js";
import { S, bump, useStore, upsertConnector } from "./store.js";
import { Dialog, Icon, Avatar, fmtTime } from "./ui.jsx";
import { isSafeImage } from "./safe.js";

const MAX_IMAGE = 256 * 1024;
let typesCache = null;

function TypeIcon({ type, size = 40 }) {
  return <span class={`type-icon type-${size}`} aria-hidden="true"><Icon name={type && type.icon} size={size * 0.6} /></span>;
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
          <Configured list={list} types={types} team={team} />
        </div>
      )}
    </Dialog>
  );
}

function Catalog({ types, channel, onDone }) {
  const [q, setQ] = useState("");
  const [adding, setAdding] = useState(null);
  const [created, setCreated] = useState(null);
  if (created) return <CreatedView connector={created} onDone={() => { setCreated(null); setAdding(null); onDone(); }} />;
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
          <li class="type-item" key={t.id}>
            <TypeIcon type={t} />
            <div class="type-text">
              <h3>{t.name}</h3>
              <p class="muted">{t.description}</p>
            </div>
            <button type="button" class="btn" aria-label={`Add ${t.name}`} onClick={() => setAdding(t)}>Add</button>
          </li>
        ))}
      </ul>
    </div>
  );
}

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

function ImageField({ id, label, value, required, error, onChange, onError }) {
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <label for={id}>{label}{required && <span class="req" aria-hidden="true"> *</span>}</label>
      <div class="image-field">
        {value && isSafeImage(value) ? <img class="image-preview" src={value} alt="Preview of the chosen image" />
          : <span class="image-preview empty" aria-hidden="true"><Icon name="webhook" size={24} /></span>}
        <input id={id} type="file" accept="image/png,image/jpeg,image/gif,image/webp" required={required && !value}
          aria-invalid={error ? "true" : undefined} aria-describedby={error ? `${id}-err` : undefined}
          onChange={async (e) => {
            const f = e.currentTarget.files && e.currentTarget.files[0];
            if (!f) return;
            try { onChange(await readImage(f)); onError(null); } catch (x) { onError(x.message); e.currentTarget.value = ""; }
          }} />
        {value && <button type="button" class="btn ghost small" onClick={() => onChange(null)}>Remove image</button>}
      </div>
      {error && <p class="field-error" id={`${id}-err`}>{error}</p>}
    </div>
  );
}

function TextField({ id, label, value, required, secret, error, onChange, autofocus }) {
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <label for={id}>{label}{required && <span class="req" aria-hidden="true"> *</span>}</label>
      <input id={id} type={secret ? "password" : "text"} value={value || ""} required={required}
        autocomplete={secret ? "new-password" : "off"} autofocus={autofocus} maxLength={secret ? undefined : 80}
        aria-required={required ? "true" : undefined} aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? `${id}-err` : undefined}
        onInput={(e) => onChange(e.currentTarget.value)} />
      {error && <p class="field-error" id={`${id}-err`}>{error}</p>}
    </div>
  );
}

/** One form field per entry of the type's settings schema. */
function SettingsFields({ settings, values, errors, set, setError, prefix }) {
  return settings.map((st, i) => {
    const id = `${prefix}-${st.name}`;
    if (st.type === "image")
      return <ImageField key={st.name} id={id} label={st.label} value={values[st.name]} required={st.required}
        error={errors[st.name]} onChange={(v) => set(st.name, v)} onError={(m) => setError(st.name, m)} />;
    if (st.type === "boolean")
      return (
        <div class="field check" key={st.name}>
          <input id={id} type="checkbox" checked={!!values[st.name]} onChange={(e) => set(st.name, e.currentTarget.checked)} />
          <label for={id}>{st.label}</label>
          {errors[st.name] && <p class="field-error">{errors[st.name]}</p>}
        </div>
      );
    return <TextField key={st.name} id={id} label={st.label} value={values[st.name]} required={st.required}
      secret={st.secret} error={errors[st.name]} onChange={(v) => set(st.name, v)} autofocus={i === 0} />;
  });
}

function useForm(initial) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const set = (k, v) => { setValues((o) => ({ ...o, [k]: v })); setErrors((o) => ({ ...o, [k]: null })); };
  const setError = (k, m) => setErrors((o) => ({ ...o, [k]: m }));
  return { values, errors, set, setError, setErrors };
}

function applyError(e, settings, form, setGeneral) {
  const f = e.field;
  if (f && settings.some((s) => s.name === f)) form.setError(f, e.message);
  else setGeneral(e.message);
}

function AddForm({ type, channel, onCancel, onCreated }) {
  const settings = type.settings || [];
  const form = useForm({});
  const [general, setGeneral] = useState(null);
  const [busy, setBusy] = useState(false);
  const isWebhook = type.id === "incoming_webhook";
  async function submit(e) {
    e.preventDefault();
    setGeneral(null);
    const missing = settings.filter((s) => s.required && (form.values[s.name] == null || form.values[s.name] === ""));
    if (missing.length) { missing.forEach((s) => form.setError(s.name, `${s.label} is required.`)); return; }
    const body = { type: type.id };
    for (const s of settings) if (form.values[s.name] != null && form.values[s.name] !== "") body[s.name] = form.values[s.name];
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

/** The secret URL, shown this once, with Copy and a sample curl command. */
function SecretUrl({ url, label = "Webhook URL" }) {
  const [copied, setCopied] = useState(null);
  const input = useRef(null);
  return (
    <div class="secret">
      <label for="webhook-url">{label}</label>
      <div class="copy-row">
        <input id="webhook-url" ref={input} readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="btn primary" onClick={async () => setCopied((await copyText(url, input.current)) ? "Copied" : "Copy failed: select the URL and copy it")}>Copy</button>
      </div>
      <p class="muted small" role="status">{copied || "Copy it now: it is shown only once. Rotate it to get a new one."}</p>
      <details class="curl" open>
        <summary>Try it with curl</summary>
        <pre><code>{curlFor(url)}</code></pre>
      </details>
    </div>
  );
}

function CreatedView({ connector, onDone }) {
  return (
    <div class="created">
      <div class="sub-head">
        {connector.image ? <img class="conn-img" src={connector.image} alt="" /> : <TypeIcon type={{ icon: "webhook" }} size={32} />}
        <h3>“{connector.name}” is ready</h3>
      </div>
      <SecretUrl url={connector.url} />
      <div class="form-actions">
        <button type="button" class="btn primary" onClick={onDone} autofocus>Done</button>
      </div>
    </div>
  );
}

function Configured({ list, types, team }) {
  if (!list) return <p class="muted">Loading…</p>;
  if (!list.length) return <p class="muted empty-note">No connectors in this channel yet. Add one from the catalog.</p>;
  const sorted = list.slice().sort((a, b) => a.id - b.id);
  return (
    <ul class="conn-list">
      {sorted.map((c) => <ConnectorItem key={c.id} c={c} type={(types || []).find((t) => t.id === c.type)} team={team} />)}
    </ul>
  );
}

function ConnectorItem({ c, type, team }) {
  const s = useStore();
  const [view, setView] = useState(null); // edit | rotate | rotated | remove | log
  const [url, setUrl] = useState(null);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const mine = s.me && c.owner && c.owner.id === s.me.id;
  const canManage = mine || (team && team.role === "owner");
  const suspended = c.state === "suspended";
  async function run(f) {
    setBusy(true); setErr(null);
    try { await f(); } catch (e) { setErr(e.message); } finally { setBusy(false); }
  }
  const ld = c.last_delivery;
  return (
    <li class={`conn${suspended ? " suspended" : ""}`} data-connector={c.id}>
      <div class="conn-row">
        {c.image && isSafeImage(c.image) ? <img class="conn-img" src={c.image} alt="" /> : <TypeIcon type={type || { icon: "webhook" }} size={40} />}
        <div class="conn-text">
          <h3 class="conn-name">{c.name}</h3>
          <p class="muted small">{type ? type.name : c.type} · added by {c.owner ? c.owner.username : "?"}</p>
          <p class="small">
            <span class={`state state-${c.state}`}>{suspended ? "Suspended" : "Active"}</span>
            {suspended && c.state_reason && <span class="state-reason"> — {c.state_reason}</span>}
          </p>
          <p class="muted small">Last delivery: {ld ? <>{fmtTime(ld.time, true)} · <span class={`status ${/^2/.test(String(ld.status)) ? "ok" : "bad"}`}>{String(ld.status)}</span></> : "none yet"}</p>
        </div>
      </div>
      <div class="conn-actions">
        {canManage && <button type="button" class="btn small" onClick={() => setView(view === "edit" ? null : "edit")}>Edit</button>}
        {canManage && c.type === "incoming_webhook" && <button type="button" class="btn small" onClick={() => setView("rotate")}>Rotate URL</button>}
        {suspended && <button type="button" class="btn small primary" disabled={busy}
          onClick={() => run(async () => { upsertConnector(await post(`/api/v1/connectors/${c.id}/takeover`)); })}>Take over</button>}
        {(canManage || suspended) && <button type="button" class="btn small danger" onClick={() => setView("remove")}>Remove</button>}
        <button type="button" class="btn small" aria-expanded={view === "log" ? "true" : "false"} onClick={() => setView(view === "log" ? null : "log")}>Delivery log</button>
      </div>
      {err && <p class="error" role="alert">{err}</p>}
      {view === "edit" && <EditForm c={c} onClose={() => setView(null)} />}
      {view === "rotate" && (
        <div class="confirm" role="group" aria-label="Confirm rotation">
          <p>Rotate the URL of “{c.name}”? The current URL stops working at once.</p>
          <div class="form-actions">
            <button type="button" class="btn ghost" onClick={() => setView(null)}>Cancel</button>
            <button type="button" class="btn primary" disabled={busy} autofocus
              onClick={() => run(async () => { const r = await post(`/api/v1/connectors/${c.id}/rotate`); upsertConnector(r); setUrl(r.url); setView("rotated"); })}>Rotate</button>
          </div>
        </div>
      )}
      {view === "rotated" && url && (
        <div class="confirm">
          <SecretUrl url={url} label="New webhook URL" />
          <div class="form-actions"><button type="button" class="btn primary" onClick={() => { setUrl(null); setView(null); }}>Done</button></div>
        </div>
      )}
      {view === "remove" && (
        <div class="confirm" role="group" aria-label="Confirm removal">
          <p>Remove “{c.name}”? Its URL will answer 410 Gone. Messages already posted stay.</p>
          <div class="form-actions">
            <button type="button" class="btn ghost" onClick={() => setView(null)}>Cancel</button>
            <button type="button" class="btn danger" disabled={busy} autofocus
              onClick={() => run(async () => {
                await del(`/api/v1/connectors/${c.id}`);
                const l = S.connectors[c.channel_id];
                if (l) { S.connectors[c.channel_id] = l.filter((x) => x.id !== c.id); bump(); }
              })}>Remove</button>
          </div>
        </div>
      )}
      {view === "log" && <DeliveryLog id={c.id} />}
    </li>
  );
}

function EditForm({ c, onClose }) {
  const [name, setName] = useState(c.name);
  const [image, setImage] = useState(undefined); // undefined: unchanged
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    if (!name.trim()) { setErrors({ name: "Name is required." }); return; }
    const body = {};
    if (name !== c.name) body.name = name;
    if (image) body.image = image;
    if (!Object.keys(body).length) { onClose(); return; }
    setBusy(true);
    try { upsertConnector(await patch(`/api/v1/connectors/${c.id}`, body)); onClose(); }
    catch (x) { const f = x.field; setErrors(f ? { [f]: x.message } : { general: x.message }); setBusy(false); }
  }
  return (
    <form class="edit-form" onSubmit={submit} noValidate aria-label={`Edit ${c.name}`}>
      <TextField id={`edit-${c.id}-name`} label="Name" value={name} required error={errors.name}
        onChange={(v) => { setName(v); setErrors({}); }} autofocus />
      <ImageField id={`edit-${c.id}-image`} label="Image" value={image || c.image} error={errors.image}
        onChange={(v) => setImage(v)} onError={(m) => setErrors({ image: m })} />
      {errors.general && <p class="error" role="alert">{errors.general}</p>}
      <div class="form-actions">
        <button type="button" class="btn ghost" onClick={onClose}>Cancel</button>
        <button type="submit" class="btn primary" disabled={busy}>Save</button>
      </div>
    </form>
  );
}

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
        <thead><tr><th scope="col">Time</th><th scope="col">Status</th><th scope="col">Dialect</th><th scope="col">Size</th><th scope="col">Details</th></tr></thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <td>{fmtTime(d.time, true)}</td>
              <td><span class={`status ${/^2/.test(String(d.status)) ? "ok" : "bad"}`}>{d.status}</span></td>
              <td>{d.dialect || "—"}</td>
              <td>{d.size != null ? `${d.size} B` : "—"}</td>
              <td>
                {d.error && <span class="error-text">{d.error}</span>}
                {d.body && <details><summary>Body</summary><pre>{d.body}</pre></details>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
