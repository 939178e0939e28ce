"""Hostile input, as a table: each row is one raw HTTP request with the expected status and error
code. After every row the server must still answer; after the whole table the data stored before it
(a team, a channel, messages) must be unchanged.

Rows are sent over a raw socket, so the bytes on the wire are exactly the row's (no client-side
normalisation of paths, headers or bodies)."""

import re

import pytest

from sbhelpers import assert_error, build_request, chunked, raw_request

JSON = ("Content-Type", "application/json")


class Row:
    def __init__(self, id, method, path, body=None, status=400, code=None, field=None, headers=None,
                 ctype="application/json", shape=True, allow=None, raw=None, timeout=5.0, statuses=None,
                 auth=True, msg_re=None):
        self.id = id
        self.method = method
        self.path = path
        self.body = body
        self.status = status
        self.statuses = statuses          # a set of acceptable statuses (library answers)
        self.code = code
        self.field = field
        self.headers = headers or []
        self.ctype = ctype
        self.shape = shape                # error body must be {"error":{"code","message"}}
        self.allow = allow                # expected Allow header methods for 405
        self.raw = raw                    # callable(host_port, ctx) -> request bytes
        self.timeout = timeout
        self.auth = auth
        self.msg_re = msg_re              # the error message must match (e.g. carry line/column)


def nested_name(depth):
    """A JSON object of total nesting depth `depth` whose "name" is nested arrays."""
    return b'{"name":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def nested_objects(depth):
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def body_of_size(n):
    """Valid JSON object of exactly n bytes whose name is far too long."""
    return b'{"name":"' + b"a" * (n - 11) + b'"}'


T = "/api/v1/teams"
CH = "/api/v1/teams/{team}/channels"
MSG = "/api/v1/channels/{channel}/messages"
MEM = "/api/v1/teams/{team}/members"
S = "/api/v1/session"

