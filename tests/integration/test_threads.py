"""Message threads: a reply carries the id of its thread's root, is listed under that root (not in
the channel's top level), arrives live like any message, and can only reply to a message of the
same channel; a reply to a reply joins the root's thread."""


def _reply(srv, user, cid, text, thread):
    return srv.api(user).post(f"/api/v1/channels/{cid}/messages", json={"text": text, "thread": thread})


def _page(srv, user, cid, query=""):
    r = srv.api(user).get(f"/api/v1/channels/{cid}/messages{query}")
    assert r.status_code == 200, r.text
    return r.json()


def test_replies_are_listed_under_their_root(server):
    team = server.create_team("alice", "Threads")
    cid = server.general("alice", team["id"])["id"]
    root = server.post("alice", cid, "deploy 1.4.2?")
    other = server.post("alice", cid, "unrelated")
    with server.sse("alice") as s:
        r1 = _reply(server, "alice", cid, "yes, go", root["id"])
        assert r1.status_code == 201, r1.text
        assert r1.json()["thread"] == root["id"]
        ev = s.next_event(5)
        assert ev.event == "message.created" and ev.data == r1.json()
    r2 = _reply(server, "alice", cid, "done", r1.json()["id"])  # a reply to a reply
    assert r2.status_code == 201 and r2.json()["thread"] == root["id"]

    top = _page(server, "alice", cid)["messages"]
    assert [m["id"] for m in top][:2] == [other["id"], root["id"]], top
    assert all(m["thread"] is None for m in top)
    replies = _page(server, "alice", cid, f"?thread={root['id']}")
    assert [m["id"] for m in replies["messages"]] == [r2.json()["id"], r1.json()["id"]]
    assert replies["has_more"] is False
    first = _page(server, "alice", cid, f"?thread={root['id']}&after=0&limit=1")
    assert [m["id"] for m in first["messages"]] == [r1.json()["id"]] and first["has_more"] is True
    assert _page(server, "alice", cid, f"?thread={other['id']}")["messages"] == []


def test_a_thread_must_be_a_message_of_the_channel(server):
    team = server.create_team("alice", "Threads")
    cid = server.general("alice", team["id"])["id"]
    side = server.api("alice").post(f"/api/v1/teams/{team['id']}/channels", json={"name": "side"})
    assert side.status_code == 201, side.text
    elsewhere = server.post("alice", side.json()["id"], "in #side")
    before = _page(server, "alice", cid)["messages"]
    for bad in (elsewhere["id"], 999999, 0, -3, "12", 1.5, True):
        r = _reply(server, "alice", cid, "nope", bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_field", r.text
        assert "thread" in r.json()["error"]["message"]
    assert _page(server, "alice", cid)["messages"] == before
    r = server.api("alice").get(f"/api/v1/channels/{cid}/messages?thread=abc")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
