"""Crash safety (issue 6): SIGKILL at random moments under webhook load, and a full disk.

test_sigkill_under_webhook_load
    Sender threads post MessageCards to several webhooks, each with a unique id in its text and an
    Idempotency-Key; about one in ten is deliberately invalid (neither summary nor text: 400). The
    server is killed with SIGKILL at random moments and restarted on the same data directory (the
    same port when it can be had). A sender retries, with the same key, whatever got no answer or a
    5xx. A live-event client follows /api/v1/events all along and resumes with its last id after
    every kill. Afterwards: every acknowledged message is stored exactly once, nothing refused is
    stored, the event sequence 1..max has no hole, and the resumed client got exactly the stored
    sequence (same ids, same order, same bytes) as a replay from 0.

    CRASH_KILLS=N (default 5, the short version `make test` runs; >= 20 for the real thing).
    CRASH_SEED=N makes the kill moments repeatable.

test_full_disk
    The data directory's file system fills up (a small tmpfs, or, where mounting is not allowed,
    RLIMIT_FSIZE lowered on the running server with prlimit): writes must fail with a 5xx (the
    issue asks for 503) and be stored nowhere, reads go on, and once space returns writes succeed
    again; nothing acknowledged is lost, also across a SIGKILL afterwards.
"""

import os
import random
import re
import resource
import shutil
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests

import sbhelpers
from sbhelpers import BIN, SSEStream, Server, assert_error
from hooks import create_connector, hook_path, messagecard

KILLS = int(os.environ.get("CRASH_KILLS", "5"))
SEED = int(os.environ.get("CRASH_SEED", str(random.randrange(1 << 30))))
SENDERS = int(os.environ.get("CRASH_SENDERS", "4"))
UNLIMITED = ["--webhook-rate", "1000000", "--webhook-burst", "1000000"]
MID_RE = re.compile(r"CRASH-([0-9a-z]+-[0-9]+)-END")


# ---------------------------------------------------------------------------------------------
# process control


def start_on_port(srv, port, deadline=15.0):
    """Starts srv on `port` (the port it had before the crash) so clients keep their URL; falls
    back to a fresh port (srv.url changes; every client here reads srv.url per request).
    Returns True if the same port was used."""
    if port is not None:
        srv.port = port
        args = [BIN, "serve", "--data", str(srv.data), *sbhelpers.database_args(srv.data),
                "--listen", f"{srv.host}:{port}"]
        if srv.heartbeat is not None:
            args += ["--heartbeat", str(srv.heartbeat)]
        args += srv.extra_args
        with open(srv.log_path, "ab") as err, open(srv.out_path, "ab") as out:
            srv.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        sbhelpers._live_procs.append(srv.proc)
        try:
            srv._wait_ready(deadline)
            return True
        except RuntimeError:
            if srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait(5)
            if "in use" not in srv.log_text()[-2000:].lower():
                raise AssertionError(f"server did not come back after a crash:\n{srv.log_text()[-3000:]}")
    srv.start(deadline)
    return False


def read_all_events(srv, user, last_event_id=0, quiet=1.5, timeout=60.0):
    """Every event after last_event_id that `user` may read, until the stream is quiet."""
    out = []
    deadline = time.monotonic() + timeout
    with srv.sse(user, last_event_id=last_event_id) as s:
        while time.monotonic() < deadline:
            try:
                out.append(s.next_event(timeout=quiet))
            except TimeoutError:
                return out
    raise AssertionError(f"replay did not go quiet within {timeout} s ({len(out)} events)")


# ---------------------------------------------------------------------------------------------
# SIGKILL under load


