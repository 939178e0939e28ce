"""A live stream whose client stops reading falls behind the server's window of recent events: the
server ends that stream (it does not buffer without bound), and the client resumes by Last-Event-ID
from the database without a gap or a duplicate."""
import re
import socket
import time

from sbhelpers import server_from_template

WINDOW = 16


def _open_stalled_stream(srv, token):
    """An SSE request on a socket with a tiny receive buffer, read up to the welcome only."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((srv.host, srv.port))
    sock.sendall((f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                  "Accept: text/event-stream\r\n\r\n").encode())
    got = b""
    deadline = time.monotonic() + 5
    while b": welcome" not in got:
        assert time.monotonic() < deadline, got
        sock.settimeout(deadline - time.monotonic())
        got += sock.recv(4096)
    return sock, got


def _read_to_end(sock, timeout=20.0):
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the server did not end the stalled stream"
        sock.settimeout(left)
        try:
            d = sock.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        data += d
        if data.endswith(b"\r\n0\r\n\r\n"):  # the chunked body's end
            break
    return data


def test_slow_reader_is_disconnected_then_resumes_without_gap(template, tmp_path):
    srv = server_from_template(template.path, template.tokens, tmp_path / "slow", start=False)
    srv.extra_args = ["--event-window", str(WINDOW)]
    srv.start()
    try:
        team = srv.create_team("alice", "Slow")
        cid = srv.general("alice", team["id"])["id"]
        sock, head = _open_stalled_stream(srv, srv.tokens["alice"])
        text = "x" * 15000  # 500 x 15 KB: more than loopback socket buffers hold (4 MiB)
        posted = [srv.post("alice", cid, f"{i} {text}")["id"] for i in range(500)]

        body = head + _read_to_end(sock)
        sock.close()
        first = [int(m) for m in re.findall(rb"\nid: (\d+)\n", body)]
        assert first == sorted(set(first)), "duplicates or disorder before the cut"
        assert first and first[-1] < posted[-1], "the stalled stream was not cut short"

        with srv.sse("alice", last_event_id=first[-1]) as s:
            rest = []
            while not rest or rest[-1] < posted[-1]:
                ev = s.next_event(10)
                rest.append(ev.seq)
        got = [i for i in first + rest if i in set(posted)]
        assert got == [i for i in posted if i > 0], "gap or duplicate across the resume"
        assert set(posted) <= set(first + rest)
        ended = [l for l in srv.log_lines() if l["path"] == "/api/v1/events"]
        assert ended, "the cut stream's request was not logged as ended"
    finally:
        srv.stop()
