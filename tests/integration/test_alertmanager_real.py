"""A real Prometheus Alertmanager (Debian's prometheus-alertmanager) delivering to an Alertmanager
connector: an alert posted to its API arrives as a FIRING card, and resolving it replaces that
card with the resolved one (message.updated) and adds the resolution to its thread."""

import json
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from hooks import poll, team_with_channel
from sbhelpers import free_port

AM = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
if not shutil.which(AM):
    pytest.skip("prometheus-alertmanager is not installed (make deps installs it)", allow_module_level=True)

CONFIG = """route:
  receiver: switchboard
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 100ms
  repeat_interval: 1h
receivers:
  - name: switchboard
    webhook_configs:
      - url: '{url}'
        send_resolved: true
"""


def iso(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def alertmanager(tmp_path):
    procs = []

    def start(url):
        (tmp_path / "am.yml").write_text(CONFIG.format(url=url))
        port = free_port()
        log = open(tmp_path / "alertmanager.log", "w")
        p = subprocess.Popen([AM, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am'}",
                              f"--web.listen-address=127.0.0.1:{port}",
                              f"--web.external-url=http://127.0.0.1:{port}", "--cluster.listen-address="],
                             stdout=log, stderr=subprocess.STDOUT)
        procs.append(p)
        base = f"http://127.0.0.1:{port}"

        def ready():
            assert p.poll() is None, (tmp_path / "alertmanager.log").read_text()
            try:
                return requests.get(base + "/-/ready", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        poll(ready, timeout=20, interval=0.1, what="alertmanager ready")
        return base

    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def test_real_alertmanager_fires_and_resolves(server, alertmanager):
    _, ch = team_with_channel(server, members=("bob",))
    r = server.api("alice").post(f"/api/v1/channels/{ch['id']}/connectors",
                                 json={"type": "alertmanager", "name": "Alerts"})
    assert r.status_code == 201, r.text
    hook = r.json()
    am = alertmanager(hook["url"])
    start = datetime.now(timezone.utc) - timedelta(seconds=30)
    labels = {"alertname": "HighCPU", "instance": "host-3:9100", "severity": "critical", "job": "node"}
    annotations = {"summary": "CPU above 90% on host-3", "description": "Load is *high*"}
    firing = [{"labels": labels, "annotations": annotations, "startsAt": iso(start),
               "endsAt": iso(start + timedelta(hours=1)), "generatorURL": "http://prometheus:9090/graph"}]
    with server.sse("bob") as s:
        r = requests.post(am + "/api/v2/alerts", json=firing, timeout=5)
        assert r.status_code == 200, r.text
        ev = s.next_event(15)
        assert ev.event == "message.created", ev
        root = ev.data
        assert root["author"]["name"] == "Alerts" and root["thread"] is None
        assert root["card"]["envelope"]["dialect"] == "alertmanager"
        assert "FIRING" in root["text"] and "HighCPU" in root["text"]
        assert root["card"]["envelope"]["themeColor"] != "#2DC72D"

        resolved = [dict(firing[0], endsAt=iso(datetime.now(timezone.utc) - timedelta(seconds=1)))]
        r = requests.post(am + "/api/v2/alerts", json=resolved, timeout=5)
        assert r.status_code == 200, r.text
        got = {}
        deadline = time.monotonic() + 15
        while len(got) < 2 and time.monotonic() < deadline:
            ev = s.next_event(15)
            got[ev.event] = ev.data
    reply, updated = got["message.created"], got["message.updated"]
    assert reply["thread"] == root["id"]
    assert updated["id"] == root["id"] and updated["edited"] is not None
    assert "RESOLVED" in updated["text"].upper() and "FIRING" not in updated["text"]
    assert updated["card"]["envelope"]["themeColor"] == "#2DC72D"
    top = server.api("bob").get(f"/api/v1/channels/{ch['id']}/messages").json()["messages"]
    assert [m["id"] for m in top] == [root["id"]] and top[0]["replies"] == 1
    log = server.api("alice").get(f"/api/v1/connectors/{hook['id']}/deliveries").json()["deliveries"]
    assert [d["outcome"] for d in log] == ["posted", "posted"], json.dumps(log)[:500]