class Sender(threading.Thread):
    """Posts cards to its webhook until told to stop; every message is retried (same
    Idempotency-Key) until it gets a final answer: 200 "1" (acknowledged) or a 4xx (refused)."""

    def __init__(self, idx, srv, hook, run_id, stop, give_up_after=40.0):
        super().__init__(daemon=True, name=f"sender{idx}")
        self.idx, self.srv, self.path, self.run_id, self.stop = idx, srv, hook_path(hook), run_id, stop
        self.give_up_after = give_up_after
        self.rng = random.Random(SEED + idx)
        self.acked = {}      # mid -> number of attempts
        self.refused = {}    # mid -> (status, body)
        self.valid = set()   # mids sent as valid cards
        self.unresolved = []  # mids that never got a final answer
        self.retries = 0
        self.fivexx = []     # (status, body) of 5xx answers
        self.session = requests.Session()
        self.session.trust_env = False

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            mid = f"{self.run_id}{self.idx}-{n}"
            valid = self.rng.random() >= 0.1
            if valid:
                self.valid.add(mid)
                body = messagecard(summary=f"crash {mid}", text=f"unique CRASH-{mid}-END",
                                   themeColor="0076D7")
            else:  # neither summary nor text: Teams answers 400 "Summary or Text is required."
                body = messagecard(title=f"refused CRASH-{mid}-END")
            self.send(mid, body, valid)

    def send(self, mid, body, valid):
        key = f"crash-{mid}"
        data = sbhelpers.json.dumps(body).encode()
        first = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                r = self.session.post(self.srv.url + self.path, data=data, timeout=5,
                                      headers={"Content-Type": "application/json", "Idempotency-Key": key})
            except requests.RequestException:
                r = None
            if r is not None and r.status_code == 200:
                assert r.text == "1", r.text
                self.acked[mid] = attempts
                return
            if r is not None and 400 <= r.status_code < 500:
                self.refused[mid] = (r.status_code, r.text[:200])
                return
            if r is not None:
                self.fivexx.append((r.status_code, r.text[:200]))
            if time.monotonic() - first > self.give_up_after:
                self.unresolved.append(mid)
                return
            self.retries += 1
            time.sleep(0.02)


class Follower(threading.Thread):
    """Follows /api/v1/events from id 0 and resumes with its last id whenever the stream breaks."""

    def __init__(self, srv, user):
        super().__init__(daemon=True, name="follower")
        self.srv, self.user = srv, user
        self.events = []  # (seq, event, raw data)
        self.last = 0
        self.connects = 0
        self.bad_status = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                s = SSEStream(self.srv.host, self.srv.port, token=self.srv.tokens[self.user],
                              last_event_id=self.last, timeout=3)
            except (OSError, EOFError, TimeoutError, ValueError):
                time.sleep(0.02)
                continue
            with s:
                if s.status != 200:
                    self.bad_status.append(s.status)
                    time.sleep(0.05)
                    continue
                self.connects += 1
                while not self.done.is_set():
                    try:
                        ev = s.next_event(timeout=0.3)
                    except TimeoutError:
                        continue
                    except (EOFError, OSError, ValueError):
                        break
                    self.events.append((ev.seq, ev.event, ev.raw))
                    self.last = ev.seq


def start_load(srv):
    """A team with two channels, SENDERS webhooks, their senders and a resuming follower, all
    started. Returns (channels, senders, follower, stop)."""
    team = srv.create_team("alice", "Crash")
    srv.add_member("alice", team["id"], "bob")
    gen = srv.general("alice", team["id"])
    ops = srv.create_channel("alice", team["id"], "ops")
    channels = [gen["id"], ops["id"]]
    hooks = [create_connector(srv, "alice" if i % 2 else "bob", channels[i % 2], name=f"hook{i}")
             for i in range(SENDERS)]

    follower = Follower(srv, "alice")
    follower.start()
    run_id = uuid.uuid4().hex[:6]
    stop = threading.Event()
    senders = [Sender(i, srv, hooks[i], run_id, stop) for i in range(SENDERS)]
    for s in senders:
        s.start()
    return channels, senders, follower, stop


def test_sigkill_under_webhook_load(make_server):
    print(f"\n[crash] CRASH_KILLS={KILLS} CRASH_SEED={SEED} senders={SENDERS}")
    rng = random.Random(SEED)
    srv = make_server(extra_args=UNLIMITED)
    channels, senders, follower, stop = start_load(srv)
    t0 = time.monotonic()
    restarts, same_port, kill_stats = [], 0, []
    for k in range(KILLS):
        time.sleep(rng.uniform(0.15, 1.2))
        acked_before = sum(len(s.acked) for s in senders)
        srv.kill()
        assert srv.proc.returncode == -signal.SIGKILL
        kill_stats.append(acked_before)
        t = time.monotonic()
        same_port += start_on_port(srv, srv.port)
        restarts.append(time.monotonic() - t)
    time.sleep(0.5)  # some traffic after the last restart
    print(f"[crash] {KILLS} kills in {time.monotonic() - t0:.1f} s; restarts on the same port: "
          f"{same_port}/{KILLS}; restart time max {max(restarts or [0]):.2f} s, "
          f"mean {sum(restarts) / max(1, len(restarts)):.2f} s")
    check_run(srv, channels, senders, follower, stop, min_acked=20 * max(1, KILLS) // 5,
              min_connects=KILLS + 1)


