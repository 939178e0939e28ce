"""Service connectors through a running server: GitHub, GitLab, Azure DevOps, Trello,
Alertmanager and Grafana. Each is added with its settings, answers its service's signature
scheme (a forged or missing signature is 401, logged, nothing posted), turns events into cards,
acknowledges events it does not render as ignored (200, logged as ignored), applies its event
filter and branch pattern, keeps related events in one thread, and lets a resolved alert replace
its firing card (message.updated)."""

import base64
import hashlib
import hmac
import json

import pytest

from hooks import hook_path, post_hook, team_with_channel, wait_deliveries
from sbhelpers import PG_URI


def create(server, user, cid, type_, expect=201, **body):
    body = {"type": type_, "name": body.pop("name", type_), **body}
    r = server.api(user).post(f"/api/v1/channels/{cid}/connectors", json=body)
    assert r.status_code == expect, r.text
    return r.json()


def gh_sign(secret, data):
    return "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def gh_post(server, hook, event, payload, secret=None, signature=None, delivery=None):
    data = json.dumps(payload).encode()
    headers = {"X-GitHub-Event": event, "User-Agent": "GitHub-Hookshot/test"}
    if delivery:
        headers["X-GitHub-Delivery"] = delivery
    if signature is None and secret is not None:
        signature = gh_sign(secret, data)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return post_hook(server, hook, data=data, headers=headers)


REPO = {"id": 1, "name": "app", "full_name": "octo/app", "html_url": "https://github.com/octo/app"}
SENDER = {"login": "alice", "html_url": "https://github.com/alice"}


def pr_event(action, number=12, title="Add search", merged=False):
    return {"action": action, "number": number, "repository": REPO, "sender": SENDER,
            "pull_request": {"number": number, "title": title,
                             "html_url": f"https://github.com/octo/app/pull/{number}",
                             "user": {"login": "alice"}, "state": "closed" if merged else "open",
                             "merged": merged, "draft": False, "body": "It searches.",
                             "head": {"ref": "search"}, "base": {"ref": "main"}}}


def top_and_thread(server, user, cid, root_id):
    api = server.api(user)
    top = api.get(f"/api/v1/channels/{cid}/messages").json()["messages"]
    replies = api.get(f"/api/v1/channels/{cid}/messages?thread={root_id}").json()["messages"]
    return top, replies


@pytest.fixture
def gh(server):
    _, ch = team_with_channel(server, members=("bob",))
    hook = create(server, "alice", ch["id"], "github", settings={"branches": "main"})
    return server, ch["id"], hook


def test_catalog_lists_the_service_types_with_their_settings(server):
    types = server.api("bob").get("/api/v1/connector-types").json()["types"]
    ids = [t["id"] for t in types]
    for t in ("incoming_webhook", "github", "gitlab", "azure_devops", "trello", "alertmanager",
              "grafana", "rss"):
        assert t in ids
    github = next(t for t in types if t["id"] == "github")
    assert github["kind"] == "push" and "{url}" in github["setup"]
    settings = {s["name"]: s for s in github["settings"]}
    assert settings["secret"]["type"] == "secret" and settings["secret"]["secret"] is True
    assert "push" in settings["events"]["options"]
    rss = next(t for t in types if t["id"] == "rss")
    assert rss["kind"] == "pulled"


def test_github_create_answers_url_and_secret_once(gh):
    server, cid, hook = gh
    assert hook["type"] == "github" and hook["has_secret"] is True
    assert len(hook["secret"]) >= 40 and "/webhook/" in hook["url"]
    assert hook["settings"] == {"events": [], "branches": "main"}
    again = server.api("alice").get(f"/api/v1/connectors/{hook['id']}").json()
    assert "secret" not in again and "url" not in again and again["has_secret"] is True
    assert hook["secret"] not in json.dumps(server.api("alice").get(
        f"/api/v1/channels/{cid}/connectors").json())


def test_github_signature_is_required(gh):
    server, cid, hook = gh
    ping = {"zen": "Keep it logically awesome.", "hook_id": 1, "repository": REPO, "sender": SENDER}
    for sig in (None, "sha256=" + "0" * 64, gh_sign("wrong", json.dumps(ping).encode()), "sha1=abc",
                "garbage"):
        r = gh_post(server, hook, "ping", ping, signature=sig)
        assert r.status_code == 401, (sig, r.status_code, r.text)
        assert "X-Hub-Signature-256" in r.text
    assert server.api("alice").get(f"/api/v1/channels/{cid}/messages").json()["messages"] == []
    log = wait_deliveries(server, "alice", hook["id"], 5)
    assert all(d["outcome"] == "refused" and d["status"] == 401 for d in log), log
    r = gh_post(server, hook, "ping", ping, secret=hook["secret"])
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    msgs = server.api("alice").get(f"/api/v1/channels/{cid}/messages").json()["messages"]
    assert len(msgs) == 1 and msgs[0]["card"]["envelope"]["dialect"] == "github"
    assert msgs[0]["author"] == {"type": "connector", "id": hook["id"], "name": "github",
                                 "image": None}


