#!/usr/bin/python3
"""bench/report.py WORKDIR OUT.md: turn bench/run.sh's results.env into the table (stdout) and
docs/PERFORMANCE.md. Every figure is shown next to its reference from the same run, as a ratio, and
against the target of issue 6. bench/analysis.md, if present, is appended (hand-written reading of a
particular run's profiles)."""
import os
import re
import statistics
import sys

W, OUT = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))

R = {}
for line in open(os.path.join(W, "results.env")):
    if "=" in line:
        k, v = line.rstrip("\n").split("=", 1)
        R[k] = v


def kv(key):
    """the key=value pairs of one result line"""
    return dict(re.findall(r"(\w+)=([^\s]+)", R.get(key, "")))


def num(d, k):
    try:
        return float(d[k])
    except (KeyError, ValueError):
        return None


def rounds(prefix):
    out, r = [], 1
    while f"{prefix}_r{r}" in R:
        out.append(kv(f"{prefix}_r{r}"))
        r += 1
    return out


def med(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def f0(x):
    return "–" if x is None else f"{x:,.0f}"


def f1(x):
    return "–" if x is None else f"{x:,.1f}"


def f2(x):
    return "–" if x is None else f"{x:,.2f}"


def ratio(a, b, fmt="{:.2f}×"):
    if a is None or b is None or b == 0:
        return "–"
    return fmt.format(a / b)


def verdict(ok):
    return "–" if ok is None else ("**met**" if ok else "**missed**")


rows = []  # (measure, Switchboard, reference, ratio, target, verdict)
missed = []

# ---------------------------------------------------------------- ingest vs ceiling
ref = rounds("ref_sat")
D_P = float(re.search(r"paced (\d+)s", R.get("params", "paced 10s")).group(1))
D_S = float(re.search(r"-d(\d+)s", R.get("params", "-d10s")).group(1))
sb1 = rounds("sb1_sat")
sb100 = rounds("sb100_sat")
ref_rps = med([num(d, "rps") for d in ref])
sb1_rps = med([num(d, "rps") for d in sb1])
sb100_rps = med([num(d, "rps") for d in sb100])
per_round = [num(a, "rps") / num(b, "rps") for a, b in zip(sb1, ref) if num(a, "rps") and num(b, "rps")]
per_round100 = [num(a, "rps") / num(b, "rps") for a, b in zip(sb100, ref) if num(a, "rps") and num(b, "rps")]
r1 = med(per_round)
r100 = med(per_round100)
ok_ceiling = None if r1 is None else r1 >= 0.60
if ok_ceiling is False:
    missed.append("ceiling")
rows.append(("Webhook ingest, 1 webhook, saturated (req/s, median of rounds)",
             f0(sb1_rps), f"bare MHD {f0(ref_rps)}", f"{r1:.2f}" if r1 else "–", "≥ 0.60 of bare",
             verdict(ok_ceiling)))
ok100 = None if r100 is None else r100 >= 0.60
rows.append(("Webhook ingest, 100 webhooks, saturated (req/s)", f0(sb100_rps), f"bare MHD {f0(ref_rps)}",
             f"{r100:.2f}" if r100 else "–", "≥ 0.60 of bare", verdict(ok100)))
if ok100 is False and "ceiling" not in missed:
    missed.append("ceiling")
rows.append(("  p50 / p99 at saturation, 1 webhook (ms)",
             f"{f2(med([num(d, 'p50_ms') for d in sb1]))} / {f2(med([num(d, 'p99_ms') for d in sb1]))}",
             f"{f2(med([num(d, 'p50_ms') for d in ref]))} / {f2(med([num(d, 'p99_ms') for d in ref]))}",
             ratio(med([num(d, 'p99_ms') for d in sb1]), med([num(d, 'p99_ms') for d in ref])) + " (p99)",
             "", ""))
rows.append(("  p50 / p99 at saturation, 100 webhooks (ms)",
             f"{f2(med([num(d, 'p50_ms') for d in sb100]))} / {f2(med([num(d, 'p99_ms') for d in sb100]))}",
             "", "", "", ""))
sb_stored = med([num(d, "stored_rps") for d in sb1])
rows.append(("  stored rate (rows in the database / time), 1 webhook (msg/s)", f0(sb_stored),
             f"acked {f0(sb1_rps)}", ratio(sb_stored, sb1_rps), "= acked (answer after commit)", ""))
rows.append(("  server CPU at saturation, 1 webhook (% of one core: all / MHD workers / busiest other thread)",
             f"{f0(med([num(d, 'cpu_pct') for d in sb1]))} / {f0(med([num(d, 'mhd_pct') for d in sb1]))} / {f0(med([num(d, 'busiest_other_thread_pct') for d in sb1]))}",
             "", "", "", ""))
rows.append(("  rows per fdatasync (group commit), 1 / 100 webhooks",
             f"{f1(med([num(d, 'rows_per_fdatasync') for d in sb1]))} / {f1(med([num(d, 'rows_per_fdatasync') for d in sb100]))}",
             "", "", "", ""))
ref_us = med([num(d, "cpu_us_per_req") for d in ref])
sb_us = med([num(d, "cpu_us_per_req") for d in sb1])
sb100_us = med([num(d, "cpu_us_per_req") for d in sb100])
if sb_us:
    rows.append(("  server CPU per request (µs; 1 / 100 webhooks) → req/s one whole core would give",
                 f"{f0(sb_us)} / {f0(sb100_us)} → {f0(1e6 / sb_us)}", f"bare {f1(ref_us)} → {f0(1e6 / ref_us) if ref_us else '–'}",
                 ratio(ref_us, sb_us) + " (bare/SB)", "", ""))
    rows.append(("  CPU 0 busy during the saturated runs (%; of which other processes)",
                 f"{f0(med([num(d, 'cpu0_busy_pct') for d in sb1]))} ({f0(med([num(d, 'cpu0_others_pct') for d in sb1]))})",
                 f"bare {f0(med([num(d, 'cpu0_busy_pct') for d in ref]))} ({f0(med([num(d, 'cpu0_others_pct') for d in ref]))})",
                 "", "", ""))
fs = rounds("fsync")
fsp = kv("fsync_paced")
if fsp:
    rows.append(("  bare 40 KB append+fdatasync just before the fixed-rate runs (ms; p50 / p99)",
                 "", f"{f2(num(fsp, 'p50_ms'))} / {f2(num(fsp, 'p99_ms'))}", "", "", ""))
if fs:
    fs_p50 = med([num(d, "p50_ms") for d in fs])
    fs_p99 = med([num(d, "p99_ms") for d in fs])
    cyc = med([D_S * 1000 / num(d, "fdatasyncs") for d in sb1 if num(d, "fdatasyncs")])
    rows.append(("  commit cycle at saturation (ms between fdatasyncs, 1 webhook) vs a bare 40 KB append+fdatasync (p50 / p99)",
                 f1(cyc), f"{f2(fs_p50)} / {f2(fs_p99)}", ratio(cyc, fs_p50) + " (p50)", "", ""))
errs = sum(int(num(d, "errors") or 0) + int(num(d, "non2xx") or 0) for d in sb1 + sb100)
short = [(d.get("requests"), d.get("stored")) for d in sb1 + sb100
         if num(d, "stored") is not None and num(d, "requests") is not None and num(d, "stored") < num(d, "requests") - num(d, "non2xx")]

for rate in (1000, 5000):
    s = kv(f"sb1_paced_{rate}")
    s100 = kv(f"sb100_paced_{rate}")
    rf = kv(f"ref_paced_{rate}")
    p99, rp99 = num(s, "p99_ms"), num(rf, "p99_ms")
    ok = None
    if rate == 5000 and p99 is not None:
        ok = p99 <= 10 and (num(s, "ok") or 0) >= (num(s, "sent") or 1) * 0.999
        if not ok:
            missed.append("p99")
    rows.append((f"p99 acknowledgement at {rate:,}/s, 1 webhook (ms; p50 / p99 / max; sent of due)",
                 f"{f2(num(s, 'p50_ms'))} / {f2(p99)} / {f2(num(s, 'max_ms'))}; {s.get('sent', '–')} of {int(rate * D_P)}",
                 f"bare {f2(num(rf, 'p50_ms'))} / {f2(rp99)} / {f2(num(rf, 'max_ms'))}",
                 ratio(p99, rp99) + " (p99)", "p99 ≤ 10 ms at 5k/s" if rate == 5000 else "", verdict(ok)))
    rows.append((f"  same, 100 webhooks (ms; p50 / p99 / max)",
                 f"{f2(num(s100, 'p50_ms'))} / {f2(num(s100, 'p99_ms'))} / {f2(num(s100, 'max_ms'))}", "",
                 ratio(num(s100, "p99_ms"), rp99) + " (p99)", "", ""))

# ---------------------------------------------------------------- ejabberd
ej = kv("ej_sat")
ej_ack, ej_stored = num(ej, "rps"), num(ej, "stored_rps")
if ej:
    ok_ej = None if not (ej_stored and sb_stored) else sb_stored / ej_stored >= 10
    if ok_ej is False:
        missed.append("ejabberd")
    rows.append(("Same job vs ejabberd: acknowledged rate (req/s)", f0(sb1_rps), f"ejabberd {f0(ej_ack)}",
                 ratio(sb1_rps, ej_ack), "", ""))
    rows.append(("Same job vs ejabberd: stored rate, end to end (msg/s)", f0(sb_stored), f"ejabberd {f0(ej_stored)}",
                 ratio(sb_stored, ej_stored), "≥ 10× ejabberd", verdict(ok_ej)))
    rows.append(("  ejabberd p50 / p99 ack at saturation (ms); rows stored while loading; last row after stop",
                 "", f"{f2(num(ej, 'p50_ms'))} / {f2(num(ej, 'p99_ms'))}; {ej.get('stored_during_load', '–')} of "
                     f"{ej.get('archived', '–')}; {ej.get('last_row_after_stop_s', '–')} s", "", "", ""))
    for rate in (1000, 5000):
        e = kv(f"ej_paced_{rate}")
        s = kv(f"sb1_paced_{rate}")
        if e:
            rows.append((f"  p99 ack at {rate:,}/s vs ejabberd (ms; ok of sent)",
                         f"{f2(num(s, 'p99_ms'))} ({s.get('ok', '–')}/{s.get('sent', '–')})",
                         f"ejabberd {f2(num(e, 'p99_ms'))} ({e.get('ok', '–')}/{e.get('sent', '–')}, unsent {e.get('unsent', '–')})",
                         ratio(num(s, "p99_ms"), num(e, "p99_ms")), "", ""))
sk, ek = kv("sb_kill"), kv("ej_kill")
rows.append(("SIGKILL at the end of a saturating burst: acknowledged / stored / lost",
             f"{sk.get('acked', '–')} / {sk.get('stored', '–')} / **{sk.get('lost', '–')}**",
             f"ejabberd {ek.get('acked', '–')} / {ek.get('stored', '–')} / **{ek.get('lost', '–')}**" if ek else "–",
             "", "0 lost", verdict(None if not sk else int(sk.get("lost", 1)) == 0)))

# ---------------------------------------------------------------- fan-out and memory
for n in (1000, 10000):
    d = kv(f"fanout_{n}")
    if not d:
        continue
    p99 = num(d, "p99_ms")
    ok = None
    if n == 10000 and p99 is not None:
        ok = p99 <= 250 and int(d.get("missing", 1)) == 0
        if not ok:
            missed.append("fanout")
    rows.append((f"Fan-out to {n:,} subscribers: time until each has the card (ms; p50 / p99 / max)",
                 f"{f1(num(d, 'p50_ms'))} / {f1(p99)} / {f1(num(d, 'max_ms'))}", "target 250 ms",
                 ratio(p99, 250.0) + " of target", "p99 ≤ 250 ms at 10k" if n == 10000 else "", verdict(ok)))
    rows.append((f"  {n:,}: streams established / events x streams received / missing",
                 f"{d.get('streams', '–')} in {d.get('connect_ms', '–')} ms / {d.get('samples', '–')} / {d.get('missing', '–')}",
                 "", "", "0 missing", ""))
d = kv("fanout_10000")
mem_total = None
if d:
    n = 10000
    rss = (num(d, "rss_idle_kb") - num(d, "rss0_kb")) / n
    slab = num(d, "slab_delta_kb") / n
    mem_total = rss + slab / 2
    ok_mem = mem_total <= 16
    if not ok_mem:
        missed.append("memory")
    rows.append(("Server memory per idle subscriber (KiB): VmRSS delta / N + half the slab delta / N",
                 f"{rss:.1f} + {slab / 2:.1f} = {mem_total:.1f}", "target 16", ratio(mem_total, 16.0) + " of target",
                 "≤ 16 KiB", verdict(ok_mem)))
    rows.append(("  server CPU with 10k idle streams (ticks in 1 s)", d.get("idle_cpu_ticks_1s", "–"), "", "", "", ""))

# ---------------------------------------------------------------- history
h50, h1m = rounds("hist50"), rounds("hist1m")
if h1m:
    a, b = med([num(x, "rps") for x in h1m]), med([num(x, "rps") for x in h50])
    rows.append((f"History: newest 50 of a channel holding {R.get('hist_rows', '?').split(' ')[0]} (req/s, 16 conns)",
                 f0(a), f"channel of 50: {f0(b)}", ratio(a, b), "", ""))
    rows.append(("  p50 / p99 (ms)",
                 f"{f2(med([num(x, 'p50_ms') for x in h1m]))} / {f2(med([num(x, 'p99_ms') for x in h1m]))}",
                 f"{f2(med([num(x, 'p50_ms') for x in h50]))} / {f2(med([num(x, 'p99_ms') for x in h50]))}",
                 ratio(med([num(x, 'p99_ms') for x in h1m]), med([num(x, 'p99_ms') for x in h50])) + " (p99)", "", ""))
    hf, hd = kv("hist_first"), kv("hist_deep")
    rows.append(("  first request after a restart; oldest page (before= cursor) (ms, curl)",
                 f"{hf.get('ms', '–')}; {hd.get('ms', '–')}", "", "", "", ""))

# ---------------------------------------------------------------- idle subscribers vs none
i0, i1 = rounds("idle0"), rounds("idle10k")
if i0 and i1:
    ratios = [num(b, "rps") / num(a, "rps") for a, b in zip(i0, i1) if num(a, "rps") and num(b, "rps")]
    rr = med(ratios)
    ok_idle = None if rr is None else rr >= 0.90
    if ok_idle is False:
        missed.append("idle")
    rows.append(("Ingest with 10,000 idle subscribers connected (req/s, 1 webhook)",
                 f0(med([num(x, "rps") for x in i1])), f"none: {f0(med([num(x, 'rps') for x in i0]))}",
                 f"{rr:.2f}" if rr else "–", "cost < 10 % (≥ 0.90)", verdict(ok_idle)))
    rows.append(("  p99 (ms) with / without", f2(med([num(x, "p99_ms") for x in i1])),
                 f2(med([num(x, "p99_ms") for x in i0])), "", "", ""))
    rows.append(("  per-round ratios", ", ".join(f"{x:.2f}" for x in ratios), "", "", "", ""))
    c0, c1 = med([num(x, "cpu_us_per_req") for x in i0]), med([num(x, "cpu_us_per_req") for x in i1])
    if c0 and c1:
        rows.append(("  server CPU per request with / without (µs): the cost that CPU contention cannot blur",
                     f0(c1), f0(c0), ratio(c1, c0), "< 1.10×", verdict(c1 / c0 < 1.10)))

# ---------------------------------------------------------------- anomalies worth a look
anomalies = []
if errs:
    anomalies.append(f"{errs} socket errors or non-2xx answers in the saturated ingest runs")
for k in ("sb1_paced_1000", "sb1_paced_5000", "sb100_paced_1000", "sb100_paced_5000"):
    d = kv(k)
    if d and (int(d.get("bad_status", 0)) or int(d.get("bad_body", 0)) or int(d.get("errors", 0)) or int(d.get("unanswered", 0))):
        anomalies.append(f"{k}: {R[k]}")
for a, b in short:
    anomalies.append(f"a saturated run stored fewer rows ({b}) than wrk counted answers ({a})")
if sk and int(sk.get("lost", 0)):
    anomalies.append(f"SIGKILL: {sk['lost']} acknowledged webhook messages are not in the database")
if sk and int(sk.get("duplicates", 0)):
    anomalies.append(f"SIGKILL: {sk['duplicates']} messages stored twice")
if sk and int(sk.get("seq_gaps", 0)):
    anomalies.append(f"event sequence has {sk['seq_gaps']} holes after the kill")
for n in (1000, 10000):
    d = kv(f"fanout_{n}")
    if d and (int(d.get("missing", 0)) or int(d.get("other_id_max", 0))):
        anomalies.append(f"fan-out {n}: {d.get('missing')} stream-events missing, other ids seen: {d.get('other_id_max')}")
    if d and d.get("failed", "0") != "0":
        anomalies.append(f"fan-out {n}: {d.get('failed')} streams failed to open")
for r in range(1, 5):
    h = kv(f"idle_hold_r{r}")
    if h and int(h.get("closed_by_server", 0)):
        anomalies.append(f"idle round {r}: the server closed {h['closed_by_server']} idle streams")

slog = os.path.join(W, "server.log")
if os.path.exists(slog):
    bad = [l for l in open(slog, errors="replace").read().splitlines()
           if re.search(r"error|warn|fail|abort|assert", l, re.I)]
    if bad:
        anomalies.append(f"server.log has {len(bad)} error/warning lines, e.g. `{bad[0][:160]}`")

# ---------------------------------------------------------------- profiles
def prof(tag, n=12):
    p = os.path.join(W, f"prof.{tag}.self.txt")
    if not os.path.exists(p):
        return None
    lines = []
    for line in open(p).read().splitlines()[:n]:
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+(\S+)\s+\[[.k]\]\s+(.*)", line)
        if m:
            sym = re.sub(r"(\s+-)+\s*$", "", m.group(4)).strip()[:90]
            lines.append(f"| {m.group(1)} % | {m.group(2)} | `{sym}` | {m.group(3)} |")
    return lines


def prof_dso(tag):
    p = os.path.join(W, f"prof.{tag}.dso.txt")
    if not os.path.exists(p):
        return None
    lines = []
    for line in open(p).read().splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+(\S+)", line)
        if m:
            lines.append(f"| {m.group(1)} % | {m.group(2)} | {m.group(3)} |")
    return lines


def prof_samples(tag):
    p = os.path.join(W, f"prof.{tag}.samples.txt")
    return open(p).read().strip().lstrip("# ") if os.path.exists(p) else ""


# ---------------------------------------------------------------- output
hdr = "| measure | Switchboard | reference (same run) | ratio | target | verdict |\n|---|---|---|---|---|---|\n"
table = hdr + "".join("| " + " | ".join(r) + " |\n" for r in rows)
print(table)
print("targets missed:", ", ".join(missed) if missed else "none")
if anomalies:
    print("ANOMALIES:\n  " + "\n  ".join(anomalies))

md = []
md.append("# Switchboard performance\n")
md.append(f"Written by `bench/run.sh` ({R.get('mode')} run, {R.get('started')} → {R.get('finished')}, "
          f"commit {R.get('commit')}). Rerun with `make bench` (or `BENCH_QUICK=1 make bench`); raw output is in "
          f"the work directory (`{W}`). Every figure is set against a reference measured in the same run, "
          f"because this machine is shared and noisy; compare ratios rather than absolute numbers between runs.\n")
md.append("## Machine\n")
md.append(f"- {R.get('cpu')} vCPU, {R.get('mem')}, kernel {R.get('kernel')}, {R.get('os')}; libmicrohttpd {R.get('mhd')}, "
          f"SQLite {R.get('sqlite')}, wrk {R.get('wrk')}, ejabberd {R.get('ejabberd_ver')}; open files {R.get('nofile')}.")
md.append(f"- Pinning as in reference/stack.md: the server under test (Switchboard, the bare reference, ejabberd) on CPU 0 "
          f"(`taskset -c 0`), every load generator on CPU 1. Everything over loopback.")
md.append(f"- Load average at start {R.get('load_start')}, after the ingest runs {R.get('load_after_ingest')}, "
          f"after ejabberd {R.get('load_after_peer', '–')}, at the end {R.get('load_end')}. CPU used by other processes "
          f"while the benchmark was idle: {R.get('busy_start', '?')} % at start, {R.get('busy_mid', '?')} % mid-run, "
          f"{R.get('busy_end', '?')} % at the end (of both CPUs). Anything above a few % means other sessions "
          f"were competing for the CPUs and the absolute figures are low and noisy.\n")
md.append("## Results\n")
md.append(table)
md.append(f"\nTargets missed in this run: {', '.join(missed) if missed else 'none'}.\n")
if anomalies:
    md.append("**Anomalies (possible server bugs, look here first):**\n")
    md.extend(f"- {a}" for a in anomalies)
    md.append("")
md.append("## Method\n")
md.append(f"""- Parameters: {R.get('params')}. Payload: the ~1 KB Teams MessageCard of `bench/card.json`
  ({R.get('card_bytes')} bytes; `bench/webhook.lua` carries the same card), `Content-Type: application/json`, keep-alive.
- **Ceiling (reference 1):** `bench/ref_server.c`, a bare libmicrohttpd server with the API daemon's settings
  (epoll internal thread pool, one thread per core, suspend/resume allowed) that reads the body and answers `1`.
  It and Switchboard are measured in interleaved rounds (ref, 1 webhook, 100 webhooks, repeated); the table gives
  medians and the ratio is the median of per-round ratios.
- **Switchboard** runs from a fresh data directory made with `switchboard admin` and the REST API (users, a team,
  1 + 100 incoming webhooks), with `--webhook-rate 1000000 --webhook-burst 1000000` so the limiter never
  answers 429, `--max-per-ip 1000000` (all load comes from 127.0.0.x) and `--heartbeat 600` (so the
  10k test streams, all opened within a second, do not get their heartbeats in one synchronized burst during a
  measurement; spread heartbeats cost 10k/25 s = 400 small writes/s). Every answer is sent after the commit
  (WAL, `synchronous=FULL`).
- **Stored rate:** rows added to `messages` (sqlite3 CLI on the data directory) divided by the time from the start of
  wrk to the `created` time of the last row; the same formula as ejabberd's end-to-end stored rate.
- **Fixed rates (1k/s, 5k/s):** Debian has no wrk2, and wrk with a Lua `delay()` measures from the actual send, so a
  stalled server gets fewer requests and looks fast. `bench/post_load.c` is an open-loop client: request *i* is due at
  t0 + i/rate and goes out on the first idle one of 64 keep-alive connections; its latency is counted from when it was
  **due**, so stalls are charged to every request that should have gone out meanwhile (wrk2's correction).
- **SIGKILL:** `post_load` saturates 64 connections for the burst, each request carrying a unique 10-digit id in its
  summary; at the end of the burst it sends SIGKILL to the server **while requests are in flight**, then reads the
  answers already sent. Acknowledged ids (200 `1`) are compared with the ids found in the database (after the kill,
  before and after restarting). For ejabberd the same client sends the same job to `/api/send_message` (200 `0`),
  kills `beam.smp` the same way, and the ids are looked up in the `archive` table.
- **ejabberd (reference 2):** Debian's ejabberd with `mod_http_api` `send_message` into the persistent, archived MUC
  room `bench@conference.localhost` (mod_mam, SQLite in WAL mode, `synchronous` FULL), configured as in
  reference/peer-bench.md (`bench/ejabberd.yml`), fresh database, pinned to CPU 0. Acknowledged rate = wrk; stored rate =
  archived rows / (time of the last archived row − start of wrk), waiting until the archive stops growing.
- **Fan-out:** `bench/sse_load.c` opens N streams to `/api/v1/events` (bearer token of a member of the webhook's team)
  from 127.0.0.2–9 (`IP_BIND_ADDRESS_NO_PORT`), waits for every `: welcome`, then POSTs the card to the webhook
  {R.get('params', '').split('fan-out ')[-1].split(';')[0]}; per stream it records the time from just before the POST's
  `write()` to the `read()` that carried the new event's `id:`. Percentiles over all events × streams. A stream that
  never got an event counts as missing. The server is restarted before each N.
- **Memory per idle subscriber:** server VmRSS after all N streams are established and idle minus VmRSS before
  connecting, over N; plus half the `Slab` delta of /proc/meminfo over N (the slab covers both ends of each loopback
  connection, so half is the server's socket), as in reference/fanout.md. The slab figure is system-wide: other
  sessions' activity adds noise.
- **History:** the sqlite3 CLI inserts {R.get('hist_rows', '?')} messages (and their events, keeping ids = sequence numbers)
  into one channel and 50 into another, in one transaction ({kv('hist_insert').get('ms', '?')} ms); then wrk (16 connections)
  GETs `/api/v1/channels/{{id}}/messages?limit=50` on each, interleaved.
- **Idle subscribers:** 10,000 streams of a user whose team gets no events during the test; per round the server is
  restarted, ingest (wrk, 1 webhook) is measured without streams, then with the 10k streams connected.
- **Profiles:** `perf record -F 1999` on the server process during a separate run of each scenario (after the
  measurements, so perf does not disturb them); tables list the share per thread and object, and the functions with the
  most samples of their own.
""")
for tag, title in (("ingest", "Ingest at saturation, 1 webhook"),
                   ("idle", "Ingest with 10,000 idle subscribers connected"),
                   ("fanout", "Fan-out to 10,000 subscribers (one card per second)")):
    s = prof(tag)
    c = prof_dso(tag)
    if s or c:
        md.append(f"## Profile: {title}\n")
        md.append(f"{prof_samples(tag)} (perf, 1999 Hz, server process only; `MHD-worker` = libmicrohttpd's "
                  f"threads, `switchboard` = the server's own threads: store writer, hub publisher, acceptor, "
                  f"checkpointer, jobs).\n")
    if c:
        md.append("By thread and object:\n")
        md.append("| samples | thread | object |\n|---|---|---|")
        md.extend(c)
        md.append("")
    if s:
        md.append("Hottest functions (self time):\n")
        md.append("| samples | thread | function | object |\n|---|---|---|---|")
        md.extend(s)
        md.append("")
an = os.path.join(HERE, "analysis.md")
if os.path.exists(an):
    md.append(open(an).read())
# the block between <!-- multinode:begin/end --> belongs to bench/multinode.sh: keep it
if os.path.exists(OUT):
    keep = re.search(r"<!-- multinode:begin -->.*?<!-- multinode:end -->", open(OUT).read(), re.S)
    if keep:
        md.append(keep.group(0))
open(OUT, "w").write("\n".join(md) + "\n")
