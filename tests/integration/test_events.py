"""Live events (GET /api/v1/events, Server-Sent Events): delivery, visibility, membership changes,
resume by Last-Event-ID / ?last_event_id= (also across a restart), heartbeats, dead clients,
bursts from several writers."""

import threading
import time

import pytest

from sbhelpers import Event, assert_error


def setup_team(srv, owner="alice", name="Events", members=()):
    team = srv.create_team(owner, name)
    for m in members:
        srv.add_member(owner, team["id"], m)
    return team["id"], srv.general(owner, team["id"])["id"]


def msg_events(events):
    return [e for e in events if e.event == "message.created"]


def test_stream_headers_and_message_created(server):
    tid, cid = setup_team(server)
    with server.sse("alice") as s:
        assert s.status == 200
        assert s.headers.get("content-type", "").startswith("text/event-stream")
        assert s.history and s.history[0].text == "welcome", s.history
        m = server.post("alice", cid, "hello **world**")
        ev = s.next_event(5)
        assert ev.event == "message.created"
        assert ev.seq == m["id"]
        assert ev.data == m
        assert s.retry == 3000


def test_stream_starts_after_connect(server):
    tid, cid = setup_team(server)
    before = server.post("alice", cid, "before connecting")
    with server.sse("alice") as s:
        after = server.post("alice", cid, "after connecting")
        ev = s.next_event(5)
        assert ev.seq == after["id"], f"got {ev} (message before connect was {before['id']})"


def test_event_framing_cannot_be_injected(server):
    tid, cid = setup_team(server)
    evil = "line1\n\nid: 1\nevent: member.removed\ndata: {\"x\":1}\r\n\r\n: hb\rend\u2028\u0085"
    with server.sse("alice") as s:
        m = server.post("alice", cid, evil)
        m2 = server.post("alice", cid, "next")
        e1, e2 = s.events(2)
        assert (e1.event, e1.seq) == ("message.created", m["id"])
        assert e1.data["text"] == evil
        assert (e2.event, e2.seq) == ("message.created", m2["id"])


def test_team_and_channel_created_events(server):
    with server.sse("alice") as s:
        team = server.create_team("alice", "Fresh")
        chan = server.create_channel("alice", team["id"], "ops")
        m = server.post("alice", chan["id"], "in ops")
        last, skipped = s.wait_for(lambda e: e.event == "message.created", 5)
        assert last.seq == m["id"] and last.data == m
        seen = skipped + [last]
        seqs = [e.seq for e in seen]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        tc = [e for e in skipped if e.event == "team.created"]
        assert len(tc) == 1 and tc[0].data == team
        cc = [e for e in skipped if e.event == "channel.created" and e.data["name"] == "ops"]
        assert len(cc) == 1 and cc[0].data == chan
        for e in skipped:
            assert (e.data.get("team_id") or e.data.get("id")) == team["id"], e


def test_only_events_of_own_teams(server):
    shared_tid, shared_cid = setup_team(server, name="Shared", members=["bob"])
    with server.sse("bob") as s:
        secret = server.create_team("alice", "Secret")
        server.create_channel("alice", secret["id"], "hidden")
        sgen = server.general("alice", secret["id"])["id"]
        server.post("alice", sgen, "not for bob")
        server.add_member("alice", secret["id"], "carol")
        server.post("carol", sgen, "not for bob either")
        marker = server.post("alice", shared_cid, "marker")
        ev = s.next_event(5)
        assert ev.seq == marker["id"], f"bob received an event of a team he is not in: {ev}"