ROWS = [
    # -- malformed JSON -------------------------------------------------------------------------------
    Row("truncated-json", "POST", T, b'{"name":', 400, "invalid_json"),
    Row("trailing-comma", "POST", T, b'{"name":"x",}', 400, "invalid_json"),
    Row("error-on-line-3", "POST", T, b'{\n  "name": "x",\n}', 400, "invalid_json", msg_re=r"\b3\b"),
    Row("single-quotes", "POST", T, b"{'name':'x'}", 400, "invalid_json"),
    Row("trailing-garbage", "POST", T, b'{"name":"x"} x', 400, "invalid_json"),
    Row("two-objects", "POST", T, b'{"name":"x"}{"name":"y"}', 400, "invalid_json"),
    Row("empty-body", "POST", T, b"", 400, ("invalid_json", "bad_request")),
    Row("bare-word", "POST", T, b"hello", 400, "invalid_json"),
    Row("nan", "POST", T, b'{"name":NaN}', 400, "invalid_json"),
    Row("raw-control-in-string", "POST", T, b'{"name":"a\x01b"}', 400, "invalid_json"),
    Row("raw-newline-in-string", "POST", MSG, b'{"text":"a\nb"}', 400, "invalid_json"),
    Row("bad-escape", "POST", T, b'{"name":"\\q"}', 400, "invalid_json"),
    Row("duplicate-keys", "POST", T, b'{"name":"a","name":"b"}', 400, "invalid_json"),
    Row("duplicate-keys-msg", "POST", MSG, b'{"text":"a","text":"b"}', 400, "invalid_json"),
    Row("number-overflow", "POST", T, b'{"name":1e400}', 400, ("invalid_json", "invalid_field")),
    # -- not an object --------------------------------------------------------------------------------
    Row("array", "POST", T, b'[{"name":"x"}]', 400, "bad_request"),
    Row("string", "POST", T, b'"x"', 400, "bad_request"),
    Row("number", "POST", T, b"5", 400, "bad_request"),
    Row("null", "POST", T, b"null", 400, "bad_request"),
    Row("true", "POST", MSG, b"true", 400, "bad_request"),
    # -- invalid UTF-8 --------------------------------------------------------------------------------
    Row("utf8-ff", "POST", T, b'{"name":"\xff\xfe"}', 400, "invalid_json"),
    Row("utf8-overlong", "POST", T, b'{"name":"\xc0\xaf"}', 400, "invalid_json"),
    Row("utf8-surrogate", "POST", T, b'{"name":"\xed\xa0\x80"}', 400, "invalid_json"),
    Row("utf8-truncated", "POST", MSG, b'{"text":"\xe2\x82"}', 400, "invalid_json"),
    Row("utf8-in-key", "POST", T, b'{"na\xffme":"x"}', 400, "invalid_json"),
    Row("lone-surrogate-escape", "POST", T, b'{"name":"\\ud800"}', 400, ("invalid_json", "invalid_field")),
    Row("nul-escape-text", "POST", MSG, b'{"text":"a\\u0000b"}', 400, ("invalid_json", "invalid_field")),
    Row("nul-escape-name", "POST", T, b'{"name":"a\\u0000b"}', 400, ("invalid_json", "invalid_field")),
    # -- nesting --------------------------------------------------------------------------------------
    Row("depth-32-ok-parser", "POST", T, nested_name(32), 400, "invalid_field", field="name"),
    Row("depth-33", "POST", T, nested_name(33), 400, "invalid_json"),
    Row("depth-33-objects", "POST", T, nested_objects(33), 400, "invalid_json"),
    Row("depth-33-extra-field", "POST", MSG,
        b'{"text":"should not be stored","x":' + b"[" * 32 + b"]" * 32 + b"}", 400, "invalid_json"),
    Row("depth-10000", "POST", T, nested_name(10000), 400, "invalid_json"),
    Row("depth-10000-unclosed", "POST", MSG, b'{"text":' + b"[" * 10000, 400, "invalid_json"),
    # -- wrong types, missing fields, bounds ---------------------------------------------------------
    Row("name-number", "POST", T, b'{"name":5}', 400, "invalid_field", field="name"),
    Row("name-null", "POST", T, b'{"name":null}', 400, "invalid_field", field="name"),
    Row("name-bool", "POST", T, b'{"name":true}', 400, "invalid_field", field="name"),
    Row("name-object", "POST", T, b'{"name":{"x":"y"}}', 400, "invalid_field", field="name"),
    Row("name-array", "POST", CH, b'{"name":["x"]}', 400, "invalid_field", field="name"),
    Row("name-missing", "POST", T, b"{}", 400, "invalid_field", field="name"),
    Row("name-misspelt", "POST", CH, b'{"nme":"x"}', 400, "invalid_field", field="name"),
    Row("name-empty", "POST", T, b'{"name":""}', 400, "invalid_field", field="name"),
    Row("name-81", "POST", T, ('{"name":"%s"}' % ("n" * 81)).encode(), 400, "invalid_field", field="name"),
    Row("channel-name-81-multibyte", "POST", CH, ('{"name":"%s"}' % ("ж" * 81)).encode(), 400,
        "invalid_field", field="name"),
    Row("name-newline", "POST", T, b'{"name":"a\\nb"}', 400, "invalid_field", field="name"),
    Row("name-tab", "POST", CH, b'{"name":"a\\tb"}', 400, "invalid_field", field="name"),
    Row("name-ctrl-01", "POST", T, b'{"name":"a\\u0001b"}', 400, "invalid_field", field="name"),
    Row("name-escape-1b", "POST", CH, b'{"name":"\\u001b[31mred"}', 400, "invalid_field", field="name"),
    Row("name-del-7f", "POST", T, b'{"name":"a\\u007fb"}', 400, "invalid_field", field="name"),
    Row("name-c1-85", "POST", T, b'{"name":"a\\u0085b"}', 400, "invalid_field", field="name"),
    Row("text-missing", "POST", MSG, b'{"txt":"x"}', 400, "invalid_field", field="text"),
    Row("text-number", "POST", MSG, b'{"text":42}', 400, "invalid_field", field="text"),
    Row("text-null", "POST", MSG, b'{"text":null}', 400, "invalid_field", field="text"),
    Row("text-empty", "POST", MSG, b'{"text":""}', 400, "invalid_field", field="text"),
    Row("text-16001", "POST", MSG, ('{"text":"%s"}' % ("t" * 16001)).encode(), 400, "invalid_field", field="text"),
    Row("text-16001-multibyte", "POST", MSG, ('{"text":"%s"}' % ("€" * 16001)).encode(), 400,
        "invalid_field", field="text"),
    Row("member-username-number", "POST", MEM, b'{"username":5}', 400, "invalid_field", field="username"),
    Row("member-role-bad", "POST", MEM, b'{"username":"bob","role":"king"}', 400, "invalid_field", field="role"),
    Row("member-role-number", "POST", MEM, b'{"username":"bob","role":1}', 400, "invalid_field", field="role"),
    Row("login-username-number", "POST", S, b'{"username":5,"password":"x"}', 400, "invalid_field",
        field="username", auth=False),
    Row("login-password-missing", "POST", S, b'{"username":"alice"}', 400, "invalid_field",
        field="password", auth=False),
    # -- sizes ----------------------------------------------------------------------------------------
    Row("body-64KiB-exact", "POST", T, body_of_size(65536), 400, "invalid_field", field="name"),
    Row("body-64KiB+1", "POST", T, body_of_size(65537), 413, "payload_too_large"),
    Row("body-1MiB", "POST", MSG, body_of_size(1 << 20), 413, "payload_too_large"),
    Row("content-length-huge-no-body", "POST", T, None, 413, "payload_too_large",
        raw=lambda hp, ctx: build_request("POST", T, hp, ctx["headers"] + [("Content-Length", "1000000000")]),
        timeout=3.0),
    Row("content-length-64KiB+1-no-body", "POST", MSG, None, 413, "payload_too_large",
        raw=lambda hp, ctx: build_request("POST", ctx["path"], hp, ctx["headers"] + [("Content-Length", "65537")]),
        timeout=3.0),
    Row("chunked-over-cap", "POST", T, None, 413, "payload_too_large",
        raw=lambda hp, ctx: build_request("POST", T, hp, ctx["headers"] + [("Transfer-Encoding", "chunked")],
                                          body=chunked(body_of_size(70000)))),
    Row("chunked-bad-json", "POST", T, None, 400, "invalid_json",
        raw=lambda hp, ctx: build_request("POST", T, hp, ctx["headers"] + [("Transfer-Encoding", "chunked")],
                                          body=chunked(b'{"name":', 3))),
    # -- content type ---------------------------------------------------------------------------------
    Row("ctype-text-plain", "POST", T, b'{"name":"x"}', 415, "unsupported_media_type", ctype="text/plain"),
    Row("ctype-form", "POST", MSG, b"text=hello", 415, "unsupported_media_type",
        ctype="application/x-www-form-urlencoded"),
    Row("ctype-multipart", "POST", CH, b'--b\r\n\r\n{"name":"x"}\r\n--b--\r\n', 415, "unsupported_media_type",
        ctype="multipart/form-data; boundary=b"),
    Row("ctype-json-lookalike", "POST", T, b'{"name":"x"}', 415, "unsupported_media_type",
        ctype="application/jsonp"),
    Row("ctype-login-form", "POST", S, b"username=alice&password=x", 415, "unsupported_media_type",
        ctype="application/x-www-form-urlencoded", auth=False),
    # -- routes and methods ---------------------------------------------------------------------------
    Row("unknown-route", "GET", "/api/v1/nope", None, 404, "not_found"),
    Row("unknown-route-post", "POST", "/api/v1/nope", b'{"a":1}', 404, "not_found"),
    Row("unknown-version", "GET", "/api/v2/teams", None, 404, "not_found"),
    Row("unknown-subresource", "GET", "/api/v1/teams/{team}/nope", None, 404, "not_found"),
    Row("unknown-deeper", "GET", "/api/v1/channels/{channel}/messages/1/2", None, 404, "not_found"),
    Row("api-root", "GET", "/api/v1", None, 404, "not_found"),
    Row("put-teams", "PUT", T, b'{"name":"x"}', 405, "method_not_allowed", allow={"GET", "POST"}),
    Row("delete-team", "DELETE", "/api/v1/teams/{team}", None, 405, "method_not_allowed", allow={"GET"}),
    Row("patch-channel", "PATCH", "/api/v1/channels/{channel}", b'{"name":"x"}', 405, "method_not_allowed",
        allow={"GET"}),
    Row("put-messages", "PUT", MSG, b'{"text":"x"}', 405, "method_not_allowed", allow={"GET", "POST"}),
    Row("get-member", "GET", "/api/v1/teams/{team}/members/bob", None, 405, "method_not_allowed",
        allow={"DELETE"}),
    Row("post-events", "POST", "/api/v1/events", b"{}", 405, "method_not_allowed", allow={"GET"}),
    Row("put-session", "PUT", S, b"{}", 405, "method_not_allowed", allow={"GET", "POST", "DELETE"}),
    # -- query parameters ------------------------------------------------------------------------------
    Row("limit-abc", "GET", MSG + "?limit=abc", None, 400, "bad_request"),
    Row("limit-empty", "GET", MSG + "?limit=", None, 400, "bad_request"),
    Row("limit-hex", "GET", MSG + "?limit=0x10", None, 400, "bad_request"),
    Row("limit-trailing", "GET", MSG + "?limit=10abc", None, 400, "bad_request"),
    Row("limit-nul", "GET", MSG + "?limit=10%00", None, 400, "bad_request"),
    Row("limit-0", "GET", MSG + "?limit=0", None, 400, ("bad_request", "invalid_field")),
    Row("limit-201", "GET", MSG + "?limit=201", None, 400, ("bad_request", "invalid_field")),
    Row("limit-huge", "GET", MSG + "?limit=99999999999999999999999", None, 400, ("bad_request", "invalid_field")),
    Row("before-negative", "GET", MSG + "?before=-1", None, 400, ("bad_request", "invalid_field")),
    Row("before-abc", "GET", MSG + "?before=abc", None, 400, "bad_request"),
    Row("after-float", "GET", MSG + "?after=1.5", None, 400, "bad_request"),
    # -- ids in paths ----------------------------------------------------------------------------------
    Row("team-id-abc", "GET", "/api/v1/teams/abc", None, 404, "not_found"),
    Row("team-id-suffix", "GET", "/api/v1/teams/{team}abc", None, 404, "not_found"),
    Row("team-id-negative", "GET", "/api/v1/teams/-1", None, 404, "not_found"),
    Row("team-id-zero", "GET", "/api/v1/teams/0", None, 404, "not_found"),
    Row("team-id-plus", "GET", "/api/v1/teams/+{team}", None, 404, "not_found"),
    Row("team-id-float", "GET", "/api/v1/teams/{team}.0", None, 404, "not_found"),
    Row("team-id-overflow", "GET", "/api/v1/teams/99999999999999999999999", None, 404, "not_found"),
    Row("team-id-int64-wrap", "GET", "/api/v1/teams/18446744073709551617", None, 404, "not_found"),
    Row("team-id-nul", "GET", "/api/v1/teams/{team}%00", None, 404, "not_found"),
    Row("channel-id-abc", "GET", "/api/v1/channels/abc/messages", None, 404, "not_found"),
    Row("channel-id-hex", "POST", "/api/v1/channels/0x{channel}/messages", b'{"text":"x"}', 404, "not_found"),
    Row("member-empty-name", "DELETE", "/api/v1/teams/{team}/members/", None, 404, "not_found"),
    # -- headers ---------------------------------------------------------------------------------------
    Row("cookie-64KiB", "GET", S, None, shape=False, statuses={400, 431},
        headers=[("Cookie", "sb_session=" + "c" * 65536)]),
    Row("header-64KiB", "GET", S, None, shape=False, statuses={400, 431},
        headers=[("X-Big", "h" * 65536)]),
    Row("many-headers", "GET", S, None, shape=False, statuses={400, 431},
        headers=[(f"X-H{i}", "v" * 40) for i in range(2000)]),
    Row("long-url", "GET", "/api/v1/teams/" + "9" * 70000, None, shape=False, statuses={400, 404, 414, 431}),
    Row("double-content-length", "POST", T, None, shape=False, statuses={400},
        raw=lambda hp, ctx: build_request("POST", T, hp, ctx["headers"] + [("Content-Length", "12"),
                                                                          ("Content-Length", "20")],
                                          body=b'{"name":"x"}')),
    # not HTTP at all: a 400 from the HTTP library or closing the connection are both fine
    Row("garbage-request-line", "GET", "/", None, shape=False, statuses={400, "closed"},
        raw=lambda hp, ctx: b"GARBAGE\r\n\r\n"),
    Row("binary-garbage", "GET", "/", None, shape=False, statuses={400, "closed"},
        raw=lambda hp, ctx: bytes(range(256)) * 4 + b"\r\n\r\n"),
    Row("no-http-version", "GET", "/", None, shape=False, statuses={400, 505, "closed"},
        raw=lambda hp, ctx: b"GET /api/v1/teams\r\nHost: x\r\n\r\n"),
    # -- path traversal --------------------------------------------------------------------------------
    Row("dotdot-api", "GET", "/api/v1/teams/../../../../etc/passwd", None, shape=False, statuses={400, 404}),
    Row("dotdot-root", "GET", "/../../../../../etc/passwd", None, shape=False, statuses={400, 404}),
    Row("dotdot-encoded", "GET", "/api/v1/%2e%2e/%2e%2e/%2e%2e/etc/passwd", None, shape=False,
        statuses={400, 404}),
    Row("dotdot-encoded-slash", "GET", "/api/v1/teams/..%2f..%2f..%2f..%2fetc%2fpasswd", None, shape=False,
        statuses={400, 404}),
    Row("dotdot-backslash", "GET", "/..\\..\\..\\etc\\passwd", None, shape=False, statuses={400, 404}),
    Row("dotdot-static", "GET", "/static/../../../../../../etc/passwd", None, shape=False, statuses={400, 404}),
    Row("double-encoded", "GET", "/%252e%252e/%252e%252e/etc/passwd", None, shape=False, statuses={400, 404}),
]

