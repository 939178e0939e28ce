"""Several nodes on one PostgreSQL database (docs/operations.md): cards posted alternately to two
nodes reach live streams on both, in the same order and without gaps; a node killed and restarted
mid-run loses nothing and its streams resume; rate limits and Idempotency-Keys hold across nodes.

Needs SB_TEST_PG (a superuser URI of a PostgreSQL cluster, as `tests/pg/cluster.sh start` prints);
skipped without it."""

import os
import shutil
import subprocess
import threading
import time

import pytest

from hooks import create_connector, post_hook, team_with_channel
from sbhelpers import (PG_URI, Server, _psql_binary, bind_database, database_of, pg_databases,
                       release_database)

pytestmark = pytest.mark.skipif(not PG_URI, reason="needs SB_TEST_PG (a PostgreSQL cluster; make test starts one)")


def _psql(sql, uri):
    r = subprocess.run([_psql_binary(), uri, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"psql {sql!r}: {r.stderr}"
    return r.stdout.strip()


class Cluster:
    """A clone of the session's template database (the standard users and their tokens), and
    nodes serving it from one data directory (so they share secret.key)."""

    def __init__(self, tmp_path, template, extra_args=()):
        self.tokens = template.tokens
        self.data = tmp_path / "data"
        shutil.copytree(template.path, self.data)
        bind_database(self.data, pg_databases().clone())
        self.uri = database_of(self.data)
        self.tmp = tmp_path
        self.extra = list(extra_args)
        self.nodes = []

    def node(self, name):
        srv = Server(self.data, self.tmp / name, tokens=self.tokens, extra_args=self.extra)
        srv.start()
        self.nodes.append(srv)
        return srv

    def close(self):
        errors = []
        for srv in self.nodes:
            try:
                srv.stop()
            except AssertionError as e:
                errors.append(str(e))
        release_database(self.data)
        assert not errors, errors


@pytest.fixture
def cluster(tmp_path, template):
    made = []

    def make(extra_args=()):
        c = Cluster(tmp_path / f"c{len(made)}", template, extra_args)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


class Collector(threading.Thread):
    """Reads one live stream and keeps the ids of the message.created events of a channel."""

    def __init__(self, srv, token, channel_id, last_event_id=None):
        super().__init__(daemon=True)
        self.stream = srv.sse(token=token, last_event_id=last_event_id)
        self.channel_id = channel_id
        self.ids, self.seqs = [], []
        self.last_seq = last_event_id
        self.stop = False
        self.start()

    def run(self):
        while not self.stop:
            try:
                ev = self.stream.next_event(timeout=0.5)
            except Exception:  # timeout or a closed stream: look again (or stop)
                if self.stream.closed:
                    return
                continue
            if ev.id is not None:
                self.seqs.append(int(ev.id))
                self.last_seq = int(ev.id)
            if ev.event == "message.created" and ev.data["channel_id"] == self.channel_id:
                self.ids.append(ev.data["id"])

    def wait_for(self, n, timeout=30):
        end = time.monotonic() + timeout
        while len(self.ids) < n and time.monotonic() < end:
            time.sleep(0.05)
        return self.ids

    def close(self):
        self.stop = True
        self.join(5)
        self.stream.close()


def stored_ids(srv, channel_id):
    return [m["id"] for m in srv.all_messages("alice", channel_id) if m["author"]["type"] == "connector"]


def test_two_nodes_same_order_no_gaps_and_a_restart(cluster):
    c = cluster(["--webhook-rate", "100000", "--webhook-burst", "100000"])
    a, b = c.node("a"), c.node("b")
    team, ch = team_with_channel(a, members=["bob"])
    hook = create_connector(a, "alice", ch["id"], name="multi")
    on_a = Collector(a, c.tokens["alice"], ch["id"])
    on_b = Collector(b, c.tokens["bob"], ch["id"])
    acked = []

    def post(node, i):
        r = post_hook(node, hook, {"text": f"card {i}"}, headers={"Idempotency-Key": f"k{i}"})
        assert r.status_code == 200, (node.port, r.status_code, r.text)
        acked.append(i)

    # posted alternately, from two threads at once, so both nodes' batches interleave
    def sender(node, first):
        for i in range(first, 200, 2):
            post(node, i)
    ts = [threading.Thread(target=sender, args=(n, k)) for n, k in ((a, 0), (b, 1))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(acked) == 200
    ids_a, ids_b = on_a.wait_for(200), on_b.wait_for(200)
    stored = stored_ids(a, ch["id"])
    assert len(stored) == 200
    assert ids_a == stored, "node A's stream: every card once, in order"
    assert ids_b == stored, "node B's stream: the same sequence"
    for col in (on_a, on_b):
        assert col.seqs == sorted(col.seqs) and len(set(col.seqs)) == len(col.seqs)

    # node B is killed mid-run; cards keep coming through A; B restarts and its stream resumes
    b_last = on_b.last_seq
    stop = threading.Event()

    def steady():
        i = 200
        while not stop.is_set():
            post(a, i)
            i += 1
            time.sleep(0.005)
    t = threading.Thread(target=steady)
    t.start()
    time.sleep(0.3)
    b.kill()
    on_b.close()
    time.sleep(0.5)
    b.start()
    time.sleep(0.3)
    stop.set()
    t.join()
    on_b2 = Collector(b, c.tokens["bob"], ch["id"], last_event_id=b_last)
    stored = stored_ids(a, ch["id"])
    assert len(stored) == len(acked)
    assert stored_ids(b, ch["id"]) == stored
    assert on_a.wait_for(len(stored)) == stored
    resumed = on_b2.wait_for(len(stored) - 200)
    assert on_b.ids + resumed == stored or resumed == stored[len(stored) - len(resumed):], \
        "the resumed stream continues exactly where B's stream stopped"
    assert on_b.ids[:200] + resumed[-(len(stored) - 200):] == stored
    on_a.close()
    on_b2.close()


def test_rate_limit_and_idempotency_hold_across_nodes(cluster):
    c = cluster(["--webhook-rate", "1", "--webhook-burst", "4"])
    a, b = c.node("a"), c.node("b")
    team, ch = team_with_channel(a)
    hook = create_connector(a, "alice", ch["id"], name="limited")
    codes = [post_hook(n, hook, {"text": f"x{i}"}).status_code for i, n in enumerate([a, b] * 5)]
    # one bucket for both nodes: 4 at once (5 if a token came back while sending), not 4 per node
    assert codes.count(200) in (4, 5), codes
    assert set(codes) == {200, 429}, codes
    time.sleep(2.1)
    first = post_hook(a, hook, {"text": "once"}, headers={"Idempotency-Key": "same-key"})
    again = post_hook(b, hook, {"text": "once"}, headers={"Idempotency-Key": "same-key"})
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    texts = [m["text"] for m in a.all_messages("alice", ch["id"])]
    assert texts.count("once") == 1, "the other node answered from the stored key"


def test_a_node_refuses_a_newer_schema(cluster, tmp_path):
    c = cluster()
    _psql("INSERT INTO schema_version VALUES(999)", c.uri)
    srv = Server(c.data, tmp_path / "newer", tokens=c.tokens, extra_args=c.extra)
    with pytest.raises(RuntimeError):
        srv.start(deadline=5)
    assert "newer than this switchboard knows" in srv.log_text()
    _psql("DELETE FROM schema_version WHERE v = 999", c.uri)


def test_one_node_runs_the_background_jobs_and_another_takes_over(cluster):
    c = cluster()
    a, b = c.node("a"), c.node("b")
    says = "this node runs the background jobs"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(says in n.log_text() for n in (a, b)):
        time.sleep(0.05)
    time.sleep(1.5)  # the other node has tried too by now (it tries once a second)
    leaders = [n for n in (a, b) if says in n.log_text()]
    assert len(leaders) == 1, "exactly one node polls feeds and sends mail"
    other = b if leaders[0] is a else a
    leaders[0].kill()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and says not in other.log_text():
        time.sleep(0.1)
    assert says in other.log_text(), "the other node takes over when the first goes away"


def test_a_node_with_another_secret_key_is_refused(cluster, tmp_path):
    c = cluster()
    c.node("a")  # records the key's fingerprint
    other = tmp_path / "other-key"
    other.write_bytes(os.urandom(32))
    other.chmod(0o600)
    srv = Server(c.data, tmp_path / "wrongkey", tokens=c.tokens,
                 extra_args=[*c.extra, "--secret-key", str(other)])
    with pytest.raises(RuntimeError):
        srv.start(deadline=5)
    assert "every node needs the same secret.key" in srv.log_text()