def check_run(srv, channels, senders, follower, stop, min_acked, min_connects):
    """Stops the load and checks what the issue asks: every acknowledged message stored exactly
    once, nothing refused stored, a gapless event sequence, and a resumed stream equal to it."""
    stop.set()
    for s in senders:
        s.join(60)
        assert not s.is_alive(), f"{s.name} hangs"

    acked = {m: s.idx for s in senders for m in s.acked}
    refused = {m: v for s in senders for m, v in s.refused.items()}
    valid = set().union(*(s.valid for s in senders))
    unresolved = [m for s in senders for m in s.unresolved]
    fivexx = [x for s in senders for x in s.fivexx]
    retries = sum(s.retries for s in senders)
    print(f"[crash] acknowledged {len(acked)}, refused {len(refused)}, retries {retries}, "
          f"5xx answers {len(fivexx)} {sorted(set(st for st, _ in fivexx))}, unresolved {len(unresolved)}")

    assert not unresolved, f"{len(unresolved)} messages never got an answer after restarts: {unresolved[:5]}"
    assert len(acked) > min_acked, "too little traffic to mean anything"
    wrongly_refused = {m: v for m, v in refused.items() if m in valid}
    assert not wrongly_refused, f"valid cards refused: {list(wrongly_refused.items())[:5]}"
    for m, (st, body) in refused.items():
        assert st == 400 and body == "Summary or Text is required.", (m, st, body)

    # --- what is stored
    stored = {}  # mid -> [message ids]
    all_msgs = {}
    for c in channels:
        for msg in srv.all_messages("alice", c):
            all_msgs[msg["id"]] = msg
            for mid in MID_RE.findall(msg["text"]):
                stored.setdefault(mid, []).append(msg["id"])
    lost = [m for m in acked if m not in stored]
    dup = {m: ids for m, ids in stored.items() if len(ids) > 1}
    refused_stored = [m for m in refused if m in stored]
    phantom = [m for m in stored if m not in acked and m not in refused]
    assert not lost, f"{len(lost)} acknowledged messages lost, e.g. {lost[:5]}"
    assert not dup, f"{len(dup)} messages stored more than once, e.g. {list(dup.items())[:5]}"
    assert not refused_stored, f"refused messages stored: {refused_stored[:5]}"
    assert not phantom, f"stored messages nobody sent: {phantom[:5]}"

    # --- the event sequence, from a replay from 0 (the source of truth)
    replay = read_all_events(srv, "alice", 0)
    seqs = [e.seq for e in replay]
    assert seqs == list(range(1, len(seqs) + 1)), \
        f"holes or disorder in the event sequence: first bad at " \
        f"{next((i for i, (a, b) in enumerate(zip(seqs, range(1, len(seqs) + 1))) if a != b), len(seqs))}"
    created = {e.seq: e for e in replay if e.event == "message.created"}
    assert set(created) == set(all_msgs), \
        f"messages without event: {sorted(set(all_msgs) - set(created))[:5]}; " \
        f"events without message: {sorted(set(created) - set(all_msgs))[:5]}"
    for i, msg in all_msgs.items():
        assert created[i].data == msg, (i, created[i].data, msg)
    kinds = {}
    for e in replay:
        kinds[e.event] = kinds.get(e.event, 0) + 1
    print(f"[crash] event sequence 1..{len(seqs)} gapless; kinds {kinds}")

    # --- the client that resumed after every kill got exactly that sequence
    deadline = time.monotonic() + 20
    while follower.last < seqs[-1] and time.monotonic() < deadline:
        time.sleep(0.05)
    follower.done.set()
    follower.join(10)
    got = follower.events
    print(f"[crash] follower: {follower.connects} connections, {len(got)} events, non-200: {follower.bad_status}")
    assert [g[0] for g in got] == seqs, _first_difference([g[0] for g in got], seqs)
    assert got == [(e.seq, e.event, e.raw) for e in replay], "resumed stream differs from the replay"
    assert follower.connects >= min_connects
    return fivexx


