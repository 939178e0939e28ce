"""Attack load generator, run as its own process (so its work does not steal the measuring
client's interpreter): python3 attacker.py MODE HOST PORT N [options as key=value]

Modes
  slowloris  N connections from several 127.0.0.x addresses; each sends the start of a request and
             then one header byte every `interval` seconds, for ever. `mix` chooses what they start
             with: api (an API request line: the API daemon), stream (`GET /api/v1/events`: the
             streams daemon), silent (nothing at all, then a byte of the request line now and then:
             the acceptor's waiting set). A connection the server closes is opened again.
  slowbody   N POSTs to `path` whose Content-Length promises `length` bytes that trickle at one
             byte per `interval` seconds.
  flood      N connections opened and closed as fast as possible (several ways to close).
Prints "ready <open>" once all N are open (slowloris/slowbody) or "done <n> <seconds>" (flood),
then "stats ..." lines every second. Runs until killed or for `duration` seconds.
"""

import heapq
import random
import resource
import selectors
import socket
import struct
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def sources(n_addr, first=10):
    return [f"127.0.{(first + i) // 250}.{(first + i) % 250 + 2}" for i in range(n_addr)]


def connect(host, port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, 0))
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    return s


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def slow(mode, host, port, n, opts):
    per_ip = int(opts.get("per_ip", 200))
    interval = float(opts.get("interval", 3))
    duration = float(opts.get("duration", 600))
    mix = opts.get("mix", "api,stream,silent").split(",")
    path = opts.get("path", "/api/v1/teams")
    length = int(opts.get("length", 4000))
    reopen_delay = float(opts.get("reopen_delay", 0.2))
    addrs = sources((n + per_ip - 1) // per_ip, int(opts.get("first", 10)))
    sel = selectors.DefaultSelector()
    conns = {}  # sock -> dict(kind, src, next, sent)
    reopened = refused = 0
    heap = []
    seq = [0]

    def push(s, st):
        seq[0] += 1
        heapq.heappush(heap, (st["next"], seq[0], s))

    def open_one(i, kind, delay=0.0):
        src = addrs[i % len(addrs)]
        s = connect(host, port, src)
        # a slowloris sends its request line at once; a silent one waits for a whole interval
        first = interval if kind == "silent" and mode == "slowloris" else random.uniform(0, 0.1)
        st = {"i": i, "kind": kind, "src": src, "next": time.monotonic() + delay + first,
              "n": 0, "started": False}
        conns[s] = st
        sel.register(s, selectors.EVENT_READ, st)
        push(s, st)
        return s

    def first_bytes(st):
        k = st["kind"]
        if mode == "slowbody":
            return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {length}\r\n\r\n{{").encode()
        if k == "api":
            return f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode()
        if k == "stream":
            return b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n"
        return b""  # silent

    def drip(st):
        if mode == "slowbody":
            return b" "
        if st["kind"] == "silent":
            return b"GET /api/v1/events"[st["n"] % 18:st["n"] % 18 + 1]
        return b"X-a%d: b\r\n" % st["n"] if st["n"] % 2 == 0 else b"X"

    for i in range(n):
        open_one(i, mix[i % len(mix)])
    t0 = time.monotonic()
    ready = False
    last_stats = 0
    while time.monotonic() - t0 < duration:
        now = time.monotonic()
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                d = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            if not d:  # closed by the server: open another
                st = conns.pop(s)
                sel.unregister(s)
                s.close()
                if not st["started"]:
                    refused += 1
                reopened += 1
                open_one(st["i"], st["kind"], reopen_delay)
        while heap and heap[0][0] <= now:
            _, _, s = heapq.heappop(heap)
            st = conns.get(s)
            if st is None:
                continue  # closed and replaced meanwhile
            data = (first_bytes(st) or drip(st)) if not st["started"] else drip(st)
            try:
                s.send(data)
                st["started"] = True
                st["n"] += 1
            except OSError:
                pass  # not connected yet, or closed (noticed as EOF)
            st["next"] = now + (interval * random.uniform(0.8, 1.2) if st["started"] else 0.05)
            push(s, st)
        if not ready and now - t0 >= interval * 1.3:
            # every connection had its chance to start (those the server keeps closing are
            # opened again and again: that is part of the attack)
            ready = True
            out(f"ready {sum(st['started'] for st in conns.values())} of {len(conns)}")
        if now - last_stats >= 1:
            last_stats = now
            out(f"stats open={len(conns)} reopened={reopened} refused={refused}")


def flood(host, port, n, opts):
    per_ip = int(opts.get("per_ip", 200))
    addrs = sources(max(1, int(opts.get("addrs", 8))), int(opts.get("first", 10)))
    path = opts.get("path", "/api/v1/health")
    t0 = time.monotonic()
    done = errors = 0
    batch = []
    for i in range(n):
        src = addrs[i % len(addrs)]
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((src, 0))
            s.settimeout(2)
            s.connect((host, port))
            how = i % 5
            if how == 1:
                s.send(b"G")
            elif how == 2:
                s.send(b"GET /api/v1/even")
            elif how == 3:
                s.send(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            elif how == 4:  # reset instead of FIN
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            batch.append(s)
        except OSError:
            errors += 1
        if len(batch) >= per_ip // 2:
            for s in batch:
                s.close()
            batch = []
        done += 1
    for s in batch:
        s.close()
    out(f"done {done} {time.monotonic() - t0:.2f} errors={errors}")


def main():
    mode, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    opts = dict(a.split("=", 1) for a in sys.argv[5:])
    raise_nofile()
    if mode in ("slowloris", "slowbody"):
        slow(mode, host, port, n, opts)
    elif mode == "flood":
        flood(host, port, n, opts)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
