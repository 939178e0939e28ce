#!/bin/bash
# bench/multinode.sh: the two-node figures of `make bench` (issue 7). See bench/README.md.
# Measures, in ONE run, on a throwaway PostgreSQL cluster (tests/pg/cluster.sh, fsync on):
#   ingest (the 1 KB MessageCard of bench/card.json, keep-alive, 64 connections, closed loop;
#   interleaved rounds, a warm-up before each measurement):
#     (a) reference: one node on SQLite   (b) one node on PostgreSQL
#     (c) two nodes on PostgreSQL, the 64 connections split between them
#     req/s, p50/p99, rows stored, server CPU per request (each node), PostgreSQL's CPU
#   cross-node delivery: cards POSTed to node A at a fixed rate; SSE streams on A (same-node
#     reference) and on B (cross-node) at the same time; delay from the POST until each has it
#   accounting: PostgreSQL statements per request (pg_stat_statements, after a restart; after
#     every measurement so it costs them nothing)
# then prints a table and rewrites the block between <!-- multinode:begin --> and
# <!-- multinode:end --> of docs/PERFORMANCE.md (appended when absent; bench/report.py keeps it).
# Without PostgreSQL's server binaries it prints that the figures were skipped and exits 0.
# Environment: BENCH_QUICK=1 (shorter runs), SB_BIN (default build/switchboard), BENCH_MN_WORK
# (scratch dir, default /tmp/switchboard-bench-mn, wiped at start), BENCH_OUT (default
# docs/PERFORMANCE.md), BENCH_MN_PORT (first of 3 ports, default 18191), BENCH_MN_ROUNDS,
# BENCH_MN_PG_CPU (CPUs for PostgreSQL, default 0 = with the nodes).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
QUICK=${BENCH_QUICK:-0}
W=${BENCH_MN_WORK:-/tmp/switchboard-bench-mn}
OUT=${BENCH_OUT:-$ROOT/docs/PERFORMANCE.md}
SB_SRC=${SB_BIN:-$ROOT/build/switchboard}
PA=${BENCH_MN_PORT:-18191} # node A (PostgreSQL)
PB=$((PA + 1))             # node B (PostgreSQL)
PS=$((PA + 2))             # the SQLite reference
SCPU=0                     # servers under test (and, by default, PostgreSQL)
LCPU=1                     # load generator
PGCPU=${BENCH_MN_PG_CPU:-$SCPU}
CONNS=64
LAT_RATE=20
if [ "$QUICK" = 1 ]; then
    D=5 WARM=1 ROUNDS=${BENCH_MN_ROUNDS:-2} LAT_D=5 ACCT_D=3
else
    D=10 WARM=2 ROUNDS=${BENCH_MN_ROUNDS:-3} LAT_D=10 ACCT_D=4
fi
HZ=$(getconf CLK_TCK)

RES=$W/results.env
log() { echo "[$(date +%T)] multinode: $*" >&2; }
put() { echo "$1=$2" >>"$RES"; }
ms() { date +%s%3N; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
busy1s() { # CPU busy (% of all CPUs) over one second while this benchmark is idle = what others use
    local a b
    a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat); sleep 1
    b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    echo "$a $b" | awk '{printf "%.0f", 100*($3-$1)/($4-$2)}'
}
cpu0() { awk -v c="cpu$SCPU" '$1==c{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# ---------------------------------------------------------------- PostgreSQL present?
pg_bindir() {
    local b
    if command -v pg_config >/dev/null 2>&1; then
        b=$(pg_config --bindir 2>/dev/null)
        [ -n "$b" ] && [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ] && { echo "$b"; return 0; }
    fi
    for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ] && { echo "$b"; return 0; }
    done
    return 1
}
if ! PGBIN=$(pg_bindir); then
    echo "multinode.sh: PostgreSQL's server binaries (initdb, pg_ctl) are not installed: the two-node figures were skipped" >&2
    echo "two-node figures: SKIPPED (no PostgreSQL server installed; apt-get install postgresql)"
    exit 0
fi
PSQL=$PGBIN/psql
[ -x "$PSQL" ] || PSQL=$(command -v psql)
[ -x "$SB_SRC" ] || { log "FATAL: no server binary at $SB_SRC (ninja -C build)"; exit 1; }

# ---------------------------------------------------------------- processes we start, and cleanup
PID_A="" PID_B="" PID_S="" CLIENT="" PG_UP=""
stop_pid() { # stop_pid PID: SIGTERM, then SIGKILL after 5 s
    local p=$1
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    return 0
}
cleanup() {
    [ -n "$CLIENT" ] && kill "$CLIENT" 2>/dev/null
    stop_pid "$PID_A"; stop_pid "$PID_B"; stop_pid "$PID_S"
    PID_A="" PID_B="" PID_S="" CLIENT=""
    if [ -n "$PG_UP" ]; then
        "$ROOT/tests/pg/cluster.sh" stop "$W/pg" >/dev/null 2>&1
        PG_UP=""
    fi
}
die() { log "FATAL: $*"; cleanup; exit 1; }
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT TERM

