"""Helpers for the Switchboard integration tests: start/stop the real binary, API sessions,
a raw HTTP/1.1 client for requests `requests` cannot send, and a small Server-Sent Events reader.

Everything that talks to the network has a timeout, so a broken server fails a test instead of
hanging it.

Backends: SQLite in each server's data directory by default. When $SB_TEST_PG holds a superuser URI
(postgres://user@host:port/db, e.g. from tests/pg/cluster.sh), every server runs on PostgreSQL
instead: the template becomes a database, each data directory gets its own database cloned from it
(a restart on the same data directory reuses it), and `serve`/`admin` get `--database`. See
PgDatabases.
"""

import atexit
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters
from http.cookiejar import DefaultCookiePolicy

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SWITCHBOARD_BIN", str(REPO / "build" / "switchboard"))

# Users created once per test session in a template data directory (argon2 is slow), then copied.
USERS = ["alice", "bob", "carol", "dave", "erin"]
ADMIN_USER = "root"
ALL_USERS = USERS + [ADMIN_USER]


def password(name):
    return f"pw-{name}-correct horse"


TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LOG_RE = re.compile(r'^(?P<time>\S+) (?P<ip>\S+) "(?P<method>[A-Z]+) (?P<path>[^"]*)" '
                    r'(?P<status>\d{3}) (?P<bytes>\d+) (?P<ms>\d+(?:\.\d+)?)ms$')

_live_procs = []


@atexit.register
def _kill_leftovers():
    for p in _live_procs:
        if p.poll() is None:
            p.kill()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------------------------------
# PostgreSQL (SB_TEST_PG)

PG_URI = os.environ.get("SB_TEST_PG") or None


def _psql_binary():
    """psql of the server's major version (pg_config --bindir), else the one on PATH."""
    try:
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        if bindir and os.access(os.path.join(bindir, "psql"), os.X_OK):
            return os.path.join(bindir, "psql")
    except (OSError, subprocess.SubprocessError):
        pass
    found = shutil.which("psql")
    if not found:
        raise RuntimeError("SB_TEST_PG is set but psql is not installed (make deps installs postgresql)")
    return found


