"""Incoming webhooks, POST /webhook/{id}/{secret}[/slack|/discord] (docs/api.md "Incoming
webhooks"; shared/reference/formats.md a-e): the reply table of each dialect, Idempotency-Key,
dialect detection and the canonical card, live events, and "acknowledged means durable"."""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from hooks import (PNG, adaptive_envelope, all_strings, connector, create_connector, data_url,
                   hook_path, hook_secret, messagecard, messages, only_connector_message,
                   post_hook, team_with_channel, walk)
from sbhelpers import build_request, chunked, raw_request

DIALECTS = ["teams", "slack", "discord"]
SUFFIX = {"teams": "", "slack": "/slack", "discord": "/discord"}


@pytest.fixture
def server(shared_server):
    """One server for the module (every test makes its own team and connectors)."""
    return shared_server


@pytest.fixture
def hook(server):
    """A team (alice owner, bob member), its general channel, and a connector of alice's."""
    team, ch = team_with_channel(server, members=["bob"])
    c = create_connector(server, "alice", ch["id"], name="CI", image=data_url(PNG))
    c["_channel"] = ch
    c["_team"] = team
    return c


def simple(dialect, text="hello"):
    """A minimal valid payload of each dialect."""
    return {"teams": {"text": text}, "slack": {"text": text}, "discord": {"content": text}}[dialect]


def ctype(r):
    return r.headers.get("Content-Type", "").split(";")[0].strip().lower()


def hook_count(server, ch):
    return len([m for m in messages(server, "alice", ch["id"]) if m["author"]["type"] == "connector"])


def assert_refused(r, dialect, status, slack_text=None, discord_code=None, teams_text=None):
    """One refusal, checked against the dialect's conventions."""
    assert r.status_code == status, f"{dialect}: expected {status}, got {r.status_code}: {r.text[:300]!r}"
    if dialect == "teams":
        assert ctype(r) == "text/plain", r.headers
        assert r.text.strip(), "a Teams refusal says why"
        assert r.text != "1"
        if teams_text is not None:
            assert r.text == teams_text, r.text
    elif dialect == "slack":
        assert ctype(r) == "text/plain", r.headers
        if slack_text is not None:
            assert r.text == slack_text, r.text
        else:
            assert r.text.strip() and r.text != "ok"
    else:
        assert ctype(r) == "application/json", r.headers
        doc = r.json()
        if status != 429:
            assert isinstance(doc.get("message"), str) and doc["message"], doc
            assert isinstance(doc.get("code"), int), doc
            if discord_code is not None:
                assert doc["code"] == discord_code, doc
    return r


# ---------------------------------------------------------------------------------------------
# The reply table


def test_accepted_teams(server, hook):
    r = post_hook(server, hook, messagecard(summary="s", text="hi"))
    assert r.status_code == 200 and r.text == "1", r.text
    assert ctype(r) == "text/plain"
    assert only_connector_message(server, "bob", hook["_channel"]["id"])["text"]


def test_accepted_slack(server, hook):
    r = post_hook(server, hook, {"text": "hi"}, suffix="/slack")
    assert (r.status_code, r.text, ctype(r)) == (200, "ok", "text/plain")
    assert only_connector_message(server, "bob", hook["_channel"]["id"])["text"] == "hi"


def test_accepted_slack_form_payload(server, hook):
    payload = json.dumps({"text": "from a form & more"})
    r = post_hook(server, hook, data="payload=" + quote(payload, safe=""), suffix="/slack",
                  ctype="application/x-www-form-urlencoded")
    assert (r.status_code, r.text) == (200, "ok")
    m = only_connector_message(server, "bob", hook["_channel"]["id"])
    assert m["text"] == "from a form & more"
    assert m["card"]["envelope"]["dialect"] == "slack"


def test_accepted_discord(server, hook):
    ch = hook["_channel"]
    r = post_hook(server, hook, {"content": "no wait"}, suffix="/discord")
    assert r.status_code == 204 and r.content == b"", r.content
    r = post_hook(server, hook, {"content": "wait"}, suffix="/discord", query="wait=true")
    assert r.status_code == 200 and ctype(r) == "application/json", r.text
    m = r.json()
    stored = messages(server, "bob", ch["id"])[0]
    assert m == stored
    assert m["text"] == "wait" and m["channel_id"] == ch["id"] and m["team_id"] == hook["_team"]["id"]
    assert m["author"]["type"] == "connector" and m["author"]["id"] == hook["id"]
    assert m["card"]["envelope"]["dialect"] == "discord"
    r = post_hook(server, hook, {"content": "explicitly no wait"}, suffix="/discord", query="wait=false")
    assert r.status_code == 204
    assert hook_count(server, ch) == 3


