"""The terminal client (`switchboard login|channels|post|tail|webhook`, issue 8) run as a real
program against a test server, through the public HTTP API only: the saved login and its file
modes, channel names, posting, the history and the live feed of `tail` (on a pseudo-terminal,
with colour; across a server restart; with hostile escape sequences in cards), the Incoming
Webhook commands, and one-line errors."""

import fcntl
import json
import os
import pty
import re
import select
import signal
import stat
import subprocess
import termios
import threading
import time

import pytest

import sbhelpers
from hooks import PNG, create_connector, messagecard, messages, post_hook, team_with_channel
from sbhelpers import BIN, password

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
              "no_proxy", "NO_PROXY")
# what our own output may contain: SGR sequences only
SGR_RE = re.compile(r"\x1b\[[0-9;]*m")


def client_env(tmp_path, server=None, user=None, **extra):
    """An environment for the client: its own XDG_CONFIG_HOME, UTC, no proxies, no NO_COLOR;
    with server and user: SWITCHBOARD_URL and SWITCHBOARD_TOKEN."""
    env = {k: v for k, v in os.environ.items()
           if k not in PROXY_VARS and not k.startswith("SWITCHBOARD_") and k != "NO_COLOR"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["HOME"] = str(tmp_path / "home")
    env["TZ"] = "UTC"
    if server is not None and user is not None:
        env["SWITCHBOARD_URL"] = server.url
        env["SWITCHBOARD_TOKEN"] = server.tokens[user]
    env.update(extra)
    return env


def run(env, *args, stdin=None, timeout=20, umask=None):
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=timeout, preexec_fn=preexec)


def one_line_error(r):
    """Asserts a failed run with exactly one line on stderr; returns it."""
    assert r.returncode != 0, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("switchboard "), r.stderr
    return lines[0]


