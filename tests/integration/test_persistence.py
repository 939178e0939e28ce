"""Durability: everything survives SIGTERM + restart; every acknowledged (201) message is stored,
also when the server is stopped in the middle of a burst or killed with SIGKILL right after one."""

import signal
import threading
import time

import requests

from sbhelpers import cookie_client, login_ok


def snapshot(srv, users, team_ids, channel_ids):
    out = {}
    for u in users:
        out[(u, "teams")] = srv.api(u).get("/api/v1/teams").json()
        out[(u, "session")] = srv.api(u).get("/api/v1/session").json()
    a = srv.api("alice")
    for t in team_ids:
        for what in ("", "/members", "/channels"):
            r = a.get(f"/api/v1/teams/{t}{what}")
            assert r.status_code == 200, r.text
            out[(t, what)] = r.json()
    for c in channel_ids:
        out[(c, "channel")] = a.get(f"/api/v1/channels/{c}").json()
        out[(c, "messages")] = srv.all_messages("alice", c)
    return out


def test_state_survives_sigterm_restart(server):
    t1 = server.create_team("alice", "Persist")
    t2 = server.create_team("alice", "Persist 2 ☃")
    server.add_member("alice", t1["id"], "bob")
    server.add_member("alice", t1["id"], "carol", role="owner")
    server.add_member("alice", t2["id"], "dave")
    assert server.api("alice").delete(f"/api/v1/teams/{t2['id']}/members/dave").status_code == 204
    gen = server.general("alice", t1["id"])["id"]
    ops = server.create_channel("alice", t1["id"], "ops")["id"]
    gen2 = server.general("alice", t2["id"])["id"]
    for i in range(30):
        server.post("alice" if i % 2 else "bob", gen if i % 3 else ops, f"msg {i} ünïcödé\nline2")
    server.post("alice", gen2, "t2")
    # a cookie session and a token made by the CLI while running
    me, cookie = login_ok(server, "carol")
    gone, gone_cookie = login_ok(server, "bob")
    r = cookie_client(server, gone_cookie, csrf=gone["csrf_token"]).delete("/api/v1/session")
    assert r.status_code == 204
    tok = server.admin("create-token", "dave").stdout.strip()
    assert server.client(token=tok).get("/api/v1/session").status_code == 200

    users = ["alice", "bob", "carol", "dave"]
    before = snapshot(server, users, [t1["id"], t2["id"]], [gen, ops, gen2])
    assert len(before[(gen, "messages")]) + len(before[(ops, "messages")]) == 30

    server.restart()

    after = snapshot(server, users, [t1["id"], t2["id"]], [gen, ops, gen2])
    assert after == before
    assert server.client(token=tok).get("/api/v1/session").json()["user"]["username"] == "dave"
    c = cookie_client(server, cookie)
    r = c.get("/api/v1/session")
    assert r.status_code == 200 and r.json()["user"] == me["user"]
    assert cookie_client(server, gone_cookie).get("/api/v1/session").status_code == 401
    # the session's CSRF token still works for a write
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    assert c.post(f"/api/v1/channels/{gen}/messages", json={"text": "after restart"}).status_code == 201
    # new ids continue above the old ones
    newest = server.post("alice", gen, "newest")
    old_max = max(m["id"] for k, v in before.items() if k[1] == "messages" for m in v)
    assert newest["id"] > old_max


def _burst(server, users_channels, per_thread, stop_event=None):
    """Starts one posting thread per (user, channel). Returns (threads, acked dict, attempted set, bad list)."""
    acked, attempted, bad = {}, set(), []
    lock = threading.Lock()

    def run(i, user, cid):
        sess = server.client(user)
        for k in range(per_thread):
            if stop_event is not None and stop_event.is_set():
                return
            text = f"burst t{i} #{k}"
            with lock:
                attempted.add(text)
            try:
                r = sess.post(f"/api/v1/channels/{cid}/messages", json={"text": text}, timeout=10)
            except requests.RequestException:
                return  # the server went away: this message may or may not be stored
            if r.status_code == 201:
                with lock:
                    acked[r.json()["id"]] = r.json()
            else:
                with lock:
                    bad.append((r.status_code, r.headers.get("Content-Type", ""), r.text[:200]))
                return

    threads = [threading.Thread(target=run, args=(i, u, c)) for i, (u, c) in enumerate(users_channels)]
    for t in threads:
        t.start()
    return threads, acked, attempted, bad


def _check_stored(server, channels, acked, attempted):
    stored = {}
    for c in channels:
        for m in server.all_messages("alice", c):
            stored[m["id"]] = m
    missing = [i for i in acked if i not in stored]
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {missing[:5]}"
    for i, m in acked.items():
        assert stored[i] == m
    burst = {i: m for i, m in stored.items() if m["text"].startswith("burst ")}
    assert {m["text"] for m in burst.values()} <= attempted
    assert len({m["text"] for m in burst.values()}) == len(burst), "a message was stored twice"
    return stored


def test_acknowledged_messages_survive_sigterm_during_burst(server):
    tid = server.create_team("alice", "Drain")["id"]
    server.add_member("alice", tid, "bob")
    gen = server.general("alice", tid)["id"]
    ops = server.create_channel("alice", tid, "ops")["id"]
    plan = [("alice", gen), ("bob", gen), ("alice", ops), ("bob", ops)]
    threads, acked, attempted, bad = _burst(server, plan, per_thread=400)
    deadline = time.monotonic() + 10
    while len(acked) < 60 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(acked) >= 60, f"burst too slow or failing: {bad[:3]}"
    server.stop()  # SIGTERM in the middle of the burst: exit 0 within 10 s
    for t in threads:
        t.join(15)
    # answers during shutdown are 201 or 503 unavailable, nothing else
    for status, ctype, text in bad:
        assert status == 503 and "unavailable" in text, (status, text)
    server.start()
    _check_stored(server, [gen, ops], acked, attempted)


def test_acknowledged_messages_survive_sigkill(server):
    tid = server.create_team("alice", "Crash")["id"]
    server.add_member("alice", tid, "bob")
    gen = server.general("alice", tid)["id"]
    ops = server.create_channel("alice", tid, "ops")["id"]
    plan = [("alice", gen), ("bob", gen), ("alice", ops), ("bob", ops)]
    threads, acked, attempted, bad = _burst(server, plan, per_thread=50)
    for t in threads:
        t.join(60)
    assert not bad, bad[:3]
    assert len(acked) == 200
    server.kill()  # right after the last acknowledgement
    assert server.proc.returncode == -signal.SIGKILL
    server.start()
    stored = _check_stored(server, [gen, ops], acked, attempted)
    assert len([m for m in stored.values() if m["text"].startswith("burst ")]) == 200
    # ids keep increasing after the crash
    m = server.post("alice", gen, "after crash")
    assert m["id"] > max(acked)


def test_sigkill_while_writing_then_consistent(server):
    """SIGKILL in the middle of a burst: acknowledged messages are there, the server starts, and
    the data is still writable and readable."""
    tid = server.create_team("alice", "Crash2")["id"]
    gen = server.general("alice", tid)["id"]
    stop = threading.Event()
    threads, acked, attempted, bad = _burst(server, [("alice", gen)] * 3, per_thread=1000, stop_event=stop)
    deadline = time.monotonic() + 10
    while len(acked) < 50 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()
    stop.set()
    for t in threads:
        t.join(15)
    assert len(acked) >= 50
    server.start()
    _check_stored(server, [gen], acked, attempted)
    assert server.post("alice", gen, "alive")["id"] > max(acked)