@pytest.mark.parametrize("dialect", DIALECTS)
def test_empty_card(server, hook, dialect):
    body = {"teams": messagecard(title="a title but neither summary nor text", themeColor="0076D7"),
            "slack": {"text": ""}, "discord": {"content": ""}}[dialect]
    r = post_hook(server, hook, body, suffix=SUFFIX[dialect])
    assert_refused(r, dialect, 400, slack_text="no_text", teams_text="Summary or Text is required.")
    if dialect == "discord":
        assert r.json() == {"message": "Cannot send an empty message", "code": 50006}
    assert hook_count(server, hook["_channel"]) == 0


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("body", [b'{"text": "unterminated', b'{"text": "a",\n "b": }', b""],
                         ids=["unterminated", "line2", "empty"])
def test_invalid_json(server, hook, dialect, body):
    r = post_hook(server, hook, data=body, suffix=SUFFIX[dialect])
    assert_refused(r, dialect, 400, slack_text="invalid_payload", discord_code=50035)
    if body and dialect != "slack":
        msg = r.json()["message"] if dialect == "discord" else r.text
        assert "line" in msg and "column" in msg, msg
        if b"\n" in body:
            assert "line 2" in msg, msg
    assert hook_count(server, hook["_channel"]) == 0


OVER_LIMIT = {
    "teams": messagecard(summary="s", sections=[{"text": f"section {i}"} for i in range(51)]),
    "slack": {"text": "t", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"b{i}"}}
                                      for i in range(51)]},
    "discord": {"content": "c", "embeds": [{"title": f"e{i}"} for i in range(51)]},
}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_over_card_limit(server, hook, dialect):
    r = post_hook(server, hook, OVER_LIMIT[dialect], suffix=SUFFIX[dialect])
    assert_refused(r, dialect, 400, slack_text="invalid_payload", discord_code=50035)
    if dialect == "teams":
        assert "sections" in r.text, r.text
    if dialect == "discord":
        assert "embeds" in r.json()["message"], r.text
    assert hook_count(server, hook["_channel"]) == 0


@pytest.mark.parametrize("what,card", [
    ("facts", messagecard(summary="s", sections=[{"facts": [{"name": f"k{i}", "value": "v"} for i in range(1000)]}])),
    ("text", messagecard(summary="s", text="t" * 40000)),
    ("actions", messagecard(summary="s", potentialAction=[
        {"@type": "OpenUri", "name": f"a{i}", "targets": [{"os": "default", "uri": "https://e.example"}]}
        for i in range(500)])),
], ids=["1000-facts", "40000-char-text", "500-actions"])
def test_over_card_limit_teams_other_limits(make_server, what, card):
    # a body cap far above the card limits, so that the card limit (not 413) is what refuses
    srv = make_server(extra_args=["--webhook-max-body", str(1 << 20)])
    team, ch = team_with_channel(srv)
    c = create_connector(srv, "alice", ch["id"])
    r = post_hook(srv, c, card)
    assert r.status_code == 400, r.text[:300]
    assert what in r.text, r.text


def body_of_size(n, key="text"):
    """A valid JSON payload of exactly n bytes."""
    skeleton = json.dumps({key: ""}).encode()
    out = json.dumps({key: "x" * (n - len(skeleton))}).encode()
    assert len(out) == n
    return out