class Output:
    """Collects what a running client writes on one file descriptor (a pipe or a pty master) in
    a thread, so a test can wait for text without blocking."""

    def __init__(self, fd):
        self.fd = fd
        self.data = b""
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while True:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.2)
                if not r:
                    continue
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO on a pty master once the child is gone
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    @property
    def text(self):
        with self.lock:
            return self.data.decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for(self, needle, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text:
                return time.monotonic()
            time.sleep(0.01)
        raise AssertionError(f"{needle!r} did not show within {timeout} s; output so far:\n{self.text}")


class Tail:
    """`switchboard tail ...` running, on a pipe or (pty=True) on a pseudo-terminal that is its
    controlling terminal (so Ctrl-C typed there reaches it)."""

    def __init__(self, env, args, tmp_path, pty_mode=False):
        self.err_path = tmp_path / f"tail-stderr-{time.monotonic_ns()}.log"
        err = open(self.err_path, "wb")
        if pty_mode:
            master, slave = pty.openpty()

            def preexec():
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

            self.proc = subprocess.Popen([BIN, "tail", *args], stdin=slave, stdout=slave, stderr=err,
                                         env=env, preexec_fn=preexec)
            os.close(slave)
            self.master = master
            self.out = Output(master)
        else:
            self.proc = subprocess.Popen([BIN, "tail", *args], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=err, env=env)
            self.master = None
            self.out = Output(self.proc.stdout.fileno())
        err.close()

    @property
    def stderr(self):
        return self.err_path.read_text(errors="replace")

    def ctrl_c(self):
        if self.master is not None:
            os.write(self.master, b"\x03")  # typed on the terminal: the tty sends SIGINT
        else:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass


@pytest.fixture
def tails():
    started = []

    def start(*a, **kw):
        t = Tail(*a, **kw)
        started.append(t)
        return t

    yield start
    for t in started:
        t.stop()


# ---------------------------------------------------------------------------------------------
# login


def test_login_with_password_stdin_saves_a_private_config(server, tmp_path):
    env = client_env(tmp_path)
    # umask 0: the file must be created 0600 by open(), not made private afterwards
    r = run(env, "login", server.url + "/", "--user", "alice", "--password-stdin",
            stdin=password("alice") + "\n", umask=0)
    assert r.returncode == 0, r.stderr
    assert "alice" in r.stdout
    cfg_dir = tmp_path / "config" / "switchboard"
    cfg = cfg_dir / "config.json"
    assert stat.S_IMODE(cfg_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    doc = json.loads(cfg.read_text())
    assert doc["url"] == server.url  # normalised: no trailing slash
    assert password("alice") not in cfg.read_text()
    assert doc.get("token") or doc.get("session")

    # the saved login works for the other commands (no SWITCHBOARD_* in the environment)
    server.create_team("alice", "Ops")
    r = run(env, "channels")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["Ops/general"]
    team = server.api("alice").get("/api/v1/teams").json()["teams"][0]
    r = run(env, "post", "Ops/general", "from a saved login")  # a write (CSRF for a session)
    assert r.returncode == 0, r.stderr
    assert messages(server, "alice", server.general("alice", team["id"])["id"])[0]["text"] == \
        "from a saved login"

    # the saved credentials are not sent to another server named by SWITCHBOARD_URL
    other = client_env(tmp_path, SWITCHBOARD_URL="http://127.0.0.1:9")
    line = one_line_error(run(other, "channels"))
    assert "not logged in" in line


def test_login_asks_on_the_terminal_without_echoing_the_password(server, tmp_path):
    master, slave = pty.openpty()

    def preexec():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([BIN, "login", server.url], stdin=slave, stdout=slave,
                            stderr=subprocess.STDOUT, env=client_env(tmp_path), preexec_fn=preexec)
    os.close(slave)
    out = Output(master)
    try:
        out.wait_for("username: ")
        os.write(master, b"alice\n")
        out.wait_for("password: ")  # the echo is off before the prompt shows
        os.write(master, (password("alice") + "\n").encode())
        assert proc.wait(20) == 0, out.text
        out.wait_for("logged in to")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert "alice" in out.text  # the name is echoed ...
    assert password("alice") not in out.text  # ... the password is not
    cfg = tmp_path / "config" / "switchboard" / "config.json"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


def test_login_refusals_and_token(server, tmp_path):
    env = client_env(tmp_path)
    line = one_line_error(run(env, "login", server.url, "--user", "alice", "--password-stdin",
                              stdin="wrong password\n"))
    assert "wrong username or password" in line and "invalid_credentials" in line
    assert not (tmp_path / "config" / "switchboard" / "config.json").exists()

    line = one_line_error(run(env, "login", server.url, "--token", "not-a-token"))
    assert "401" in line

    r = run(env, "login", server.url, "--token", "-", stdin=server.tokens["bob"] + "\n")
    assert r.returncode == 0, r.stderr
    assert "bob" in r.stdout
    cfg = tmp_path / "config" / "switchboard" / "config.json"
    assert json.loads(cfg.read_text()) == {"url": server.url, "token": server.tokens["bob"]}
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600

    # SWITCHBOARD_TOKEN overrides the file
    server.create_team("alice", "Alpha")
    server.create_team("bob", "Bravo")
    assert run(env, "channels").stdout.splitlines() == ["Bravo/general"]
    env_alice = dict(env, SWITCHBOARD_TOKEN=server.tokens["alice"])
    assert run(env_alice, "channels").stdout.splitlines() == ["Alpha/general"]


def test_help_and_usage(tmp_path):
    env = client_env(tmp_path)
    for cmd in ("login", "channels", "tail", "post", "webhook"):
        r = run(env, cmd, "--help")
        assert r.returncode == 0, (cmd, r.stderr)
        assert r.stdout.startswith("usage: switchboard " + cmd), (cmd, r.stdout)
    assert run(env, "tail").returncode == 2
    assert run(env, "webhook", "frobnicate").returncode == 2
    line = one_line_error(run(env, "channels"))
    assert "not logged in" in line and "switchboard login" in line


# ---------------------------------------------------------------------------------------------
# channels, post, tail history


def test_channels_lists_only_the_callers_teams(server, tmp_path):
    team = server.create_team("alice", "Ops")
    server.create_channel("alice", team["id"], "alerts")
    server.create_team("bob", "Secret")
    other = server.create_team("carol", "Shared")
    server.add_member("carol", other["id"], "alice")
    r = run(client_env(tmp_path, server, "alice"), "channels")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["Ops/alerts", "Ops/general", "Shared/general"]


def test_post_then_tail_history(server, tmp_path):
    env = client_env(tmp_path, server, "alice")
    team, ch = team_with_channel(server, members=["bob"])
    r = run(env, "post", "Ops/general", "hello **world**")
    assert r.returncode == 0, r.stderr
    first_id = int(r.stdout.strip())
    r = run(env, "post", "Ops/general", "-", stdin="from stdin\nsecond line\n")
    assert r.returncode == 0, r.stderr
    second_id = int(r.stdout.strip())
    assert second_id > first_id
    stored = {m["id"]: m for m in messages(server, "alice", ch["id"])}
    assert stored[first_id]["text"] == "hello **world**"
    assert stored[second_id]["text"] == "from stdin\nsecond line"
    # a reply by bob, in the thread of the first message
    r = server.api("bob").post(f"/api/v1/channels/{ch['id']}/messages",
                               json={"text": "a reply", "thread": first_id})
    assert r.status_code == 201, r.text

    r = run(env, "tail", "Ops/general", "-n", "5", "--no-follow")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 4, r.stdout
    assert re.fullmatch(r"\d\d:\d\d alice: hello world", lines[0]), lines  # oldest first
    assert re.fullmatch(r"  ↳ \d\d:\d\d bob: a reply", lines[1]), lines
    assert re.fullmatch(r"\d\d:\d\d alice: from stdin", lines[2]), lines
    assert lines[3] == "      second line"
    assert "\x1b" not in r.stdout  # not a terminal: no colour

    r = run(env, "tail", "Ops/general", "-n1", "--no-follow")
    assert r.stdout.splitlines() == lines[2:], r.stdout

    line = one_line_error(run(env, "post", "Ops/nope", "x"))
    assert "no channel" in line
    line = one_line_error(run(env, "tail", "Nope/general", "--no-follow"))
    assert "no team" in line
    line = one_line_error(run(client_env(tmp_path, server, "carol"), "post", "Ops/general", "x"))
    assert "no team" in line  # carol is not a member: the team does not exist for her
    bad = client_env(tmp_path, server, "alice", SWITCHBOARD_TOKEN="bogus-token")
    line = one_line_error(run(bad, "channels"))
    assert "unauthorized" in line and "401" in line
    down = client_env(tmp_path, server, "alice", SWITCHBOARD_URL="http://127.0.0.1:9")
    line = one_line_error(run(down, "channels"))
    assert "cannot reach http://127.0.0.1:9" in line


# ---------------------------------------------------------------------------------------------
# tail, live


DEPLOY_CARD = messagecard(summary="Deploy finished", title="Deploy finished", themeColor="2EB67D",
                          text="**api** v1.4.2 is live",
                          sections=[{"facts": [{"name": "Environment", "value": "production"},
                                               {"name": "By", "value": "bob"}]}],
                          potentialAction=[{"@type": "OpenUri", "name": "Open",
                                            "targets": [{"os": "default",
                                                         "uri": "https://example.org/deploys/7"}]}])


def test_tail_on_a_terminal_shows_a_webhook_card_live_in_colour(server, tmp_path, tails):
    team, ch = team_with_channel(server, members=["bob"])
    server.post("alice", ch["id"], "before the tail")
    hook = create_connector(server, "bob", ch["id"], name="Deploys")
    t = tails(client_env(tmp_path, server, "alice"), ["Ops/general"], tmp_path, pty_mode=True)
    t.out.wait_for("before the tail")  # history shown: the live stream is already subscribed

    sent = time.monotonic()
    r = post_hook(server, hook, DEPLOY_CARD)
    assert r.status_code == 200 and r.text == "1", r.text
    shown = t.out.wait_for("production", timeout=5)
    assert shown - sent < 2.0, f"the card took {shown - sent:.2f} s to show"
    out = t.out.text
    assert "\x1b[1m" in out  # bold title on a terminal
    assert "\x1b[38;2;46;182;125m" in out  # the theme colour's bar
    plain = SGR_RE.sub("", out)
    assert re.search(r"\d\d:\d\d Deploys:\n", plain), plain
    assert "┃ Deploy finished\n" in plain
    assert "┃ api v1.4.2 is live\n" in plain
    assert "┃ Environment: production\n" in plain
    assert "┃ By:          bob\n" in plain
    assert "┃ [Open] <https://example.org/deploys/7>" in plain

    # a plain message and a reply arrive too; replies are indented under their thread
    root = server.post("bob", ch["id"], "shall we ship?")
    t.out.wait_for("shall we ship?")
    r = server.api("alice").post(
        f"/api/v1/channels/{ch['id']}/messages", json={"text": "yes", "thread": root["id"]})
    assert r.status_code == 201, r.text
    t.out.wait_for(": yes")
    plain = SGR_RE.sub("", t.out.text)
    assert re.search(r"\n  ↳ \d\d:\d\d alice: yes\n", plain), plain
    # a later reply, after another message: a context line names the thread first
    server.post("alice", ch["id"], "unrelated")
    t.out.wait_for("unrelated")
    r = server.api("bob").post(f"/api/v1/channels/{ch['id']}/messages",
                               json={"text": "later reply", "thread": root["id"]})
    assert r.status_code == 201, r.text
    t.out.wait_for("later reply")
    plain = SGR_RE.sub("", t.out.text)
    assert re.search(r"alice: unrelated\n  ┆ re: bob: shall we ship\?\n  ↳ \d\d:\d\d bob: later reply\n",
                     plain), plain

    assert t.ctrl_c() == 0  # Ctrl-C typed on the terminal ends it cleanly
    assert t.stderr == ""


def test_tail_respects_no_color_and_color_option(server, tmp_path, tails):
    team, ch = team_with_channel(server)
    server.post("alice", ch["id"], "**bold** words")
    env = client_env(tmp_path, server, "alice", NO_COLOR="1")
    t = tails(env, ["Ops/general"], tmp_path, pty_mode=True)
    t.out.wait_for("bold words")
    assert "\x1b" not in t.out.text
    assert t.ctrl_c() == 0
    r = run(client_env(tmp_path, server, "alice"), "tail", "Ops/general", "--no-follow",
            "--color=always")
    assert "\x1b[1mbold\x1b[0m words" in r.stdout


def test_tail_reconnects_after_a_server_restart_and_shows_each_card_once(server, tmp_path, tails,
                                                                         monkeypatch):
    team, ch = team_with_channel(server)
    hook = create_connector(server, "alice", ch["id"], name="CI")
    r = post_hook(server, hook, messagecard(summary="one", title="Card before restart"))
    assert r.status_code == 200, r.text
    t = tails(client_env(tmp_path, server, "alice"), ["Ops/general", "--color=never"], tmp_path)
    t.out.wait_for("Card before restart")

    port = server.port
    server.stop()
    monkeypatch.setattr(sbhelpers, "free_port", lambda: port)  # the same address again
    server.start()
    # posted at once: likely before the client is back (it waits 1 s, then 2 s...), so it
    # must come from the resume (Last-Event-ID), not from the live push
    r = post_hook(server, hook, messagecard(summary="two", title="Card after restart"))
    assert r.status_code == 200, r.text
    t.out.wait_for("Card after restart", timeout=15)
    r = post_hook(server, hook, messagecard(summary="three", title="Card once back"))
    assert r.status_code == 200, r.text
    t.out.wait_for("Card once back", timeout=5)
    time.sleep(1.0)  # anything doubled would be here by now
    out = t.out.text
    assert out.count("Card before restart") == 1, out
    assert out.count("Card after restart") == 1, out
    assert out.count("Card once back") == 1, out
    assert out.index("Card before restart") < out.index("Card after restart") < \
        out.index("Card once back")
    assert "reconnecting" in t.stderr
    assert t.ctrl_c() == 0


def test_tail_neutralises_escape_sequences_from_the_server(server, tmp_path, tails):
    team, ch = team_with_channel(server)
    hook = create_connector(server, "alice", ch["id"], name="Evil")
    t = tails(client_env(tmp_path, server, "alice"), ["Ops/general", "-n", "0", "--color=always"],
              tmp_path)
    time.sleep(0.5)  # -n 0: nothing to wait for but the subscription
    evil = messagecard(
        summary="evil", themeColor="FF0000",
        title="\x1b]0;owned\x07Title \x1b[2J",
        text="red \x1b[31mRED\x1b[0m csi \u009b31m over\rwrite \u202egnp.exe",
        sections=[{"facts": [{"name": "k\x1b[5m", "value": "v\x1b[8m"}]}],
        potentialAction=[{"@type": "OpenUri", "name": "Go\x1b[1m",
                          "targets": [{"os": "default", "uri": "https://example.org/"}]}])
    r = post_hook(server, hook, evil)
    assert r.status_code == 200, r.text
    server.post("alice", ch["id"], "user text \x1b[41mBG\x1b[0m \x07bell")
    t.out.wait_for("bell", timeout=5)
    out = t.out.text
    # the only escape sequences are our own SGR ones; no other control character but newlines
    rest = SGR_RE.sub("", out)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\x80-\x9f]", rest), repr(rest)
    for shown in ("^[]0;owned^GTitle ^[[2J", "red ^[[31mRED^[[0m", "^[[31m over^Mwrite",
                  "<U+202E>gnp.exe", "k^[[5m:", "v^[[8m", "[Go^[[1m]", "user text ^[[41mBG^[[0m ^Gbell"):
        assert shown in rest, (shown, rest)
    assert "\x1b[38;2;255;0;0m" in out  # colour stays on for what is ours
    assert t.ctrl_c() == 0


# ---------------------------------------------------------------------------------------------
# webhook commands


def test_webhook_create_list_rotate_delete(server, tmp_path):
    env = client_env(tmp_path, server, "alice")
    team, ch = team_with_channel(server, members=["bob"])
    image = tmp_path / "ci.png"
    image.write_bytes(PNG)
    r = run(env, "webhook", "create", "Ops/general", "Build bot", "--image", str(image))
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip()
    assert re.fullmatch(re.escape(server.url) + r"/webhook/\d+/[A-Za-z0-9_-]{43}", url), url
    hook_id = int(url.split("/")[-2])
    c = server.api("alice").get(f"/api/v1/connectors/{hook_id}").json()
    assert c["type"] == "incoming_webhook" and c["name"] == "Build bot" and c["image"]

    r = post_hook(server, url, messagecard(summary="s", title="via the CLI's webhook"))
    assert r.status_code == 200 and r.text == "1", r.text

    r = run(env, "webhook", "list", "Ops/general")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "STATE", "OWNER", "LAST", "DELIVERY"]
    assert len(lines) == 2, r.stdout
    row = lines[1]
    assert row.split()[0] == str(hook_id)
    assert "Build bot" in row and "active" in row and "alice" in row and "(200)" in row
    assert url.split("/")[-1] not in r.stdout  # the secret is never listed

    r = run(env, "webhook", "rotate", str(hook_id))
    assert r.returncode == 0, r.stderr
    new_url = r.stdout.strip()
    assert new_url != url and new_url.startswith(f"{server.url}/webhook/{hook_id}/")
    assert post_hook(server, url, {"text": "old"}).status_code == 404
    assert post_hook(server, new_url, {"text": "new"}).status_code == 200

    # bob (a member, not its owner nor a team owner) may not delete alice's webhook
    line = one_line_error(run(client_env(tmp_path, server, "bob"), "webhook", "delete",
                              str(hook_id)))
    assert "forbidden" in line and "403" in line
    r = run(env, "webhook", "delete", str(hook_id))
    assert r.returncode == 0, r.stderr
    assert post_hook(server, new_url, {"text": "gone"}).status_code == 410
    r = run(env, "webhook", "list", "Ops/general")
    assert r.returncode == 0 and r.stdout == "", r.stdout

    line = one_line_error(run(env, "webhook", "rotate", "999999"))
    assert "not_found" in line and "404" in line
    assert run(env, "webhook", "rotate", "abc").returncode == 2
    line = one_line_error(run(env, "webhook", "create", "Ops/general", "x", "--image",
                              str(tmp_path / "missing.png")))
    assert "cannot open" in line
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"hello, not an image")
    line = one_line_error(run(env, "webhook", "create", "Ops/general", "x", "--image", str(bad)))
    assert "400" in line
