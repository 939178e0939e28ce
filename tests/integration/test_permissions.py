"""Permission matrix: every endpoint x {owner, member, non-member, no auth, wrong token}.

Non-members get 404 (never 403) for a team's resources, and that 404 is indistinguishable from the
404 for an id that does not exist; no credentials or a wrong token give 401; a member doing an
owner's action gets 403. A refused call changes nothing."""

import re

import pytest

from sbhelpers import ApiSession, assert_error

CALLERS = ["owner", "member", "nonmember", "noauth", "badtoken"]
USER_OF = {"owner": "alice", "member": "bob", "nonmember": "carol"}
MISSING = 2147483600  # an id no team or channel has in these tests

# name, method, path, json body, expected status per caller (owner, member, nonmember, noauth, badtoken)
MATRIX = [
    ("list_teams", "GET", "/api/v1/teams", None, (200, 200, 200, 401, 401)),
    ("create_team", "POST", "/api/v1/teams", {"name": "New"}, (201, 201, 201, 401, 401)),
    ("get_team", "GET", "/api/v1/teams/{team}", None, (200, 200, 404, 401, 401)),
    ("list_members", "GET", "/api/v1/teams/{team}/members", None, (200, 200, 404, 401, 401)),
    ("add_member", "POST", "/api/v1/teams/{team}/members", {"username": "erin"}, (201, 403, 404, 401, 401)),
    ("add_owner", "POST", "/api/v1/teams/{team}/members", {"username": "erin", "role": "owner"},
     (201, 403, 404, 401, 401)),
    ("remove_other", "DELETE", "/api/v1/teams/{team}/members/dave", None, (204, 403, 404, 401, 401)),
    ("remove_other_by_id", "DELETE", "/api/v1/teams/{team}/members/{dave_id}", None, (204, 403, 404, 401, 401)),
    ("remove_owner", "DELETE", "/api/v1/teams/{team}/members/alice", None, (409, 403, 404, 401, 401)),
    ("remove_member_self", "DELETE", "/api/v1/teams/{team}/members/bob", None, (204, 204, 404, 401, 401)),
    ("list_channels", "GET", "/api/v1/teams/{team}/channels", None, (200, 200, 404, 401, 401)),
    ("create_channel", "POST", "/api/v1/teams/{team}/channels", {"name": "new-chan"}, (201, 403, 404, 401, 401)),
    ("get_channel", "GET", "/api/v1/channels/{channel}", None, (200, 200, 404, 401, 401)),
    ("list_messages", "GET", "/api/v1/channels/{channel}/messages", None, (200, 200, 404, 401, 401)),
    ("list_messages_paged", "GET", "/api/v1/channels/{channel}/messages?limit=1&before={message}", None,
     (200, 200, 404, 401, 401)),
    ("post_message", "POST", "/api/v1/channels/{channel}/messages", {"text": "hi"}, (201, 201, 404, 401, 401)),
    ("get_session", "GET", "/api/v1/session", None, (200, 200, 200, 401, 401)),
    ("events", "GET", "/api/v1/events", None, (200, 200, 200, 401, 401)),
    # ids that do not exist: the same answer for everybody who is authenticated
    ("missing_team", "GET", f"/api/v1/teams/{MISSING}", None, (404, 404, 404, 401, 401)),
    ("missing_team_members", "POST", f"/api/v1/teams/{MISSING}/members", {"username": "erin"},
     (404, 404, 404, 401, 401)),
    ("missing_channel", "GET", f"/api/v1/channels/{MISSING}/messages", None, (404, 404, 404, 401, 401)),
    ("missing_channel_post", "POST", f"/api/v1/channels/{MISSING}/messages", {"text": "hi"},
     (404, 404, 404, 401, 401)),
]

CODE_FOR = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "last_owner"}


def bad_token(tok):
    last = tok[-1]
    return tok[:-1] + ("A" if last != "A" else "B")


def make_world(srv):
    """A fresh team: alice owner, bob and dave members, one message in general."""
    team = srv.create_team("alice", "Matrix")
    srv.add_member("alice", team["id"], "bob")
    srv.add_member("alice", team["id"], "dave")
    chan = srv.general("alice", team["id"])
    msg = srv.post("alice", chan["id"], "seed")
    return {"team": team["id"], "channel": chan["id"], "message": msg["id"] + 1,
            "dave_id": srv.user_id("dave")}


def snapshot(srv, w):
    a = srv.api("alice")
    return (a.get(f"/api/v1/teams/{w['team']}/members").json(),
            a.get(f"/api/v1/teams/{w['team']}/channels").json(),
            a.get(f"/api/v1/channels/{w['channel']}/messages?limit=200").json())