@pytest.mark.parametrize("dialect", DIALECTS)
def test_body_over_28KB_is_413(server, hook, dialect):
    key = "content" if dialect == "discord" else "text"
    r = post_hook(server, hook, data=body_of_size(28 * 1024 + 1, key), suffix=SUFFIX[dialect])
    assert_refused(r, dialect, 413, slack_text="request_too_large", discord_code=40005)
    r = post_hook(server, hook, data=body_of_size(200 * 1024, key), suffix=SUFFIX[dialect])
    assert_refused(r, dialect, 413, slack_text="request_too_large", discord_code=40005)
    assert hook_count(server, hook["_channel"]) == 0
    if dialect == "teams":
        # exactly 28 KB is still accepted
        r = post_hook(server, hook, data=body_of_size(28 * 1024))
        assert (r.status_code, r.text) == (200, "1")
        # a chunked body (no Content-Length) over the cap: 413 as well
        raw = build_request("POST", hook_path(hook), f"{server.host}:{server.port}",
                            headers=[("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
                            body=chunked(body_of_size(40000), 4096))
        resp = raw_request(server.host, server.port, raw, timeout=10)
        assert resp.status == 413, resp
        assert hook_count(server, hook["_channel"]) == 1


def test_webhook_max_body_option(make_server):
    srv = make_server(extra_args=["--webhook-max-body", "2048"])
    team, ch = team_with_channel(srv)
    c = create_connector(srv, "alice", ch["id"])
    r = post_hook(srv, c, data=body_of_size(2048))
    assert (r.status_code, r.text) == (200, "1")
    r = post_hook(srv, c, data=body_of_size(2049))
    assert r.status_code == 413, r.text
    r = post_hook(srv, c, data=body_of_size(2049, "content"), suffix="/discord")
    assert r.status_code == 413 and r.json()["code"] == 40005
    # the API body cap is independent of it
    r = srv.api("alice").post(f"/api/v1/channels/{ch['id']}/messages", json={"text": "a" * 10000})
    assert r.status_code == 201


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("ct", ["text/html", "application/xml", "multipart/form-data; boundary=x",
                                "application/octet-stream"])
def test_non_json_content_type_is_415(server, hook, dialect, ct):
    r = post_hook(server, hook, data=json.dumps(simple(dialect)).encode(), ctype=ct, suffix=SUFFIX[dialect])
    assert_refused(r, dialect, 415)
    assert hook_count(server, hook["_channel"]) == 0


def test_json_content_type_variants_accepted(server, hook):
    for ct in ("application/json; charset=utf-8", "Application/JSON"):
        r = post_hook(server, hook, {"text": ct}, ctype=ct)
        assert (r.status_code, r.text) == (200, "1"), ct


def test_rate_limit_429(make_server):
    srv = make_server(extra_args=["--webhook-burst", "3", "--webhook-rate", "1"])
    team, ch = team_with_channel(srv)
    hooks = {d: create_connector(srv, "alice", ch["id"], name=d) for d in DIALECTS}
    t0 = time.monotonic()
    first = {}
    for d in DIALECTS:
        for i in range(3):
            r = post_hook(srv, hooks[d], simple(d, f"{d} {i}"), suffix=SUFFIX[d])
            assert r.status_code in (200, 204), (d, i, r.status_code, r.text)
        first[d] = post_hook(srv, hooks[d], simple(d, f"{d} over"), suffix=SUFFIX[d])
    assert time.monotonic() - t0 < 0.9, "too slow to test a burst of 3 at 1/s"
    for d, r in first.items():
        assert r.status_code == 429, (d, r.status_code, r.text)
        ra = r.headers.get("Retry-After")
        assert ra is not None and ra.isdigit() and 1 <= int(ra) <= 2, (d, r.headers)
    assert "retry" in first["teams"].text.lower() or first["teams"].text.strip(), first["teams"].text
    assert ctype(first["teams"]) == "text/plain"
    assert first["slack"].text == "rate_limited"
    doc = first["discord"].json()
    assert doc["global"] is False and isinstance(doc["retry_after"], (int, float)) and doc["retry_after"] > 0, doc
    assert isinstance(doc["message"], str) and doc["message"]
    assert len([m for m in messages(srv, "alice", ch["id"]) if m["author"]["type"] == "connector"]) == 9
    # after Retry-After the webhook accepts again
    time.sleep(int(first["teams"].headers["Retry-After"]))
    r = post_hook(srv, hooks["teams"], {"text": "later"})
    assert (r.status_code, r.text) == (200, "1")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_unknown_id_and_wrong_secret_same_404(server, hook, dialect):
    secret = hook_secret(hook)
    wrong = ("A" if secret[0] != "A" else "B") + secret[1:]
    body = simple(dialect)
    answers = []
    for path in (f"/webhook/{hook['id']}/{wrong}", f"/webhook/{hook['id'] + 100000}/{secret}",
                 f"/webhook/{hook['id']}/{secret[:-1]}", f"/webhook/{hook['id']}/x",
                 f"/webhook/999999999999/{secret}"):
        r = post_hook(server, path, body, suffix=SUFFIX[dialect])
        answers.append((r.status_code, ctype(r), r.content))
        assert_refused(r, dialect, 404, slack_text="no_service", discord_code=10015)
    assert len(set(answers)) == 1, answers
    assert hook_count(server, hook["_channel"]) == 0


def test_wrong_secret_of_deleted_or_suspended_is_404(server):
    """Only the right secret learns that a connector was deleted or suspended."""
    team, ch = team_with_channel(server, members=["bob"])
    gone = create_connector(server, "alice", ch["id"], name="gone")
    sus = create_connector(server, "bob", ch["id"], name="suspended")
    assert server.api("alice").delete(f"/api/v1/connectors/{gone['id']}").status_code == 204
    assert server.api("alice").delete(f"/api/v1/teams/{team['id']}/members/bob").status_code == 204
    unknown = post_hook(server, f"/webhook/999999999/{hook_secret(gone)}", {"text": "x"})
    assert unknown.status_code == 404
    for c in (gone, sus):
        s = hook_secret(c)
        r = post_hook(server, f"/webhook/{c['id']}/{s[::-1]}", {"text": "x"})
        assert (r.status_code, r.content) == (404, unknown.content), (c["name"], r.status_code, r.text)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_suspended_403_and_deleted_410(server, dialect):
    team, ch = team_with_channel(server, members=["bob"])
    sus = create_connector(server, "bob", ch["id"], name="bob's")
    gone = create_connector(server, "alice", ch["id"], name="gone")
    assert server.api("alice").delete(f"/api/v1/teams/{team['id']}/members/bob").status_code == 204
    assert server.api("alice").delete(f"/api/v1/connectors/{gone['id']}").status_code == 204
    r = post_hook(server, sus, simple(dialect), suffix=SUFFIX[dialect])
    assert_refused(r, dialect, 403, slack_text="action_prohibited", discord_code=50013)
    if dialect == "teams":
        reason = connector(server, "alice", sus["id"])["state_reason"]
        assert reason and reason in r.text, (reason, r.text)
    r = post_hook(server, gone, simple(dialect), suffix=SUFFIX[dialect])
    assert_refused(r, dialect, 410, slack_text="no_service", discord_code=10015)
    assert hook_count(server, ch) == 0


@pytest.mark.parametrize("dialect", DIALECTS)
def test_get_is_405(server, hook, dialect):
    r = post_hook(server, hook, method="GET", ctype=None, suffix=SUFFIX[dialect])
    assert r.status_code == 405, r.text
    assert "POST" in r.headers.get("Allow", ""), r.headers
    if dialect == "teams":
        assert r.text == "Invalid webhook request - GET not supported"


# ---------------------------------------------------------------------------------------------
# Idempotency-Key


@pytest.mark.parametrize("dialect", DIALECTS)
def test_idempotency_key(server, hook, dialect):
    ch = hook["_channel"]
    q = "wait=true" if dialect == "discord" else ""
    a = post_hook(server, hook, simple(dialect, "once"), suffix=SUFFIX[dialect], query=q,
                  headers={"Idempotency-Key": "deploy-42"})
    b = post_hook(server, hook, simple(dialect, "once"), suffix=SUFFIX[dialect], query=q,
                  headers={"Idempotency-Key": "deploy-42"})
    assert a.status_code == 200, a.text
    assert (b.status_code, ctype(b)) == (a.status_code, ctype(a))
    if dialect == "discord":
        assert b.json()["id"] == a.json()["id"], (a.text, b.text)
    else:
        assert b.text == a.text == {"teams": "1", "slack": "ok"}[dialect]
    assert [m["text"] for m in messages(server, "alice", ch["id"]) if m["author"]["type"] == "connector"] == ["once"]
    # a different key: a second message
    c = post_hook(server, hook, simple(dialect, "once"), suffix=SUFFIX[dialect], query=q,
                  headers={"Idempotency-Key": "deploy-43"})
    assert c.status_code == 200
    # no key: every request counts
    post_hook(server, hook, simple(dialect, "once"), suffix=SUFFIX[dialect], query=q)
    assert hook_count(server, ch) == 3


def test_idempotency_key_concurrent_retries_make_one_message(server, hook):
    def send(_):
        r = post_hook(server, hook, {"text": "racing"}, headers={"Idempotency-Key": "same-key"})
        return r.status_code, r.text

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(8)))
    assert results == [(200, "1")] * 8
    assert hook_count(server, hook["_channel"]) == 1