def test_member_added_reaches_new_member(server):
    with server.sse("alice") as sa, server.sse("bob") as sb:
        team = server.create_team("alice", "Joiners")
        tid = team["id"]
        cid = server.general("alice", tid)["id"]
        early = server.post("alice", cid, "before bob joined")
        added = server.add_member("alice", tid, "bob")
        ev = sb.next_event(5)
        assert ev.event == "member.added", ev
        assert ev.data["team_id"] == tid
        assert ev.data["team"]["id"] == tid and ev.data["team"]["name"] == "Joiners"
        assert ev.data["user_id"] == server.user_id("bob") and ev.data["username"] == "bob"
        assert ev.data["role"] == "member" == added["role"]
        assert ev.seq > early["id"]
        # from now on bob gets this team's events
        chan = server.create_channel("alice", tid, "later")
        m = server.post("alice", cid, "welcome bob")
        e2, e3 = sb.events(2)
        assert (e2.event, e2.data) == ("channel.created", chan)
        assert (e3.event, e3.seq, e3.data) == ("message.created", m["id"], m)
        # the existing member saw the same member.added, with the same id
        got, _ = sa.wait_for(lambda e: e.event == "member.added" and e.data["username"] == "bob", 5)
        assert got.seq == ev.seq and got.data == ev.data


@pytest.mark.parametrize("how", ["removed", "leaves"])
def test_member_removed_is_last_event_of_team(server, how):
    tid, cid = setup_team(server, name="Leaving", members=["bob"])
    other_tid, other_cid = setup_team(server, name="Staying", members=["bob"])
    with server.sse("bob") as s:
        if how == "removed":
            r = server.api("alice").delete(f"/api/v1/teams/{tid}/members/bob")
        else:
            r = server.api("bob").delete(f"/api/v1/teams/{tid}/members/bob")
        assert r.status_code == 204, r.text
        ev = s.next_event(5)
        assert ev.event == "member.removed", ev
        assert ev.data["team_id"] == tid
        assert ev.data["user_id"] == server.user_id("bob") and ev.data["username"] == "bob"
        server.post("alice", cid, "after bob left")
        server.create_channel("alice", tid, "after")
        server.add_member("alice", tid, "carol")
        marker = server.post("alice", other_cid, "marker")
        nxt = s.next_event(5)
        assert nxt.seq == marker["id"], f"bob got an event of a team he left: {nxt}"


def test_removed_then_added_again(server):
    tid, cid = setup_team(server, name="Again", members=["bob"])
    with server.sse("bob") as s:
        assert server.api("alice").delete(f"/api/v1/teams/{tid}/members/bob").status_code == 204
        assert s.next_event(5).event == "member.removed"
        server.post("alice", cid, "while bob is out")
        server.add_member("alice", tid, "bob")
        ev = s.next_event(5)
        assert ev.event == "member.added" and ev.data["username"] == "bob", ev
        m = server.post("alice", cid, "bob is back")
        nxt = s.next_event(5)
        assert nxt.seq == m["id"], nxt


def test_stream_with_cookie_session(server):
    """Browsers' EventSource authenticates with the session cookie (GET: no CSRF header needed)."""
    from sbhelpers import login_ok
    tid, cid = setup_team(server, members=["bob"])
    _, cookie = login_ok(server, "bob")
    with server.sse(None, headers=[("Cookie", f"sb_session={cookie}")]) as s:
        assert s.status == 200
        m = server.post("alice", cid, "to the browser")
        ev = s.next_event(5)
        assert ev.seq == m["id"] and ev.data == m
    with server.sse(None, headers=[("Cookie", "sb_session=forged")], wait_welcome=False) as s:
        assert s.status == 401


# ------------------------------------------------------------------------------------------------
# Resume


@pytest.mark.parametrize("mode", ["header", "query"])
def test_resume_exactly_the_missed_events(server, mode):
    tid, cid = setup_team(server, name="Resume")
    btid, bcid = setup_team(server, owner="bob", name="Invisible")

    def connect(last):
        if mode == "header":
            return server.sse("alice", last_event_id=last)
        return server.sse("alice", path=f"/api/v1/events?last_event_id={last}")

    with server.sse("alice") as s:
        first = []
        for i in range(3):
            first.append(server.post("alice", cid, f"read-{i}"))
            server.post("bob", bcid, f"invisible-{i}")
        got = s.events(3)
        assert [e.seq for e in got] == [m["id"] for m in first]
    missed = []
    for i in range(4):
        server.post("bob", bcid, f"invisible-while-away-{i}")
        missed.append(server.post("alice", cid, f"missed-{i}"))

    with connect(got[-1].seq) as s2:
        ev = s2.events(4)
        assert [e.seq for e in ev] == [m["id"] for m in missed]
        assert [e.data for e in ev] == missed
        live = server.post("alice", cid, "live again")
        nxt = s2.next_event(5)
        assert nxt.seq == live["id"], f"duplicate or extra event after catch-up: {nxt}"

    # resume from the middle of what was already read
    with connect(got[0].seq) as s3:
        expect = first[1:] + missed + [live]
        ev = s3.events(len(expect))
        assert [e.seq for e in ev] == [m["id"] for m in expect]


