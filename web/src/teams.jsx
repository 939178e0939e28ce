// teams.jsx: team dialogs: members (owners add and remove; removal first lists the connectors that
// will be suspended), a new channel, a new team.
import { useEffect, useState } from "preact/hooks";
import { get, post, del } from "./api.js";
import { S, bump, useStore, openChannel, loadChannels } from "./store.js";
import { Dialog, Avatar } from "./ui.jsx";

export function MembersDialog({ team, onClose }) {
  const s = useStore();
  const [members, setMembers] = useState(null);
  const [err, setErr] = useState(null);
  const [removing, setRemoving] = useState(null); // {member, connectors|null}
  const [username, setUsername] = useState("");
  const [role, setRole] = useState("member");
  const [addErr, setAddErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const owner = team.role === "owner";
  const reload = () => get(`/api/v1/teams/${team.id}/members`).then((r) => setMembers(r.members)).catch((e) => setErr(e.message));
  useEffect(() => { reload(); }, [team.id, s.membersVersion]);

  async function askRemove(m) {
    setRemoving({ member: m, connectors: null });
    try {
      const channels = S.channels[team.id] || (await get(`/api/v1/teams/${team.id}/channels`)).channels;
      const lists = await Promise.all(channels.map((c) => get(`/api/v1/channels/${c.id}/connectors`).then((r) => r.connectors).catch(() => [])));
      const theirs = lists.flat().filter((c) => c.owner && c.owner.id === m.user_id && c.state === "active");
      setRemoving({ member: m, connectors: theirs });
    } catch (e) { setErr(e.message); setRemoving(null); }
  }
  async function confirmRemove() {
    const m = removing.member;
    setBusy(true); setErr(null);
    try {
      await del(`/api/v1/teams/${team.id}/members/${m.user_id}`);
      setRemoving(null);
      if (s.me && m.user_id === s.me.id) { onClose(); return; }
      reload();
    } catch (e) { setErr(e.code === "last_owner" ? "A team needs at least one owner: make someone else owner first." : e.message); }
    finally { setBusy(false); }
  }
  async function add(e) {
    e.preventDefault();
    if (!username.trim()) { setAddErr("Username is required."); return; }
    setBusy(true); setAddErr(null);
    try { await post(`/api/v1/teams/${team.id}/members`, { username: username.trim(), role }); setUsername(""); reload(); }
    catch (x) { setAddErr(x.code === "user_not_found" ? `No user named “${username.trim()}”.` : x.code === "conflict" ? `${username.trim()} is already a member.` : x.message); }
    finally { setBusy(false); }
  }
  return (
    <Dialog title={`Members · ${team.name}`} onClose={onClose} id="members">
      {err && <p class="error" role="alert">{err}</p>}
      {!members ? <p class="muted">Loading…</p> : (
        <ul class="member-list">
          {members.map((m) => (
            <li key={m.user_id} class="member" data-user={m.username}>
              <Avatar name={m.username} size={32} />
              <span class="member-name">{m.username}{s.me && m.user_id === s.me.id ? " (you)" : ""}</span>
              <span class={`role role-${m.role}`}>{m.role}</span>
              {(owner || (s.me && m.user_id === s.me.id)) && (
                <button type="button" class="btn small danger" aria-label={s.me && m.user_id === s.me.id ? "Leave the team" : `Remove ${m.username}`}
                  onClick={() => askRemove(m)}>{s.me && m.user_id === s.me.id ? "Leave" : "Remove"}</button>
              )}
            </li>
          ))}
        </ul>
      )}
      {removing && (
        <div class="confirm" role="group" aria-label="Confirm removal">
          <p><strong>{s.me && removing.member.user_id === s.me.id ? "Leave" : `Remove ${removing.member.username} from`} {team.name}?</strong></p>
          {removing.connectors === null ? <p class="muted">Checking their connectors…</p>
            : removing.connectors.length ? (
              <div class="will-suspend">
                <p>These connectors owned by {removing.member.username} will be suspended until someone takes them over:</p>
                <ul>{removing.connectors.map((c) => <li key={c.id}><strong>{c.name}</strong> in #{c.channel_name}</li>)}</ul>
              </div>
            ) : <p class="muted">{removing.member.username} owns no active connectors in this team.</p>}
          <div class="form-actions">
            <button type="button" class="btn ghost" onClick={() => setRemoving(null)}>Cancel</button>
            <button type="button" class="btn danger" disabled={busy || removing.connectors === null} onClick={confirmRemove}>
              {s.me && removing.member.user_id === s.me.id ? "Leave team" : "Remove member"}</button>
          </div>
        </div>
      )}
      {owner && (
        <form class="add-member" onSubmit={add} noValidate>
          <h3>Add a member</h3>
          <div class="inline-fields">
            <div class="field grow">
              <label for="add-member-name">Username</label>
              <input id="add-member-name" value={username} autocomplete="off" aria-invalid={addErr ? "true" : undefined}
                aria-describedby={addErr ? "add-member-err" : undefined} onInput={(e) => { setUsername(e.currentTarget.value); setAddErr(null); }} />
            </div>
            <div class="field">
              <label for="add-member-role">Role</label>
              <select id="add-member-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
                <option value="member">Member</option>
                <option value="owner">Owner</option>
              </select>
            </div>
            <button type="submit" class="btn primary" disabled={busy}>Add</button>
          </div>
          {addErr && <p class="field-error" id="add-member-err">{addErr}</p>}
        </form>
      )}
    </Dialog>
  );
}

function NameDialog({ title, label, onClose, onSubmit, id }) {
  const [name, setName] = useState("");
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={title} onClose={onClose} id={id}>
      <form onSubmit={async (e) => {
        e.preventDefault();
        if (!name.trim()) { setErr(`${label} is required.`); return; }
        setBusy(true);
        try { await onSubmit(name.trim()); onClose(); }
        catch (x) { setErr(x.code === "conflict" ? "That name is already used." : x.message); setBusy(false); }
      }} noValidate>
        <div class={`field${err ? " invalid" : ""}`}>
          <label for={`${id}-name`}>{label}<span class="req" aria-hidden="true"> *</span></label>
          <input id={`${id}-name`} value={name} maxLength={80} required autofocus autocomplete="off"
            aria-invalid={err ? "true" : undefined} aria-describedby={err ? `${id}-err` : undefined}
            onInput={(e) => { setName(e.currentTarget.value); setErr(null); }} />
          {err && <p class="field-error" id={`${id}-err`}>{err}</p>}
        </div>
        <div class="form-actions">
          <button type="button" class="btn ghost" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn primary" disabled={busy}>Create</button>
        </div>
      </form>
    </Dialog>
  );
}

export function NewChannelDialog({ team, onClose }) {
  return <NameDialog id="new-channel" title={`New channel in ${team.name}`} label="Channel name" onClose={onClose}
    onSubmit={async (name) => {
      const c = await post(`/api/v1/teams/${team.id}/channels`, { name });
      const list = S.channels[team.id] || [];
      if (!list.some((x) => x.id === c.id)) S.channels[team.id] = [...list, c].sort((a, b) => a.name.localeCompare(b.name));
      bump();
      openChannel(c.id);
    }} />;
}

export function NewTeamDialog({ onClose }) {
  return <NameDialog id="new-team" title="New team" label="Team name" onClose={onClose}
    onSubmit={async (name) => {
      const t = await post(`/api/v1/teams`, { name });
      if (!S.teams.some((x) => x.id === t.id)) S.teams = [...S.teams, t].sort((a, b) => a.id - b.id);
      await loadChannels(t.id);
      const first = (S.channels[t.id] || [])[0];
      if (first) openChannel(first.id);
      bump();
    }} />;
}
