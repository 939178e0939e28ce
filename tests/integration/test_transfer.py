"""`switchboard admin export` / `import` (src/store/transfer.c) with the real binary.

A SQLite deployment (a team, messages with a thread, an incoming webhook with an image and a
posted card, a GitHub connector whose signing secret is sealed with the data directory's
secret.key, a signed-in session) is stopped and exported. The stream goes into a new SQLite data
directory and, when SB_TEST_PG holds a superuser URI, into a new PostgreSQL database, and from
there (exported while that server runs) into SQLite again. Each time a server on the imported
database must answer the same teams, members, messages, connectors and images; take the old
webhook URL and the old GitHub signature; and sign the users in with their passwords and tokens.

The source and the SQLite targets run on SQLite whatever backend the rest of the suite uses
(`--database=` comes after the suite's own options); the PostgreSQL target is a new database of
the suite's PgDatabases (sbhelpers), bound to a copy of the source's data directory.
"""

import hashlib
import hmac
import json
import shutil
import stat
import subprocess
from types import SimpleNamespace

import pytest

from hooks import (PNG, create_connector, data_url, list_connectors, messagecard, post_hook,
                   team_with_channel)
from sbhelpers import (BIN, PG_URI, Server, bind_database, login_ok, password, pg_databases,
                       release_database, run_admin)

NEEDS_PG = pytest.mark.skipif(
    not PG_URI, reason="SB_TEST_PG is not set: the PostgreSQL half of the move is skipped (set it "
                       "to the URI that tests/pg/cluster.sh start DIR prints)")


def sqlite_admin(data, *args, stdin=None):
    """`switchboard admin` on the SQLite database of a data directory, whatever the suite's
    backend."""
    return subprocess.run([BIN, "admin", "--data", str(data), "--database=", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)


def ok(r, what):
    assert r.returncode == 0, f"{what} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r


def sqlite_server(data, workdir, tokens):
    """A server on the SQLite file of `data` (on a PostgreSQL run, the empty database the helpers
    bind to the directory is overridden and released at the end)."""
    return Server(data, workdir, tokens=tokens, extra_args=["--database="])


PING = {"zen": "Keep it logically awesome.", "hook_id": 1,
        "repository": {"id": 1, "name": "app", "full_name": "octo/app",
                       "html_url": "https://github.com/octo/app"},
        "sender": {"login": "alice", "html_url": "https://github.com/alice"}}


def github_ping(srv, hook, secret):
    """A GitHub ping signed with secret (X-Hub-Signature-256)."""
    data = json.dumps(PING).encode()
    sig = "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    return post_hook(srv, hook, data=data, headers={"X-GitHub-Event": "ping",
                                                     "X-Hub-Signature-256": sig})


def snapshot(srv, team_id):
    """What a move must not change, as the API answers it."""
    alice = srv.api("alice")
    out = {"teams": alice.get("/api/v1/teams").json(),
           "members": alice.get(f"/api/v1/teams/{team_id}/members").json(), "channels": {}}
    for ch in srv.channels("alice", team_id):
        top = srv.all_messages("alice", ch["id"])
        threads = {}
        for m in top:
            if m.get("replies"):
                r = alice.get(f"/api/v1/channels/{ch['id']}/messages?thread={m['id']}")
                assert r.status_code == 200, r.text
                threads[m["id"]] = r.json()["messages"]
        out["channels"][ch["name"]] = {"channel": ch, "messages": top, "threads": threads,
                                       "connectors": list_connectors(srv, "alice", ch["id"])}
    return out