_ids = [r.id for r in ROWS]
assert len(_ids) == len(set(_ids)), "duplicate row ids"


@pytest.fixture(scope="module")
def world(shared_server):
    srv = shared_server
    team = srv.create_team("alice", "Stable")
    srv.add_member("alice", team["id"], "bob")
    chan = srv.create_channel("alice", team["id"], "stable-chan")
    for i in range(3):
        srv.post("alice", chan["id"], f"stable {i}")
    ctx = {"team": team["id"], "channel": chan["id"]}
    return srv, ctx, snapshot(srv, ctx)


def snapshot(srv, ctx):
    a = srv.api("alice")
    return {
        "teams": a.get("/api/v1/teams").json(),
        "team": a.get(f"/api/v1/teams/{ctx['team']}").json(),
        "members": a.get(f"/api/v1/teams/{ctx['team']}/members").json(),
        "channels": a.get(f"/api/v1/teams/{ctx['team']}/channels").json(),
        "channel": a.get(f"/api/v1/channels/{ctx['channel']}").json(),
        "messages": a.get(f"/api/v1/channels/{ctx['channel']}/messages?limit=200").json(),
    }


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_hostile_input(world, row):
    srv, ctx, _ = world
    hp = f"{srv.host}:{srv.port}"
    path = row.path.format(**ctx)
    headers = []
    if row.auth:
        headers.append(("Authorization", f"Bearer {srv.tokens['alice']}"))
    if row.body is not None and row.ctype:
        headers.append(("Content-Type", row.ctype))
    elif row.raw is not None:
        headers.append(JSON)
    headers += row.headers
    if row.raw is not None:
        data = row.raw(hp, {"headers": headers, "path": path, **ctx})
    else:
        data = build_request(row.method, path, hp, headers, row.body)
    try:
        resp = raw_request(srv.host, srv.port, data, timeout=row.timeout)
    except EOFError:
        # the server closed the connection without an answer
        assert row.statuses is not None and "closed" in row.statuses, "connection closed without a response"
        resp = None
    if resp is None:
        pass
    elif row.statuses is not None:
        assert resp.status in row.statuses, f"got {resp.status}: {resp.body[:300]!r}"
    else:
        assert resp.status == row.status, f"expected {row.status}, got {resp.status}: {resp.body[:300]!r}"
    if resp is not None and row.shape:
        err = assert_error(resp, resp.status, row.code, field=row.field)
        if row.msg_re:
            assert re.search(row.msg_re, err["message"]), f"message lacks {row.msg_re!r}: {err['message']!r}"
    assert resp is None or b"root:" not in resp.body
    if row.allow is not None:
        allow = resp.header("Allow")
        assert allow is not None, "405 without an Allow header"
        methods = {m.strip().upper() for m in allow.split(",") if m.strip()}
        assert row.allow <= methods and methods <= row.allow | {"HEAD", "OPTIONS"}, allow

    # the server is still up and answering
    assert srv.running, f"server died: {srv.log_text()[-2000:]}"
    r = srv.api("alice").get("/api/v1/session")
    assert r.status_code == 200


def test_data_unchanged_after_table(world):
    """Runs after the table (pytest keeps file order): nothing a hostile row sent was stored."""
    srv, ctx, before = world
    assert srv.running
    assert snapshot(srv, ctx) == before
    # and the server still takes normal writes
    m = srv.post("alice", ctx["channel"], "still writable")
    assert srv.api("bob").get(f"/api/v1/channels/{ctx['channel']}/messages?limit=1").json()["messages"] == [m]