# ---------------------------------------------------------------- preparation
rm -rf "$W"
mkdir -p "$W/bin"
: >"$RES"
cp "$SB_SRC" "$W/bin/switchboard" # a snapshot: others may rebuild build/ meanwhile
SB=$W/bin/switchboard
cc -O2 -Wall -o "$W/bin/xnode_latency" "$HERE/xnode_latency.c" "$HERE/loadlib.c" -lm || die "cc xnode_latency"
XL=$W/bin/xnode_latency
ulimit -n "$(ulimit -Hn)" 2>/dev/null
CARD=$HERE/card.json

put started "$(date -u +%FT%TZ)"
put commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo '+dirty src')"
put cpu "$(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2);print $2;exit}') x $(nproc)"
put pg_version "$("$PGBIN/postgres" --version | sed 's/.*(PostgreSQL) \([^ ]*\).*/\1/')"
put load_start "$(loadavg)"
put busy_start "$(busy1s)"
put pg_cpu "$PGCPU"
put params "$CONNS connections closed loop, ${D}s after ${WARM}s warm-up, $ROUNDS interleaved rounds; delivery $LAT_RATE/s for ${LAT_D}s; server(s) on CPU $SCPU, PostgreSQL on CPU $PGCPU, load on CPU $LCPU"

log "starting a PostgreSQL cluster in $W/pg (CPU $PGCPU)"
PG_UP=1
URI=$(taskset -c "$PGCPU" "$ROOT/tests/pg/cluster.sh" start "$W/pg" | tail -1) || die "cluster.sh start"
case $URI in postgres://*) ;; *) die "cluster.sh printed no URI" ;; esac
pgq() { "$PSQL" -X -q -At "$URI" -c "$1" 2>/dev/null; }
pg_ticks() { # CPU ticks of the whole cluster: the postmaster (with its reaped children) + live children
    local pm
    pm=$(head -1 "$W/pg/data/postmaster.pid" 2>/dev/null)
    [ -n "$pm" ] || { echo 0; return; }
    { awk '{print $14+$15+$16+$17}' "/proc/$pm/stat"
      for c in $(pgrep -P "$pm"); do awk '{print $14+$15}' "/proc/$c/stat" 2>/dev/null; done; } |
        awk '{s+=$1} END{print s+0}'
}
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

node_start() { # node_start VAR PORT DATADIR [--database URI]: starts a node, sets VAR to its pid
    local var=$1 port=$2 data=$3
    shift 3
    taskset -c $SCPU "$SB" serve --data "$data" "$@" --listen 127.0.0.1:"$port" \
        --webhook-rate 1000000 --webhook-burst 1000000 --max-per-ip 1000000 --heartbeat 600 \
        >>"$W/node-$port.log" 2>&1 &
    local pid=$!
    printf -v "$var" %s "$pid"
    for _ in $(seq 200); do
        curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/api/v1/session" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    die "the node on port $port did not start (see $W/node-$port.log)"
}
demo() { # demo DATADIR PORT [--database URI]: prints "TOKEN HOOKPATH"
    local data=$1 port=$2 out
    shift 2
    out=$("$SB" admin --data "$data" "$@" demo --url "http://127.0.0.1:$port" 2>>"$W/admin.log") || return 1
    echo "$(echo "$out" | sed -n 's/^demo API token: //p') $(echo "$out" | sed -n 's#^demo webhook: http://[^/]*##p')"
}

