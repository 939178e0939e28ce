"""Fixtures that run the real switchboard binary.

- `template`: a data directory with the standard users (alice, bob, carol, dave, erin; root is an
  admin) and one bearer token each, created once per session with the admin CLI.
- `server`: a fresh server (copy of the template) per test; stopped with SIGTERM at teardown, which
  must exit 0 within 10 s.
- `make_server(heartbeat=None)`: factory for tests that need options or more than one server.
- `module_server(tmp_path_factory, template)` helper for module-scoped servers (see test modules).

Binary: $SWITCHBOARD_BIN, default <repo>/build/switchboard.
Backend: SQLite in each data directory; PostgreSQL when $SB_TEST_PG holds a superuser URI (the
template is then a database and every server gets a clone of it, dropped when it is done; see
sbhelpers.PgDatabases).
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sbhelpers  # noqa: E402
from sbhelpers import (BIN, PG_URI, close_databases, make_template, release_database,  # noqa: E402
                       server_from_template)


class Template:
    def __init__(self, path, tokens):
        self.path = path
        self.tokens = tokens


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    if not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)):
        pytest.fail(f"switchboard binary not found or not executable: {BIN} "
                    f"(build it, or set SWITCHBOARD_BIN)", pytrace=False)
    path = tmp_path_factory.mktemp("template") / "data"
    tokens = make_template(path)
    yield Template(path, tokens)
    close_databases()  # PostgreSQL: drops the session's databases (nothing to do on SQLite)


class _Servers:
    def __init__(self, tmp_path, template):
        self.tmp_path = tmp_path
        self.template = template
        self.servers = []

    def __call__(self, heartbeat=None, start=True, name=None, extra_args=()):
        name = name or f"srv{len(self.servers)}"
        srv = server_from_template(self.template.path, self.template.tokens, self.tmp_path / name,
                                   heartbeat=heartbeat, start=False)
        srv.extra_args = list(extra_args)
        if start:
            srv.start()
        self.servers.append(srv)
        return srv

    def teardown(self):
        errors = []
        for srv in self.servers:
            try:
                srv.stop()  # also reports a server that died during the test
            except AssertionError as e:
                errors.append(str(e))
            release_database(srv.data)  # PostgreSQL: dropped in the background
        if errors:
            pytest.fail("; ".join(errors), pytrace=False)


@pytest.fixture
def make_server(tmp_path, template):
    servers = _Servers(tmp_path, template)
    yield servers
    servers.teardown()


@pytest.fixture
def server(make_server):
    return make_server()


def module_server(tmp_path_factory, template, heartbeat=None):
    """Start a server for a module-scoped fixture; the caller stops it."""
    return server_from_template(template.path, template.tokens, tmp_path_factory.mktemp("modsrv"),
                                heartbeat=heartbeat)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, template):
    """One server per test module, for tests that only add data of their own."""
    srv = module_server(tmp_path_factory, template)
    yield srv
    try:
        srv.stop()
    finally:
        release_database(srv.data)


def pytest_report_header(config):
    return f"switchboard backend: {'PostgreSQL ' + PG_URI if PG_URI else 'SQLite'}"


def pytest_sessionfinish(session):
    close_databases()  # databases of servers made without the template fixture


def pytest_terminal_summary(terminalreporter):
    for line in sbhelpers.pg_summary:
        terminalreporter.write_line(line)
