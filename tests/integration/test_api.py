"""The REST API of docs/api.md, call by call: admin CLI, teams, members, channels, messages,
sessions (cookie + CSRF), login throttling."""

import datetime
import time

import pytest

from sbhelpers import TIME_RE, ApiSession, assert_error, cookie_client, login, login_ok, password, set_cookies

TEAM_KEYS = {"id", "name", "role", "created"}
MEMBER_KEYS = {"user_id", "username", "role", "joined"}
CHANNEL_KEYS = {"id", "team_id", "name", "created"}
MESSAGE_KEYS = {"id", "channel_id", "team_id", "author", "text", "card", "thread", "created"}


def assert_recent(ts, slack=120):
    assert TIME_RE.match(ts), f"not an RFC 3339 UTC time with milliseconds: {ts!r}"
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - t).total_seconds()) < slack, f"{ts} is not close to now ({now.isoformat()})"


# ------------------------------------------------------------------------------------------------
# Admin CLI and the request log


def test_admin_cli_create_user_and_token_while_serving(server):
    r = server.admin("create-user", "frank", "--password-stdin", stdin="frank-secret-pw\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip(), "create-user should print a line"
    r2 = server.admin("create-user", "frank", "--password-stdin", stdin="other-pw\n")
    assert r2.returncode == 1, (r2.returncode, r2.stdout, r2.stderr)

    t = server.admin("create-token", "frank")
    assert t.returncode == 0, t.stderr
    token = t.stdout.strip()
    assert token and len(t.stdout.strip().splitlines()) == 1 and " " not in token, t.stdout

    me = server.client(token=token).get("/api/v1/session")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["csrf_token"] is None
    assert body["user"]["username"] == "frank" and body["user"]["is_admin"] is False
    assert isinstance(body["user"]["id"], int)

    # the password given on stdin works at once (the server sees the CLI's write)
    r = login(server, "frank", "frank-secret-pw")
    assert r.status_code == 200, r.text
    assert r.json()["user"] == body["user"]

    bad = server.admin("create-token", "nobody-here")
    assert bad.returncode != 0
    assert bad.stdout.strip() == ""


def test_admin_flag_and_user_shape(server):
    r = server.api("root").get("/api/v1/session")
    assert r.status_code == 200
    user = r.json()["user"]
    assert set(user) >= {"id", "username", "is_admin"}
    assert user["username"] == "root" and user["is_admin"] is True
    a = server.api("alice").get("/api/v1/session").json()["user"]
    assert a["username"] == "alice" and a["is_admin"] is False
    assert a["id"] != user["id"]


def test_second_token_and_tokens_are_distinct(server):
    t = server.admin("create-token", "alice")
    assert t.returncode == 0
    tok2 = t.stdout.strip()
    assert tok2 != server.tokens["alice"]
    for tok in (tok2, server.tokens["alice"]):
        r = server.client(token=tok).get("/api/v1/session")
        assert r.status_code == 200 and r.json()["user"]["username"] == "alice"


def test_request_log_line_format(server):
    r = ApiSession(server).get("/api/v1/session")
    assert r.status_code == 401
    r = server.api("alice").get("/api/v1/teams")
    assert r.status_code == 200
    lines = server.wait_log(lambda ls: any(l["path"] == "/api/v1/teams" for l in ls))
    assert any(l["method"] == "GET" and l["path"] == "/api/v1/session" and l["status"] == "401"
               and l["ip"] == "127.0.0.1" for l in lines), server.log_text()[-2000:]
    teams = [l for l in lines if l["path"] == "/api/v1/teams" and l["method"] == "GET"]
    assert teams and teams[-1]["status"] == "200", server.log_text()[-2000:]
    # exactly one line per request
    for _ in range(5):
        assert server.api("alice").get("/api/v1/teams/424242").status_code == 404
    probe = server.wait_log(lambda ls: len([l for l in ls if l["path"] == "/api/v1/teams/424242"]) >= 5)
    time.sleep(0.2)
    probe = [l for l in server.log_lines() if l["path"] == "/api/v1/teams/424242"]
    assert len(probe) == 5 and all(l["status"] == "404" and l["method"] == "GET" for l in probe), probe
    # secrets are never logged
    assert server.tokens["alice"] not in server.log_text()


# ------------------------------------------------------------------------------------------------
# Teams


def test_create_team_shape_and_general_channel(server):
    alice = server.api("alice")
    r = alice.post("/api/v1/teams", json={"name": "Ops"})
    assert r.status_code == 201, r.text
    team = r.json()
    assert set(team) >= TEAM_KEYS
    assert isinstance(team["id"], int) and team["name"] == "Ops" and team["role"] == "owner"
    assert_recent(team["created"])

    got = alice.get(f"/api/v1/teams/{team['id']}")
    assert got.status_code == 200
    assert got.json() == team

    chans = alice.get(f"/api/v1/teams/{team['id']}/channels")
    assert chans.status_code == 200
    cl = chans.json()["channels"]
    assert [c["name"] for c in cl] == ["general"]
    assert set(cl[0]) >= CHANNEL_KEYS and cl[0]["team_id"] == team["id"]
    assert_recent(cl[0]["created"])

    members = alice.get(f"/api/v1/teams/{team['id']}/members").json()["members"]
    assert len(members) == 1
    m = members[0]
    assert set(m) >= MEMBER_KEYS
    assert m["user_id"] == server.user_id("alice") and m["username"] == "alice" and m["role"] == "owner"
    assert_recent(m["joined"])


def test_team_names_unicode_and_bounds(server):
    alice = server.api("alice")
    name80 = "é" * 79 + "😀"  # 80 characters, 162 bytes
    r = alice.post("/api/v1/teams", json={"name": name80})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name80
    assert alice.get(f"/api/v1/teams/{r.json()['id']}").json()["name"] == name80
    r = alice.post("/api/v1/teams", json={"name": "é" * 81})
    assert_error(r, 400, "invalid_field", field="name")
    r = alice.post("/api/v1/teams", json={"name": "x"})
    assert r.status_code == 201


def test_list_teams_only_mine_ordered_by_id(server):
    t1 = server.create_team("alice", "Zulu")
    t2 = server.create_team("bob", "Bob's")
    t3 = server.create_team("alice", "Alpha")
    r = server.api("alice").get("/api/v1/teams")
    assert r.status_code == 200
    teams = r.json()["teams"]
    assert [t["id"] for t in teams] == [t1["id"], t3["id"]]
    assert teams[0] == t1 and teams[1] == t3
    assert [t["id"] for t in server.api("bob").get("/api/v1/teams").json()["teams"]] == [t2["id"]]
    assert server.api("carol").get("/api/v1/teams").json() == {"teams": []}

    server.add_member("alice", t3["id"], "bob")
    bt = server.api("bob").get("/api/v1/teams").json()["teams"]
    assert [(t["id"], t["role"]) for t in bt] == [(t2["id"], "owner"), (t3["id"], "member")]
    assert server.api("bob").get(f"/api/v1/teams/{t3['id']}").json()["role"] == "member"
    assert server.api("bob").get(f"/api/v1/teams/{t1['id']}").status_code == 404


# ------------------------------------------------------------------------------------------------
# Members


def test_add_members_roles_and_order(server):
    team = server.create_team("alice", "Crew")
    tid = team["id"]
    alice = server.api("alice")
    r = alice.post(f"/api/v1/teams/{tid}/members", json={"username": "dave"})
    assert r.status_code == 201, r.text
    m = r.json()
    assert set(m) >= MEMBER_KEYS
    assert m["user_id"] == server.user_id("dave") and m["username"] == "dave" and m["role"] == "member"
    assert_recent(m["joined"])

    r = alice.post(f"/api/v1/teams/{tid}/members", json={"username": "bob", "role": "owner"})
    assert r.status_code == 201 and r.json()["role"] == "owner"
    r = alice.post(f"/api/v1/teams/{tid}/members", json={"username": "carol", "role": "member"})
    assert r.status_code == 201 and r.json()["role"] == "member"

    lst = alice.get(f"/api/v1/teams/{tid}/members")
    assert lst.status_code == 200
    members = lst.json()["members"]
    assert [(x["username"], x["role"]) for x in members] == \
        [("alice", "owner"), ("bob", "owner"), ("carol", "member"), ("dave", "member")]
    # a member sees the same list
    assert server.api("carol").get(f"/api/v1/teams/{tid}/members").json()["members"] == members

    # the new owner can do owner things
    r = server.api("bob").post(f"/api/v1/teams/{tid}/members", json={"username": "erin"})
    assert r.status_code == 201
    r = server.api("bob").post(f"/api/v1/teams/{tid}/channels", json={"name": "bobs-channel"})
    assert r.status_code == 201


def test_add_member_errors(server):
    tid = server.create_team("alice", "Errs")["id"]
    alice = server.api("alice")
    server.add_member("alice", tid, "bob")
    r = alice.post(f"/api/v1/teams/{tid}/members", json={"username": "no-such-user"})
    assert_error(r, 404, "user_not_found")
    r = alice.post(f"/api/v1/teams/{tid}/members", json={"username": "bob"})
    assert_error(r, 409, "conflict")
    r = alice.post(f"/api/v1/teams/{tid}/members", json={"username": "alice"})
    assert_error(r, 409, "conflict")
    r = alice.post(f"/api/v1/teams/{tid}/members", json={"username": "carol", "role": "admin"})
    assert_error(r, 400, "invalid_field", field="role")
    r = alice.post(f"/api/v1/teams/{tid}/members", json={"role": "member"})
    assert_error(r, 400, "invalid_field", field="username")
    r = server.api("bob").post(f"/api/v1/teams/{tid}/members", json={"username": "carol"})
    assert_error(r, 403, "forbidden")
    # nothing of the failed calls was stored
    names = [m["username"] for m in alice.get(f"/api/v1/teams/{tid}/members").json()["members"]]
    assert names == ["alice", "bob"]


def test_remove_member_by_id_and_by_username(server):
    tid = server.create_team("alice", "Rm")["id"]
    for u in ("bob", "carol", "dave"):
        server.add_member("alice", tid, u)
    alice = server.api("alice")
    r = alice.delete(f"/api/v1/teams/{tid}/members/{server.user_id('bob')}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    r = alice.delete(f"/api/v1/teams/{tid}/members/carol")
    assert r.status_code == 204, r.text
    names = [m["username"] for m in alice.get(f"/api/v1/teams/{tid}/members").json()["members"]]
    assert names == ["alice", "dave"]
    # removed members lose access at once, and the team is gone from their list
    assert_error(server.api("bob").get(f"/api/v1/teams/{tid}"), 404, "not_found")
    assert_error(server.api("carol").get(f"/api/v1/teams/{tid}/channels"), 404, "not_found")
    assert server.api("bob").get("/api/v1/teams").json()["teams"] == []
    # not a member (any more), and no such user at all
    assert alice.delete(f"/api/v1/teams/{tid}/members/bob").status_code == 404
    assert alice.delete(f"/api/v1/teams/{tid}/members/erin").status_code == 404
    assert alice.delete(f"/api/v1/teams/{tid}/members/no-such-user").status_code == 404
    assert alice.delete(f"/api/v1/teams/{tid}/members/987654").status_code == 404
    # removed user can be added back
    server.add_member("alice", tid, "bob")
    assert server.api("bob").get(f"/api/v1/teams/{tid}").status_code == 200


def test_member_leaves_and_cannot_remove_others(server):
    tid = server.create_team("alice", "Leave")["id"]
    server.add_member("alice", tid, "bob")
    server.add_member("alice", tid, "carol")
    bob = server.api("bob")
    assert_error(bob.delete(f"/api/v1/teams/{tid}/members/carol"), 403, "forbidden")
    assert_error(bob.delete(f"/api/v1/teams/{tid}/members/alice"), 403, "forbidden")
    r = bob.delete(f"/api/v1/teams/{tid}/members/bob")
    assert r.status_code == 204, r.text
    assert_error(bob.get(f"/api/v1/teams/{tid}"), 404, "not_found")
    # by id works too
    r = server.api("carol").delete(f"/api/v1/teams/{tid}/members/{server.user_id('carol')}")
    assert r.status_code == 204, r.text
    names = [m["username"] for m in server.api("alice").get(f"/api/v1/teams/{tid}/members").json()["members"]]
    assert names == ["alice"]


def test_last_owner(server):
    tid = server.create_team("alice", "Owners")["id"]
    alice = server.api("alice")
    assert_error(alice.delete(f"/api/v1/teams/{tid}/members/alice"), 409, "last_owner")
    server.add_member("alice", tid, "bob")
    # a plain member does not count as an owner
    assert_error(alice.delete(f"/api/v1/teams/{tid}/members/alice"), 409, "last_owner")
    server.add_member("alice", tid, "carol", role="owner")
    r = alice.delete(f"/api/v1/teams/{tid}/members/alice")
    assert r.status_code == 204, r.text
    assert_error(server.api("carol").delete(f"/api/v1/teams/{tid}/members/carol"), 409, "last_owner")
    assert_error(server.api("carol").delete(f"/api/v1/teams/{tid}/members/{server.user_id('carol')}"),
                 409, "last_owner")
    members = server.api("carol").get(f"/api/v1/teams/{tid}/members").json()["members"]
    assert [(m["username"], m["role"]) for m in members] == [("bob", "member"), ("carol", "owner")]
    # an owner may remove another owner while one remains
    server.add_member("carol", tid, "dave", role="owner")
    assert server.api("dave").delete(f"/api/v1/teams/{tid}/members/carol").status_code == 204


def _race(calls):
    """Runs the callables at the same moment (one thread each); returns their results in order."""
    import threading
    barrier = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def run(i, fn):
        barrier.wait(5)
        out[i] = fn()
    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_concurrent_duplicates_yield_one_winner(server):
    tid = server.create_team("alice", "Race")["id"]
    sessions = [server.client("alice") for _ in range(6)]
    res = _race([lambda s=s: s.post(f"/api/v1/teams/{tid}/members", json={"username": "bob"}) for s in sessions])
    codes = sorted(r.status_code for r in res)
    assert codes == [201] + [409] * 5, codes
    res = _race([lambda s=s: s.post(f"/api/v1/teams/{tid}/channels", json={"name": "dup"}) for s in sessions])
    codes = sorted(r.status_code for r in res)
    assert codes == [201] + [409] * 5, codes
    assert [m["username"] for m in server.api("alice").get(f"/api/v1/teams/{tid}/members").json()["members"]] \
        == ["alice", "bob"]
    assert [c["name"] for c in server.channels("alice", tid)] == ["dup", "general"]


def test_two_owners_leaving_at_once_keep_one_owner(server):
    teams = []
    for i in range(8):
        tid = server.create_team("alice", f"Owners {i}")["id"]
        server.add_member("alice", tid, "bob", role="owner")
        teams.append(tid)
    a, b = server.client("alice"), server.client("bob")
    for tid in teams:
        ra, rb = _race([lambda: a.delete(f"/api/v1/teams/{tid}/members/alice"),
                        lambda: b.delete(f"/api/v1/teams/{tid}/members/bob")])
        assert sorted([ra.status_code, rb.status_code]) == [204, 409], (ra.text, rb.text)
        loser = ra if ra.status_code == 409 else rb
        assert_error(loser, 409, "last_owner")
        stayer = "alice" if ra.status_code == 409 else "bob"
        members = server.api(stayer).get(f"/api/v1/teams/{tid}/members").json()["members"]
        assert [(m["username"], m["role"]) for m in members] == [(stayer, "owner")]


# ------------------------------------------------------------------------------------------------
# Channels


def test_channels_create_list_get(server):
    team = server.create_team("alice", "Chans")
    tid = team["id"]
    server.add_member("alice", tid, "bob")
    alice = server.api("alice")
    r = alice.post(f"/api/v1/teams/{tid}/channels", json={"name": "zeta"})
    assert r.status_code == 201, r.text
    zeta = r.json()
    assert set(zeta) >= CHANNEL_KEYS
    assert zeta["team_id"] == tid and zeta["name"] == "zeta" and isinstance(zeta["id"], int)
    assert_recent(zeta["created"])
    alpha = server.create_channel("alice", tid, "alpha")
    lst = server.api("bob").get(f"/api/v1/teams/{tid}/channels")
    assert lst.status_code == 200
    chans = lst.json()["channels"]
    assert [c["name"] for c in chans] == ["alpha", "general", "zeta"]
    assert chans[0] == alpha and chans[2] == zeta
    g = server.api("bob").get(f"/api/v1/channels/{zeta['id']}")
    assert g.status_code == 200 and g.json() == zeta
    # channels of another team are not listed
    other = server.create_team("alice", "Other")
    server.create_channel("alice", other["id"], "aaa-other")
    assert [c["name"] for c in alice.get(f"/api/v1/teams/{tid}/channels").json()["channels"]] == \
        ["alpha", "general", "zeta"]


def test_channel_permissions_and_conflicts(server):
    tid = server.create_team("alice", "ChanErr")["id"]
    server.add_member("alice", tid, "bob")
    assert_error(server.api("bob").post(f"/api/v1/teams/{tid}/channels", json={"name": "mine"}),
                 403, "forbidden")
    alice = server.api("alice")
    assert_error(alice.post(f"/api/v1/teams/{tid}/channels", json={"name": "general"}), 409, "conflict")
    server.create_channel("alice", tid, "ops")
    assert_error(alice.post(f"/api/v1/teams/{tid}/channels", json={"name": "ops"}), 409, "conflict")
    # the same name in another team is fine
    t2 = server.create_team("alice", "ChanErr2")["id"]
    assert alice.post(f"/api/v1/teams/{t2}/channels", json={"name": "ops"}).status_code == 201
    assert_error(alice.post(f"/api/v1/teams/{tid}/channels", json={"name": ""}), 400, "invalid_field", field="name")
    assert [c["name"] for c in server.channels("alice", tid)] == ["general", "ops"]


# ------------------------------------------------------------------------------------------------
# Messages


def test_post_message_shape(server):
    team = server.create_team("alice", "Msgs")
    tid = team["id"]
    server.add_member("alice", tid, "bob")
    gen = server.general("alice", tid)
    text = "hello **world**\n\n- a\n- b\n\n`code` <b>raw</b> 😀 \"quotes\" \\ back\tslash"
    r = server.api("alice").post(f"/api/v1/channels/{gen['id']}/messages", json={"text": text})
    assert r.status_code == 201, r.text
    m = r.json()
    assert set(m) >= MESSAGE_KEYS
    assert isinstance(m["id"], int)
    assert m["channel_id"] == gen["id"] and m["team_id"] == tid
    assert m["author"]["type"] == "user"
    assert m["author"]["id"] == server.user_id("alice") and m["author"]["username"] == "alice"
    assert m["text"] == text
    assert m["card"] is None and m["thread"] is None
    assert_recent(m["created"])

    r2 = server.api("bob").post(f"/api/v1/channels/{gen['id']}/messages", json={"text": "from bob"})
    assert r2.status_code == 201
    m2 = r2.json()
    assert m2["id"] > m["id"]
    assert m2["author"]["username"] == "bob" and m2["author"]["id"] == server.user_id("bob")

    lst = server.api("bob").get(f"/api/v1/channels/{gen['id']}/messages")
    assert lst.status_code == 200
    body = lst.json()
    assert body["messages"] == [m2, m] and body["has_more"] is False

    # stored as sent: surrounding white space, CR LF, zero-width and bidi characters kept
    raw = "  padded \r\n\n\u200b\u202e text\t \n"
    m3 = server.post("alice", gen["id"], raw)
    assert m3["text"] == raw
    got = server.api("alice").get(f"/api/v1/channels/{gen['id']}/messages?limit=1").json()["messages"][0]
    assert got["text"] == raw


def test_text_length_bounds(server):
    tid = server.create_team("alice", "Len")["id"]
    cid = server.general("alice", tid)["id"]
    alice = server.api("alice")
    ok = "é" * 16000  # 16,000 characters, 32,000 bytes
    r = alice.post(f"/api/v1/channels/{cid}/messages", json={"text": ok})
    assert r.status_code == 201, r.text[:300]
    assert r.json()["text"] == ok
    assert_error(alice.post(f"/api/v1/channels/{cid}/messages", json={"text": "a" * 16001}),
                 400, "invalid_field", field="text")
    assert_error(alice.post(f"/api/v1/channels/{cid}/messages", json={"text": ""}),
                 400, "invalid_field", field="text")
    msgs = alice.get(f"/api/v1/channels/{cid}/messages").json()["messages"]
    assert [x["id"] for x in msgs] == [r.json()["id"]]


def test_messages_newest_first_and_per_channel(server):
    tid = server.create_team("alice", "Order")["id"]
    gen = server.general("alice", tid)["id"]
    other = server.create_channel("alice", tid, "other")["id"]
    posted = []
    for i in range(5):
        posted.append(server.post("alice", gen, f"g{i}"))
        server.post("alice", other, f"o{i}")
    r = server.api("alice").get(f"/api/v1/channels/{gen}/messages")
    body = r.json()
    assert [m["text"] for m in body["messages"]] == ["g4", "g3", "g2", "g1", "g0"]
    assert body["messages"] == list(reversed(posted))
    assert body["has_more"] is False
    ids = [m["id"] for m in posted]
    assert ids == sorted(ids) and len(set(ids)) == 5


@pytest.fixture(scope="module")
def paged(shared_server):
    """A channel with 120 messages (plus one in another channel interleaved). Returns (server, cid, ids)."""
    srv = shared_server
    tid = srv.create_team("alice", "Paging")["id"]
    cid = srv.general("alice", tid)["id"]
    other = srv.create_channel("alice", tid, "noise")["id"]
    ids = []
    for i in range(120):
        ids.append(srv.post("alice", cid, f"m{i}")["id"])
        if i % 40 == 0:
            srv.post("alice", other, f"noise{i}")
    assert ids == sorted(ids)
    return srv, cid, ids


def _page(srv, cid, query):
    r = srv.api("alice").get(f"/api/v1/channels/{cid}/messages?{query}")
    assert r.status_code == 200, (query, r.text)
    body = r.json()
    assert set(body) >= {"messages", "has_more"}
    return [m["id"] for m in body["messages"]], body["has_more"]


def _desc(xs):
    return list(reversed(xs))


@pytest.mark.parametrize("query,expect", [
    ("", lambda ids: (_desc(ids[-50:]), True)),
    ("limit=50", lambda ids: (_desc(ids[-50:]), True)),
    ("limit=1", lambda ids: ([ids[-1]], True)),
    ("limit=119", lambda ids: (_desc(ids[1:]), True)),
    ("limit=120", lambda ids: (_desc(ids), False)),
    ("limit=200", lambda ids: (_desc(ids), False)),
    ("before={b50}", lambda ids: (_desc(ids[-100:-50]), True)),
    ("before={b100}", lambda ids: (_desc(ids[:20]), False)),
    ("before={first}", lambda ids: ([], False)),
    ("before={b100}&limit=20", lambda ids: (_desc(ids[:20]), False)),
    ("before={b100}&limit=19", lambda ids: (_desc(ids[1:20]), True)),
    ("after=0", lambda ids: (_desc(ids[:50]), True)),
    ("after={first}&limit=50", lambda ids: (_desc(ids[1:51]), True)),
    ("after={a51}", lambda ids: (_desc(ids[-50:]), False)),
    ("after={a50}&limit=50", lambda ids: (_desc(ids[-49:]), False)),
    ("after={a51}&limit=49", lambda ids: (_desc(ids[-50:-1]), True)),
    ("after={last}", lambda ids: ([], False)),
    ("after={first}&limit=200", lambda ids: (_desc(ids[1:]), False)),
])
def test_paging(paged, query, expect):
    srv, cid, ids = paged
    q = query.format(b50=ids[-50], b100=ids[-100], first=ids[0], last=ids[-1], a51=ids[-51], a50=ids[-50])
    got = _page(srv, cid, q)
    assert got == expect(ids), f"query {q!r}"


def test_paging_walk_before(paged):
    srv, cid, ids = paged
    seen, before, pages = [], None, 0
    while True:
        q = "limit=7" + (f"&before={before}" if before else "")
        page, more = _page(srv, cid, q)
        assert page == sorted(page, reverse=True)
        seen += page
        pages += 1
        if not more:
            break
        before = page[-1]
        assert pages < 50
    assert seen == _desc(ids) and pages == 18


def test_paging_walk_after(paged):
    srv, cid, ids = paged
    seen, after, pages = [], 0, 0
    while True:
        page, more = _page(srv, cid, f"after={after}&limit=13")
        assert page == sorted(page, reverse=True)
        seen += reversed(page)
        pages += 1
        if not more:
            break
        after = page[0]
        assert pages < 50
    assert seen == ids and pages == 10


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=-1", "limit=100000000000000000000",
                                   "limit=abc", "limit=", "limit=1.5", "before=abc", "after=x1",
                                   "before=-1", "after=-5"])