log "demo user, team and webhook: SQLite in $W/data-sqlite, PostgreSQL shared by both nodes"
read -r _ S_HOOK < <(demo "$W/data-sqlite" $PS)
read -r P_TOK P_HOOK < <(demo "$W/data-pg" $PA --database "$URI")
[ -n "${S_HOOK:-}" ] && [ -n "${P_HOOK:-}" ] && [ -n "${P_TOK:-}" ] || die "demo printed no token or webhook (see $W/admin.log)"
s_count() { sqlite3 "$W/data-sqlite/switchboard.db" "select count(*) from messages" 2>/dev/null ||
    python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from messages').fetchone()[0])" "$W/data-sqlite/switchboard.db"; }
p_count() { pgq "select count(*) from messages"; }
walsync() { pgq "select wal_sync from pg_stat_wal"; }
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k{print $2; exit}'; }

# one measurement: warm-up, then CONNS connections for D seconds over PORTS; CPU of PIDS and PostgreSQL
measure() { # measure TAG PORTS COUNTFN PG(0|1) PID...
    local tag=$1 ports=$2 countfn=$3 pg=$4
    shift 4
    local hook=$P_HOOK
    [ "$countfn" = s_count ] && hook=$S_HOOK
    taskset -c $LCPU "$XL" -P "$ports" -u "$hook" -b "$CARD" -c $CONNS -r 0 -d $WARM -x 1 >/dev/null
    local n0 n1 w0="" w1="" p0=0 p1=0 c0 c1 t0 t1 r i pid out="" sum=0 fsync_pid="" fs=""
    local -a a0 a1
    n0=$($countfn)
    [ "$pg" = 1 ] && { w0=$(walsync); p0=$(pg_ticks); }
    i=0; for pid in "$@"; do a0[i]=$(ticks "$pid"); i=$((i + 1)); done
    if [ "$pg" = 0 ] && command -v perf >/dev/null; then # SQLite's commits: fdatasync calls of the node
        perf stat -x, -e syscalls:sys_enter_fdatasync -p "$1" -o "$W/fsync.$tag" -- sleep "$D" >/dev/null 2>&1 &
        fsync_pid=$!
    fi
    c0=$(cpu0); t0=$(ms)
    r=$(taskset -c $LCPU "$XL" -P "$ports" -u "$hook" -b "$CARD" -c $CONNS -r 0 -d "$D" -x 1)
    t1=$(ms); c1=$(cpu0)
    i=0; for pid in "$@"; do a1[i]=$(ticks "$pid"); i=$((i + 1)); done
    [ "$pg" = 1 ] && { p1=$(pg_ticks); w1=$(walsync); }
    [ -n "$fsync_pid" ] && { wait "$fsync_pid"; fs=$(awk -F, '/fdatasync/{print $1; exit}' "$W/fsync.$tag" 2>/dev/null); }
    n1=$($countfn)
    local ok stored wall
    ok=$(field "$r" ok); stored=$((n1 - n0)); wall=$((t1 - t0))
    out="$(echo "$r" | sed 's/^RESULT //') stored=$stored stored_rps=$(awk -v n=$stored -v s="$(field "$r" secs)" 'BEGIN{printf "%.0f", n/s}')"
    i=0
    for pid in "$@"; do
        local d=$((a1[i] - a0[i]))
        sum=$((sum + d))
        out="$out node${i}_us=$(awk -v d=$d -v hz=$HZ -v n="$ok" 'BEGIN{ if (n>0) printf "%.0f", d*1e6/hz/n; else print "?" }') node${i}_pct=$(awk -v d=$d -v hz=$HZ -v w=$wall 'BEGIN{printf "%.0f", 100*d/hz/(w/1000)}')"
        i=$((i + 1))
    done
    out="$out nodes_us=$(awk -v d=$sum -v hz=$HZ -v n="$ok" 'BEGIN{ if (n>0) printf "%.0f", d*1e6/hz/n; else print "?" }')"
    local pgd=$((p1 - p0))
    if [ "$pg" = 1 ]; then
        out="$out pg_us=$(awk -v d=$pgd -v hz=$HZ -v n="$ok" 'BEGIN{ if (n>0) printf "%.0f", d*1e6/hz/n; else print "?" }') pg_pct=$(awk -v d=$pgd -v hz=$HZ -v w=$wall 'BEGIN{printf "%.0f", 100*d/hz/(w/1000)}') wal_syncs=$((w1 - w0)) rows_per_commit=$(awk -v n=$stored -v c=$((w1 - w0)) 'BEGIN{ if (c>0) printf "%.1f", n/c; else print "?" }')"
    elif [ -n "$fs" ]; then
        out="$out fdatasyncs=$fs rows_per_commit=$(awk -v n=$stored -v c="$fs" 'BEGIN{ if (c>0) printf "%.1f", n/c; else print "?" }')"
    fi
    # CPU 0 busy, and what of it was not ours (other sessions on this shared machine)
    out="$out $(echo "$c0 $c1" | awk -v ours=$((sum + pgd)) -v hz=$HZ -v w=$wall '{b=100*($3-$1)/($4-$2); o=b-100*ours/hz/(w/1000); if (o<0) o=0; printf "cpu0_busy_pct=%.0f cpu0_others_pct=%.0f", b, o}')"
    echo "$out"
}

# ---------------------------------------------------------------- ingest: (a), (b), (c) interleaved
log "ingest: $ROUNDS round(s) of (a) SQLite, (b) 1 node on PostgreSQL, (c) 2 nodes; ${D}s each after ${WARM}s warm-up"
for r in $(seq 1 "$ROUNDS"); do
    node_start PID_S $PS "$W/data-sqlite"
    x=$(measure "a$r" $PS s_count 0 "$PID_S"); put "a_r$r" "$x"
    log "  round $r (a) SQLite:      $x"
    stop_pid "$PID_S"; PID_S=""
    node_start PID_A $PA "$W/data-pg" --database "$URI"
    x=$(measure "b$r" $PA p_count 1 "$PID_A"); put "b_r$r" "$x"
    log "  round $r (b) PG, 1 node:  $x"
    node_start PID_B $PB "$W/data-pg" --database "$URI"
    x=$(measure "c$r" "$PA,$PB" p_count 1 "$PID_A" "$PID_B"); put "c_r$r" "$x"
    log "  round $r (c) PG, 2 nodes: $x"
    [ "$r" = "$ROUNDS" ] || { stop_pid "$PID_A"; stop_pid "$PID_B"; PID_A="" PID_B=""; }
done
put load_mid "$(loadavg)"

# ---------------------------------------------------------------- cross-node delivery
log "delivery: $LAT_RATE cards/s for ${LAT_D}s to node A; SSE streams on A (same node) and B (cross-node)"
sleep 1
x=$(taskset -c $LCPU "$XL" -P $PA -u "$P_HOOK" -b "$CARD" -c 4 -r $LAT_RATE -d $LAT_D -x 1 \
    -S "$PA,$PB" -t "$P_TOK" -s 1000000001 -W 5000) || die "xnode_latency (delivery)"
echo "$x" >"$W/delivery.out"
put lat_post "$(echo "$x" | grep '^RESULT' | sed 's/^RESULT //')"
put lat_same "$(echo "$x" | grep "^SUB port=$PA " | sed 's/^SUB //')"
put lat_cross "$(echo "$x" | grep "^SUB port=$PB " | sed 's/^SUB //')"
log "  $(echo "$x" | tr '\n' '|')"
stop_pid "$PID_A"; stop_pid "$PID_B"; PID_A="" PID_B=""

# ---------------------------------------------------------------- accounting: statements per request
log "accounting: pg_stat_statements over ${ACCT_D}s of one node (after a restart of PostgreSQL)"
acct_ok=0
if pgq "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null &&
    taskset -c "$PGCPU" "$ROOT/tests/pg/cluster.sh" restart "$W/pg" >/dev/null 2>&1 &&
    pgq "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null; then
    node_start PID_A $PA "$W/data-pg" --database "$URI"
    taskset -c $LCPU "$XL" -P $PA -u "$P_HOOK" -b "$CARD" -c $CONNS -r 0 -d 1 -x 1 >/dev/null
    pgq "select pg_stat_statements_reset()" >/dev/null
    x=$(taskset -c $LCPU "$XL" -P $PA -u "$P_HOOK" -b "$CARD" -c $CONNS -r 0 -d $ACCT_D -x 1)
    ok=$(field "$x" ok)
    # every statement of the nodes' own connections (not this script's psql)
    pgq "select calls, round(total_exec_time::numeric, 1), regexp_replace(left(query, 90), '\s+', ' ', 'g')
         from pg_stat_statements where query not ilike '%pg_stat%' order by calls desc" >"$W/acct.txt"
    if [ -s "$W/acct.txt" ] && [ "${ok:-0}" -gt 0 ]; then
        # PostgreSQL 15's pg_stat_statements does not count utility statements run as prepared
        # statements: add writer.c's SAVEPOINT + RELEASE per write and BEGIN + COMMIT per batch
        # (a batch = one sequence row lock)
        batches=$(awk -F'|' '/FOR UPDATE/{print $1; exit}' "$W/acct.txt")
        put acct "ok=$ok batches=${batches:-0} $(awk -F'|' -v n="$ok" -v b="${batches:-0}" '{c+=$1; t+=$2} END{printf "tracked_per_req=%.2f stmts_per_req=%.1f exec_us_per_req=%.0f", c/n, (c+2*n+2*b)/n, 1000*t/n}' "$W/acct.txt") rps=$(field "$x" ok_rps)"
        acct_ok=1
    fi
    stop_pid "$PID_A"; PID_A=""
fi
[ "$acct_ok" = 1 ] || put acct "failed=1"
put load_end "$(loadavg)"
put finished "$(date -u +%FT%TZ)"
cleanup
put busy_end "$(busy1s)"

# ---------------------------------------------------------------- report: table and the docs section
/usr/bin/python3 - "$W" "$OUT" "$ROUNDS" "$LAT_RATE" "$LAT_D" <<'PY' || die "report"
import os, re, statistics, sys
W, OUT, ROUNDS, RATE, LD = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
R = {}
for line in open(os.path.join(W, "results.env")):
    if "=" in line:
        k, v = line.rstrip("\n").split("=", 1)
        R[k] = v
kv = lambda k: dict(re.findall(r"(\w+)=([^\s]+)", R.get(k, "")))
def num(d, k):
    try:
        return float(d[k])
    except (KeyError, ValueError):
        return None
def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None
f0 = lambda x: "–" if x is None else f"{x:,.0f}"
f1 = lambda x: "–" if x is None else f"{x:,.1f}"
f2 = lambda x: "–" if x is None else f"{x:,.2f}"
def rat(a, b):
    return None if a is None or b in (None, 0) else a / b
fr = lambda x: "–" if x is None else f"{x:.2f}×"

rd = {t: [kv(f"{t}_r{r}") for r in range(1, ROUNDS + 1)] for t in "abc"}
M = {t: {k: med([num(d, k) for d in rd[t]]) for k in
         ("ok_rps", "p50_ms", "p99_ms", "stored", "ok", "stored_rps", "node0_us", "node1_us", "node0_pct",
          "node1_pct", "nodes_us", "pg_us", "pg_pct", "rows_per_commit", "cpu0_busy_pct", "cpu0_others_pct")}
     for t in "abc"}
# ratios: the median of the per-round ratios (each round's figures were taken minutes apart at most)
def round_ratio(x, y, k="ok_rps"):
    return med([rat(num(p, k), num(q, k)) for p, q in zip(rd[x], rd[y])])
ba, cb = round_ratio("b", "a"), round_ratio("c", "b")
per_round = lambda x, y: ", ".join(fr(rat(num(p, "ok_rps"), num(q, "ok_rps"))) for p, q in zip(rd[x], rd[y]))
ok_split = [f"{p.get('ok_port' + str(min(int(k[7:]) for k in p if k.startswith('ok_port'))), '?')}/"
            f"{p.get('ok_port' + str(max(int(k[7:]) for k in p if k.startswith('ok_port'))), '?')}"
            for p in rd["c"] if any(k.startswith("ok_port") for k in p)]
stored_all = all(num(d, "stored") is not None and num(d, "ok") is not None and num(d, "stored") >= num(d, "ok")
                 for t in "abc" for d in rd[t])
P, S, X, A = kv("lat_post"), kv("lat_same"), kv("lat_cross"), kv("acct")

rows = [
    ("Ingest, saturated (req/s acknowledged, median of rounds)", f0(M["a"]["ok_rps"]), f0(M["b"]["ok_rps"]),
     f0(M["c"]["ok_rps"]), f"b/a {fr(ba)}; c/b {fr(cb)}"),
    ("  per-round ratios", "", f"b/a: {per_round('b', 'a')}", f"c/b: {per_round('c', 'b')}", ""),
    ("  p50 / p99 (ms)", f"{f2(M['a']['p50_ms'])} / {f2(M['a']['p99_ms'])}",
     f"{f2(M['b']['p50_ms'])} / {f2(M['b']['p99_ms'])}", f"{f2(M['c']['p50_ms'])} / {f2(M['c']['p99_ms'])}",
     f"p99 b/a {fr(rat(M['b']['p99_ms'], M['a']['p99_ms']))}; c/b {fr(rat(M['c']['p99_ms'], M['b']['p99_ms']))}"),
    ("  rows stored (msg/s; every acknowledged card stored: " + ("yes" if stored_all else "**NO**") + ")",
     f0(M["a"]["stored_rps"]), f0(M["b"]["stored_rps"]), f0(M["c"]["stored_rps"]), ""),
    ("  rows per commit (SQLite: per fdatasync; PostgreSQL: per WAL flush)", f1(M["a"]["rows_per_commit"]),
     f1(M["b"]["rows_per_commit"]), f1(M["c"]["rows_per_commit"]), ""),
    ("  node CPU per request (µs; (c): node A + node B)", f0(M["a"]["node0_us"]), f0(M["b"]["node0_us"]),
     f"{f0(M['c']['node0_us'])} + {f0(M['c']['node1_us'])} = {f0(M['c']['nodes_us'])}",
     f"b/a {fr(rat(M['b']['node0_us'], M['a']['node0_us']))}"),
    ("  PostgreSQL CPU per request (µs, all its processes)", "–", f0(M["b"]["pg_us"]), f0(M["c"]["pg_us"]), ""),
    ("  server side CPU per request (nodes + PostgreSQL, µs)", f0(M["a"]["nodes_us"]),
     f0((M["b"]["nodes_us"] or 0) + (M["b"]["pg_us"] or 0)), f0((M["c"]["nodes_us"] or 0) + (M["c"]["pg_us"] or 0)),
     f"b/a {fr(rat((M['b']['nodes_us'] or 0) + (M['b']['pg_us'] or 0), M['a']['nodes_us']))}"),
    ("  CPU used (% of one core: nodes; PostgreSQL)", f0(M["a"]["node0_pct"]),
     f"{f0(M['b']['node0_pct'])}; {f0(M['b']['pg_pct'])}",
     f"{f0(M['c']['node0_pct'])} + {f0(M['c']['node1_pct'])}; {f0(M['c']['pg_pct'])}", ""),
    ("  CPU 0 busy (%; of which other processes)", f"{f0(M['a']['cpu0_busy_pct'])} ({f0(M['a']['cpu0_others_pct'])})",
     f"{f0(M['b']['cpu0_busy_pct'])} ({f0(M['b']['cpu0_others_pct'])})",
     f"{f0(M['c']['cpu0_busy_pct'])} ({f0(M['c']['cpu0_others_pct'])})", ""),
]
lrows = [
    (f"Delivery of a card POSTed to node A ({RATE}/s for {LD} s): POST → event on the stream (ms; p50 / p99 / max)",
     f"{f2(num(S, 'send_p50_ms'))} / {f2(num(S, 'send_p99_ms'))} / {f2(num(S, 'send_max_ms'))}",
     f"{f2(num(X, 'send_p50_ms'))} / {f2(num(X, 'send_p99_ms'))} / {f2(num(X, 'send_max_ms'))}",
     f"p50 {fr(rat(num(X, 'send_p50_ms'), num(S, 'send_p50_ms')))}, p99 {fr(rat(num(X, 'send_p99_ms'), num(S, 'send_p99_ms')))}"),
    ("  after the acknowledgement (ms; p50 / p99 / max; events that came before the answer)",
     f"{f2(num(S, 'ack_p50_ms'))} / {f2(num(S, 'ack_p99_ms'))} / {f2(num(S, 'ack_max_ms'))}; {S.get('before_ack', '?')}",
     f"{f2(num(X, 'ack_p50_ms'))} / {f2(num(X, 'ack_p99_ms'))} / {f2(num(X, 'ack_max_ms'))}; {X.get('before_ack', '?')}",
     f"p99 + {f2(None if num(X, 'ack_p99_ms') is None or num(S, 'ack_p99_ms') is None else num(X, 'ack_p99_ms') - num(S, 'ack_p99_ms'))} ms"),
    ("  received / expected (missing)", f"{S.get('received', '?')} / {S.get('expected', '?')} ({S.get('missing', '?')})",
     f"{X.get('received', '?')} / {X.get('expected', '?')} ({X.get('missing', '?')})", ""),
    ("  the POSTs' acknowledgement (ms; p50 / p99 / max)",
     f"{f2(num(P, 'p50_ms'))} / {f2(num(P, 'p99_ms'))} / {f2(num(P, 'max_ms'))}", "", ""),
]

t1 = ("| ingest | (a) 1 node, SQLite (reference) | (b) 1 node, PostgreSQL | (c) 2 nodes, PostgreSQL | ratios |\n"
      "|---|---|---|---|---|\n" + "".join("| " + " | ".join(r) + " |\n" for r in rows))
t2 = ("| delivery | same node (stream on A: reference) | cross-node (stream on B) | ratio |\n"
      "|---|---|---|---|\n" + "".join("| " + " | ".join(r) + " |\n" for r in lrows))
print(t1)
print(t2)

# where the time goes: statements per request and the CPU split
acct_rows = []
ap = os.path.join(W, "acct.txt")
okA, nb = num(A, "ok"), num(A, "batches")
if os.path.exists(ap) and okA:
    for line in open(ap).read().splitlines()[:12]:
        c, t, q = (line.split("|", 2) + ["", "", ""])[:3]
        try:
            acct_rows.append(f"| {float(c) / okA:.2f} | {1000 * float(t) / float(c):.1f} | `{q.strip()}` |")
        except (ValueError, ZeroDivisionError):
            pass
    if acct_rows:
        acct_rows += [f"| 2.00 | – | `SAVEPOINT op`, `RELEASE op` around each write (src/store/writer.c; pg_stat_statements does not count utility statements run as prepared statements) |",
                      f"| {2 * (nb or 0) / okA:.2f} | – | `BEGIN`, `COMMIT` per batch of writes (likewise; {f0(nb)} batches = row locks) |"]
per_card = []  # the statements run once per card: "INSERT INTO x" or "SELECT"
if os.path.exists(ap) and okA:
    for line in open(ap).read().splitlines():
        c, _, q = (line.split("|", 2) + ["", "", ""])[:3]
        try:
            if float(c) / okA >= 0.9:
                m = re.match(r"\s*(INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", q, re.I)
                per_card.append(f"{m.group(1).split()[0].upper()} {m.group(2)}" if m else q.split()[0].upper())
        except (ValueError, IndexError):
            pass
writes = [x for x in per_card if x != "SELECT"]
per_card_desc = (f"{len(writes)} writes ({', '.join(w.split()[-1] for w in writes)}), {per_card.count('SELECT')} lookups (SELECT)"
                 if per_card else "its own statements")
if acct_rows:
    print(f"statements per request {A.get('stmts_per_req')} (pg_stat_statements {A.get('tracked_per_req')} + utility), "
          f"PostgreSQL execution {A.get('exec_us_per_req')} µs per request")

a_us, b_us, b_pg = M["a"]["node0_us"], M["b"]["node0_us"], M["b"]["pg_us"]
c_nodes, c_pg = M["c"]["nodes_us"], M["c"]["pg_us"]
spr = num(A, "stmts_per_req")
lat_same, lat_cross = num(S, "send_p50_ms"), num(X, "send_p50_ms")
text = []
b_tot = None if b_us is None or b_pg is None else b_us + b_pg
c_tot = None if c_nodes is None or c_pg is None else c_nodes + c_pg
# CPU share of one core the server side got, per round (a: the node; b: node + PostgreSQL; c: both + PostgreSQL)
def share(d, keys):
    v = [num(d, k) for k in keys]
    return None if None in v else sum(v)
SH = {"a": med([share(d, ["node0_pct"]) for d in rd["a"]]),
      "b": med([share(d, ["node0_pct", "pg_pct"]) for d in rd["b"]]),
      "c": med([share(d, ["node0_pct", "node1_pct", "pg_pct"]) for d in rd["c"]])}
busy = min([x for x in (M[t]["cpu0_busy_pct"] for t in "abc") if x is not None] or [0])
if ba is not None and b_tot is not None and a_us:
    cr = b_tot / a_us
    text.append(
        f"One node on PostgreSQL acknowledged {fr(ba)} the requests per second of one node on SQLite. Per card the "
        f"server side spent {f0(b_tot)} µs of CPU ({f0(b_us)} in the node, {f0(b_pg)} in PostgreSQL's processes) against "
        f"{f0(a_us)} µs on SQLite: {fr(cr)}. "
        + ("The nodes and PostgreSQL ran on CPU 0, " if R.get("pg_cpu") == "0" else
           f"The nodes ran on CPU 0 (PostgreSQL on CPU {R.get('pg_cpu')}), ")
        + (f"which was saturated in every configuration (at least {f0(busy)} % busy; the server side got "
           f"{f0(SH['a'])} % / {f0(SH['b'])} % / {f0(SH['c'])} % of it in (a) / (b) / (c), other sessions on this "
           f"shared machine the rest), so throughput is that share divided by the CPU per card: PostgreSQL is slower "
           f"here because it does {cr:.1f}× the work per card on a full core, not because it waits "
           f"(with a core to spare, the wait for round trips and the WAL flush would show instead)."
           if busy >= 95 else
           f"which was not saturated (busy {f0(busy)} % at the least), so part of the difference is waiting (round "
           f"trips, the commit's WAL flush), not work."))
    if spr:
        text.append(
            f"The extra work is the protocol. A card costs {f1(spr)} statements on PostgreSQL (the table above: "
            f"{per_card_desc} and the SAVEPOINT/RELEASE pair per card; BEGIN, the sequence row lock and its update, COMMIT and the follower's read-back "
            f"are shared by a batch), and every statement is a synchronous round trip: the node builds and sends a "
            f"message, blocks in recv, a backend wakes up, parses, binds, executes and answers. PostgreSQL's execution "
            f"time proper was {A.get('exec_us_per_req')} µs per card (pg_stat_statements); the rest of its "
            f"{f0(b_pg)} µs — not broken down here — is the per-message protocol work, the utility statements, the "
            f"commit's WAL flush and the wake-ups. The node itself spends {f0(b_us)} µs against {f0(a_us)} µs "
            f"({fr(rat(b_us, a_us))}): libpq's encoding and decoding, a send and a receive per statement, and reading "
            f"every event back through the follower, where the SQLite node does the same inserts as function calls in "
            f"its own address space.")
    if M["b"]["rows_per_commit"] and M["a"]["rows_per_commit"]:
        text.append(
            f"Group commit works on both ({f1(M['a']['rows_per_commit'])} rows per fdatasync on SQLite, "
            f"{f1(M['b']['rows_per_commit'])} per WAL flush on PostgreSQL), so the fsyncs are not the limit. The "
            f"latencies follow from the rates: with a closed loop of 64 connections, p50 ≈ 64 / throughput "
            f"({f2(M['b']['p50_ms'])} ms vs {f2(M['a']['p50_ms'])} ms).")
if cb is not None and c_tot is not None and b_tot:
    text.append("\n\n")
    cr2 = c_tot / b_tot
    rr = [x for x in (rat(num(p, "ok_rps"), num(q, "ok_rps")) for p, q in zip(rd["c"], rd["b"])) if x is not None]
    lo, hi = (min(rr), max(rr)) if rr else (None, None)
    tots = {t: [x for x in (share(d, ["nodes_us", "pg_us"]) for d in rd[t]) if x] for t in "bc"}
    spread = max([max(v) / min(v) - 1 for v in tots.values() if v] or [0])
    text.append(
        f"Two nodes together acknowledged {fr(cb)} the rate of one node (rounds: {per_round('c', 'b')}). The "
        f"server-side CPU per card went from {f0(b_tot)} to {f0(c_tot)} µs ({fr(cr2)}: nodes {f0(b_us)} → "
        f"{f0(c_nodes)}, PostgreSQL {f0(b_pg)} → {f0(c_pg)}). The second node adds work: each node reads every event "
        f"back, its own and the other's, so the follower's reads double, and each writer gets half of the connections "
        f"while the two take turns on the sequence row lock (held from a batch's first statement to its COMMIT), so "
        f"there are more, smaller commits ({f1(M['c']['rows_per_commit'])} rows per WAL flush vs "
        f"{f1(M['b']['rows_per_commit'])}), each with its own flush. "
        + f"The server side got {f0(SH['c'])} % of CPU 0 with two nodes and {f0(SH['b'])} % with one. "
        + (f"The rounds disagree on the direction ({lo:.2f}–{hi:.2f}×), and the server-side CPU per card of one "
           f"configuration varied by up to {100 * spread:.0f} % between rounds on this machine"
           + (f", more than the {100 * abs(cr2 - 1):.0f} % between one node and two" if abs(cr2 - 1) < spread else "")
           + ": on one shared core a second node neither adds nor costs throughput measurably. "
           if lo is not None and lo <= 1 <= hi else
           (f"Every round was slower ({lo:.2f}–{hi:.2f}×). "
            if hi is not None and hi < 1 else f"Every round was faster ({lo:.2f}–{hi:.2f}×). "))
        + f"This machine cannot show scale-out (both nodes and PostgreSQL share CPU 0); with nodes on machines of "
        f"their own, the combined write rate is bounded by the row lock's hold time, i.e. by one batch's round trips "
        f"to the database.")

if lat_same is not None and lat_cross is not None:
    text.append("\n\n")
    text.append(
        f"A card POSTed to node A reached a stream on node B in {f2(lat_cross)} ms (median; p99 "
        f"{f2(num(X, 'send_p99_ms'))} ms) against {f2(lat_same)} ms for a stream on A itself ({fr(rat(lat_cross, lat_same))}; "
        f"after the acknowledgement: {f2(num(X, 'ack_p50_ms'))} vs {f2(num(S, 'ack_p50_ms'))} ms). Node B learns of "
        f"A's commit from the NOTIFY that A's follower sends after reading it, and reads the new events with one query, "
        f"so the cross-node path adds a notification and a read: {f2(lat_cross - lat_same)} ms at the median, "
        f"{f2(num(X, 'send_p99_ms') - num(S, 'send_p99_ms'))} ms at the p99 (the same-node p99 itself, "
        f"{f2(num(S, 'send_p99_ms'))} ms against a median of {f2(lat_same)} ms, shows how much the shared CPU stalls "
        f"every path). The 1 s polling only matters for a lost notification ({X.get('missing', '?')} of "
        f"{X.get('expected', '?')} events missing on B; slowest {f2(num(X, 'send_max_ms'))} ms).")

load = f"load average {R.get('load_start')} at the start, {R.get('load_mid')} after the ingest rounds, {R.get('load_end')} at the end; " \
       f"CPU used by other processes while idle: {R.get('busy_start')} % at the start, {R.get('busy_end')} % at the end (of both CPUs)"
sec = ["<!-- multinode:begin -->", "## Two nodes on PostgreSQL (issue 7)", "",
       f"Written by `bench/multinode.sh` (run by `make bench` after `bench/run.sh`; {R.get('started')} → {R.get('finished')}, "
       f"commit {R.get('commit')}, PostgreSQL {R.get('pg_version')}, a throwaway cluster from `tests/pg/cluster.sh` with fsync on). "
       f"{R.get('cpu')}; {load}. Compare the ratios, not the absolute figures, between runs.", "",
       f"Method: {R.get('params')}. The same 1 KB card (`bench/card.json`) to one webhook, keep-alive, from "
       f"`bench/xnode_latency.c` in every case (in (c) its connections alternate between the two nodes and the "
       f"percentiles are over all requests). Rows stored = rows counted in the database after each run. CPU = utime + stime "
       f"from `/proc/PID/stat` before and after; PostgreSQL's is its postmaster (with its exited children) and all its live "
       f"processes. Ratios are medians of the per-round ratios.", "", t1, t2]
if acct_rows:
    sec += [f"Statements per acknowledged card on PostgreSQL, from `pg_stat_statements` over {A.get('ok')} cards to one node "
            f"at 64 connections (a separate pass after the measurements, PostgreSQL restarted with the extension; "
            f"{f0(num(A, 'rps'))} req/s): **{A.get('stmts_per_req')}** round trips per card, {A.get('exec_us_per_req')} µs "
            f"of execution per card.", "",
            "| per request | mean exec (µs) | statement |", "|---|---|---|"] + acct_rows + [""]
sec += ["**Reading.** " + " ".join(text).replace(" \n\n ", "\n\n").strip(), "", "<!-- multinode:end -->"]
block = "\n".join(sec) + "\n"
try:
    doc = open(OUT).read()
except OSError:
    doc = "# Switchboard performance\n"
m = re.search(r"<!-- multinode:begin -->.*?<!-- multinode:end -->\n?", doc, re.S)
doc = doc[:m.start()] + block + doc[m.end():] if m else doc.rstrip("\n") + "\n\n" + block
open(OUT, "w").write(doc)
print(f"wrote the two-node section of {OUT} (raw data in {W})")
PY