def image_bytes(srv, url):
    r = srv.api("alice").get(url)
    assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:200]}"
    return r.content


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The SQLite deployment, stopped, and its export."""
    base = tmp_path_factory.mktemp("xfer-source")
    data = base / "data"
    tokens = {}
    for name in ("alice", "bob"):
        ok(sqlite_admin(data, "create-user", name, *(["--admin"] if name == "alice" else []),
                        "--password-stdin", stdin=password(name) + "\n"), f"create-user {name}")
        tokens[name] = ok(sqlite_admin(data, "create-token", name), "create-token").stdout.strip()
    srv = sqlite_server(data, base, tokens)
    srv.start()
    try:
        team, general = team_with_channel(srv, members=["bob"])
        deploys = srv.create_channel("alice", team["id"], "deploys")
        root = srv.post("alice", general["id"], "héllo ✓ \"quoted\"\nsecond line")
        r = srv.api("bob").post(f"/api/v1/channels/{general['id']}/messages",
                                json={"text": "a reply", "thread": root["id"]})
        assert r.status_code == 201, r.text
        hook = create_connector(srv, "alice", general["id"], name="CI", image=data_url(PNG))
        card = messagecard(summary="Deploy finished", title="Deploy finished",
                           themeColor="2EB67D", text="**api** v1.4.2 is live",
                           sections=[{"facts": [{"name": "Environment", "value": "production"}]}])
        r = post_hook(srv, hook, card, headers={"Idempotency-Key": "deploy-1"})
        assert r.status_code == 200, r.text
        r = srv.api("alice").post(f"/api/v1/channels/{deploys['id']}/connectors",
                                  json={"type": "github", "name": "app"})
        assert r.status_code == 201, r.text
        github = r.json()
        r = github_ping(srv, github, github["secret"])
        assert r.status_code == 200, r.text
        login_ok(srv, "bob")  # a session row
        before = snapshot(srv, team["id"])
    finally:
        srv.stop()
    assert (data / "secret.key").exists(), "the server made no secret.key"
    stream = base / "export.jsonl"
    r = ok(sqlite_admin(data, "export", str(stream)), "export")
    assert str(stream) in r.stdout and "secret.key" in r.stdout, r.stdout
    assert stat.S_IMODE(stream.stat().st_mode) == 0o600, "the stream holds password hashes"
    lines = stream.read_text().splitlines()
    head, end = json.loads(lines[0]), json.loads(lines[-1])
    assert head["switchboard_export"] == 1 and head["backend"] == "sqlite", head
    assert end == {"end": True, "rows": sum(1 for ln in lines if ln.startswith("["))}, end
    # `-` is stdout, and the same stream
    r = ok(sqlite_admin(data, "export", "-"), "export -")
    assert r.stdout == stream.read_text()

    yield SimpleNamespace(data=data, tokens=tokens, team=team, hook=hook, github=github,
                          stream=stream, before=before, image=PNG)
    release_database(data)


def check_moved(srv, src, before):
    """srv answers as the source did (before) and carries on: the old webhook URL and GitHub
    secret post, images are served, the users sign in. Returns the snapshot after those posts."""
    assert snapshot(srv, src.team["id"]) == before
    general = before["channels"]["general"]
    hook = next(c for c in general["connectors"] if c["name"] == "CI")
    assert image_bytes(srv, hook["image"]) == src.image
    # the old URL: its secret's hash moved
    r = post_hook(srv, src.hook, {"text": "after the move"})
    assert r.status_code == 200, r.text
    # an Idempotency-Key seen before the move gets the first answer, no second card
    r = post_hook(srv, src.hook, {"text": "again"}, headers={"Idempotency-Key": "deploy-1"})
    assert r.status_code == 200, r.text
    texts = [m["text"] for m in srv.all_messages("alice", general["channel"]["id"])]
    assert texts.count("after the move") == 1 and "again" not in texts, texts
    # the GitHub signing secret unseals with the copied secret.key
    r = github_ping(srv, src.github, src.github["secret"])
    assert r.status_code == 200, r.text
    r = github_ping(srv, src.github, "wrong")
    assert r.status_code == 401, r.text
    # passwords and tokens
    for user in ("alice", "bob"):
        me, _ = login_ok(srv, user)
        assert me["user"]["username"] == user, me
        r = srv.client(user).get("/api/v1/session")
        assert r.status_code == 200 and r.json()["user"]["username"] == user, r.text
    # new rows after the imported ones
    msg = srv.post("bob", general["channel"]["id"], "new after the move")
    assert msg["id"] > max(m["id"] for m in general["messages"])
    team = srv.create_team("bob", "New team")
    assert team["id"] > src.team["id"]
    return snapshot(srv, src.team["id"])


def import_into_sqlite(stream, workdir, src):
    """A new SQLite data directory with the source's secret.key and the stream imported."""
    data = workdir / "data"
    data.mkdir(parents=True)
    shutil.copy2(src.data / "secret.key", data / "secret.key")
    r = ok(sqlite_admin(data, "import", str(stream)), "import into SQLite")
    assert "imported" in r.stdout and "note:" not in r.stderr, (r.stdout, r.stderr)
    return data


