"""`switchboard admin` writing into the data directory of a running SQLite server (README: admin
works while the server runs): the server goes on, its event sequence stays gapless, and a live
stream of the user the admin action concerned receives those events too."""

import os

import pytest
import requests

from sbhelpers import run_admin

pytestmark = pytest.mark.skipif(bool(os.environ.get("SB_TEST_PG")),
                                reason="about two processes on one SQLite file")


def test_admin_demo_beside_a_running_server(server):
    before = server.create_team("alice", "Before")
    with server.sse("alice") as live:
        r = run_admin(server.data, "demo", "--url", server.url)  # other users, teams, events
        assert r.returncode == 0, r.stderr
        later = server.create_team("alice", "After")  # the server's next batch follows them
        ev = live.next_event(timeout=5)
        while ev.event != "team.created":
            ev = live.next_event(timeout=5)
        assert ev.data["id"] == later["id"]
    assert server.running, "the server survives writes of another process"
    with server.sse("alice", last_event_id=0) as replay:
        got = replay.events(4)  # her two teams, each with its channel
    assert [e.seq for e in got] == sorted(e.seq for e in got)
    assert [e.data["id"] for e in got if e.event == "team.created"] == [before["id"], later["id"]]
    # the demo's own webhook works through the running server
    hook = [line.split()[2] for line in r.stdout.splitlines() if line.startswith("demo webhook:")][0]
    got = requests.post(hook, json={"text": "hello"}, timeout=5)
    assert got.status_code == 200 and got.text == "1", got.text
