"""The connector API (docs/api.md, "Connectors"): connector types, create with name and image,
the secret URL answered once, rename / image change, rotation, deletion, the permission matrix,
suspension when the owner leaves or is removed, take-over, and the delivery log."""

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from hooks import (GIF, IMAGES, PNG, WEBP, connector, create_connector, data_url,
                   hook_secret, image_hash, list_connectors, messagecard, messages, png,
                   poll, post_hook, team_with_channel, wait_deliveries)
from sbhelpers import assert_error

CONNECTOR_KEYS = {"id", "type", "channel_id", "channel_name", "team_id", "name", "image", "owner", "state",
                  "state_reason", "created", "last_delivery"}
DELIVERY_KEYS = {"id", "time", "dialect", "status", "error", "size", "message_id", "body"}


def check_connector(c, *, name=None, owner=None, channel=None, state="active"):
    assert CONNECTOR_KEYS <= set(c), f"missing keys {CONNECTOR_KEYS - set(c)} in {c}"
    assert c["type"] == "incoming_webhook"
    assert isinstance(c["id"], int)
    if name is not None:
        assert c["name"] == name
    if owner is not None:
        assert c["owner"]["username"] == owner, c["owner"]
        assert isinstance(c["owner"]["id"], int)
    if channel is not None:
        assert c["channel_id"] == channel["id"] and c["team_id"] == channel["team_id"]
        assert c["channel_name"] == channel["name"]
    assert c["state"] == state, c
    if state == "active":
        assert c["state_reason"] is None, c


@pytest.fixture
def server(shared_server):
    """One server for the module (every test makes its own team); tests that need options use
    make_server."""
    return shared_server


# ---------------------------------------------------------------------------------------------
# Types and creation


def test_connector_types_schema(server):
    r = server.api("bob").get("/api/v1/connector-types")
    assert r.status_code == 200, r.text
    types = r.json()["types"]
    assert isinstance(types, list) and types
    by_id = {t["id"]: t for t in types}
    assert "incoming_webhook" in by_id, types
    for t in types:
        assert {"id", "name", "description", "icon", "settings"} <= set(t), t
        for k in ("id", "name", "description", "icon"):
            assert isinstance(t[k], str) and t[k], t
        for s in t["settings"]:
            assert {"name", "label", "type", "required", "secret"} <= set(s), s
            assert isinstance(s["required"], bool) and isinstance(s["secret"], bool), s
    settings = {s["name"]: s for s in by_id["incoming_webhook"]["settings"]}
    assert settings["name"]["required"] is True
    assert "image" in settings and settings["image"]["required"] is False
    # any user, but not anonymous
    r = server.client().get("/api/v1/connector-types")
    assert_error(r, 401, "unauthorized")