def test_idempotency_key_is_per_webhook(server, hook):
    other = create_connector(server, "alice", hook["_channel"]["id"], name="other")
    for c in (hook, other):
        r = post_hook(server, c, {"text": "k"}, headers={"Idempotency-Key": "shared"})
        assert (r.status_code, r.text) == (200, "1")
    assert hook_count(server, hook["_channel"]) == 2


def test_idempotency_key_length(server, hook):
    r = post_hook(server, hook, {"text": "200"}, headers={"Idempotency-Key": "k" * 200})
    assert (r.status_code, r.text) == (200, "1")
    r = post_hook(server, hook, {"text": "201"}, headers={"Idempotency-Key": "k" * 201})
    assert r.status_code == 400, r.text
    assert hook_count(server, hook["_channel"]) == 1


# ---------------------------------------------------------------------------------------------
# Dialects and the canonical card


def elements(card, type_):
    return [v for v in walk(card["content"]) if isinstance(v, dict) and v.get("type") == type_]


def test_messagecard_becomes_canonical_card(server, hook):
    ch = hook["_channel"]
    card = messagecard(
        summary="Build 42 passed", themeColor="0076D7", title="Build **42**", text="All green on `main`",
        sections=[{"activityTitle": "Pipeline", "activitySubtitle": "by alice", "text": "Section text",
                   "facts": [{"name": "Branch", "value": "main"}, {"name": "Duration", "value": "3m"}]}],
        potentialAction=[
            {"@type": "OpenUri", "name": "View build",
             "targets": [{"os": "default", "uri": "https://ci.example.com/42"}]},
            {"@type": "OpenUri", "name": "Evil", "targets": [{"os": "default", "uri": "javascript:alert(1)"}]},
            {"@type": "HttpPOST", "name": "Retry", "target": "https://ci.example.com/retry", "body": "{}"},
        ])
    r = post_hook(server, hook, card)
    assert (r.status_code, r.text) == (200, "1")
    m = only_connector_message(server, "bob", ch["id"])
    assert m["author"]["type"] == "connector" and m["author"]["id"] == hook["id"]
    assert m["author"]["name"] == "CI"
    env = m["card"]["envelope"]
    assert env["dialect"] == "messagecard"
    assert env["summary"] == "Build 42 passed"
    assert env["themeColor"] == "#0076D7"
    assert env["sender"] == {"name": "CI", "image": hook["image"]}
    assert "senderOverride" not in env or env["senderOverride"] in (False, None)
    assert m["text"] == env["fallback"]
    content = m["card"]["content"]
    assert content["type"] == "AdaptiveCard" and content["version"] == "1.5"
    strings = all_strings(content)
    for s in ("Build **42**", "All green on `main`", "Pipeline", "Section text"):
        assert any(s in x for x in strings), (s, strings)
    facts = [f for fs in elements(m["card"], "FactSet") for f in fs["facts"]]
    assert {"title": "Branch", "value": "main"} in facts and {"title": "Duration", "value": "3m"} in facts, facts
    opens = elements(m["card"], "Action.OpenUrl")
    assert [(a["title"], a["url"]) for a in opens] == [("View build", "https://ci.example.com/42")], opens
    # the javascript: link is gone from the card (and named in the fallback)
    assert not any("javascript:" in s.lower() for s in all_strings(m["card"]["content"])), m["card"]
    assert "Evil" in env["fallback"]
    # the HttpPOST action is kept but disabled
    disabled = [a for a in walk(content) if isinstance(a, dict) and a.get("title") == "Retry"]
    assert disabled and all(a.get("isEnabled") is False for a in disabled), disabled
    for s in ("Build", "All green", "Branch", "main"):
        assert s in m["text"], m["text"]