@pytest.mark.parametrize("restart", [False, True], ids=["memory", "after-restart"])
def test_resume_follows_membership_at_the_time(server, restart):
    """While bob is away he is added to a team and removed again. On resume he gets what he would
    have got live: member.added, that team's events while he was in it, member.removed, and none
    of that team's events from before or after."""
    tid, cid = setup_team(server, name="Coming and going")
    utid, ucid = setup_team(server, name="Home", members=["bob"])
    with server.sse("bob") as s:
        first = server.post("alice", ucid, "seen live")
        assert s.next_event(5).seq == first["id"]
    before = server.post("alice", cid, "before bob joined")
    server.add_member("alice", tid, "bob")
    inside = server.post("alice", cid, "while bob is in")
    assert server.api("alice").delete(f"/api/v1/teams/{tid}/members/bob").status_code == 204
    after = server.post("alice", cid, "after bob left")
    home = server.post("alice", ucid, "home again")
    if restart:
        server.restart()
    with server.sse("bob", last_event_id=first["id"]) as s2:
        ev = s2.events(4, timeout=5)
        kinds = [(e.event, e.seq) for e in ev]
        assert [e.event for e in ev] == ["member.added", "message.created", "member.removed",
                                         "message.created"], kinds
        assert ev[0].data["team_id"] == tid and ev[0].data["username"] == "bob"
        assert ev[1].seq == inside["id"]
        assert ev[2].data["team_id"] == tid and ev[2].data["username"] == "bob"
        assert ev[3].seq == home["id"]
        assert before["id"] not in [e.seq for e in ev] and after["id"] not in [e.seq for e in ev]
        live = server.post("alice", ucid, "live")
        assert s2.next_event(5).seq == live["id"]


def test_resume_from_zero_replays_history(server):
    team = server.create_team("alice", "History")
    cid = server.general("alice", team["id"])["id"]
    btid, bcid = setup_team(server, owner="bob", name="NotMine")
    m1 = server.post("alice", cid, "one")
    server.post("bob", bcid, "bob's")
    m2 = server.post("alice", cid, "two")
    with server.sse("alice", last_event_id=0) as s:
        first = s.next_event(5)
        assert first.event == "team.created" and first.data["id"] == team["id"], first
        last, skipped = s.wait_for(lambda e: e.event == "message.created" and e.seq == m2["id"], 5)
        msgs = [e.seq for e in skipped if e.event == "message.created"]
        assert msgs == [m1["id"]]
        for e in skipped:
            assert e.data.get("team_id", e.data.get("id")) == team["id"], e


def test_resume_across_restart(server):
    tid, cid = setup_team(server, name="Durable", members=["bob"])
    with server.sse("bob") as s:
        read = [server.post("alice", cid, f"r{i}") for i in range(2)]
        got = s.events(2)
        assert [e.seq for e in got] == [m["id"] for m in read]
    m3 = server.post("alice", cid, "while bob is away")
    server.add_member("alice", tid, "carol")
    server.restart()
    m4 = server.post("alice", cid, "after restart")
    with server.sse("bob", last_event_id=got[-1].seq) as s2:
        ev = s2.events(3)
        assert [e.event for e in ev] == ["message.created", "member.added", "message.created"]
        assert ev[0].seq == m3["id"] and ev[0].data == m3
        assert ev[1].data["username"] == "carol" and ev[1].data["team_id"] == tid
        assert m3["id"] < ev[1].seq < m4["id"]
        assert ev[2].seq == m4["id"] and ev[2].data == m4
        m5 = server.post("alice", cid, "live")
        assert s2.next_event(5).seq == m5["id"]