def test_paging_bad_query(paged, query):
    srv, cid, _ids = paged
    r = srv.api("alice").get(f"/api/v1/channels/{cid}/messages?{query}")
    assert_error(r, 400, ("bad_request", "invalid_field"))


# ------------------------------------------------------------------------------------------------
# Sessions (cookie + CSRF)


def test_login_cookie_and_csrf(server):
    r = login(server, "alice")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["username"] == "alice" and body["user"]["id"] == server.user_id("alice")
    assert body["user"]["is_admin"] is False
    csrf = body["csrf_token"]
    assert isinstance(csrf, str) and len(csrf) >= 16
    cookies = set_cookies(r)
    assert "sb_session" in cookies, r.headers
    value, attrs = cookies["sb_session"]
    assert value
    assert "httponly" in attrs
    assert attrs.get("samesite", "").lower() == "strict"
    assert attrs.get("path") == "/"
    assert value not in server.log_text()

    nocsrf = cookie_client(server, value)
    me = nocsrf.get("/api/v1/session")
    assert me.status_code == 200
    assert me.json()["user"] == body["user"]
    csrf2 = me.json()["csrf_token"]
    assert isinstance(csrf2, str) and csrf2
    assert nocsrf.get("/api/v1/teams").status_code == 200

    # writes without / with a wrong CSRF token are refused, and nothing is stored
    assert_error(nocsrf.post("/api/v1/teams", json={"name": "NoCsrf"}), 403, "csrf_failed")
    bad = cookie_client(server, value, csrf="not-the-token")
    assert_error(bad.post("/api/v1/teams", json={"name": "BadCsrf"}), 403, "csrf_failed")
    assert_error(cookie_client(server, value, csrf="").post("/api/v1/teams", json={"name": "EmptyCsrf"}),
                 403, "csrf_failed")
    assert nocsrf.get("/api/v1/teams").json()["teams"] == []

    good = cookie_client(server, value, csrf=csrf)
    r = good.post("/api/v1/teams", json={"name": "WithCsrf"})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    # the token from GET /session works too
    r = cookie_client(server, value, csrf=csrf2).post(f"/api/v1/teams/{tid}/channels", json={"name": "c2"})
    assert r.status_code == 201, r.text
    # a member removal (DELETE) also needs it
    server.add_member("alice", tid, "bob")
    assert_error(nocsrf.delete(f"/api/v1/teams/{tid}/members/bob"), 403, "csrf_failed")
    assert good.delete(f"/api/v1/teams/{tid}/members/bob").status_code == 204

    # bearer writes need no CSRF header
    assert server.api("alice").post("/api/v1/teams", json={"name": "Bearer"}).status_code == 201

    # logout: needs CSRF as well; then the cookie is dead
    assert_error(nocsrf.delete("/api/v1/session"), 403, "csrf_failed")
    assert nocsrf.get("/api/v1/session").status_code == 200
    out = good.delete("/api/v1/session")
    assert out.status_code == 204, out.text
    cleared = set_cookies(out)
    assert "sb_session" in cleared, "logout must clear the cookie"
    cv, cattrs = cleared["sb_session"]
    assert cv == "" or cattrs.get("max-age") == "0" or "expires" in cattrs
    assert_error(nocsrf.get("/api/v1/session"), 401, "unauthorized")
    assert_error(nocsrf.get("/api/v1/teams"), 401, "unauthorized")
    assert_error(good.post("/api/v1/teams", json={"name": "AfterLogout"}), 401, "unauthorized")


