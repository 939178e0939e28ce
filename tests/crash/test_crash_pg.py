"""Crash safety on PostgreSQL (issue 7): the SIGKILL test of test_crash.py runs on PostgreSQL too
when the suite does (SB_TEST_PG); this adds a restart of PostgreSQL itself under webhook load.

test_postgres_restart_under_load
    The same senders (unique ids, Idempotency-Key, retries of whatever got no answer or a 5xx)
    and the same resuming live-event client as the SIGKILL test; meanwhile the PostgreSQL server
    is restarted (pg_ctl restart -m fast, twice). Writes during the outage answer 503 and the node
    reconnects by itself; afterwards every acknowledged message is stored exactly once, nothing
    refused is stored, the event sequence has no hole and the resumed client saw exactly it.

Needs SB_TEST_PG and SB_TEST_PG_DIR (the cluster's directory, for tests/pg/cluster.sh restart)."""

import os
import subprocess
import time
from pathlib import Path

import pytest

from test_crash import UNLIMITED, check_run, start_load

PG_DIR = os.environ.get("SB_TEST_PG_DIR")
CLUSTER = Path(__file__).resolve().parents[1] / "pg" / "cluster.sh"
pytestmark = pytest.mark.skipif(not (os.environ.get("SB_TEST_PG") and PG_DIR),
                                reason="needs SB_TEST_PG and SB_TEST_PG_DIR (make test starts a cluster)")


def test_postgres_restart_under_load(make_server):
    srv = make_server(extra_args=UNLIMITED)
    channels, senders, follower, stop = start_load(srv)
    t0 = time.monotonic()
    for _ in range(2):
        time.sleep(1.0)
        r = subprocess.run([str(CLUSTER), "restart", PG_DIR], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    time.sleep(1.5)  # traffic after the database came back
    assert srv.running, "the node survives its database's restarts"
    print(f"\n[crash-pg] 2 PostgreSQL restarts in {time.monotonic() - t0:.1f} s")
    fivexx = check_run(srv, channels, senders, follower, stop, min_acked=20, min_connects=1)
    statuses = {st for st, _ in fivexx}
    assert statuses <= {503}, f"only 503 while the database is away, got {statuses}"
    assert "database connection lost" in srv.log_text()