@pytest.mark.parametrize("given,want", [("0076D7", "#0076D7"), ("#CC0003", "#CC0003"), ("ff00ff", "#FF00FF")])
def test_theme_color_normalized(server, hook, given, want):
    r = post_hook(server, hook, messagecard(text="c", themeColor=given))
    assert r.text == "1"
    assert only_connector_message(server, "alice", hook["_channel"]["id"])["card"]["envelope"]["themeColor"] == want


def test_messagecard_without_at_type_and_text_only(server, hook):
    # Alertmanager's "type" spelling; a bare {"text"}
    r = post_hook(server, hook, {"@context": "http://schema.org/extensions", "type": "MessageCard",
                                 "title": "[FIRING:1] x", "summary": "alert", "text": "details",
                                 "themeColor": "8C1A1A"})
    assert r.text == "1"
    r = post_hook(server, hook, {"text": "Hello World"})
    assert r.text == "1"
    ms = [m for m in messages(server, "alice", hook["_channel"]["id"]) if m["author"]["type"] == "connector"]
    assert ms[1]["card"]["envelope"]["dialect"] == "messagecard"
    assert ms[0]["text"] == "Hello World"


def test_adaptive_card_envelope(server, hook):
    env = adaptive_envelope(
        [{"type": "TextBlock", "text": "Deployed **v2**", "wrap": True},
         {"type": "FactSet", "facts": [{"title": "env", "value": "prod"}]}],
        actions=[{"type": "Action.OpenUrl", "title": "Open", "url": "https://example.com/x"},
                 {"type": "Action.Submit", "title": "Approve", "data": {"ok": 1}},
                 {"type": "Action.OpenUrl", "title": "Bad", "url": "javascript:alert(1)"}])
    r = post_hook(server, hook, env)
    assert (r.status_code, r.text) == (200, "1")
    m = only_connector_message(server, "alice", hook["_channel"]["id"])
    assert m["card"]["envelope"]["dialect"] == "adaptive"
    assert any(t.get("text") == "Deployed **v2**" for t in elements(m["card"], "TextBlock"))
    assert {"title": "env", "value": "prod"} in [f for fs in elements(m["card"], "FactSet") for f in fs["facts"]]
    opens = elements(m["card"], "Action.OpenUrl")
    assert ("Open", "https://example.com/x") in [(a["title"], a.get("url")) for a in opens], opens
    submits = elements(m["card"], "Action.Submit")
    assert len(submits) == 1 and submits[0]["isEnabled"] is False, submits
    assert not any("javascript:" in s.lower() for s in all_strings(m["card"]["content"]))
    assert "Deployed" in m["text"]