# ------------------------------------------------------------------------------------------------
# Heartbeats, dead clients, shutdown


def test_heartbeat(make_server):
    srv = make_server(heartbeat=1)
    with srv.sse("alice") as s:
        for _ in range(2):
            try:
                c = s.next_comment(3)  # quiet stream, --heartbeat 1: well before the default 25 s
            except EOFError:
                pytest.fail(f"quiet stream closed by the server; received {s.history}\n"
                            f"{srv.log_text()[-1500:]}")
            assert c.text == "hb"
        assert not [e for e in s.history if isinstance(e, Event)]


def _event_lines(srv):
    return [l for l in srv.log_lines() if l["method"] == "GET" and l["path"].startswith("/api/v1/events")]


def test_dead_client_is_noticed(make_server):
    srv = make_server(heartbeat=1)
    s = srv.sse("alice")
    assert s.status == 200
    assert _event_lines(srv) == [], "the stream was logged as finished while still open"
    s.close()
    closed_at = time.monotonic()
    deadline = closed_at + 4.0  # about two heartbeats, plus slack
    while time.monotonic() < deadline:
        if _event_lines(srv):
            break
        time.sleep(0.05)
    lines = _event_lines(srv)
    assert len(lines) == 1, f"no log line for the closed stream after {time.monotonic() - closed_at:.1f} s:\n" \
                            f"{srv.log_text()[-2000:]}"
    assert lines[0]["status"] == "200"


def test_sigterm_with_open_streams(server):
    tid, cid = setup_team(server)
    streams = [server.sse("alice") for _ in range(3)]
    try:
        server.post("alice", cid, "x")
        for s in streams:
            s.next_event(5)
        server.stop()  # asserts exit code 0 within 10 s (default heartbeat is 25 s)
        for s in streams:
            assert s.wait_closed(2)
    finally:
        for s in streams:
            s.close()


def test_events_requires_auth(server):
    s = server.sse(None, wait_welcome=False)
    try:
        assert s.status == 401
    finally:
        s.close()
    r = server.client().get("/api/v1/events")
    assert_error(r, 401, "unauthorized")


# ------------------------------------------------------------------------------------------------
# Bursts


def test_burst_from_four_writers_arrives_complete_and_ordered(server):
    tid, gen = setup_team(server, name="Burst", members=["bob"])
    ops = server.create_channel("alice", tid, "ops")["id"]
    plan = [("alice", gen), ("bob", gen), ("alice", ops), ("bob", ops)]
    per_thread = 75
    acked = {}
    errors = []
    lock = threading.Lock()

    def writer(i, user, cid):
        sess = server.client(user)
        for k in range(per_thread):
            try:
                r = sess.post(f"/api/v1/channels/{cid}/messages", json={"text": f"w{i}-{k}"})
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
                return
            if r.status_code != 201:
                errors.append(f"{r.status_code} {r.text[:200]}")
                return
            with lock:
                acked[r.json()["id"]] = r.json()

    s = server.sse("alice")
    received = []
    try:
        threads = [threading.Thread(target=writer, args=(i, u, c)) for i, (u, c) in enumerate(plan)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        total = per_thread * len(plan)
        while len(received) < total and time.monotonic() < deadline:
            try:
                ev = s.next_event(max(0.01, deadline - time.monotonic()))
            except EOFError:
                # allowed by the contract: a stream that falls behind is closed; resume like a browser
                last = received[-1].seq if received else None
                s.close()
                s = server.sse("alice", last_event_id=last) if last else server.sse("alice")
                continue
            except TimeoutError:
                break
            received.append(ev)
        for t in threads:
            t.join(30)
    finally:
        s.close()
    assert not errors, errors[:5]
    assert len(acked) == total
    seqs = [e.seq for e in received]
    assert all(e.event == "message.created" for e in received), [e for e in received if e.event != "message.created"][:3]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "events out of order or duplicated"
    assert set(seqs) == set(acked), f"missing {sorted(set(acked) - set(seqs))[:10]}, extra {sorted(set(seqs) - set(acked))[:10]}"
    for e in received:
        assert e.data == acked[e.seq]
