"""Replays the shared corpus of real payloads (shared/fixtures, see its SOURCES.md) against a running
server: every *.json to the Teams path, and slack/* and discord/* also to /slack and /discord.

Each request must get 200 (204 for Discord) or a 4xx with a non-empty reason -- never a 5xx, never a
hang -- the server must stay up, and an accepted payload must be in the channel. Files under github/,
gitlab/, trello/ ... are native service events that an Incoming Webhook does not understand: for most
of them the expected answer is 400 "Summary or Text is required.".

Fixtures: $SWITCHBOARD_FIXTURES, default /work/shared/fixtures. Run with -s for the summary table.
"""

import os
from collections import defaultdict
from pathlib import Path

import pytest
import requests

from hooks import create_connector, hook_path, team_with_channel
from sbhelpers import server_from_template

FIXTURES = Path(os.environ.get("SWITCHBOARD_FIXTURES", "/work/shared/fixtures"))
if not FIXTURES.is_dir():
    pytest.skip(f"webhook payload corpus not found at {FIXTURES} (set SWITCHBOARD_FIXTURES)",
                allow_module_level=True)

FILES = sorted(p for p in FIXTURES.rglob("*.json") if p.is_file())
if not FILES:
    pytest.skip(f"no *.json files under {FIXTURES}", allow_module_level=True)

CASES = [(p, "") for p in FILES]
CASES += [(p, "/slack") for p in FILES if p.relative_to(FIXTURES).parts[0] == "slack"]
CASES += [(p, "/discord") for p in FILES if p.relative_to(FIXTURES).parts[0] == "discord"]

TIMEOUT = 10  # seconds per request

# Known outcomes (formats.md and SOURCES.md): (file, route) -> (status, body or None)
EXPECT = {
    ("messagecard/msteams-docs.curl-hello-world.json", ""): (200, "1"),
    ("messagecard/outlook-docs.twitter-digest.no-summary.json", ""): (400, "Summary or Text is required."),
    ("messagecard/jenkins.completed-failed.json", ""): (200, "1"),
    ("adaptivecard/msteams-docs.webhook-envelope.v1.2.json", ""): (200, "1"),
    ("adaptivecard/msteams-docs.webhook-user-mention.upn-and-entra-id.json", ""): (200, "1"),
    ("slack/zulip.null_text.json", "/slack"): (400, "no_text"),
    ("slack/zulip.blocks.json", "/slack"): (200, "ok"),
    ("discord/alertmanager.execute.json", "/discord"): (200, None),
    ("discord/shoutrrr.execute.near-6000-total.json", "/discord"): (200, None),
    ("github/ping.json", ""): (400, "Summary or Text is required."),
}
RESULTS = []  # (folder, route, status, reason)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, template):
    srv = server_from_template(template.path, template.tokens, tmp_path_factory.mktemp("corpus"), start=False)
    srv.extra_args = ["--webhook-rate", "100000", "--webhook-burst", "100000"]
    srv.start()
    team, ch = team_with_channel(srv, name="Corpus")
    hooks = {route: create_connector(srv, "alice", ch["id"], name=f"corpus{route or '/teams'}")
             for route in ("", "/slack", "/discord")}
    yield srv, ch, hooks
    if srv.running:
        srv.stop()


def case_id(case):
    p, route = case
    return str(p.relative_to(FIXTURES)) + (route or "")


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_fixture(corpus, case):
    srv, ch, hooks = corpus
    path, route = case
    assert srv.running, "the server died earlier in the corpus"
    body = path.read_bytes()
    hook = hooks[route]
    url = srv.url + hook_path(hook) + route + ("?wait=true" if route == "/discord" else "")
    s = requests.Session()
    s.trust_env = False
    try:
        r = s.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    except requests.Timeout:
        RESULTS.append((path.relative_to(FIXTURES).parts[0], route or "teams", "timeout", ""))
        pytest.fail(f"no answer within {TIMEOUT} s for {case_id(case)}")
    folder = path.relative_to(FIXTURES).parts[0]
    reason = r.text.strip()
    RESULTS.append((folder, route or "teams", r.status_code, reason))
    assert srv.running, f"the server exited after {case_id(case)}:\n{srv.log_text()[-2000:]}"
    assert r.status_code < 500, f"{r.status_code} {reason[:300]}"
    want = EXPECT.get((str(path.relative_to(FIXTURES)), route))
    if want is not None:
        assert r.status_code == want[0], (r.status_code, reason[:300])
        if want[1] is not None:
            assert r.text == want[1], r.text[:300]
    if r.status_code >= 400:
        assert 400 <= r.status_code < 500
        assert reason, f"{r.status_code} without a reason"
        if route == "/discord":
            doc = r.json()
            assert isinstance(doc.get("message"), str) and doc["message"], doc
        return
    expected = {"": (200, "1"), "/slack": (200, "ok")}.get(route)
    if expected:
        assert (r.status_code, r.text) == expected, (r.status_code, r.text[:300])
        newest = srv.api("alice").get(f"/api/v1/channels/{ch['id']}/messages?limit=1").json()["messages"][0]
    else:
        assert r.status_code == 200, r.status_code
        newest = r.json()
        got = srv.api("alice").get(f"/api/v1/channels/{ch['id']}/messages?after={newest['id'] - 1}&limit=1")
        assert got.json()["messages"] == [newest], (newest, got.text[:500])
    assert newest["author"]["type"] == "connector" and newest["author"]["id"] == hook["id"], newest
    assert newest["card"] and newest["card"]["envelope"]["dialect"], newest
    if route:
        assert newest["card"]["envelope"]["dialect"] == route[1:]
    assert newest["text"].strip(), newest
    # remember it so the next accepted case checks a new message
    assert newest.get("id") not in test_fixture.seen, f"no new message for {case_id(case)}"
    test_fixture.seen.add(newest["id"])


test_fixture.seen = set()


def test_summary(corpus, capsys):
    srv, ch, hooks = corpus
    assert srv.running
    # the server still answers and shuts down cleanly (checked by the fixture too)
    assert srv.api("alice").get("/api/v1/session").status_code == 200
    table = defaultdict(lambda: [0, 0])
    reasons = defaultdict(lambda: defaultdict(int))
    for folder, route, status, reason in RESULTS:
        key = f"{folder} -> {route}"
        ok = status in (200, 204)
        table[key][0 if ok else 1] += 1
        if not ok:
            reasons[key][f"{status} {reason[:70]}"] += 1
    lines = [f"{'fixtures -> route':38} {'accepted':>8} {'refused':>8}"]
    for key in sorted(table):
        a, f = table[key]
        lines.append(f"{key:38} {a:8} {f:8}")
        for why, n in sorted(reasons[key].items(), key=lambda kv: -kv[1]):
            lines.append(f"    {n:3} x {why}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