def _first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"resumed stream differs at position {i}: got {a[max(0, i - 3):i + 4]}, " \
                   f"stored {b[max(0, i - 3):i + 4]}"
    return f"resumed stream has {len(a)} events, stored {len(b)}"


# ---------------------------------------------------------------------------------------------
# Full disk


def _try_tmpfs(mnt, size):
    mnt.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    return r.returncode == 0, (r.stderr or r.stdout).strip()


def _ignore_sigxfsz():
    # a write past RLIMIT_FSIZE then fails with EFBIG instead of killing the process
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class FsizeServer(Server):
    """A Server whose process ignores SIGXFSZ, so lowering its RLIMIT_FSIZE makes writes fail."""

    def start(self, deadline=10.0):
        orig = subprocess.Popen

        def popen(*a, **kw):
            kw["preexec_fn"] = _ignore_sigxfsz
            return orig(*a, **kw)

        subprocess.Popen = popen
        try:
            return super().start(deadline)
        finally:
            subprocess.Popen = orig


def _fill(path):
    """Writes zeros into `path` until the file system is full; returns the bytes written."""
    n = 0
    block = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(block)
            except OSError:
                # a smaller block may still fit
                if len(block) == 512:
                    break
                block = block[:len(block) // 2]
        try:
            os.fsync(f.fileno())
        except OSError:
            pass
    return n


@pytest.mark.skipif(bool(os.environ.get("SB_TEST_PG")),
                    reason="fills the SQLite data directory's disk; PostgreSQL's own is its server's")
@pytest.mark.parametrize("method", ["tmpfs", "fsize"])
def test_full_disk(tmp_path, template, method):
    work = tmp_path / "w"
    work.mkdir()
    if method == "tmpfs":
        mnt = tmp_path / "mnt"
        ok, why = _try_tmpfs(mnt, "16m")
        if not ok:
            pytest.skip(f"cannot mount a tmpfs here ({why}); the fsize variant covers a full disk")
        data = mnt / "data"
        cleanup = lambda: subprocess.run(["umount", "-l", str(mnt)], capture_output=True)  # noqa: E731
        srv_cls = Server
    else:
        if not hasattr(resource, "prlimit"):
            pytest.skip("resource.prlimit is not available")
        data = tmp_path / "data"
        cleanup = lambda: None  # noqa: E731
        srv_cls = FsizeServer
    shutil.copytree(template.path, data)
    srv = srv_cls(data, work, tokens=template.tokens, extra_args=UNLIMITED)
    try:
        srv.start()
        _full_disk_scenario(srv, method, mnt / "filler" if method == "tmpfs" else None)
    finally:
        if srv.running:
            srv.kill()
        cleanup()


def _full_disk_scenario(srv, method, filler):
    team = srv.create_team("alice", "Disk")
    cid = srv.general("alice", team["id"])["id"]
    hook = create_connector(srv, "alice", cid, name="disk")
    api = srv.api("alice")
    acked, failed, statuses = {}, [], {}
    big = "x" * 3000

    def post(i, via):
        text = f"disk {i} DISK-{i}-END {big}"
        if via == "api":
            r = api.post(f"/api/v1/channels/{cid}/messages", json={"text": text}, timeout=10)
            ok = r.status_code == 201
        else:
            r = requests.post(srv.url + hook_path(hook), json=messagecard(text=text), timeout=10,
                              headers={"Idempotency-Key": f"disk-{i}"}, proxies={"http": None})
            ok = r.status_code == 200 and r.text == "1"
        statuses[(via, r.status_code)] = statuses.get((via, r.status_code), 0) + 1
        if ok:
            acked[i] = via
        else:
            failed.append((i, via, r))
        return r

    for i in range(20):
        assert post(i, "api" if i % 2 else "hook").status_code in (200, 201)

    # --- the disk fills up
    t_full = time.monotonic()
    if method == "tmpfs":
        filled = _fill(filler)
        how = f"tmpfs of 16 MiB, filler {filled // 1024} KiB"
    else:
        sizes = [p.stat().st_size for p in srv.data.iterdir() if p.is_file()]
        limit = max(sizes) + 64 * 1024
        resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        how = f"RLIMIT_FSIZE {limit // 1024} KiB (largest file {max(sizes) // 1024} KiB)"
    # write until writes fail several times in a row (the WAL may still have room for some)
    i, streak = 20, 0
    while streak < 6 and i < 3000:
        r = post(i, "api" if i % 2 else "hook")
        streak = streak + 1 if r.status_code >= 500 else 0
        i += 1
        assert srv.running, f"server died when the disk filled up:\n{srv.log_text()[-3000:]}"
    print(f"\n[full-disk/{method}] {how}; {i - 20} writes after filling, answers {statuses}")
    assert streak >= 6, f"writes never failed with the disk full ({i - 20} tried; {statuses})"
    for _, via, r in failed:
        assert r.status_code == 503, (via, r.status_code, r.text[:300])
        if via == "api":
            err = assert_error(r, r.status_code)
            assert err["code"] == "storage_full", err
    # what it answers, for the report (the issue asks for 503)
    last_api = [r for _, via, r in failed if via == "api"][-1]
    last_hook = [r for _, via, r in failed if via == "hook"][-1]
    print(f"[full-disk/{method}] API write answer: {last_api.status_code} {last_api.text[:120]!r}; "
          f"webhook answer: {last_hook.status_code} {last_hook.text[:120]!r}")

    # --- reads go on while the disk is full
    for _ in range(5):
        r = api.get(f"/api/v1/channels/{cid}/messages?limit=50")
        assert r.status_code == 200, f"reads fail while the disk is full: {r.status_code} {r.text[:200]}"
        assert api.get("/api/v1/teams").status_code == 200
    with srv.sse("alice", last_event_id=0) as s:
        assert s.next_event(5).event == "team.created"
    # every message acknowledged so far is readable
    have = {int(m) for m in _stored_ids(srv, cid)}
    assert set(acked) <= have, f"acknowledged but not readable: {sorted(set(acked) - have)[:5]}"

    # --- space returns
    if method == "tmpfs":
        filler.unlink()
    else:
        resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    t_back = time.monotonic()
    recovered = None
    while time.monotonic() - t_back < 15:
        r = post(i, "api" if i % 2 else "hook")
        i += 1
        if r.status_code in (200, 201):
            recovered = time.monotonic() - t_back
            break
        time.sleep(0.1)
    assert recovered is not None, f"writes still fail 15 s after space returned: {r.status_code} {r.text[:200]}\n" \
                                  f"{srv.log_text()[-2000:]}"
    for k in range(10):
        r = post(i, "api" if i % 2 else "hook")
        assert r.status_code in (200, 201), f"write after recovery: {r.status_code} {r.text[:200]}"
        i += 1
    print(f"[full-disk/{method}] writes fail for {t_back - t_full:.1f} s; first success "
          f"{recovered * 1000:.0f} ms after space returned; acknowledged {len(acked)}, failed {len(failed)}")

    # --- nothing acknowledged lost, nothing failed stored, also after a crash
    for when in ("running", "after SIGKILL"):
        ids = _stored_ids(srv, cid)
        counts = {}
        for x in ids:
            counts[x] = counts.get(x, 0) + 1
        lost = sorted(set(acked) - set(counts))
        assert not lost, f"{when}: acknowledged messages lost: {lost[:10]}"
        assert all(v == 1 for v in counts.values()), f"{when}: duplicates {[k for k, v in counts.items() if v > 1]}"
        ghost = sorted({x for x, _, _ in failed} & set(counts))
        assert not ghost, f"{when}: writes answered 5xx were stored: {ghost[:10]}"
        if when == "running":
            srv.kill()
            srv.start()
    # the event sequence has no holes after all that
    replay = read_all_events(srv, "alice", 0)
    seqs = [e.seq for e in replay]
    assert seqs == list(range(1, len(seqs) + 1)), "holes in the event sequence after the full disk"
    srv.stop()


def _stored_ids(srv, cid):
    out = []
    for m in srv.all_messages("alice", cid):
        out += [int(x) for x in re.findall(r"DISK-(\d+)-END", m["text"])]
    return out