@pytest.mark.parametrize("mime", sorted(IMAGES))
def test_create_with_image_served_back(server, mime):
    team, ch = team_with_channel(server, members=["bob"])
    img = IMAGES[mime]
    c = create_connector(server, "bob", ch["id"], name="Build bot", image=data_url(img, mime))
    check_connector(c, name="Build bot", owner="bob", channel=ch)
    assert c["last_delivery"] is None
    assert c["image"] == f"/api/v1/images/{image_hash(img)}", c["image"]
    # anyone may fetch it (no credentials), exact bytes, type by content
    r = server.client().get(c["image"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == mime
    assert r.content == img


def test_image_type_is_checked_by_bytes(server):
    team, ch = team_with_channel(server)
    # PNG bytes labelled as GIF are served as PNG; plain base64 (no data: prefix) is accepted too
    c1 = create_connector(server, "alice", ch["id"], name="a", image=data_url(PNG, "image/gif"))
    r = server.client().get(c1["image"])
    assert r.headers["Content-Type"].split(";")[0] == "image/png" and r.content == PNG
    big = png(4, 4, (0, 128, 255, 255))
    c2 = create_connector(server, "alice", ch["id"], name="b", image=base64.b64encode(big).decode())
    r = server.client().get(c2["image"])
    assert r.headers["Content-Type"].split(";")[0] == "image/png" and r.content == big
    # no image at all
    c3 = create_connector(server, "alice", ch["id"], name="c")
    assert c3["image"] is None


@pytest.mark.parametrize("image", [
    data_url(b"this is just text, not a picture\n" * 4, "image/png"),            # text named .png
    data_url(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),  # not an allowed type
    "data:image/png;base64,@@@not base64@@@",
    data_url(png(extra_text=b"x" * (256 * 1024 + 10))),                         # > 256 KB
], ids=["text-as-png", "svg", "bad-base64", "over-256KB"])
def test_create_bad_image_400(server, image):
    team, ch = team_with_channel(server)
    r = server.api("alice").post(f"/api/v1/channels/{ch['id']}/connectors",
                                 json={"type": "incoming_webhook", "name": "x", "image": image})
    assert_error(r, 400, ("invalid_field", "bad_request"))
    assert list_connectors(server, "alice", ch["id"]) == []


def test_image_just_under_limit_accepted(server):
    team, ch = team_with_channel(server)
    img = png(extra_text=b"y" * (240 * 1024))
    assert 240 * 1024 < len(img) < 256 * 1000
    c = create_connector(server, "alice", ch["id"], name="big", image=data_url(img))
    r = server.client().get(c["image"])
    assert r.status_code == 200 and r.content == img


@pytest.mark.parametrize("body,field", [
    ({"type": "incoming_webhook"}, "name"),
    ({"type": "incoming_webhook", "name": ""}, "name"),
    ({"type": "incoming_webhook", "name": "n" * 81}, "name"),
    ({"type": "incoming_webhook", "name": 5}, "name"),
    ({"type": "no_such_type", "name": "x"}, None),
])
def test_create_invalid_fields(server, body, field):
    team, ch = team_with_channel(server)
    r = server.api("alice").post(f"/api/v1/channels/{ch['id']}/connectors", json=body)
    assert_error(r, 400, "invalid_field", field=field)


def test_name_of_80_characters_accepted(server):
    team, ch = team_with_channel(server)
    c = create_connector(server, "alice", ch["id"], name="é" * 80)
    assert c["name"] == "é" * 80


# ---------------------------------------------------------------------------------------------
# The secret URL


def test_url_answered_once_and_secret_never_shown(server):
    team, ch = team_with_channel(server, members=["bob"])
    c = create_connector(server, "bob", ch["id"], name="CI", image=data_url(PNG))
    secret = hook_secret(c)
    assert len(secret) >= 16, c["url"]
    assert c["url"] == f"{server.url}/webhook/{c['id']}/{secret}", c["url"]
    # use it: one success, one failure (both logged with their bodies)
    r = post_hook(server, c, {"text": "hello"})
    assert (r.status_code, r.text) == (200, "1")
    r = post_hook(server, c, data=b"{oops")
    assert r.status_code == 400
    wait_deliveries(server, "bob", c["id"], 2)
    texts = []
    for u in ("alice", "bob"):
        for path in (f"/api/v1/connectors/{c['id']}", f"/api/v1/channels/{ch['id']}/connectors",
                     f"/api/v1/connectors/{c['id']}/deliveries", f"/api/v1/channels/{ch['id']}/messages"):
            r = server.api(u).get(path)
            assert r.status_code == 200, (path, r.text)
            texts.append(r.text)
    one = server.api("bob").get(f"/api/v1/connectors/{c['id']}").json()
    assert "url" not in one and "secret" not in one, one
    for item in server.api("bob").get(f"/api/v1/channels/{ch['id']}/connectors").json()["connectors"]:
        assert "url" not in item and "secret" not in item, item
    for t in texts:
        assert secret not in t
    assert len(wait_deliveries(server, "bob", c["id"], 2)) == 2
    server.wait_log(lambda lines: sum(1 for ln in lines if ln["path"].startswith("/webhook/")) >= 2)
    log = server.log_text()
    assert "/webhook/" in log
    assert secret not in log, "the webhook secret appears in the server's log"


def test_url_uses_public_url(make_server):
    srv = make_server(extra_args=["--public-url", "https://hooks.example.test/sb/"])
    team, ch = team_with_channel(srv)
    c = create_connector(srv, "alice", ch["id"], name="x")
    assert c["url"].startswith(f"https://hooks.example.test/sb/webhook/{c['id']}/"), c["url"]
    r = post_hook(srv, c, {"text": "via public url"})
    assert (r.status_code, r.text) == (200, "1")


# ---------------------------------------------------------------------------------------------
# Update, rotate, delete


def test_rename_and_change_image(server):
    team, ch = team_with_channel(server, members=["bob"])
    c = create_connector(server, "bob", ch["id"], name="old", image=data_url(PNG))
    api = server.api("bob")
    r = api.patch(f"/api/v1/connectors/{c['id']}", json={"name": "new name"})
    assert r.status_code == 200, r.text
    check_connector(r.json(), name="new name", owner="bob", channel=ch)
    assert r.json()["image"] == c["image"]
    r = api.patch(f"/api/v1/connectors/{c['id']}", json={"image": data_url(GIF, "image/gif")})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "new name"
    assert r.json()["image"] == f"/api/v1/images/{image_hash(GIF)}"
    img = server.client().get(r.json()["image"])
    assert img.headers["Content-Type"].split(";")[0] == "image/gif" and img.content == GIF
    r = api.patch(f"/api/v1/connectors/{c['id']}", json={"name": "both", "image": data_url(WEBP, "image/webp")})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "both" and r.json()["image"].endswith(image_hash(WEBP))
    assert connector(server, "alice", c["id"])["name"] == "both"
    # the next card shows the new name and image
    assert post_hook(server, c, {"text": "after rename"}).text == "1"
    m = messages(server, "bob", ch["id"])[0]
    assert m["author"]["type"] == "connector" and m["author"]["name"] == "both"
    assert m["card"]["envelope"]["sender"] == {"name": "both", "image": r.json()["image"]}
    # bad updates
    assert_error(api.patch(f"/api/v1/connectors/{c['id']}", json={}), 400, "invalid_field")
    assert_error(api.patch(f"/api/v1/connectors/{c['id']}", json={"name": ""}), 400, "invalid_field", field="name")
    assert_error(api.patch(f"/api/v1/connectors/{c['id']}",
                           json={"image": data_url(b"GIF? no, text", "image/gif")}), 400, ("invalid_field", "bad_request"))
    assert connector(server, "bob", c["id"])["name"] == "both"


def test_rotate(server):
    team, ch = team_with_channel(server, members=["bob"])
    c = create_connector(server, "bob", ch["id"], name="rot")
    assert post_hook(server, c, {"text": "before"}).text == "1"
    r = server.api("bob").post(f"/api/v1/connectors/{c['id']}/rotate")
    assert r.status_code == 200, r.text
    new = r.json()
    check_connector(new, name="rot", owner="bob", channel=ch)
    assert new["id"] == c["id"]
    assert hook_secret(new) != hook_secret(c)
    assert new["url"].startswith(f"{server.url}/webhook/{c['id']}/")
    old = post_hook(server, c, {"text": "old url"})
    assert old.status_code == 404, old.text
    unknown = post_hook(server, f"/webhook/{c['id']}/{'A' * len(hook_secret(c))}", {"text": "x"})
    assert (old.status_code, old.content) == (unknown.status_code, unknown.content)
    r = post_hook(server, new, {"text": "new url"})
    assert (r.status_code, r.text) == (200, "1")
    texts = [m["text"] for m in messages(server, "bob", ch["id"]) if m["author"]["type"] == "connector"]
    assert texts == ["new url", "before"]
    for s in (hook_secret(c), hook_secret(new)):
        assert s not in server.api("bob").get(f"/api/v1/connectors/{c['id']}").text
        assert s not in server.api("bob").get(f"/api/v1/connectors/{c['id']}/deliveries").text


def test_delete(server):
    team, ch = team_with_channel(server, members=["bob"])
    keep = create_connector(server, "bob", ch["id"], name="keep")
    c = create_connector(server, "bob", ch["id"], name="gone")
    assert post_hook(server, c, {"text": "posted before deletion"}).text == "1"
    r = server.api("bob").delete(f"/api/v1/connectors/{c['id']}")
    assert r.status_code == 204, r.text
    assert [x["id"] for x in list_connectors(server, "bob", ch["id"])] == [keep["id"]]
    r = post_hook(server, c, {"text": "after"})
    assert r.status_code == 410, r.text
    r = post_hook(server, c, {"text": "after"}, suffix="/slack")
    assert (r.status_code, r.text) == (410, "no_service")
    r = post_hook(server, c, {"content": "after"}, suffix="/discord")
    assert r.status_code == 410 and r.json()["code"] == 10015, r.text
    # the message it posted stays
    assert [m["text"] for m in messages(server, "bob", ch["id"]) if m["author"]["type"] == "connector"] == \
        ["posted before deletion"]
    # deleting again / rotating a deleted one: not found
    assert server.api("bob").delete(f"/api/v1/connectors/{c['id']}").status_code == 404
    assert server.api("bob").post(f"/api/v1/connectors/{c['id']}/rotate").status_code == 404
    # the other one still works
    assert post_hook(server, keep, {"text": "k"}).text == "1"


# ---------------------------------------------------------------------------------------------
# Permissions


def test_permission_matrix(server):
    team, ch = team_with_channel(server, owner="alice", members=["bob", "carol"])
    c = create_connector(server, "bob", ch["id"], name="bob's")      # a member may add one
    cid = c["id"]
    # non-member: 404 on everything, never 403
    erin = server.api("erin")
    for method, path, body in [
        ("GET", f"/api/v1/channels/{ch['id']}/connectors", None),
        ("POST", f"/api/v1/channels/{ch['id']}/connectors", {"type": "incoming_webhook", "name": "x"}),
        ("GET", f"/api/v1/connectors/{cid}", None),
        ("PATCH", f"/api/v1/connectors/{cid}", {"name": "erin's"}),
        ("POST", f"/api/v1/connectors/{cid}/rotate", None),
        ("POST", f"/api/v1/connectors/{cid}/takeover", None),
        ("DELETE", f"/api/v1/connectors/{cid}", None),
        ("GET", f"/api/v1/connectors/{cid}/deliveries", None),
    ]:
        r = erin.request(method, path, json=body)
        assert_error(r, 404, "not_found")
        r = server.client().request(method, path, json=body)
        assert_error(r, 401, "unauthorized")
    # another member: may read, may not change someone else's active connector
    carol = server.api("carol")
    assert carol.get(f"/api/v1/connectors/{cid}").status_code == 200
    assert carol.get(f"/api/v1/connectors/{cid}/deliveries").status_code == 200
    assert [x["id"] for x in list_connectors(server, "carol", ch["id"])] == [cid]
    assert_error(carol.patch(f"/api/v1/connectors/{cid}", json={"name": "carol's"}), 403, "forbidden")
    assert_error(carol.post(f"/api/v1/connectors/{cid}/rotate"), 403, "forbidden")
    assert_error(carol.delete(f"/api/v1/connectors/{cid}"), 403, "forbidden")
    assert_error(carol.post(f"/api/v1/connectors/{cid}/takeover"), 409, "conflict")
    after = connector(server, "bob", cid)
    check_connector(after, name="bob's", owner="bob")
    assert post_hook(server, c, {"text": "still the old secret"}).text == "1"
    # the team owner may
    alice = server.api("alice")
    r = alice.patch(f"/api/v1/connectors/{cid}", json={"name": "renamed by owner"})
    assert r.status_code == 200, r.text
    assert r.json()["owner"]["username"] == "bob"  # changing does not take it over
    r = alice.post(f"/api/v1/connectors/{cid}/rotate")
    assert r.status_code == 200 and "url" in r.json(), r.text
    assert post_hook(server, r.json(), {"text": "rotated by owner"}).text == "1"
    assert alice.delete(f"/api/v1/connectors/{cid}").status_code == 204
    # a member may delete their own
    c2 = create_connector(server, "carol", ch["id"], name="carol's")
    assert server.api("carol").delete(f"/api/v1/connectors/{c2['id']}").status_code == 204
    assert list_connectors(server, "bob", ch["id"]) == []


# ---------------------------------------------------------------------------------------------
# Ownership: suspension and take-over


@pytest.mark.parametrize("how", ["removed", "left"])
def test_owner_departure_suspends_then_takeover(server, how):
    team, ch = team_with_channel(server, owner="alice", members=["bob", "carol"])
    c = create_connector(server, "bob", ch["id"], name="bob's hook")
    r = post_hook(server, c, {"text": "posted while bob was here"})
    assert (r.status_code, r.text) == (200, "1")
    before_ids = [m["id"] for m in messages(server, "alice", ch["id"])]
    with server.sse("carol") as stream:
        if how == "removed":
            r = server.api("alice").delete(f"/api/v1/teams/{team['id']}/members/bob")
        else:
            r = server.api("bob").delete(f"/api/v1/teams/{team['id']}/members/bob")
        assert r.status_code == 204, r.text
        ev, _ = stream.wait_for(
            lambda e: e.event == "connector.updated" and e.data["id"] == c["id"], timeout=5)
        assert ev.data["id"] == c["id"] and ev.data["state"] == "suspended", ev.data
        sysmsg, _ = stream.wait_for(
            lambda e: e.event == "message.created" and e.data["channel_id"] == ch["id"], timeout=5)
        assert sysmsg.data["author"]["type"] == "system", sysmsg.data
    # listed as suspended with a reason
    lst = list_connectors(server, "carol", ch["id"])
    assert len(lst) == 1
    sus = lst[0]
    check_connector(sus, owner="bob", state="suspended")
    reason = sus["state_reason"]
    assert isinstance(reason, str) and reason.strip(), sus
    # the URL answers 403 with the reason, in each dialect
    r = post_hook(server, c, {"text": "while suspended"})
    assert r.status_code == 403, r.text
    assert reason in r.text, (reason, r.text)
    r = post_hook(server, c, {"text": "while suspended"}, suffix="/slack")
    assert (r.status_code, r.text) == (403, "action_prohibited")
    r = post_hook(server, c, {"content": "while suspended"}, suffix="/discord")
    assert r.status_code == 403 and r.json()["code"] == 50013, r.text
    # the channel got a system notice, and nothing from the suspended hook
    msgs = messages(server, "alice", ch["id"])
    new = [m for m in msgs if m["id"] not in before_ids]
    assert [m["author"]["type"] for m in new] == ["system"], new
    assert new[0]["text"].strip()
    assert "bob's hook" in new[0]["text"], new[0]["text"]
    # bob (gone) cannot see it anymore
    assert server.api("bob").get(f"/api/v1/connectors/{c['id']}").status_code == 404
    # another member takes it over: active, owned by carol, same URL works again
    r = server.api("carol").post(f"/api/v1/connectors/{c['id']}/takeover")
    assert r.status_code == 200, r.text
    taken = r.json()
    check_connector(taken, name="bob's hook", owner="carol", state="active")
    assert "url" not in taken
    r = post_hook(server, c, {"text": "after takeover"})
    assert (r.status_code, r.text) == (200, "1")
    # taking over an active one: 409
    assert_error(server.api("alice").post(f"/api/v1/connectors/{c['id']}/takeover"), 409, "conflict")
    msgs = messages(server, "alice", ch["id"])
    kinds = [(m["author"]["type"], m["text"]) for m in msgs if m["id"] not in before_ids]
    assert [k for k, _ in kinds] == ["connector", "system", "system"], kinds
    assert kinds[0][1] == "after takeover"
    # messages already posted stay, with their connector author
    old = [m for m in msgs if m["text"] == "posted while bob was here"]
    assert len(old) == 1 and old[0]["author"]["type"] == "connector"
    # now carol owns it: bob's permissions are gone, carol may rename
    assert server.api("carol").patch(f"/api/v1/connectors/{c['id']}", json={"name": "carol's"}).status_code == 200


def test_suspended_may_be_deleted_by_any_member(server):
    team, ch = team_with_channel(server, owner="alice", members=["bob", "carol"])
    c = create_connector(server, "bob", ch["id"], name="orphan")
    assert server.api("bob").delete(f"/api/v1/teams/{team['id']}/members/bob").status_code == 204
    poll(lambda: connector(server, "carol", c["id"])["state"] == "suspended", what="suspension")
    r = server.api("carol").delete(f"/api/v1/connectors/{c['id']}")
    assert r.status_code == 204, r.text
    assert post_hook(server, c, {"text": "x"}).status_code == 410
    assert list_connectors(server, "carol", ch["id"]) == []


def test_other_connectors_unaffected_by_departure(server):
    team, ch = team_with_channel(server, owner="alice", members=["bob", "carol"])
    bobs = create_connector(server, "bob", ch["id"], name="bob's")
    carols = create_connector(server, "carol", ch["id"], name="carol's")
    assert server.api("alice").delete(f"/api/v1/teams/{team['id']}/members/bob").status_code == 204
    assert post_hook(server, bobs, {"text": "x"}).status_code == 403
    assert post_hook(server, carols, {"text": "y"}).text == "1"
    assert connector(server, "alice", carols["id"])["state"] == "active"


# ---------------------------------------------------------------------------------------------
# Delivery log


def test_delivery_log_records_successes_and_failures(make_server):
    srv = make_server(extra_args=["--webhook-burst", "4", "--webhook-rate", "1"])
    team, ch = team_with_channel(srv, members=["bob"])
    c = create_connector(srv, "alice", ch["id"], name="log")
    ok_body = json.dumps({"text": "logged"}).encode()
    r = post_hook(srv, c, data=ok_body)
    assert (r.status_code, r.text) == (200, "1")
    bad_json = b'{"text": "no end"'
    r = post_hook(srv, c, data=bad_json)
    assert r.status_code == 400
    empty = json.dumps(messagecard(title="no summary, no text")).encode()
    r = post_hook(srv, c, data=empty, suffix="/slack")
    assert (r.status_code, r.text) == (400, "no_text")
    slack_ok = json.dumps({"text": "*slack*"}).encode()
    r = post_hook(srv, c, data=slack_ok, suffix="/slack")
    assert (r.status_code, r.text) == (200, "ok")
    limited = json.dumps({"text": "too fast"}).encode()
    r = post_hook(srv, c, data=limited)
    assert r.status_code == 429, r.text

    msg_ids = [m["id"] for m in messages(srv, "bob", ch["id"]) if m["author"]["type"] == "connector"]
    assert len(msg_ids) == 2
    log = wait_deliveries(srv, "bob", c["id"], 5)
    assert len(log) == 5, log
    for d in log:
        assert set(d) >= DELIVERY_KEYS, d
        assert isinstance(d["id"], int) and isinstance(d["time"], str)
    assert [d["id"] for d in log] == sorted((d["id"] for d in log), reverse=True)
    assert [d["time"] for d in log] == sorted((d["time"] for d in log), reverse=True)
    lim, s_ok, s_empty, bad, ok = log
    assert (ok["status"], ok["error"], ok["size"], ok["message_id"]) == (200, None, len(ok_body), msg_ids[1])
    assert ok["dialect"] == messages(srv, "bob", ch["id"])[-1]["card"]["envelope"]["dialect"], ok
    assert ok["body"] == ok_body.decode()
    assert bad["status"] == 400 and bad["message_id"] is None and bad["size"] == len(bad_json)
    assert "line" in bad["error"] and "column" in bad["error"], bad
    assert bad["body"] == bad_json.decode()
    assert s_empty["status"] == 400 and s_empty["dialect"] == "slack" and s_empty["message_id"] is None
    assert isinstance(s_empty["error"], str) and s_empty["error"]
    assert s_empty["body"] == empty.decode() and s_empty["size"] == len(empty)
    assert (s_ok["status"], s_ok["dialect"], s_ok["message_id"], s_ok["error"]) == (200, "slack", msg_ids[0], None)
    assert lim["status"] == 429 and lim["message_id"] is None and lim["error"], lim
    # last_delivery on the connector
    cc = connector(srv, "bob", c["id"])
    assert cc["last_delivery"]["status"] == 429 and cc["last_delivery"]["time"] == lim["time"], cc


def test_delivery_log_large_bodies_not_kept(server):
    team, ch = team_with_channel(server)
    c = create_connector(server, "alice", ch["id"], name="big")
    small = json.dumps({"text": "s" * 3000}).encode()
    large = json.dumps({"text": "L" * 6000}).encode()
    assert post_hook(server, c, data=small).text == "1"
    assert post_hook(server, c, data=large).text == "1"
    large_bad = b'{"text": "' + b"z" * 6000 + b'"'   # unterminated
    assert post_hook(server, c, data=large_bad).status_code == 400
    d_bad, d_large, d_small = wait_deliveries(server, "alice", c["id"], 3)
    assert d_small["body"] == small.decode() and d_small["size"] == len(small)
    assert d_large["body"] is None and d_large["size"] == len(large) and d_large["status"] == 200
    assert d_bad["body"] is None and d_bad["size"] == len(large_bad) and d_bad["status"] == 400


def test_delivery_log_capped_at_200(make_server):
    srv = make_server(extra_args=["--webhook-burst", "100000", "--webhook-rate", "100000"])
    team, ch = team_with_channel(srv)
    c = create_connector(srv, "alice", ch["id"], name="busy")

    def send(i):
        r = post_hook(srv, c, {"text": f"n{i}"}, headers={"Idempotency-Key": f"k{i}"})
        return r.status_code, r.text

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(205)))
    assert results == [(200, "1")] * 205
    msgs = srv.all_messages("alice", ch["id"])
    hook_msgs = [m for m in msgs if m["author"]["type"] == "connector"]
    assert len(hook_msgs) == 205
    log = wait_deliveries(srv, "alice", c["id"], 200)
    assert len(log) == 200
    ids = [d["id"] for d in log]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 200
    # the newest 200, newest first
    newest = sorted((m["id"] for m in hook_msgs), reverse=True)[:200]
    assert [d["message_id"] for d in log] == newest