def test_sessions_are_independent(server):
    _, c1 = login_ok(server, "bob")
    _, c2 = login_ok(server, "bob")
    assert c1 != c2
    # logging out one session leaves the other alive
    j1 = cookie_client(server, c1).get("/api/v1/session").json()
    r = cookie_client(server, c1, csrf=j1["csrf_token"]).delete("/api/v1/session")
    assert r.status_code == 204
    assert cookie_client(server, c1).get("/api/v1/session").status_code == 401
    assert cookie_client(server, c2).get("/api/v1/session").status_code == 200
    assert cookie_client(server, "forged-session-value").get("/api/v1/session").status_code == 401


def test_bearer_session_shape(server):
    r = server.api("carol").get("/api/v1/session")
    assert r.status_code == 200
    body = r.json()
    assert body["csrf_token"] is None
    assert body["user"]["username"] == "carol"
    assert_error(ApiSession(server).get("/api/v1/session"), 401, "unauthorized")


def test_login_wrong_password_and_unknown_user(server):
    assert_error(login(server, "alice", "wrong"), 401, "invalid_credentials")
    r = login(server, "no-such-user", "whatever")
    assert_error(r, 401, "invalid_credentials")
    assert not set_cookies(r).get("sb_session", ("",))[0]
    # fewer than 5 failures: the right password still works
    assert login(server, "alice").status_code == 200


