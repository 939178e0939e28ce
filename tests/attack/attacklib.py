"""Shared pieces of the attack tests: raising the fd limit, the attacker process, a legitimate
client that measures its latency, and the server's memory."""

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from sbhelpers import build_request, raw_request

HERE = Path(__file__).resolve().parent
FULL = os.environ.get("ATTACK_FULL") == "1"


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < need:
        try:  # root may raise the hard limit too
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            soft = need
        except (ValueError, OSError):
            pass
    return soft


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Attacker:
    """attacker.py in its own process; waits for its "ready"/"done" line."""

    def __init__(self, mode, srv, n, **opts):
        args = [sys.executable, str(HERE / "attacker.py"), mode, srv.host, str(srv.port), str(n)]
        args += [f"{k}={v}" for k, v in opts.items()]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.ready = threading.Event()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            self.lines.append(line)
            if line.startswith(("ready", "done")):
                self.ready.set()

    def wait_ready(self, timeout):
        if not self.ready.wait(timeout):
            self.stop()
            raise AssertionError(f"attacker not ready within {timeout} s: {self.lines[-3:]} "
                                 f"{self.proc.stderr.read()[-2000:] if self.proc.poll() is not None else ''}")
        return next(x for x in self.lines if x.startswith(("ready", "done")))

    def last_stats(self):
        st = [x for x in self.lines if x.startswith("stats")]
        return st[-1] if st else ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


class Legit:
    """A well-behaved client: each request on a fresh connection (as a new webhook sender or a
    browser tab would), alternating a history read and a webhook post."""

    def __init__(self, srv, channel_id, hook_path, source="127.0.0.1"):
        self.srv, self.cid, self.hook = srv, channel_id, hook_path
        self.token = srv.tokens["alice"]
        self.n = 0
        card = {"@type": "MessageCard", "summary": "legit", "text": "legit " + "x" * 900}
        self.card = json.dumps(card).encode()

    def one(self):
        self.n += 1
        host = f"{self.srv.host}:{self.srv.port}"
        if self.n % 2:
            kind = "read"
            req = build_request("GET", f"/api/v1/channels/{self.cid}/messages?limit=20", host,
                                [("Authorization", f"Bearer {self.token}")])
        else:
            kind = "write"
            req = build_request("POST", self.hook, host, [("Content-Type", "application/json")], self.card)
        t = time.perf_counter()
        try:
            r = raw_request(self.srv.host, self.srv.port, req, timeout=5)
            err = None if r.status == 200 else f"{kind}: {r.status} {r.body[:100]!r}"
        except (OSError, EOFError, TimeoutError) as e:
            err = f"{kind}: {type(e).__name__}: {e}"
        return kind, (time.perf_counter() - t) * 1000.0, err

    def measure(self, n, pace=0.004, rss_pid=None):
        lat = {"read": [], "write": []}
        errors, rss = [], []
        for i in range(n):
            kind, ms, err = self.one()
            if err:
                errors.append(err)
            else:
                lat[kind].append(ms)
            if rss_pid and i % 20 == 0:
                rss.append(rss_kb(rss_pid))
            time.sleep(pace)
        return Stats(lat, errors, rss)


class Stats:
    """p99 is asserted on the reads (a fresh connection + an authenticated history read); the
    webhook posts also wait for an fsync, whose time is the disk's, so theirs is reported."""

    def __init__(self, lat, errors, rss):
        self.lat, self.errors, self.rss = lat, errors, rss
        self.p50 = percentile(lat["read"], 50)
        self.p99 = percentile(lat["read"], 99)
        self.w50 = percentile(lat["write"], 50)
        self.w99 = percentile(lat["write"], 99)
        self.max_rss = max(rss) if rss else 0

    def __str__(self):
        return (f"reads n={len(self.lat['read'])} p50={self.p50:.2f} p99={self.p99:.2f} ms; "
                f"webhook posts n={len(self.lat['write'])} p50={self.w50:.2f} p99={self.w99:.2f} ms; "
                f"errors={len(self.errors)}")