class PgDatabases:
    """The databases of one test session on the PostgreSQL server at SB_TEST_PG.

    make_template() fills a template database through the admin CLI; every server then gets a
    database of its own, `CREATE DATABASE <name> TEMPLATE <template>`. Creating and dropping a
    database each take a few hundred milliseconds (they write and sync whole files), so one worker
    thread does it in the background over one long-lived psql session: it keeps POOL clones made
    ahead, and drops released databases when the pool is full. close() (at the end of the session)
    drops everything this session made, the template last. Names: sbt_<random>_<n>, so that
    sessions sharing a cluster do not meet."""

    POOL = 3

    def __init__(self, uri):
        self.uri = uri
        self.prefix = f"sbt_{uuid.uuid4().hex[:10]}"
        self.template = None
        self._n = 0
        self._made = []        # every database this session created, in order
        self._live = set()     # ... and not yet queued for dropping
        self._cv = threading.Condition()
        self._urgent = []      # [sql, done Event, result] run before anything else
        self._ready = []       # clones made ahead
        self._to_drop = []
        self._closing = False
        self._error = None     # the last failed background clone
        self.waited = 0.0      # seconds tests spent waiting for a clone
        self.dropped = 0
        self.drop_errors = []
        self._psql = subprocess.Popen(
            [_psql_binary(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=0", "-d", uri],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            bufsize=1, env=dict(os.environ, PGCONNECT_TIMEOUT="10"))
        _live_procs.append(self._psql)
        self._thread = threading.Thread(target=self._work, name="pg-databases", daemon=True)
        self._thread.start()
        self.sql("SELECT 1")  # fails now, not later, when the server cannot be reached

    def db_uri(self, name):
        u = urlsplit(self.uri)
        return urlunsplit(u._replace(path="/" + name))

    def _name(self):
        with self._cv:
            self._n += 1
            return f"{self.prefix}_{self._n}"

    # -- the worker (the only user of the psql session) -----------------------------------
    def _exec(self, sql):
        """Runs one statement; returns its output; raises RuntimeError with psql's error."""
        p = self._psql
        try:
            p.stdin.write(sql + ";\n\\echo __sb_done__ :ERROR\n")
            p.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise RuntimeError(f"psql ({self.uri}) is gone: {e}")
        out = []
        while True:
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"psql ({self.uri}) ended: {''.join(out)}")
            if line.startswith("__sb_done__ "):
                if line.split()[1] != "false":
                    raise RuntimeError(f"{sql}: {''.join(out).strip()}")
                return "".join(out)
            out.append(line)

    def _work(self):
        while True:
            with self._cv:
                while True:
                    if self._urgent:
                        job = ("urgent", self._urgent.pop(0))
                        break
                    if self.template and not self._closing and len(self._ready) < self.POOL \
                            and self._error is None:
                        job = ("clone", None)
                        break
                    if self._to_drop:
                        job = ("drop", self._to_drop.pop(0))
                        break
                    if self._closing:
                        return
                    self._cv.wait()
            kind, arg = job
            if kind == "urgent":
                try:
                    arg[2] = ("ok", self._exec(arg[0]))
                except RuntimeError as e:
                    arg[2] = ("error", e)
                arg[1].set()
            elif kind == "clone":
                name = self._name()
                try:
                    self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
                    with self._cv:
                        self._made.append(name)
                        self._live.add(name)
                        if self._closing:  # made while close() was queueing the drops
                            self._live.discard(name)
                            self._to_drop.insert(0, name)
                        else:
                            self._ready.append(name)
                        self._cv.notify_all()
                except RuntimeError as e:
                    with self._cv:
                        self._error = e
                        self._cv.notify_all()
            else:
                try:
                    self._exec(f'DROP DATABASE IF EXISTS "{arg}" WITH (FORCE)')
                    self.dropped += 1
                except RuntimeError as e:
                    self.drop_errors.append(f"could not drop {arg}: {e}")

    # -- the test side ----------------------------------------------------------------------
    def sql(self, sql, timeout=120):
        """Runs a statement ahead of the background work and returns its output."""
        job = [sql, threading.Event(), None]
        with self._cv:
            self._urgent.append(job)
            self._cv.notify_all()
        if not job[1].wait(timeout):
            raise RuntimeError(f"PostgreSQL did not answer within {timeout} s: {sql}")
        status, val = job[2]
        if status != "ok":
            raise val
        return val

    def create(self):
        """A new empty database; returns its name."""
        name = self._name()
        self.sql(f'CREATE DATABASE "{name}"')
        with self._cv:
            self._made.append(name)
            self._live.add(name)
        return name

    def new_template(self):
        assert self.template is None, "one template per session"
        name = self.create()
        return name

    def template_ready(self, name):
        """The template is complete (nobody is connected to it any more): start cloning."""
        with self._cv:
            self.template = name
            self._cv.notify_all()

    def clone(self, timeout=120):
        """A database cloned from the template; returns its name."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        with self._cv:
            while not self._ready:
                if self._error is not None:
                    err, self._error = self._error, None  # the next call tries again
                    self._cv.notify_all()
                    raise err
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no database cloned from {self.template} within {timeout} s")
                self._cv.wait(left)
            name = self._ready.pop(0)
            self.waited += time.monotonic() - t0
            self._cv.notify_all()
            return name

    def release(self, name):
        """Drops a database in the background (its server is gone)."""
        with self._cv:
            if name in self._live and name != self.template:
                self._live.discard(name)
                self._to_drop.append(name)
                self._cv.notify_all()

    def close(self):
        """Drops every database of the session (the template last) and ends the worker."""
        t0 = time.monotonic()
        with self._cv:
            self._closing = True
            rest = [n for n in self._made if n in self._live and n != self.template]
            self._to_drop.extend(rest + ([self.template] if self.template in self._live else []))
            self._live.clear()
            self._ready.clear()
            self._cv.notify_all()
        self._thread.join(600)
        try:
            self._psql.stdin.close()
            self._psql.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self._psql.kill()
        return [f"PostgreSQL: {len(self._made)} databases made, {self.dropped} dropped (the last ones "
                f"in {time.monotonic() - t0:.1f} s at the end); tests waited {self.waited:.1f} s "
                f"for clones"] + self.drop_errors


_pg = None
_pg_lock = threading.Lock()
pg_summary = []  # what close_databases() had to say (lines), for the end of the test report
_databases = {}  # absolute data directory -> (database name, URI): PostgreSQL runs only


def pg_databases():
    """The session's PgDatabases (made on first use), or None on SQLite."""
    global _pg
    if PG_URI is None:
        return None
    with _pg_lock:
        if _pg is None:
            _pg = PgDatabases(PG_URI)
        return _pg


def close_databases():
    """At the end of the session: drops every database it made (nothing to do on SQLite)."""
    global _pg
    with _pg_lock:
        pg, _pg = _pg, None
    if pg is not None:
        pg_summary.extend(pg.close())
    _databases.clear()


def _key(data):
    return os.path.abspath(str(data))


def bind_database(data, name):
    """From now on the servers and admin runs on this data directory use database `name`."""
    pg = pg_databases()
    _databases[_key(data)] = (name, pg.db_uri(name))


def database_of(data):
    """The database URI of a data directory, or None (SQLite in the directory)."""
    got = _databases.get(_key(data))
    return got[1] if got else None


def database_args(data):
    """["--database", URI] for a data directory on PostgreSQL, else []."""
    uri = database_of(data)
    return ["--database", uri] if uri else []


def release_database(data):
    """Drops (in the background) the database of a data directory whose servers are gone."""
    got = _databases.pop(_key(data), None)
    if got and _pg is not None:
        _pg.release(got[0])


def run_admin(data, *args, stdin=None, timeout=30):
    """Runs `switchboard admin --data DATA [--database URI] ARGS...` and returns the
    CompletedProcess."""
    return subprocess.run([BIN, "admin", "--data", str(data), *database_args(data), *args],
                          input=stdin, capture_output=True, text=True, timeout=timeout)


def make_template(dirpath):
    """Creates a data directory with the standard users and one bearer token each (on PostgreSQL:
    in a template database bound to the directory). Returns {name: token}."""
    dirpath = Path(dirpath)
    dirpath.mkdir(parents=True, exist_ok=True)
    pg = pg_databases()
    if pg is not None:
        bind_database(dirpath, pg.new_template())
    tokens = {}
    for name in ALL_USERS:
        args = ["create-user", name] + (["--admin"] if name == ADMIN_USER else []) + ["--password-stdin"]
        r = run_admin(dirpath, *args, stdin=password(name) + "\n")
        assert r.returncode == 0, f"create-user {name} failed ({r.returncode}): {r.stdout} {r.stderr}"
        r = run_admin(dirpath, "create-token", name)
        assert r.returncode == 0, f"create-token {name} failed ({r.returncode}): {r.stdout} {r.stderr}"
        tok = r.stdout.strip()
        assert tok and "\n" not in tok and " " not in tok, f"create-token printed {r.stdout!r}"
        tokens[name] = tok
    if pg is not None:
        pg.template_ready(_databases[_key(dirpath)][0])
    return tokens


class ApiSession(requests.Session):
    """requests.Session bound to a Server: relative URLs ("/api/v1/...") go to the server's
    current address (which changes on restart); a default timeout; no proxies from the environment."""

    def __init__(self, server, token=None):
        super().__init__()
        self.trust_env = False
        self._server = server
        self.token = token
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self._server.url + url
        kwargs.setdefault("timeout", 15)
        if kwargs.get("json") is not None:
            # raw UTF-8 on the wire (requests would \u-escape non-ASCII and inflate the body)
            kwargs["data"] = json.dumps(kwargs.pop("json"), ensure_ascii=False).encode("utf-8")
            hdrs = dict(kwargs.get("headers") or {})
            if not any(k.lower() == "content-type" for k in hdrs):
                hdrs["Content-Type"] = "application/json"
            kwargs["headers"] = hdrs
        return super().request(method, url, *args, **kwargs)


class Server:
    """One switchboard server process over one data directory (on PostgreSQL: and the database
    bound to it; a data directory with none gets a new empty database)."""

    def __init__(self, data, workdir, tokens=None, heartbeat=None, extra_args=()):
        self.data = Path(data)
        own_db = any(a == "--database" or str(a).startswith("--database=") for a in extra_args)
        if pg_databases() is not None and database_of(self.data) is None and not own_db:
            bind_database(self.data, pg_databases().create())
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "stderr.log"
        self.out_path = self.workdir / "stdout.log"
        self.tokens = dict(tokens or {})
        self.heartbeat = heartbeat
        self.extra_args = list(extra_args)
        self.proc = None
        self._expected_exit = False
        self.port = None
        self.host = "127.0.0.1"
        self._ids = {}
        self._clients = {}

    # -- process control ------------------------------------------------------------------
    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self, deadline=10.0):
        last_err = None
        for _attempt in range(3):  # a freshly freed port can be taken by someone else: retry
            self.port = free_port()
            args = [BIN, "serve", "--data", str(self.data), *database_args(self.data),
                    "--listen", f"{self.host}:{self.port}"]
            if self.heartbeat is not None:
                args += ["--heartbeat", str(self.heartbeat)]
            args += self.extra_args
            with open(self.log_path, "ab") as err, open(self.out_path, "ab") as out:
                self.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            self._expected_exit = False
            _live_procs.append(self.proc)
            try:
                self._wait_ready(deadline)
                return self
            except RuntimeError as e:
                last_err = e
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait(5)
                if "in use" not in self.log_text().lower():
                    break
        raise RuntimeError(f"server did not start: {last_err}\n--- stderr ---\n{self.log_text()[-4000:]}")

    def _wait_ready(self, deadline):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} during start-up")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
                r = requests.get(self.url + "/api/v1/session", timeout=2,
                                 proxies={"http": None, "https": None})
                if r.status_code in (200, 401):
                    return
            except (OSError, requests.RequestException):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"server not ready within {deadline} s")

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self._expected_exit = True
        self.proc.send_signal(sig)

    def died_unexpectedly(self):
        """None, or a description if the process ended without stop()/kill() from the test."""
        if self.proc is None or self.proc.poll() is None or self._expected_exit:
            return None
        log = self.log_text()
        tail = "\n".join(log.splitlines()[-3:])
        why = "a SIGTERM from outside the test suite" if "SIGTERM received" in tail \
            else "a crash or an exit of its own"
        return f"server pid {self.proc.pid} exited with {self.proc.returncode} without being stopped ({why})\n" \
               f"--- stderr tail ---\n{log[-2000:]}"

    def stop(self, timeout=10.0, check=True):
        """SIGTERM; waits up to `timeout` s; asserts exit code 0 (if check). Returns the exit code."""
        if not self.running:
            if check:
                died = self.died_unexpectedly()
                assert died is None, died
            return self.proc.returncode if self.proc else None
        self._expected_exit = True
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"server did not exit within {timeout} s of SIGTERM")
        self.stop_seconds = time.monotonic() - t0
        if check:
            assert rc == 0, f"server exited with {rc} after SIGTERM\n{self.log_text()[-3000:]}"
        return rc

    def kill(self):
        """SIGKILL, no questions asked."""
        if self.running:
            self._expected_exit = True
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def restart(self):
        self.stop()
        self._clients = {}
        return self.start()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_lines(self):
        """Parsed request log lines (dicts), other lines skipped."""
        out = []
        for line in self.log_text().splitlines():
            m = LOG_RE.match(line.strip())
            if m:
                out.append(m.groupdict())
        return out

    def wait_log(self, pred, timeout=3.0):
        """Polls the parsed request log until pred(lines) is true (the server may write a request's
        line just after sending the answer); returns the lines either way."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.log_lines()
            if pred(lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    @property
    def database(self):
        """The PostgreSQL URI this server runs on, or None (SQLite in the data directory)."""
        return database_of(self.data)

    def admin(self, *args, stdin=None):
        return run_admin(self.data, *args, stdin=stdin)

    # -- clients --------------------------------------------------------------------------
    def client(self, user=None, token=None):
        """A requests.Session authenticated with `user`'s bearer token (or `token`; or none)."""
        if user is not None and token is None:
            token = self.tokens[user]
        return ApiSession(self, token)

    def api(self, user):
        """Cached bearer client for `user`."""
        if user not in self._clients:
            self._clients[user] = self.client(user)
        return self._clients[user]

    def user_id(self, user):
        if user not in self._ids:
            r = self.api(user).get("/api/v1/session")
            assert r.status_code == 200, r.text
            self._ids[user] = r.json()["user"]["id"]
        return self._ids[user]

    # -- common operations (bearer) -------------------------------------------------------
    def create_team(self, user, name):
        r = self.api(user).post("/api/v1/teams", json={"name": name})
        assert r.status_code == 201, r.text
        return r.json()

    def add_member(self, owner, team_id, username, role=None):
        body = {"username": username}
        if role is not None:
            body["role"] = role
        r = self.api(owner).post(f"/api/v1/teams/{team_id}/members", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def channels(self, user, team_id):
        r = self.api(user).get(f"/api/v1/teams/{team_id}/channels")
        assert r.status_code == 200, r.text
        return r.json()["channels"]

    def general(self, user, team_id):
        chans = [c for c in self.channels(user, team_id) if c["name"] == "general"]
        assert len(chans) == 1, chans
        return chans[0]

    def create_channel(self, user, team_id, name):
        r = self.api(user).post(f"/api/v1/teams/{team_id}/channels", json={"name": name})
        assert r.status_code == 201, r.text
        return r.json()

    def post(self, user, channel_id, text):
        r = self.api(user).post(f"/api/v1/channels/{channel_id}/messages", json={"text": text})
        assert r.status_code == 201, r.text
        return r.json()

    def all_messages(self, user, channel_id):
        """Every message of a channel, oldest first, by walking `before` pages of 200."""
        out = []
        before = None
        for _ in range(10000):
            q = "limit=200" + (f"&before={before}" if before is not None else "")
            r = self.api(user).get(f"/api/v1/channels/{channel_id}/messages?{q}")
            assert r.status_code == 200, r.text
            page = r.json()
            out.extend(page["messages"])
            if not page["has_more"]:
                break
            before = page["messages"][-1]["id"]
        return sorted(out, key=lambda m: m["id"])

    def sse(self, user=None, token=None, **kw):
        if user is not None and token is None:
            token = self.tokens[user]
        return SSEStream(self.host, self.port, token=token, **kw)


def server_from_template(template_dir, tokens, workdir, heartbeat=None, start=True):
    """Copies the template data directory into workdir/data (on PostgreSQL: and binds it to a clone
    of the template database) and returns a (started) Server."""
    workdir = Path(workdir)
    data = workdir / "data"
    shutil.copytree(template_dir, data)
    if database_of(template_dir) is not None:
        bind_database(data, pg_databases().clone())
    srv = Server(data, workdir, tokens=tokens, heartbeat=heartbeat)
    if start:
        srv.start()
    return srv


# ---------------------------------------------------------------------------------------------
# Cookie sessions


def set_cookies(resp):
    """Parses every Set-Cookie header into {name: (value, {attr_lower: value})}."""
    out = {}
    for h in resp.raw.headers.getlist("Set-Cookie"):
        parts = [p.strip() for p in h.split(";")]
        name, _, value = parts[0].partition("=")
        attrs = {}
        for p in parts[1:]:
            k, _, v = p.partition("=")
            attrs[k.strip().lower()] = v.strip()
        out[name.strip()] = (value.strip(), attrs)
    return out


def cookie_client(server, cookie_value, csrf=None):
    """A session that sends exactly `sb_session=<value>` (no cookie jar) and optionally X-CSRF-Token."""
    s = ApiSession(server)
    s.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    s.headers["Cookie"] = f"sb_session={cookie_value}"
    if csrf is not None:
        s.headers["X-CSRF-Token"] = csrf
    return s


class SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Connects from a chosen loopback address (127.0.0.0/8 is all local on Linux), so a test can
    be several client addresses."""

    def __init__(self, ip, **kw):
        self._ip = ip
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self._ip, 0)
        return super().init_poolmanager(*args, **kwargs)


def login(server, user, pw=None, headers=None, source=None):
    s = ApiSession(server)
    if source is not None:
        s.mount("http://", SourceAddressAdapter(source))
    return s.post("/api/v1/session", json={"username": user, "password": pw if pw is not None else password(user)},
                  headers=headers or {})


def login_ok(server, user):
    r = login(server, user)
    assert r.status_code == 200, r.text
    cookies = set_cookies(r)
    assert "sb_session" in cookies, r.headers
    return r.json(), cookies["sb_session"][0]


# ---------------------------------------------------------------------------------------------
# Error bodies


def assert_error(resp, status, code=None, field=None):
    """Asserts an API error answer: status, JSON `{"error":{"code","message"}}`, and the code
    (a string or a tuple of acceptable strings). `field`: the message must name that field."""
    if isinstance(resp, RawResponse):
        st, body, ctype = resp.status, resp.body, resp.header("content-type") or ""
    else:
        st, body, ctype = resp.status_code, resp.content, resp.headers.get("Content-Type", "")
    assert st == status, f"expected {status}, got {st}: {body[:500]!r}"
    assert "application/json" in ctype, f"error Content-Type is {ctype!r}: {body[:300]!r}"
    doc = json.loads(body)
    assert isinstance(doc, dict) and set(doc) == {"error"}, doc
    err = doc["error"]
    assert isinstance(err, dict), doc
    assert isinstance(err.get("code"), str) and isinstance(err.get("message"), str), doc
    assert err["message"], doc
    if code is not None:
        codes = (code,) if isinstance(code, str) else tuple(code)
        assert err["code"] in codes, f"expected code {codes}, got {err['code']!r} ({err['message']!r})"
    if field is not None:
        assert field in err["message"], f"message does not name field {field!r}: {err['message']!r}"
    return err


# ---------------------------------------------------------------------------------------------
# Raw HTTP/1.1


class RawResponse:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<RawResponse {self.status} {self.body[:200]!r}>"


class _Reader:
    def __init__(self, sock, deadline):
        self.sock = sock
        self.buf = b""
        self.deadline = deadline
        self.eof = False

    def _recv(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out reading response")
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("timed out reading response")
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
        self.buf += d
        return d

    def until(self, sep):
        while sep not in self.buf:
            if not self._recv():
                raise EOFError(f"connection closed before {sep!r}; got {self.buf[:200]!r}")
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            if not self._recv():
                raise EOFError("connection closed in body")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self):
        while self._recv():
            pass
        out, self.buf = self.buf, b""
        return out


def parse_head(head):
    lines = head.split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ", 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for ln in lines[1:]:
        if not ln:
            continue
        k, _, v = ln.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    return status, reason, headers


def raw_request(host, port, data, timeout=5.0, method_head=False):
    """Sends raw bytes, reads one response (Content-Length, chunked, or until close)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as s:
        # send in pieces and stop early if the server already answers (e.g. 413 before the body)
        off = 0
        while off < len(data):
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                break
            try:
                s.sendall(data[off:off + 16384])
            except (BrokenPipeError, ConnectionResetError):
                break
            off += 16384
        r = _Reader(s, deadline)
        head = r.until(b"\r\n\r\n")
        status, reason, headers = parse_head(head)
        resp = RawResponse(status, reason, headers, b"")
        if method_head or status in (204, 304) or 100 <= status < 200:
            return resp
        te = (resp.header("transfer-encoding") or "").lower()
        cl = resp.header("content-length")
        if "chunked" in te:
            body = b""
            while True:
                size = int(r.until(b"\r\n").split(b";")[0].strip(), 16)
                if size == 0:
                    break
                body += r.exactly(size)
                r.exactly(2)
            resp.body = body
        elif cl is not None:
            resp.body = r.exactly(int(cl))
        else:
            try:
                resp.body = r.rest()
            except ConnectionResetError:
                resp.body = r.buf
        return resp


def build_request(method, path, host, headers=(), body=None, content_length=True):
    """HTTP/1.1 request bytes. `headers`: list of (name, value); body: bytes or None."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    names = {k.lower() for k, _ in headers}
    for k, v in headers:
        lines.append(f"{k}: {v}")
    if body is not None and content_length and "content-length" not in names \
            and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if body is not None:
        out += body
    return out


def chunked(body, size=16384):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


# ---------------------------------------------------------------------------------------------
# Server-Sent Events


class Event:
    def __init__(self, id, event, data):
        self.id = id
        self.event = event
        self.raw = data
        try:
            self.data = json.loads(data) if data else None
        except ValueError:
            self.data = None

    @property
    def seq(self):
        return int(self.id) if self.id is not None else None

    def __repr__(self):
        return f"<Event id={self.id} {self.event} {self.raw[:120]}>"


class Comment:
    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"<Comment {self.text!r}>"


class SSEStream:
    """A raw-socket SSE client (HTTP/1.1, chunked or close-delimited).

    After construction `status` and `headers` are known; for a 200 the constructor also waits for the
    first comment (`: welcome`) so that the subscription is known to be in place."""

    def __init__(self, host, port, path="/api/v1/events", token=None, headers=(), last_event_id=None,
                 timeout=10.0, wait_welcome=True):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        hdrs = [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")]
        if token is not None:
            hdrs.append(("Authorization", f"Bearer {token}"))
        if last_event_id is not None:
            hdrs.append(("Last-Event-ID", str(last_event_id)))
        hdrs += list(headers)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"] + [f"{k}: {v}" for k, v in hdrs]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.raw = b""          # undecoded bytes from the socket
        self.text = ""          # decoded body text not yet split into lines
        self.items = []         # parsed Events and Comments not yet consumed
        self.history = []       # everything parsed, in order
        self.retry = None
        self.closed = False     # the body ended (EOF or terminal chunk)
        self._cur = {"id": None, "event": None, "data": []}
        self._last_id = None
        self._chunked = False
        self._chunk_left = 0
        self._decoder_state = "size"
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.raw:
            if not self._recv(deadline):
                raise EOFError(f"connection closed before response headers: {self.raw!r}")
        head, _, rest = self.raw.partition(b"\r\n\r\n")
        self.raw = rest
        self.status, self.reason, hl = parse_head(head)
        self.headers = {k.lower(): v for k, v in hl}
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self._decode()
        if self.status == 200 and wait_welcome:
            self.next_comment(timeout=timeout)

    # -- low level ------------------------------------------------------------------------
    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("SSE read timed out")
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("SSE read timed out")
        except ConnectionResetError:
            d = b""
        if not d:
            self.closed = True
            return False
        self.raw += d
        return True

    def _decode(self):
        body = b""
        if not self._chunked:
            body, self.raw = self.raw, b""
        else:
            while True:
                if self._decoder_state == "size":
                    if b"\r\n" not in self.raw:
                        break
                    line, _, self.raw = self.raw.partition(b"\r\n")
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.closed = True
                        self._decoder_state = "done"
                        break
                    self._chunk_left = size
                    self._decoder_state = "data"
                elif self._decoder_state == "data":
                    if not self.raw:
                        break
                    take = self.raw[:self._chunk_left]
                    self.raw = self.raw[len(take):]
                    body += take
                    self._chunk_left -= len(take)
                    if self._chunk_left == 0:
                        self._decoder_state = "crlf"
                elif self._decoder_state == "crlf":
                    if len(self.raw) < 2:
                        break
                    self.raw = self.raw[2:]
                    self._decoder_state = "size"
                else:
                    break
        if body:
            self.text += body.decode("utf-8")
            self._parse()

    def _parse(self):
        while True:
            # SSE lines end with \r\n, \n or \r
            m = re.search(r"\r\n|\n|\r", self.text)
            if not m:
                return
            if m.group() == "\r" and m.end() == len(self.text):
                return  # could be the first half of \r\n
            line, self.text = self.text[:m.start()], self.text[m.end():]
            self._line(line)

    def _line(self, line):
        if line == "":
            cur = self._cur
            if cur["data"] or cur["event"] is not None:
                ev = Event(cur["id"] if cur["id"] is not None else self._last_id, cur["event"] or "message",
                           "\n".join(cur["data"]))
                if cur["id"] is not None:
                    self._last_id = cur["id"]
                self.items.append(ev)
                self.history.append(ev)
            elif cur["id"] is not None:
                self._last_id = cur["id"]
            self._cur = {"id": None, "event": None, "data": []}
            return
        if line.startswith(":"):
            c = Comment(line[1:].lstrip(" "))
            self.items.append(c)
            self.history.append(c)
            return
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "id":
            self._cur["id"] = value
        elif field == "event":
            self._cur["event"] = value
        elif field == "data":
            self._cur["data"].append(value)
        elif field == "retry":
            try:
                self.retry = int(value)
            except ValueError:
                pass

    def _pump(self, deadline):
        if self.closed:
            raise EOFError("SSE stream closed by the server")
        if self._recv(deadline):
            self._decode()
        if self.closed and not self.items:
            raise EOFError("SSE stream closed by the server")

    # -- API ------------------------------------------------------------------------------
    def next_item(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.items:
            self._pump(deadline)
        return self.items.pop(0)

    def next_event(self, timeout=5.0):
        """The next event (comments skipped). Raises TimeoutError or EOFError."""
        deadline = time.monotonic() + timeout
        while True:
            it = self.next_item(max(0.0, deadline - time.monotonic()) or 0.001)
            if isinstance(it, Event):
                return it

    def next_comment(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            it = self.next_item(max(0.0, deadline - time.monotonic()) or 0.001)
            if isinstance(it, Comment):
                return it

    def events(self, n, timeout=10.0):
        """Exactly the next n events."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            try:
                out.append(self.next_event(max(0.001, deadline - time.monotonic())))
            except TimeoutError:
                raise TimeoutError(f"got {len(out)} of {n} events: {out}")
        return out

    def wait_for(self, pred, timeout=5.0):
        """Consumes events until pred(event); returns (event, skipped_events)."""
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            ev = self.next_event(max(0.001, deadline - time.monotonic()))
            if pred(ev):
                return ev, skipped
            skipped.append(ev)

    def wait_closed(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.closed:
            try:
                self._pump(deadline)
            except EOFError:
                return True
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