def test_github_form_encoded_body_is_signed_as_sent(gh):
    server, cid, hook = gh
    from urllib.parse import quote
    payload = json.dumps({"zen": "Design for failure.", "hook_id": 1, "repository": REPO,
                          "sender": SENDER})
    data = ("payload=" + quote(payload)).encode()
    r = post_hook(server, hook, data=data, ctype="application/x-www-form-urlencoded",
                  headers={"X-GitHub-Event": "ping",
                           "X-Hub-Signature-256": gh_sign(hook["secret"], data)})
    assert r.status_code == 200, r.text


def test_github_pull_request_events_share_a_thread(gh):
    server, cid, hook = gh
    r = gh_post(server, hook, "pull_request", pr_event("opened"), hook["secret"])
    assert r.status_code == 200, r.text
    root = r.json()["message_id"]
    assert "thread" not in r.json()
    comment = {"action": "created", "repository": REPO, "sender": SENDER,
               "issue": {"number": 12, "title": "Add search", "html_url": "https://github.com/octo/app/pull/12",
                         "user": {"login": "alice"}, "pull_request": {"url": "x"}},
               "comment": {"body": "Looks good", "html_url": "https://github.com/octo/app/pull/12#c1",
                           "user": {"login": "bob"}}}
    with server.sse("bob") as s:
        r2 = gh_post(server, hook, "issue_comment", comment, hook["secret"])
        assert r2.status_code == 200 and r2.json()["thread"] == root, r2.text
        ev = s.next_event(5)
        assert ev.event == "message.created" and ev.data["thread"] == root
    r3 = gh_post(server, hook, "pull_request", pr_event("closed", merged=True), hook["secret"])
    assert r3.json()["thread"] == root
    top, replies = top_and_thread(server, "bob", cid, root)
    assert [m["id"] for m in top] == [root]
    assert top[0]["replies"] == 2
    assert [m["id"] for m in replies] == [r3.json()["message_id"], r2.json()["message_id"]]
    other = gh_post(server, hook, "pull_request", pr_event("opened", number=13), hook["secret"])
    assert "thread" not in other.json()


def test_github_unrendered_and_filtered_events_are_ignored_and_logged(gh):
    server, cid, hook = gh
    r = gh_post(server, hook, "member", {"action": "added", "repository": REPO, "sender": SENDER},
                hook["secret"])
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["ignored"], r.text
    push = {"ref": "refs/heads/feature", "before": "a" * 40, "after": "b" * 40, "created": False,
            "deleted": False, "forced": False, "compare": "https://github.com/octo/app/compare/x",
            "repository": REPO, "sender": SENDER, "pusher": {"name": "alice"},
            "commits": [{"id": "b" * 40, "message": "fix", "url": "https://github.com/octo/app/commit/b",
                         "author": {"name": "Alice", "username": "alice"}}],
            "head_commit": None}
    r = gh_post(server, hook, "push", push, hook["secret"])  # branch pattern is "main"
    assert r.status_code == 200 and "feature" in r.json()["ignored"], r.text
    push["ref"] = "refs/heads/main"
    r = gh_post(server, hook, "push", push, hook["secret"])
    assert r.status_code == 200 and "message_id" in r.json(), r.text
    # only pull requests from now on
    p = server.api("alice").patch(f"/api/v1/connectors/{hook['id']}",
                                  json={"settings": {"events": ["pull_request"]}})
    assert p.status_code == 200 and p.json()["settings"] == {"events": ["pull_request"],
                                                             "branches": "main"}, p.text
    r = gh_post(server, hook, "push", push, hook["secret"])
    assert r.status_code == 200 and "push" in r.json()["ignored"], r.text
    log = wait_deliveries(server, "alice", hook["id"], 4)
    assert [d["outcome"] for d in log] == ["ignored", "posted", "ignored", "ignored"], log
    msgs = server.api("alice").get(f"/api/v1/channels/{cid}/messages").json()["messages"]
    assert len(msgs) == 1