def test_login_throttle_by_username(server):
    for i in range(5):
        assert_error(login(server, "bob", f"wrong-{i}"), 401, "invalid_credentials")
    for pw in ("wrong-again", password("bob")):
        r = login(server, "bob", pw)
        assert_error(r, 429, "too_many_requests")
        ra = r.headers.get("Retry-After")
        assert ra is not None and ra.isdigit() and 0 < int(ra) <= 15 * 60, ra
    # throttling is about logins: bearer tokens keep working
    assert server.api("bob").get("/api/v1/teams").status_code == 200


def test_login_throttle_by_address(server):
    # five failures for five different (unknown) usernames from one address
    for i in range(5):
        assert_error(login(server, f"ghost{i}", "pw"), 401, "invalid_credentials")
    r = login(server, "carol")
    assert_error(r, 429, "too_many_requests")
    assert r.headers.get("Retry-After", "").isdigit()
    # a spoofed X-Forwarded-For does not get around it
    r = login(server, "dave", headers={"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"})
    assert_error(r, 429, "too_many_requests")


def test_login_throttle_rules_per_username_and_per_address(server):
    """Several client addresses (127.0.0.x): the username rule and the address rule separately."""
    # username rule: five failures for bob from .2; bob is refused from any address, carol is not
    for i in range(5):
        assert_error(login(server, "bob", f"wrong-{i}", source="127.0.0.2"), 401, "invalid_credentials")
    assert_error(login(server, "bob", source="127.0.0.3"), 429, "too_many_requests")
    assert login(server, "carol", source="127.0.0.3").status_code == 200
    # address rule: five failures for different names from .4 (with spoofed forwarding headers)
    spoof = {"X-Forwarded-For": "127.0.0.9", "X-Real-IP": "127.0.0.9", "Forwarded": "for=127.0.0.9"}
    for i in range(5):
        assert_error(login(server, f"ghost{i}", "pw", source="127.0.0.4", headers=spoof), 401,
                     "invalid_credentials")
    assert_error(login(server, "dave", source="127.0.0.4"), 429, "too_many_requests")
    # the forwarding headers were not taken as the address: .9 was never throttled, .5 neither
    assert login(server, "dave", source="127.0.0.9").status_code == 200
    assert login(server, "erin", source="127.0.0.5").status_code == 200
    # the request log shows the real peer address
    want = {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.9"}

    def ips(lines):
        return {l["ip"] for l in lines if l["path"] == "/api/v1/session" and l["method"] == "POST"}
    got = ips(server.wait_log(lambda lines: want <= ips(lines)))
    assert want <= got, got


def test_no_password_hashes_or_token_hashes_in_answers(server):
    tid = server.create_team("alice", "Leak")["id"]
    server.add_member("alice", tid, "bob")
    body, _ = login_ok(server, "bob")
    texts = [server.api("alice").get(f"/api/v1/teams/{tid}/members").text,
             server.api("bob").get("/api/v1/session").text, str(body)]
    for t in texts:
        low = t.lower()
        assert "argon2" not in low and "password" not in low and "hash" not in low, t


def test_serve_creates_data_dir(tmp_path):
    from sbhelpers import Server
    data = tmp_path / "new" / "nested" / "data"
    srv = Server(data, tmp_path / "work")
    srv.start()
    try:
        assert data.is_dir() and any(data.iterdir()), "no database created"
        assert_error(srv.client().get("/api/v1/teams"), 401, "unauthorized")
        r = srv.admin("create-user", "first", "--password-stdin", stdin="first-password\n")
        assert r.returncode == 0, r.stderr
        srv.tokens["first"] = srv.admin("create-token", "first").stdout.strip()
        assert srv.api("first").get("/api/v1/teams").json() == {"teams": []}
    finally:
        srv.stop()


def test_max_connections_per_address(make_server):
    from sbhelpers import build_request, raw_request
    srv = make_server(extra_args=["--max-per-ip", "3"])
    req = build_request("GET", "/api/v1/session", f"{srv.host}:{srv.port}",
                        [("Authorization", f"Bearer {srv.tokens['alice']}")])

    def stream():
        # the start-up probe's connection may not be reaped yet (a loaded machine): it counts
        deadline = time.monotonic() + 5
        while True:
            try:
                return srv.sse("alice")
            except EOFError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    streams = [stream() for _ in range(3)]
    try:
        # a 4th connection from the same address is not served
        try:
            r = raw_request(srv.host, srv.port, req, timeout=3)
            assert r.status != 200, "a 4th connection from one address was served"
        except (EOFError, ConnectionError):
            pass
        # another address is not affected
        import socket as _s
        with _s.socket() as c:
            c.bind(("127.0.0.2", 0))
            c.settimeout(3)
            c.connect((srv.host, srv.port))
            c.sendall(req)
            assert c.recv(12).startswith(b"HTTP/1.1 200"), "another address was refused"
        # after one stream closes, the address gets in again
        streams.pop().close()
        deadline = time.monotonic() + 5
        while True:
            try:
                if raw_request(srv.host, srv.port, req, timeout=2).status == 200:
                    break
            except (EOFError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, "a freed connection slot was not given back"
            time.sleep(0.05)
    finally:
        for s in streams:
            s.close()


def test_chunked_request_body_accepted(server):
    def gen():
        yield b'{"na'
        yield b'me": "Chun'
        yield b'ked"}'
    r = server.api("alice").post("/api/v1/teams", data=gen(), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Chunked"


def test_json_content_type_with_charset(server):
    r = server.api("alice").post("/api/v1/teams", data='{"name":"Charset"}'.encode(),
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
