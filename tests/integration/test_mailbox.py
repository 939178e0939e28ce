"""The group mailbox through a running server and a real SMTP server (aiosmtpd, from Debian's
python3-aiosmtpd) on loopback: a card posted to a webhook arrives as a mail with a text and an
HTML part, List-Id and one-click List-Unsubscribe headers and a link back; the HTML part passes
the XSS table; a relay that is down at first gets the mail once it is back; digests gather
cards; only members who opted in, with an address, in chosen channels get mail."""

import email
import email.policy
import re
from html.parser import HTMLParser
import threading
import time

import pytest
import requests

from hooks import create_connector, poll, post_hook, team_with_channel
from sbhelpers import free_port

aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="python3-aiosmtpd is not installed (make deps)")


class Relay:
    """An SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.mails = []
        self.lock = threading.Lock()
        relay = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                with relay.lock:
                    relay.mails.append((envelope.mail_from, list(envelope.rcpt_tos),
                                        email.message_from_bytes(envelope.content, policy=email.policy.default)))
                return "250 OK"

        self.controller = aiosmtpd.Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def wait(self, n, timeout=15):
        return poll(lambda: len(self.mails) >= n and self.mails, timeout=timeout, what=f"{n} mail(s)")


def mail_args(port, *extra):
    return ("--smtp", f"smtp://127.0.0.1:{port}", "--smtp-tls", "none", "--mail-retry", "1",
            "--public-url", "https://sb.example", *extra)


def setup_mailbox(server, channels=None, mode="each", user="bob", address="bob@example.com"):
    team, ch = team_with_channel(server, members=("bob", "carol"))
    api = server.api("alice")
    r = api.put(f"/api/v1/teams/{team['id']}/mailbox", json={"enabled": True, "channels": channels or []})
    assert r.status_code == 200 and r.json()["enabled"] is True, r.text
    r = server.api(user).patch("/api/v1/me", json={"email": address})
    assert r.status_code == 200 and r.json()["email"] == address, r.text
    r = server.api(user).put(f"/api/v1/teams/{team['id']}/mailbox/me", json={"mode": mode})
    assert r.status_code == 200 and r.json()["me"]["mode"] == mode, r.text
    return team, ch


CARD = {"@type": "MessageCard", "summary": "Deploy finished", "themeColor": "2DC72D", "title": "Deploy **v1.2**",
        "sections": [{"facts": [{"name": "env", "value": "prod"}], "text": "All green"}],
        "potentialAction": [{"@type": "OpenUri", "name": "Open", "targets": [{"os": "default", "uri": "https://ci.example/1"}]}]}


def parts(msg):
    text = html = None
    for p in msg.walk():
        if p.get_content_type() == "text/plain":
            text = p.get_content()
        elif p.get_content_type() == "text/html":
            html = p.get_content()
    return text, html


def test_card_arrives_as_mail_with_both_parts(make_server):
    relay = Relay().start()
    try:
        server = make_server(extra_args=mail_args(relay.port))
        team, ch = setup_mailbox(server)
        hook = create_connector(server, "alice", ch["id"], name="CI")
        t0 = time.monotonic()
        r = post_hook(server, hook, CARD)
        assert r.status_code == 200 and r.text == "1"
        assert time.monotonic() - t0 < 2  # mail never delays the webhook's answer
        (frm, rcpt, msg), = relay.wait(1)
        assert rcpt == ["bob@example.com"] and frm == "switchboard@sb.example"
        assert "Deploy finished" in msg["Subject"] and "Ops" in msg["Subject"]
        assert f"team-{team['id']}.sb.example" in msg["List-Id"]
        unsub = re.search(r"<(https://sb\.example/mailbox/unsubscribe/[^>]+)>", msg["List-Unsubscribe"]).group(1)
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, html = parts(msg)
        assert "Deploy" in text and "env" in text and "prod" in text
        assert f"https://sb.example/channels/{ch['id']}" in text
        assert "<table" in html or "<div" in html
        assert "prod" in html and "https://ci.example/1" in html
        assert "<script" not in html.lower()
        # only bob opted in; carol (no address, mode off) got nothing
        time.sleep(1.5)
        assert len(relay.mails) == 1
        # one-click unsubscribe (RFC 8058) works without a session
        path = unsub.replace("https://sb.example", "")
        r = requests.post(server.url + path, data="List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
        assert r.status_code == 200, r.text
        me = server.api("bob").get(f"/api/v1/teams/{team['id']}/mailbox").json()
        assert me["me"]["mode"] == "off"
        assert requests.post(server.url + path[:-4] + "0000", timeout=5).status_code == 404
        post_hook(server, hook, CARD)
        time.sleep(2)
        assert len(relay.mails) == 1
    finally:
        relay.stop()


XSS = [
    {"text": "<script>alert(1)</script> **bold**"},
    {"text": "[click](javascript:alert(1)) <img src=x onerror=alert(1)>"},
    {"@type": "MessageCard", "summary": "s", "title": "<svg onload=alert(1)>",
     "sections": [{"activityImage": "javascript:alert(1)", "text": "<a href=\"javascript:alert(1)\">x</a>",
                   "images": [{"image": "data:text/html,<script>alert(1)</script>"}]}],
     "potentialAction": [{"@type": "OpenUri", "name": "go", "targets": [{"os": "default", "uri": "javascript:alert(1)"}]}]},
    {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {
        "type": "AdaptiveCard", "version": "1.5", "body": [
            {"type": "TextBlock", "text": "\"><script>alert(1)</script>"},
            {"type": "Image", "url": "https://img.example/a.png\" onerror=\"alert(1)", "altText": "\"><b onmouseover=alert(1)>"}],
        "actions": [{"type": "Action.OpenUrl", "title": "x", "url": "vbscript:msgbox(1)"}]}}]},
]


class HtmlCheck(HTMLParser):
    """Collects what a mail's HTML must not have: scriptable tags, event-handler attributes,
    style sheets, links or images other than http(s) (and mailto links)."""

    BAD_TAGS = {"script", "style", "iframe", "object", "embed", "form", "input", "svg", "math",
                "link", "meta", "base", "frame", "frameset", "applet", "button", "textarea"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BAD_TAGS and not (tag == "meta" and attrs == [("charset", "utf-8")]):
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if name == "href" and not value.lower().startswith(("https://", "http://", "mailto:")):
                self.problems.append(f"<{tag} href={value!r}>")
            if name == "src" and not value.lower().startswith(("https://", "http://")):
                self.problems.append(f"<{tag} src={value!r}>")
            if name in ("srcdoc", "formaction", "xlink:href", "background"):
                self.problems.append(f"<{tag} {name}>")


def test_html_part_passes_the_xss_table(make_server):
    relay = Relay().start()
    try:
        server = make_server(extra_args=mail_args(relay.port))
        _, ch = setup_mailbox(server)
        hook = create_connector(server, "alice", ch["id"], name="<b>Evil</b> hook")
        for body in XSS:
            assert post_hook(server, hook, body).status_code == 200
        mails = relay.wait(len(XSS))
        for _, _, msg in mails:
            _, html = parts(msg)
            checker = HtmlCheck()
            checker.feed(html)
            checker.close()
            assert not checker.problems, (checker.problems, html)
            assert "alert(1)" in html  # the hostile text is shown, as text
    finally:
        relay.stop()


def test_relay_down_first_then_back(make_server):
    port = free_port()
    server = make_server(extra_args=mail_args(port))
    _, ch = setup_mailbox(server)
    hook = create_connector(server, "alice", ch["id"], name="CI")
    assert post_hook(server, hook, CARD).status_code == 200

    def failed_logged():
        log = server.api("alice").get(f"/api/v1/connectors/{hook['id']}/deliveries").json()["deliveries"]
        return [d for d in log if d["outcome"] == "mail_failed"]
    fails = poll(failed_logged, timeout=10, what="the failed mail in the delivery log")
    assert "bob@example.com" in fails[0]["error"]
    relay = Relay(port).start()
    try:
        (_, rcpt, msg), = relay.wait(1, timeout=20)
        assert rcpt == ["bob@example.com"] and "Deploy finished" in msg["Subject"]
        time.sleep(2)
        assert len(relay.mails) == 1  # sent once
    finally:
        relay.stop()


def test_digest_gathers_cards(make_server):
    relay = Relay().start()
    try:
        server = make_server(extra_args=mail_args(relay.port, "--mail-digest-unit", "2"))
        team, ch = setup_mailbox(server, mode="hourly")
        hook = create_connector(server, "alice", ch["id"], name="CI")
        for i in range(3):
            assert post_hook(server, hook, {"text": f"card {i}"}).status_code == 200
        time.sleep(1)
        assert relay.mails == []  # not before the digest's period
        (_, _, msg), = relay.wait(1, timeout=15)
        assert "3 cards" in msg["Subject"] and "digest" in msg["Subject"]
        text, html = parts(msg)
        assert all(f"card {i}" in text and f"card {i}" in html for i in range(3))
    finally:
        relay.stop()


def test_mailbox_rules(make_server):
    relay = Relay().start()
    try:
        server = make_server(extra_args=mail_args(relay.port))
        team, ch = team_with_channel(server, members=("bob",))
        side = server.create_channel("alice", team["id"], "side")
        # only an owner turns it on; channels must be the team's; modes need an address
        r = server.api("bob").put(f"/api/v1/teams/{team['id']}/mailbox", json={"enabled": True})
        assert r.status_code == 403, r.text
        r = server.api("alice").put(f"/api/v1/teams/{team['id']}/mailbox", json={"enabled": True, "channels": [999]})
        assert r.status_code == 400, r.text
        r = server.api("bob").put(f"/api/v1/teams/{team['id']}/mailbox/me", json={"mode": "each"})
        assert r.status_code == 400 and "mail" in r.json()["error"]["message"], r.text
        assert server.api("bob").patch("/api/v1/me", json={"email": "not an address"}).status_code == 400
        assert server.api("carol").get(f"/api/v1/teams/{team['id']}/mailbox").status_code == 404
        r = server.api("alice").put(f"/api/v1/teams/{team['id']}/mailbox",
                                    json={"enabled": True, "channels": [side["id"]]})
        assert r.status_code == 200 and r.json()["channels"] == [side["id"]], r.text
        assert server.api("bob").patch("/api/v1/me", json={"email": "bob@example.com"}).status_code == 200
        r = server.api("bob").put(f"/api/v1/teams/{team['id']}/mailbox/me", json={"mode": "each"})
        assert r.status_code == 200 and r.json()["smtp"] is True, r.text
        general_hook = create_connector(server, "alice", ch["id"], name="general")
        side_hook = create_connector(server, "alice", side["id"], name="side")
        assert post_hook(server, general_hook, {"text": "not mailed"}).status_code == 200
        assert post_hook(server, side_hook, {"text": "mailed"}).status_code == 200
        (_, _, msg), = relay.wait(1)
        assert "side" in msg["Subject"]
        time.sleep(1.5)
        assert len(relay.mails) == 1
        # bob leaves the team: no more mail for him
        assert server.api("alice").delete(f"/api/v1/teams/{team['id']}/members/{server.user_id('bob')}").status_code == 204
        assert post_hook(server, side_hook, {"text": "after he left"}).status_code == 200
        time.sleep(2)
        assert len(relay.mails) == 1
    finally:
        relay.stop()
