"""Helpers for the connector / incoming-webhook tests (test_connectors.py, test_webhooks.py,
test_corpus.py): tiny real images, creating connectors, posting to webhook URLs, polling.

Everything that talks to the network has a timeout; waits poll against a deadline.
"""

import base64
import hashlib
import json
import struct
import time
import zlib
from urllib.parse import urlsplit

import requests

# ---------------------------------------------------------------------------------------------
# Images (real files, built from bytes; no imaging library needed)


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width=1, height=1, rgba=(255, 0, 0, 255), extra_text=b""):
    """A valid RGBA PNG of one colour. `extra_text`: bytes put in a tEXt chunk (to make it big)."""
    row = b"\x00" + bytes(rgba) * width
    out = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
    if extra_text:
        out += _png_chunk(b"tEXt", b"Comment\x00" + extra_text)
    out += _png_chunk(b"IDAT", zlib.compress(row * height)) + _png_chunk(b"IEND", b"")
    return out


# 1x1 transparent GIF89a
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
# 1x1 baseline greyscale JPEG (JFIF)
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////"
    "////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=")
# 1x1 lossless WebP (RIFF/WEBP/VP8L)
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
PNG = png()

IMAGES = {"image/png": PNG, "image/jpeg": JPEG, "image/gif": GIF, "image/webp": WEBP}


def data_url(data, mime="image/png"):
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def image_hash(data):
    """BLAKE2b-256 hex of the bytes (how /api/v1/images/{hash} names an image)."""
    return hashlib.blake2b(data, digest_size=32).hexdigest()


# ---------------------------------------------------------------------------------------------
# Connectors


def create_connector(server, user, channel_id, name="CI", image=None, expect=201, **extra):
    """POST /api/v1/channels/{channel}/connectors; asserts the status and returns the JSON
    (for 201: the Connector plus its secret "url")."""
    body = {"type": "incoming_webhook", "name": name}
    if image is not None:
        body["image"] = image
    body.update(extra)
    r = server.api(user).post(f"/api/v1/channels/{channel_id}/connectors", json=body)
    assert r.status_code == expect, f"create connector: expected {expect}, got {r.status_code}: {r.text}"
    doc = r.json()
    if expect == 201:
        assert isinstance(doc.get("url"), str) and "/webhook/" in doc["url"], doc
    return doc


def hook_path(hook):
    """'/webhook/{id}/{secret}' from a connector JSON with "url", a full URL or a path."""
    url = hook["url"] if isinstance(hook, dict) else hook
    parts = urlsplit(url)
    path = parts.path if parts.scheme else url
    i = path.find("/webhook/")
    assert i >= 0, url
    return path[i:]  # without a --public-url prefix


def hook_secret(hook):
    return hook_path(hook).rstrip("/").split("/")[3]


def team_with_channel(server, owner="alice", name="Ops", members=()):
    """Creates a team (owner `owner`) with `members` added; returns (team, general channel)."""
    team = server.create_team(owner, name)
    for m in members:
        server.add_member(owner, team["id"], m)
    return team, server.general(owner, team["id"])


_plain = requests.Session()
_plain.trust_env = False


def post_hook(server, hook, body=None, *, suffix="", data=None, ctype="application/json", headers=None,
              query="", timeout=10, method="POST"):
    """Sends a webhook request to the server's current address (without credentials).

    body: a JSON-able value (encoded as UTF-8 JSON); data: raw bytes/str instead; ctype: the
    Content-Type (None: no header). suffix: "", "/slack" or "/discord"."""
    hdrs = dict(headers or {})
    if ctype is not None:
        hdrs["Content-Type"] = ctype
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    url = server.url + hook_path(hook) + suffix + (("?" + query) if query else "")
    return _plain.request(method, url, data=data, headers=hdrs, timeout=timeout)


def messages(server, user, channel_id, limit=200):
    """Newest first (one page)."""
    r = server.api(user).get(f"/api/v1/channels/{channel_id}/messages?limit={limit}")
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def deliveries(server, user, connector_id):
    r = server.api(user).get(f"/api/v1/connectors/{connector_id}/deliveries")
    assert r.status_code == 200, r.text
    return r.json()["deliveries"]


def wait_deliveries(server, user, connector_id, n, timeout=5.0):
    """The delivery log once it holds at least n entries (a refusal may be logged just after
    the answer is sent)."""
    return poll(lambda: (lambda d: d if len(d) >= n else None)(deliveries(server, user, connector_id)),
                timeout=timeout, what=f"{n} deliveries of connector {connector_id}")


def connector(server, user, connector_id):
    r = server.api(user).get(f"/api/v1/connectors/{connector_id}")
    assert r.status_code == 200, r.text
    return r.json()


def list_connectors(server, user, channel_id):
    r = server.api(user).get(f"/api/v1/channels/{channel_id}/connectors")
    assert r.status_code == 200, r.text
    return r.json()["connectors"]


def poll(fn, timeout=5.0, interval=0.02, what="condition"):
    """Calls fn() until it returns something truthy; returns it, or fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def connector_messages(server, user, channel_id):
    return [m for m in messages(server, user, channel_id) if m["author"]["type"] == "connector"]


def only_connector_message(server, user, channel_id):
    ms = connector_messages(server, user, channel_id)
    assert len(ms) == 1, ms
    return ms[0]


def messagecard(**kw):
    card = {"@type": "MessageCard", "@context": "https://schema.org/extensions"}
    card.update(kw)
    return card


def adaptive_envelope(body, actions=None, version="1.4"):
    content = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
               "version": version, "body": body}
    if actions is not None:
        content["actions"] = actions
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}]}


def walk(value):
    """Every dict and list inside a JSON value (depth first)."""
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def all_strings(value):
    return [v for v in walk(value) if isinstance(v, str)]