def test_bare_adaptive_card(server, hook):
    r = post_hook(server, hook, {"type": "AdaptiveCard", "version": "1.4",
                                 "body": [{"type": "TextBlock", "text": "bare card"}]})
    assert r.text == "1"
    m = only_connector_message(server, "alice", hook["_channel"]["id"])
    assert m["card"]["envelope"]["dialect"] == "adaptive"
    assert "bare card" in m["text"]


def test_slack_payload(server, hook):
    ch = hook["_channel"]
    payload = {"text": "Deploy *finished* for <https://ci.example.com/1|build 1>",
               "attachments": [{"color": "good", "title": "Details", "text": "all _fine_",
                                "fields": [{"title": "Env", "value": "prod", "short": True}]}]}
    r = post_hook(server, hook, payload, suffix="/slack")
    assert (r.status_code, r.text) == (200, "ok")
    m = only_connector_message(server, "alice", ch["id"])
    assert m["card"]["envelope"]["dialect"] == "slack"
    strings = all_strings(m["card"]["content"])
    assert any("**finished**" in s for s in strings), strings
    assert not any("*finished*" in s and "**finished**" not in s for s in strings), strings
    assert any("[build 1](https://ci.example.com/1)" in s for s in strings), strings
    facts = [f for fs in elements(m["card"], "FactSet") for f in fs["facts"]]
    assert {"title": "Env", "value": "prod"} in facts, facts
    # the same payload without the suffix is recognised as Slack by its shape (and answered Teams-style)
    r = post_hook(server, hook, payload)
    assert (r.status_code, r.text) == (200, "1")
    assert messages(server, "alice", ch["id"])[0]["card"]["envelope"]["dialect"] == "slack"


def test_slack_blocks(server, hook):
    payload = {"text": "fallback", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Release 1.2"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Shipped *today*"}}]}
    r = post_hook(server, hook, payload, suffix="/slack")
    assert r.text == "ok"
    m = only_connector_message(server, "alice", hook["_channel"]["id"])
    strings = all_strings(m["card"]["content"])
    assert any("Release 1.2" in s for s in strings) and any("Shipped **today**" in s for s in strings), strings


