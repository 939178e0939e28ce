"""RSS/Atom feed connectors through a running server and a real local HTTP server serving the
feed. The poller fetches each URL once however many connectors follow it, conditionally (ETag,
Last-Modified), posts each new item once (never again after a restart), shows a failing feed's
error in the connector list and backs off; the egress guard refuses local addresses unless the
admin allow-list (--egress-allow) lets them through."""

import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hooks import poll, team_with_channel

FEED_ARGS = ("--egress-allow", "127.0.0.1/32", "--feed-tick", "1")


class Feed:
    """A feed served over HTTP on 127.0.0.1 whose items the test changes; counts requests."""

    def __init__(self):
        self.items = []  # newest first: (guid, title, link, html summary)
        self.requests = []  # (path, If-None-Match, If-Modified-Since)
        self.status = 200
        self.version = 0
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                feed.requests.append((self.path, self.headers.get("If-None-Match"),
                                      self.headers.get("If-Modified-Since")))
                if feed.status != 200:
                    self.send_response(feed.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = f'"v{feed.version}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                body = feed.rss().encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", formatdate(usegmt=True))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.xml"

    def add(self, guid, title, summary="<p>Hello <b>there</b></p><script>alert(1)</script>"):
        self.items.insert(0, (guid, title, f"https://blog.example/{guid}", summary))
        self.version += 1

    def rss(self):
        from xml.sax.saxutils import escape
        items = "".join(
            f"<item><guid isPermaLink=\"false\">{g}</guid><title>{escape(t)}</title><link>{link}</link>"
            f"<description>{escape(s)}</description>"
            f"<pubDate>Fri, 27 Nov 2026 10:0{i % 10}:00 GMT</pubDate></item>"
            for i, (g, t, link, s) in enumerate(self.items))
        return ("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Example blog</title>"
                f"<link>https://blog.example/</link><description>d</description>{items}</channel></rss>")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed():
    f = Feed()
    yield f
    f.close()


def create_feed(server, user, cid, url, expect=201, interval=5):
    r = server.api(user).post(f"/api/v1/channels/{cid}/connectors",
                              json={"type": "rss", "name": "Blog", "settings": {"url": url, "interval": interval}})
    assert r.status_code == expect, r.text
    return r.json()


def texts(server, cid):
    return [m["text"] for m in server.api("alice").get(f"/api/v1/channels/{cid}/messages").json()["messages"]]


def check_now(server, conn):
    r = server.api("alice").post(f"/api/v1/connectors/{conn['id']}/check")
    assert r.status_code == 202, r.text


def test_feed_posts_new_items_once(make_server, feed):
    server = make_server(extra_args=FEED_ARGS)
    _, ch = team_with_channel(server)
    feed.add("1", "First post")
    feed.add("2", "Second post")
    conn = create_feed(server, "alice", ch["id"], feed.url)
    assert "url" not in conn and conn["feed"] is not None and conn["settings"]["interval"] == 5
    # the first fetch remembers what is there and posts only the newest item
    got = poll(lambda: texts(server, ch["id"]), timeout=10, what="the newest item")
    assert len(got) == 1 and "Second post" in got[0], got
    msg = server.api("alice").get(f"/api/v1/channels/{ch['id']}/messages").json()["messages"][0]
    assert msg["card"]["envelope"]["dialect"] == "rss"
    assert "<script" not in msg["text"] and "alert(1)" not in msg["text"]
    assert "Hello there" in msg["text"]

    feed.add("3", "Third post")
    feed.add("4", "Fourth <b>post</b> & more")
    check_now(server, conn)
    got = poll(lambda: (lambda t: t if len(t) == 3 else None)(texts(server, ch["id"])), timeout=10,
               what="two new items")
    assert "Fourth" in got[0] and "Third post" in got[1], got  # posted oldest first
    n = len(feed.requests)
    check_now(server, conn)
    poll(lambda: len(feed.requests) > n, timeout=10, what="a conditional fetch")
    assert feed.requests[-1][1] == f'"v{feed.version}"'  # If-None-Match sent, 304 answered
    time.sleep(1.5)
    assert len(texts(server, ch["id"])) == 3

    server.stop()
    server.start()
    feed.version += 1  # a changed ETag: the whole feed again, nothing new in it
    n = len(feed.requests)
    check_now(server, conn)
    poll(lambda: len(feed.requests) > n, timeout=10, what="a fetch after the restart")
    time.sleep(1.5)
    assert len(texts(server, ch["id"])) == 3
    c = server.api("alice").get(f"/api/v1/connectors/{conn['id']}").json()
    assert c["feed"]["last_error"] is None and c["feed"]["last_fetch"] is not None


def test_one_fetch_per_url_for_many_connectors(make_server, feed):
    server = make_server(extra_args=FEED_ARGS)
    team, ch = team_with_channel(server)
    side = server.create_channel("alice", team["id"], "side")
    feed.add("1", "Only post")
    a = create_feed(server, "alice", ch["id"], feed.url)
    b = create_feed(server, "alice", side["id"], feed.url)
    poll(lambda: len(texts(server, ch["id"])) == 1 and len(texts(server, side["id"])) == 1, timeout=10,
         what="the item in both channels")
    feed.add("2", "New post")
    n = len(feed.requests)
    check_now(server, a)
    poll(lambda: len(texts(server, side["id"])) == 2 and len(texts(server, ch["id"])) == 2, timeout=10,
         what="the new item in both channels")
    assert len(feed.requests) - n == 1, feed.requests[n:]
    assert b["id"] != a["id"]


def test_failing_feed_shows_its_error_and_backs_off(make_server, feed):
    server = make_server(extra_args=FEED_ARGS)
    _, ch = team_with_channel(server)
    feed.status = 404
    conn = create_feed(server, "alice", ch["id"], feed.url)

    def failed():
        c = server.api("alice").get(f"/api/v1/channels/{ch['id']}/connectors").json()["connectors"][0]
        return c if c["feed"]["last_error"] else None
    c = poll(failed, timeout=10, what="the feed's error in the connector list")
    assert "404" in c["feed"]["last_error"], c
    n = len(feed.requests)
    time.sleep(2.5)  # ticks go by: the failed feed is not fetched again before its backoff
    assert len(feed.requests) == n
    assert c["feed"]["next_fetch"] > c["feed"]["last_fetch"]
    assert texts(server, ch["id"]) == []
    # fixed: "check now" fetches it again and the error goes
    feed.status = 200
    feed.add("1", "Back")
    check_now(server, conn)
    poll(lambda: texts(server, ch["id"]), timeout=10, what="the item once the feed works")
    assert server.api("alice").get(f"/api/v1/connectors/{conn['id']}").json()["feed"]["last_error"] is None


def test_local_addresses_are_refused_without_the_allow_list(make_server, feed):
    server = make_server(extra_args=("--feed-tick", "1"))
    _, ch = team_with_channel(server)
    feed.add("1", "Secret")
    for url in (feed.url, feed.url.replace("127.0.0.1", "localhost"),
                feed.url.replace("127.0.0.1", "2130706433"), "http://169.254.169.254/latest/meta-data/",
                "http://[::1]:9/feed"):
        create_feed(server, "alice", ch["id"], url)

    def all_failed():
        cs = server.api("alice").get(f"/api/v1/channels/{ch['id']}/connectors").json()["connectors"]
        return cs if all(c["feed"]["last_error"] for c in cs) else None
    cs = poll(all_failed, timeout=15, what="every local feed refused")
    assert feed.requests == [], feed.requests
    assert texts(server, ch["id"]) == []
    errors = [c["feed"]["last_error"] for c in cs]
    assert all("not a public address" in e or "not fetched" in e for e in errors), errors


def test_feed_settings_are_checked(make_server):
    server = make_server(extra_args=FEED_ARGS)
    _, ch = team_with_channel(server)
    for settings, word in (({"url": "ftp://x/feed"}, "url"), ({"url": "https://x/f", "interval": 4}, "interval"),
                           ({"url": "https://x/f", "interval": 2000}, "interval"), ({}, "url")):
        r = server.api("alice").post(f"/api/v1/channels/{ch['id']}/connectors",
                                     json={"type": "rss", "name": "Blog", "settings": settings})
        assert r.status_code == 400 and word in r.json()["error"]["message"], (settings, r.text)
    r = server.api("alice").post(f"/api/v1/channels/{ch['id']}/connectors",
                                 json={"type": "incoming_webhook", "name": "x"})
    r = server.api("alice").post(f"/api/v1/connectors/{r.json()['id']}/check")
    assert r.status_code == 409, r.text