def session_for(srv, caller):
    if caller in USER_OF:
        return srv.client(USER_OF[caller])
    if caller == "noauth":
        return srv.client()
    return srv.client(token=bad_token(srv.tokens["alice"]))


def call(sess, method, path, body):
    if path == "/api/v1/events":
        r = sess.request(method, path, stream=True, timeout=(5, 5))
        status, ctype = r.status_code, r.headers.get("Content-Type", "")
        if status != 200:
            r.content  # read the error body
        r.close()
        return r, status, ctype
    r = sess.request(method, path, json=body)
    return r, r.status_code, r.headers.get("Content-Type", "")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name,method,path,body,expected", MATRIX, ids=[m[0] for m in MATRIX])
def test_matrix(shared_server, name, method, path, body, expected, caller):
    srv = shared_server
    w = make_world(srv)
    want = expected[CALLERS.index(caller)]
    before = snapshot(srv, w)
    r, status, ctype = call(session_for(srv, caller), method, path.format(**w), body)
    assert status == want, f"{caller} {method} {path}: expected {want}, got {status}: {r.text[:300]}"
    if want >= 400:
        assert_error(r, want, CODE_FOR[want])
        assert snapshot(srv, w) == before, "a refused call changed the team"
    elif name == "events":
        assert ctype.startswith("text/event-stream"), ctype
    elif want != 204:
        assert ctype.startswith("application/json"), ctype


# ------------------------------------------------------------------------------------------------
# No existence leak: a non-member cannot tell a hidden team/channel from a missing one.

LEAK_PROBES = [
    ("GET", "/api/v1/teams/{team}", None),
    ("GET", "/api/v1/teams/{team}/members", None),
    ("POST", "/api/v1/teams/{team}/members", {"username": "erin"}),
    ("DELETE", "/api/v1/teams/{team}/members/bob", None),
    ("DELETE", "/api/v1/teams/{team}/members/carol", None),
    ("GET", "/api/v1/teams/{team}/channels", None),
    ("POST", "/api/v1/teams/{team}/channels", {"name": "x"}),
    ("GET", "/api/v1/channels/{channel}", None),
    ("GET", "/api/v1/channels/{channel}/messages", None),
    ("GET", "/api/v1/channels/{channel}/messages?limit=5&after=1", None),
    ("POST", "/api/v1/channels/{channel}/messages", {"text": "hi"}),
]


def _normalized(resp, ident):
    text = resp.content.decode("utf-8")
    return re.sub(rf"\b{ident}\b", "<ID>", text)


@pytest.mark.parametrize("method,path,body", LEAK_PROBES, ids=[f"{m} {p}" for m, p, _ in LEAK_PROBES])
def test_nonmember_404_same_as_missing(shared_server, method, path, body):
    srv = shared_server
    w = make_world(srv)
    carol = srv.client("carol")
    real = carol.request(method, path.format(**w), json=body)
    missing_w = dict(w, team=MISSING, channel=MISSING)
    missing = carol.request(method, path.format(**missing_w), json=body)
    assert_error(real, 404, "not_found")
    assert_error(missing, 404, "not_found")
    ident = w["team"] if "{team}" in path else w["channel"]
    assert _normalized(real, ident) == _normalized(missing, MISSING)
    for h in ("Content-Type", "Allow", "WWW-Authenticate"):
        assert real.headers.get(h) == missing.headers.get(h), h


def test_removed_member_gets_plain_404(shared_server):
    srv = shared_server
    w = make_world(srv)
    assert srv.api("alice").delete(f"/api/v1/teams/{w['team']}/members/bob").status_code == 204
    bob = srv.client("bob")
    for path in (f"/api/v1/teams/{w['team']}", f"/api/v1/channels/{w['channel']}/messages"):
        gone = bob.get(path)
        assert_error(gone, 404, "not_found")
    r = bob.post(f"/api/v1/channels/{w['channel']}/messages", json={"text": "still here?"})
    assert_error(r, 404, "not_found")


@pytest.mark.parametrize("auth", [
    "Bearer", "Bearer ", "bearer-{tok}", "Basic YWxpY2U6cHc=", "Token {tok}",
    "Bearer {tok}x", "Bearer {tok} {tok}", "Bearer {short}",
])
def test_malformed_authorization_is_401(shared_server, auth):
    srv = shared_server
    tok = srv.tokens["alice"]
    value = auth.format(tok=tok, short=tok[: len(tok) // 2])
    s = ApiSession(srv)
    s.headers["Authorization"] = value
    assert_error(s.get("/api/v1/teams"), 401, "unauthorized")
    assert_error(s.post("/api/v1/teams", json={"name": "nope"}), 401, "unauthorized")