@pytest.mark.parametrize("dialect,payload", [
    ("slack", {"text": "hi", "username": "Deploy Bot", "icon_url": "https://example.com/bot.png"}),
    ("discord", {"content": "hi", "username": "Deploy Bot", "avatar_url": "https://example.com/bot.png"}),
])
def test_sender_override(server, hook, dialect, payload):
    q = "wait=true" if dialect == "discord" else ""
    r = post_hook(server, hook, payload, suffix=SUFFIX[dialect], query=q)
    assert r.status_code == 200, r.text
    m = only_connector_message(server, "alice", hook["_channel"]["id"])
    env = m["card"]["envelope"]
    assert env["sender"]["name"] == "Deploy Bot", env
    assert env["sender"]["image"] == "https://example.com/bot.png", env
    assert env["senderOverride"] is True and env["via"] == "CI", env
    # the author is still the connector
    assert m["author"]["type"] == "connector" and m["author"]["id"] == hook["id"] and m["author"]["name"] == "CI"


def test_discord_embeds(server, hook):
    payload = {"content": "Alert", "embeds": [
        {"title": "CPU high", "description": "on **db1**", "color": 10038562, "url": "https://grafana.example.com/d/1",
         "fields": [{"name": "value", "value": "97%", "inline": True}]}]}
    r = post_hook(server, hook, payload)   # detected by its shape on the Teams path
    assert r.text == "1"
    m = only_connector_message(server, "alice", hook["_channel"]["id"])
    assert m["card"]["envelope"]["dialect"] == "discord"
    strings = all_strings(m["card"]["content"])
    assert any("CPU high" in s for s in strings) and any("on **db1**" in s for s in strings), strings
    facts = [f for fs in elements(m["card"], "FactSet") for f in fs["facts"]]
    assert {"title": "value", "value": "97%"} in facts


def test_unsafe_links_and_images_removed(server, hook):
    card = messagecard(
        summary="s", text="see [there](https://ok.example.com)",
        sections=[{"activityImage": "javascript:alert(2)", "activityTitle": "a",
                   "images": [{"image": "data:image/png;base64,iVBORw0KGgo=", "title": "ok"},
                              {"image": "file:///etc/passwd", "title": "bad"}]}],
        potentialAction=[{"@type": "OpenUri", "name": "vb", "targets": [{"os": "default", "uri": "vbscript:x"}]},
                         {"@type": "OpenUri", "name": "mail", "targets": [{"os": "default", "uri": "mailto:a@b.example"}]}])
    r = post_hook(server, hook, card)
    assert r.text == "1"
    m = only_connector_message(server, "alice", hook["_channel"]["id"])
    strings = [s.lower() for s in all_strings(m["card"]["content"])]
    for bad in ("javascript:", "vbscript:", "file:"):
        assert not any(bad in s for s in strings), (bad, strings)
    assert any("https://ok.example.com" in s for s in strings), strings
    imgs = [e.get("url") for e in elements(m["card"], "Image")]
    assert "data:image/png;base64,iVBORw0KGgo=" in imgs, imgs
    assert ("mail", "mailto:a@b.example") in [(a["title"], a.get("url")) for a in elements(m["card"], "Action.OpenUrl")]


def test_javascript_markdown_link_in_text_removed(server, hook):
    """A Markdown link in a text is a link too: docs/api.md says links other than http(s)/mailto
    are removed."""
    for payload in (messagecard(summary="s", text="click [here](javascript:alert(1)) or [there](https://ok.example.com)"),
                    {"text": "<javascript:alert(1)|click>"}):
        r = post_hook(server, hook, payload, suffix="" if "summary" in payload else "/slack")
        assert r.status_code == 200, r.text
    for m in [m for m in messages(server, "alice", hook["_channel"]["id"]) if m["author"]["type"] == "connector"]:
        strings = [s.lower() for s in all_strings(m["card"]["content"])]
        assert not any("javascript:" in s for s in strings), strings