def test_sqlite_to_sqlite(source, tmp_path):
    data = import_into_sqlite(source.stream, tmp_path / "sqlite", source)
    # the same stream comes back out of the new directory
    r = ok(sqlite_admin(data, "export", "-"), "export of the import")
    assert r.stdout == source.stream.read_text()
    # an import into a database in use is refused and changes nothing
    r = sqlite_admin(data, "import", str(source.stream))
    assert r.returncode == 1 and "not empty" in r.stderr, r.stderr
    srv = sqlite_server(data, tmp_path / "sqlite", source.tokens)
    srv.start()
    try:
        check_moved(srv, source, source.before)
    finally:
        srv.stop()
        release_database(data)


def test_bad_streams_are_refused(source, tmp_path):
    lines = source.stream.read_text().splitlines(keepends=True)
    data = tmp_path / "data"
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:-1]))
    r = sqlite_admin(data, "import", str(cut))
    assert r.returncode == 1 and "without its end line" in r.stderr, r.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines[:2] + ["[1,2,3\n"] + lines[3:]))
    r = sqlite_admin(data, "import", "-", stdin=bad.read_text())
    assert r.returncode == 1 and "line 3:" in r.stderr, r.stderr
    r = sqlite_admin(data, "import", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 1 and "missing.jsonl" in r.stderr, r.stderr
    # nothing was written: the whole stream still goes in
    ok(sqlite_admin(data, "import", "-", stdin=source.stream.read_text()), "import from stdin")
    # an export of a data directory without a database creates nothing
    r = sqlite_admin(tmp_path / "none", "export", str(tmp_path / "none.jsonl"))
    assert r.returncode == 1 and "switchboard.db" in r.stderr, r.stderr
    assert not (tmp_path / "none.jsonl").exists() and not (tmp_path / "none").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("none.jsonl.")]


@NEEDS_PG
def test_sqlite_to_postgres_and_back(source, tmp_path):
    # SQLite -> PostgreSQL: a new database, the same data directory (a copy: its secret.key)
    pgdata = tmp_path / "pg" / "data"
    shutil.copytree(source.data, pgdata)
    name = pg_databases().create()
    bind_database(pgdata, name)
    try:
        r = ok(run_admin(pgdata, "import", str(source.stream)), "import into PostgreSQL")
        assert "PostgreSQL" in r.stdout, r.stdout
        srv = Server(pgdata, tmp_path / "pg", tokens=source.tokens)
        assert srv.database and srv.database.endswith("/" + name), srv.database
        srv.start()
        try:
            after = check_moved(srv, source, source.before)
            # PostgreSQL -> SQLite, exported while the server runs
            stream = tmp_path / "from-pg.jsonl"
            ok(run_admin(pgdata, "export", str(stream)), "export from PostgreSQL")
            assert json.loads(stream.read_text().split("\n", 1)[0])["backend"] == "postgres"
        finally:
            srv.stop()
    finally:
        release_database(pgdata)
    data = import_into_sqlite(stream, tmp_path / "back", source)
    back = sqlite_server(data, tmp_path / "back", source.tokens)
    back.start()
    try:
        assert snapshot(back, source.team["id"]) == after
        general = after["channels"]["general"]["channel"]["id"]
        assert [m["text"] for m in back.all_messages("bob", general)][-1] == "new after the move"
        r = post_hook(back, source.hook, {"text": "back on SQLite"})
        assert r.status_code == 200, r.text
    finally:
        back.stop()
        release_database(data)