def test_github_redelivery_posts_once(gh):
    server, cid, hook = gh
    for _ in range(3):
        r = gh_post(server, hook, "pull_request", pr_event("opened"), hook["secret"],
                    delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
        assert r.status_code == 200, r.text
    msgs = server.api("alice").get(f"/api/v1/channels/{cid}/messages").json()["messages"]
    assert len(msgs) == 1


def test_github_settings_are_checked(server):
    _, ch = team_with_channel(server)
    for settings, word in (({"events": ["nonsense"]}, "events"), ({"colour": "red"}, "colour"),
                           ({"branches": 5}, "branches"), ("x", "settings")):
        r = server.api("alice").post(f"/api/v1/channels/{ch['id']}/connectors",
                                     json={"type": "github", "name": "gh", "settings": settings})
        assert r.status_code == 400 and word in r.json()["error"]["message"], r.text


def test_rotating_the_signing_secret(gh):
    server, cid, hook = gh
    r = server.api("alice").post(f"/api/v1/connectors/{hook['id']}/rotate-secret")
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != hook["secret"]
    ping = {"zen": "z", "hook_id": 1, "repository": REPO, "sender": SENDER}
    assert gh_post(server, hook, "ping", ping, hook["secret"]).status_code == 401
    assert gh_post(server, hook, "ping", ping, new).status_code == 200
    # the URL stays the same; an Incoming Webhook has no signing secret to rotate
    inc = create(server, "alice", cid, "incoming_webhook", name="plain")
    r = server.api("alice").post(f"/api/v1/connectors/{inc['id']}/rotate-secret")
    assert r.status_code == 409, r.text
    # bob, a plain member, may not rotate alice's connector
    r = server.api("bob").post(f"/api/v1/connectors/{hook['id']}/rotate-secret")
    assert r.status_code == 403, r.text


@pytest.mark.skipif(bool(PG_URI), reason="SQLite only: looks for the secret in the data directory's "
                    "switchboard.db* files, which a PostgreSQL run does not have")
def test_signing_secret_is_sealed_at_rest(gh):
    server, cid, hook = gh
    server.stop()
    stored = b"".join(p.read_bytes() for p in server.data.glob("switchboard.db*"))
    assert hook["secret"].encode() not in stored
    key = server.data / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32
    server.start()
    ping = {"zen": "z", "hook_id": 1, "repository": REPO, "sender": SENDER}
    assert gh_post(server, hook, "ping", ping, hook["secret"]).status_code == 200


def test_head_answers_200_for_a_live_url_only(gh):
    server, cid, hook = gh
    assert post_hook(server, hook, method="HEAD", ctype=None).status_code == 200
    bad = hook_path(hook)[:-3] + "xyz"
    assert post_hook(server, bad, method="HEAD", ctype=None).status_code == 405
    assert post_hook(server, hook, method="GET", ctype=None).status_code == 405


def test_service_connectors_have_no_slack_or_discord_form(gh):
    server, cid, hook = gh
    r = post_hook(server, hook, {"text": "hi"}, suffix="/slack")
    assert r.status_code == 404


def test_gitlab_token(server):
    _, ch = team_with_channel(server)
    hook = create(server, "alice", ch["id"], "gitlab")
    issue = {"object_kind": "issue", "event_type": "issue", "user": {"name": "Alice", "username": "alice"},
             "project": {"path_with_namespace": "octo/app", "web_url": "https://gitlab.example/octo/app"},
             "object_attributes": {"iid": 3, "title": "Crash", "action": "open", "state": "opened",
                                   "url": "https://gitlab.example/octo/app/-/issues/3"}}
    for token in (None, "wrong"):
        headers = {"X-Gitlab-Event": "Issue Hook"}
        if token:
            headers["X-Gitlab-Token"] = token
        r = post_hook(server, hook, issue, headers=headers)
        assert r.status_code == 401, r.text
    r = post_hook(server, hook, issue, headers={"X-Gitlab-Event": "Issue Hook",
                                                "X-Gitlab-Token": hook["secret"]})
    assert r.status_code == 200 and "message_id" in r.json(), r.text


def test_azure_devops_basic_auth(server):
    _, ch = team_with_channel(server)
    hook = create(server, "alice", ch["id"], "azure_devops")
    body = {"eventType": "git.push", "publisherId": "tfs", "id": "x",
            "message": {"text": "Alice pushed", "markdown": "Alice pushed a commit to [app](https://dev.azure.com/x)"},
            "detailedMessage": {"markdown": "Alice pushed a commit"},
            "resource": {"refUpdates": [{"name": "refs/heads/main"}], "pushedBy": {"displayName": "Alice"},
                         "repository": {"name": "app"}, "commits": []}}
    for auth in (None, "Basic " + base64.b64encode(b"user:wrong").decode(), "Bearer x", "Basic ***"):
        r = post_hook(server, hook, body, headers={"Authorization": auth} if auth else {})
        assert r.status_code == 401, (auth, r.text)
    good = "Basic " + base64.b64encode(("anyone:" + hook["secret"]).encode()).decode()
    r = post_hook(server, hook, body, headers={"Authorization": good})
    assert r.status_code == 200, r.text


def test_trello_signature_covers_body_and_callback_url(server):
    _, ch = team_with_channel(server)
    hook = create(server, "alice", ch["id"], "trello", secret="trello-app-secret")
    assert "secret" not in hook  # the user's own secret is never answered back
    assert post_hook(server, hook, method="HEAD", ctype=None).status_code == 200
    body = {"model": {"id": "b1", "name": "Board"},
            "action": {"id": "a1", "type": "commentCard", "date": "2026-11-27T10:00:00.000Z",
                       "memberCreator": {"fullName": "Alice", "username": "alice"},
                       "data": {"text": "On it", "card": {"id": "c1", "name": "Fix login", "shortLink": "abc"},
                                "board": {"id": "b1", "name": "Board", "shortLink": "brd"}}}}
    data = json.dumps(body).encode()
    callback = hook["url"]
    sig = base64.b64encode(hmac.new(b"trello-app-secret", data + callback.encode(), hashlib.sha1).digest()).decode()
    assert post_hook(server, hook, data=data, headers={"X-Trello-Webhook": "x" + sig[1:]}).status_code == 401
    r = post_hook(server, hook, data=data, headers={"X-Trello-Webhook": sig})
    assert r.status_code == 200, r.text
    # a new secret (PATCH) takes over
    p = server.api("alice").patch(f"/api/v1/connectors/{hook['id']}", json={"secret": "second"})
    assert p.status_code == 200, p.text
    assert post_hook(server, hook, data=data, headers={"X-Trello-Webhook": sig}).status_code == 401


def alert(status, groupkey='{}:{alertname="HighCPU"}'):
    a = {"status": status, "labels": {"alertname": "HighCPU", "instance": "host-3", "severity": "critical"},
         "annotations": {"summary": "CPU above 90%"}, "startsAt": "2026-11-27T10:00:00Z",
         "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-27T10:05:00Z",
         "generatorURL": "http://prometheus/graph", "fingerprint": "f1"}
    return {"version": "4", "groupKey": groupkey, "status": status, "receiver": "switchboard",
            "groupLabels": {"alertname": "HighCPU"}, "commonLabels": a["labels"],
            "commonAnnotations": a["annotations"], "externalURL": "http://alertmanager:9093",
            "truncatedAlerts": 0, "alerts": [a]}


def test_alertmanager_resolved_updates_the_firing_card(server):
    _, ch = team_with_channel(server, members=("bob",))
    hook = create(server, "alice", ch["id"], "alertmanager")
    r = post_hook(server, hook, alert("firing"))
    assert r.status_code == 200, r.text
    root = r.json()["message_id"]
    firing = server.api("bob").get(f"/api/v1/channels/{ch['id']}/messages").json()["messages"][0]
    assert "FIRING" in firing["text"] and firing["edited"] is None
    with server.sse("bob") as s:
        r = post_hook(server, hook, alert("resolved"))
        assert r.status_code == 200 and r.json()["thread"] == root, r.text
        kinds = {}
        for _ in range(2):
            ev = s.next_event(5)
            kinds[ev.event] = ev.data
    assert kinds["message.created"]["thread"] == root
    updated = kinds["message.updated"]
    assert updated["id"] == root and updated["edited"] is not None
    assert "RESOLVED" in updated["text"].upper() and updated["replies"] == 1
    top = server.api("bob").get(f"/api/v1/channels/{ch['id']}/messages").json()["messages"]
    assert [m["id"] for m in top] == [root] and top[0]["text"] == updated["text"]


def test_grafana_and_alertmanager_refuse_other_bodies(server):
    _, ch = team_with_channel(server)
    for t in ("alertmanager", "grafana"):
        hook = create(server, "alice", ch["id"], t)
        r = post_hook(server, hook, {"text": "not an alert"})
        assert r.status_code in (200, 400), r.text
        if r.status_code == 200:
            assert r.json()["ignored"]
        log = wait_deliveries(server, "alice", hook["id"], 1)
        assert log[0]["outcome"] in ("refused", "ignored")
    assert server.api("alice").get(f"/api/v1/channels/{ch['id']}/messages").json()["messages"] == []


def test_suspended_service_connector_refuses(server):
    team, ch = team_with_channel(server, members=("bob",))
    hook = create(server, "bob", ch["id"], "alertmanager")
    r = server.api("alice").delete(f"/api/v1/teams/{team['id']}/members/{server.user_id('bob')}")
    assert r.status_code == 204, r.text
    r = post_hook(server, hook, alert("firing"))
    assert r.status_code == 403, r.text
    assert wait_deliveries(server, "alice", hook["id"], 1)[0]["outcome"] == "refused"