def test_removed_link_leaves_a_valid_card(server, hook):
    """An Action.OpenUrl whose url was removed must not stay in the card without a url (the Adaptive
    Card schema requires one): it goes, or becomes something renderable."""
    for payload in (
        adaptive_envelope([{"type": "TextBlock", "text": "x"}],
                          actions=[{"type": "Action.OpenUrl", "title": "Bad", "url": "javascript:alert(1)"}]),
        messagecard(summary="s", potentialAction=[
            {"@type": "OpenUri", "name": "Bad", "targets": [{"os": "default", "uri": "javascript:alert(1)"}]}]),
    ):
        assert post_hook(server, hook, payload).text == "1"
    for m in [m for m in messages(server, "alice", hook["_channel"]["id"]) if m["author"]["type"] == "connector"]:
        for a in elements(m["card"], "Action.OpenUrl"):
            assert str(a.get("url", "")).startswith(("http://", "https://", "mailto:")), a


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">',
                                  "\"'><svg/onload=alert(1)>&amp;"])
def test_markup_in_text_stored_as_text(server, hook, text):
    r = post_hook(server, hook, {"text": text})
    assert (r.status_code, r.text) == (200, "1")
    r = post_hook(server, hook, messagecard(summary="x", title=text, text=text))
    assert (r.status_code, r.text) == (200, "1")
    plain, card = [m for m in messages(server, "alice", hook["_channel"]["id"])
                   if m["author"]["type"] == "connector"][::-1]
    assert plain["text"] == text
    assert text in all_strings(plain["card"]["content"])
    assert text in all_strings(card["card"]["content"])
    assert text in card["text"]


def test_unicode_round_trip(server, hook):
    text = "Déploiement ✅ 🚀 — 完了"
    r = post_hook(server, hook, data=json.dumps({"text": text}, ensure_ascii=False).encode(),
                  ctype="application/json; charset=utf-8")
    assert r.text == "1"
    r = post_hook(server, hook, data=json.dumps({"text": text}).encode())   # \u escapes
    assert r.text == "1"
    ms = [m for m in messages(server, "alice", hook["_channel"]["id"]) if m["author"]["type"] == "connector"]
    assert [m["text"] for m in ms] == [text, text]


def test_invalid_utf8_refused(server, hook):
    r = post_hook(server, hook, data=b'{"text": "bad \xff\xfe bytes"}')
    assert r.status_code == 400, r.text
    assert hook_count(server, hook["_channel"]) == 0


# ---------------------------------------------------------------------------------------------
# Live events


def test_sse_members_get_card_non_members_do_not(server, hook):
    ch = hook["_channel"]
    own_team, own_ch = team_with_channel(server, owner="erin", name="Erin's")
    with server.sse("bob") as member, server.sse("erin") as outsider:
        r = post_hook(server, hook, messagecard(summary="live", text="live card", themeColor="00FF00"))
        assert r.text == "1"
        ev, _ = member.wait_for(lambda e: e.event == "message.created" and e.data["channel_id"] == ch["id"],
                                timeout=5)
        stored = messages(server, "bob", ch["id"])[0]
        assert ev.data == stored
        assert ev.seq == stored["id"]
        assert ev.data["author"]["type"] == "connector"
        assert ev.data["card"]["envelope"]["themeColor"] == "#00FF00"
        # a sentinel in erin's own team: everything before it must not include the card
        sentinel = server.post("erin", own_ch["id"], "sentinel")
        got, skipped = outsider.wait_for(lambda e: e.event == "message.created" and e.data["id"] == sentinel["id"],
                                         timeout=5)
        leaked = [e for e in skipped if e.data and e.data.get("channel_id") == ch["id"]]
        assert not leaked, leaked


# ---------------------------------------------------------------------------------------------
# Acknowledged means durable


def test_acknowledged_cards_survive_sigkill(make_server):
    srv = make_server(extra_args=["--webhook-burst", "1000", "--webhook-rate", "1000"])
    team, ch = team_with_channel(srv)
    c = create_connector(srv, "alice", ch["id"], name="durable")
    acked = []
    for i in range(50):
        r = post_hook(srv, c, messagecard(summary=f"card {i}", text=f"durable {i}"))
        assert (r.status_code, r.text) == (200, "1"), (i, r.text)
        acked.append(f"durable {i}")
    srv.kill()
    srv.start()
    ms = [m for m in srv.all_messages("alice", ch["id"]) if m["author"]["type"] == "connector"]
    got = [m["card"]["envelope"]["summary"] for m in ms]
    assert got == [f"card {i}" for i in range(50)], got
    # and the webhook still works after the restart
    r = post_hook(srv, c, {"text": "after restart"})
    assert (r.status_code, r.text) == (200, "1")
