"""The shared corpus of real service payloads (github, gitlab, azure-devops, alertmanager,
grafana, trello) sent to connectors of their own type, signed as each service signs: every one
becomes a card or is acknowledged as ignored; none is refused, none breaks the server.

Fixtures: $SWITCHBOARD_FIXTURES, default /work/shared/fixtures (skipped when absent). Run with -s
for the summary."""

import base64
import hashlib
import hmac
import json
import os
from pathlib import Path

import pytest

from hooks import post_hook, team_with_channel

FIXTURES = Path(os.environ.get("SWITCHBOARD_FIXTURES", "/work/shared/fixtures"))
if not FIXTURES.is_dir():
    pytest.skip(f"webhook payload corpus not found at {FIXTURES} (set SWITCHBOARD_FIXTURES)",
                allow_module_level=True)

TYPES = {"github": "github", "gitlab": "gitlab", "azure-devops": "azure_devops",
         "alertmanager": "alertmanager", "grafana": "grafana", "trello": "trello"}
GITLAB_EVENTS = {"push": "Push Hook", "tag_push": "Tag Push Hook", "issue": "Issue Hook",
                 "note": "Note Hook", "merge_request": "Merge Request Hook", "pipeline": "Pipeline Hook",
                 "build": "Job Hook", "deployment": "Deployment Hook", "release": "Release Hook",
                 "wiki_page": "Wiki Page Hook"}
TRELLO_SECRET = "corpus-trello-secret"


def headers_for(folder, path, data, hook):
    if folder == "github":
        event = path.name.split(".")[0]
        sig = "sha256=" + hmac.new(hook["secret"].encode(), data, hashlib.sha256).hexdigest()
        return {"X-GitHub-Event": event, "X-Hub-Signature-256": sig}
    if folder == "gitlab":
        kind = json.loads(data).get("object_kind", "")
        return {"X-Gitlab-Event": GITLAB_EVENTS.get(kind, "System Hook"), "X-Gitlab-Token": hook["secret"]}
    if folder == "azure-devops":
        return {"Authorization": "Basic " + base64.b64encode(("u:" + hook["secret"]).encode()).decode()}
    if folder == "trello":
        mac = hmac.new(TRELLO_SECRET.encode(), data + hook["url"].encode(), hashlib.sha1).digest()
        return {"X-Trello-Webhook": base64.b64encode(mac).decode()}
    return {}


def test_service_corpus(make_server):
    server = make_server(extra_args=("--webhook-rate", "1000", "--webhook-burst", "1000"))
    _, ch = team_with_channel(server)
    summary, failures = [], []
    for folder, type_ in TYPES.items():
        files = sorted((FIXTURES / folder).glob("*.json"))
        if not files:
            continue
        body = {"type": type_, "name": type_}
        if type_ == "trello":
            body["secret"] = TRELLO_SECRET
        r = server.api("alice").post(f"/api/v1/channels/{ch['id']}/connectors", json=body)
        assert r.status_code == 201, r.text
        hook = r.json()
        posted = ignored = 0
        for path in files:
            data = path.read_bytes()
            r = post_hook(server, hook, data=data, headers=headers_for(folder, path, data, hook))
            if r.status_code != 200:
                failures.append(f"{folder}/{path.name}: {r.status_code} {r.text[:200]}")
                continue
            doc = r.json()
            if "message_id" in doc:
                posted += 1
            else:
                assert doc.get("ignored"), doc
                ignored += 1
        summary.append(f"{folder:14} {posted:3} posted {ignored:3} ignored")
    print("\n" + "\n".join(summary))
    assert not failures, "\n".join(failures)
    assert server.api("alice").get("/api/v1/health").status_code == 200
