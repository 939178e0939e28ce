#!/bin/bash
# bench/run.sh: Switchboard's benchmark (`make bench`). See bench/README.md.
# Measures, in ONE run and against references measured in the same run:
#   (a) the HTTP ceiling: bench/ref_server.c (bare libmicrohttpd answering `1`) with wrk
#   (b) webhook ingest (1 KB MessageCard, keep-alive) to 1 and to 100 webhooks: saturation with wrk,
#       p99 at fixed 1k/s and 5k/s (bench/post_load.c, open loop), stored rate, SIGKILL after a burst
#   (c) the same job into ejabberd (mod_http_api send_message into an archived MUC room)
#   (d) SSE fan-out to 1,000 and 10,000 subscribers (bench/sse_load.c) and memory per idle subscriber
#   (e) history: newest 50 messages of a channel holding 1 million
#   (f) ingest with 10,000 idle subscribers connected vs none
# then profiles the server with perf, prints the table and writes docs/PERFORMANCE.md.
# Environment: BENCH_QUICK=1 (about 3 min instead of about 15), SB_BIN (default build/switchboard),
# BENCH_WORK (scratch dir, default /tmp/switchboard-bench), BENCH_OUT (default docs/PERFORMANCE.md),
# BENCH_NO_EJABBERD=1, BENCH_NO_PERF=1, BENCH_HISTORY_ROWS (default 1000000).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
QUICK=${BENCH_QUICK:-0}
W=${BENCH_WORK:-/tmp/switchboard-bench}
OUT=${BENCH_OUT:-$ROOT/docs/PERFORMANCE.md}
SB_SRC=${SB_BIN:-$ROOT/build/switchboard}
PORT=${BENCH_PORT:-18181}
REFPORT=$((PORT + 1))
SCPU=0 # server(s) under test
LCPU=1 # load generators
HIST_ROWS=${BENCH_HISTORY_ROWS:-1000000}
if [ "$QUICK" = 1 ]; then
    D=4 PD=4 ROUNDS=1 EV=5 EJ_D=3 KILL_D=3 IDLE_ROUNDS=1 WARM=1 PROF_D=4
else
    D=10 PD=10 ROUNDS=3 EV=10 EJ_D=10 KILL_D=5 IDLE_ROUNDS=2 WARM=2 PROF_D=8
fi
CONNS=64 # wrk connections, as in reference/stack.md

RES=$W/results.env
log() { echo "[$(date +%T)] $*" >&2; }
put() { echo "$1=$2" >>"$RES"; }
die() { log "FATAL: $*"; cleanup; exit 1; }
ms() { date +%s%3N; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# CPU busy (% of all CPUs) over one second while this benchmark is idle = what others use
busy1s() {
    local a b
    a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat); sleep 1
    b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    echo "$a $b" | awk '{printf "%.0f", 100*($3-$1)/($4-$2)}'
}

EJDB=/var/lib/ejabberd/ejabberd.db
EJ_RESTORE=""
ej_pid() { pgrep -u ejabberd -x beam.smp | head -1; }
ej_stop_quiet() {
    command -v ejabberdctl >/dev/null || return 0
    [ -n "$(ej_pid)" ] || return 0
    ejabberdctl stop >/dev/null 2>&1
    for _ in $(seq 100); do [ -z "$(ej_pid)" ] && break; sleep 0.2; done
    p=$(ej_pid); [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    return 0
}
ej_restore() {
    [ -n "$EJ_RESTORE" ] || return 0
    [ -e /etc/ejabberd/ejabberd.yml.debian-default ] && cp -p /etc/ejabberd/ejabberd.yml.debian-default /etc/ejabberd/ejabberd.yml
    [ -e /etc/default/ejabberd.debian-default ] && cp -p /etc/default/ejabberd.debian-default /etc/default/ejabberd
    EJ_RESTORE=""
}
ej_start_fresh() {
    ej_stop_quiet
    # keep the package's files to put back afterwards (unless a crashed run left ours in place)
    grep -q 'Switchboard bench' /etc/default/ejabberd || cp -p /etc/default/ejabberd /etc/default/ejabberd.debian-default
    grep -q 'Switchboard bench' /etc/ejabberd/ejabberd.yml || cp -p /etc/ejabberd/ejabberd.yml /etc/ejabberd/ejabberd.yml.debian-default
    EJ_RESTORE=1
    install -o ejabberd -g ejabberd -m 600 "$HERE/ejabberd.yml" /etc/ejabberd/ejabberd.yml
    cp -p /etc/default/ejabberd.debian-default /etc/default/ejabberd
    printf '\n# --- Switchboard bench: Erlang distribution on a fixed loopback port, no epmd\nINET_DIST_INTERFACE=127.0.0.1\nERL_DIST_PORT=15210\n' >>/etc/default/ejabberd
    find /var/lib/ejabberd -mindepth 1 -maxdepth 1 ! -name .erlang.cookie -exec rm -rf {} +
    local lite
    lite=$(ls /usr/lib/x86_64-linux-gnu/ejabberd-*/priv/sql/lite.sql 2>/dev/null | head -1)
    [ -n "$lite" ] || lite=/usr/share/ejabberd/sql/lite.sql
    runuser -u ejabberd -- sqlite3 "$EJDB" <"$lite" || return 1
    runuser -u ejabberd -- sqlite3 "$EJDB" 'PRAGMA journal_mode=WAL;' >/dev/null || return 1
    taskset -c $SCPU ejabberdctl start >/dev/null 2>&1
    ejabberdctl started >/dev/null 2>&1 || return 1
    for _ in $(seq 100); do curl -s -o /dev/null -m 1 http://127.0.0.1:15280/api/status && break; sleep 0.2; done
    curl -s -X POST http://127.0.0.1:15280/api/create_room_with_opts -H 'Content-Type: application/json' \
        -d '{"name":"bench","service":"conference.localhost","host":"localhost","options":[{"name":"persistent","value":"true"},{"name":"mam","value":"true"}]}' >/dev/null
    r=$(curl -s -X POST http://127.0.0.1:15280/api/send_message -H 'Content-Type: application/json' \
        -d '{"type":"groupchat","from":"bot@localhost","to":"bench@conference.localhost","subject":"","body":"hello"}')
    [ "$r" = 0 ] || return 1
    sleep 1
    [ "$(ejq "select count(*) from archive")" -ge 1 ] || return 1
}
ejq() { sqlite3 -readonly "$EJDB" "$1" 2>/dev/null; }
ej_wait_idle() { # the archive writer is idle: database and WAL unchanged for 3 s (at most 180 s)
    local last="" same=0 t0=$SECONDS cur
    while [ $same -lt 3 ] && [ $((SECONDS - t0)) -lt 180 ]; do
        cur=$(stat -c %Y.%s "$EJDB" "$EJDB-wal" 2>/dev/null | tr '\n' ' ')
        if [ "$cur" = "$last" ]; then same=$((same + 1)); else same=0; last=$cur; fi
        sleep 1
    done
}
SBPID="" REFPID="" SSEPID=""
cleanup() {
    [ -n "$SSEPID" ] && kill "$SSEPID" 2>/dev/null
    [ -n "$REFPID" ] && kill "$REFPID" 2>/dev/null
    [ -n "$SBPID" ] && kill "$SBPID" 2>/dev/null
    wait 2>/dev/null
    ej_stop_quiet
    ej_restore
}
trap 'cleanup; exit 130' INT TERM

# ---------------------------------------------------------------- preparation
[ "$(id -u)" = 0 ] || echo "run.sh: not root: ejabberd (apt, /etc/ejabberd) and extra loopback ports may fail" >&2
"$HERE/deps.sh" >&2 || die "dependencies missing (bench/deps.sh)"
[ -x "$SB_SRC" ] || die "no server binary at $SB_SRC (ninja -C build)"
rm -rf "$W"
mkdir -p "$W/bin"
: >"$RES"
# snapshot the binary: other people may rebuild build/ while the benchmark runs
cp "$SB_SRC" "$W/bin/switchboard"
SB=$W/bin/switchboard
CFLAGS="-O2 -Wall"
cc $CFLAGS -o "$W/bin/ref_server" "$HERE/ref_server.c" $(pkg-config --cflags --libs libmicrohttpd) || die "cc ref_server"
cc $CFLAGS -o "$W/bin/sse_load" "$HERE/sse_load.c" "$HERE/loadlib.c" || die "cc sse_load"
cc $CFLAGS -o "$W/bin/post_load" "$HERE/post_load.c" "$HERE/loadlib.c" -lm || die "cc post_load"
cc $CFLAGS -o "$W/bin/fsync_probe" "$HERE/fsync_probe.c" || die "cc fsync_probe"
ulimit -n "$(ulimit -Hn)" 2>/dev/null
put mode "$([ "$QUICK" = 1 ] && echo quick || echo full)"
put started "$(date -u +%FT%TZ)"
put commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo '+dirty src')"
put cpu "$(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2);print $2;exit}') x $(nproc)"
put mem "$(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
put kernel "$(uname -r)"
put os "Debian $(cat /etc/debian_version 2>/dev/null)"
put mhd "$(pkg-config --modversion libmicrohttpd)"
put sqlite "$(sqlite3 --version | cut -d' ' -f1)"
put wrk "$(dpkg-query -W -f='${Version}' wrk 2>/dev/null)"
put ejabberd_ver "$(dpkg-query -W -f='${Version}' ejabberd 2>/dev/null)"
put nofile "$(ulimit -n)"
put load_start "$(loadavg)"
put busy_start "$(busy1s)"
put params "wrk -t1 -c$CONNS -d${D}s, $ROUNDS round(s); paced ${PD}s; fan-out $EV events 1 s apart; ejabberd burst ${EJ_D}s; kill burst ${KILL_D}s"

# the 1 KB MessageCard (bench/card.json; @ID@ becomes a 10-digit unique id in post_load)
CARD=$HERE/card.json
sed 's/@ID@/0000000000/' "$CARD" >"$W/card_fixed.json"
put card_bytes "$(stat -c %s "$W/card_fixed.json")"

# wrk with one of our Lua scripts; prints the RESULT line of its done()
wrk_run() { # wrk_run PORT LUA SECONDS [CONNS]
    taskset -c $LCPU wrk -t1 -c"${4:-$CONNS}" -d"$3"s -s "$2" "http://127.0.0.1:$1" 2>&1 | grep '^RESULT' || echo "RESULT failed=1"
}
field() { # field LINE KEY
    echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k{print $2; exit}'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{if(NR==0)print "";else print a[int((NR+1)/2)]}'; }

# ---------------------------------------------------------------- Switchboard server
DATA=$W/data
sb_start() {
    taskset -c $SCPU "$SB" serve --data "$DATA" --listen 127.0.0.1:$PORT \
        --webhook-rate 1000000 --webhook-burst 1000000 --max-per-ip 1000000 --max-connections 40000 \
        --heartbeat 600 >>"$W/server.log" 2>&1 &
    SBPID=$!
    for _ in $(seq 200); do
        curl -s -o /dev/null -m 1 "http://127.0.0.1:$PORT/api/v1/session" && return 0
        kill -0 $SBPID 2>/dev/null || break
        sleep 0.05
    done
    die "switchboard did not start (see $W/server.log)"
}
sb_stop() {
    [ -n "$SBPID" ] || return
    kill $SBPID 2>/dev/null
    wait $SBPID 2>/dev/null
    SBPID=""
}
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
slab_kb() { awk '/^Slab:/{print $2}' /proc/meminfo; }
q() { sqlite3 "$DATA/switchboard.db" "$1"; }
api() { curl -s -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' "$@"; }

log "setting up a fresh data directory in $DATA"
echo "bench-password-$$" | "$SB" admin --data "$DATA" create-user alice --password-stdin >/dev/null || die "create-user"
TOK=$("$SB" admin --data "$DATA" create-token alice) || die "create-token"
echo "bench-password-$$" | "$SB" admin --data "$DATA" create-user idle --password-stdin >/dev/null || die "create-user idle"
IDLE_TOK=$("$SB" admin --data "$DATA" create-token idle)
sb_start
TEAM=$(api -d '{"name":"bench"}' "http://127.0.0.1:$PORT/api/v1/teams" | jq -r .id)
CH=$(api "http://127.0.0.1:$PORT/api/v1/teams/$TEAM/channels" | jq -r '.channels[0].id')
[ -n "$CH" ] && [ "$CH" != null ] || die "team/channel setup failed"
hook_path() { jq -r .url | sed 's#^http://[^/]*##'; }
HOOK1=$(api -d '{"type":"incoming_webhook","name":"hook-1"}' "http://127.0.0.1:$PORT/api/v1/channels/$CH/connectors" | hook_path)
: >"$W/hooks100.txt"
for i in $(seq 1 100); do
    api -d "{\"type\":\"incoming_webhook\",\"name\":\"hook-many-$i\"}" "http://127.0.0.1:$PORT/api/v1/channels/$CH/connectors" | hook_path >>"$W/hooks100.txt"
done
[ "$(grep -c '^/webhook/' "$W/hooks100.txt")" = 100 ] || die "could not create 100 webhooks"
HOOKS100=$(tr '\n' ' ' <"$W/hooks100.txt")
# a team the idle subscribers belong to, which receives no events during the ingest runs
IDLE_TOK_QTEAM=$(curl -s -H "Authorization: Bearer $IDLE_TOK" -H 'Content-Type: application/json' -d '{"name":"quiet"}' "http://127.0.0.1:$PORT/api/v1/teams" | jq -r .id)
[ "$IDLE_TOK_QTEAM" != null ] || die "quiet team"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$W/card_fixed.json" "http://127.0.0.1:$PORT$HOOK1")
[ "$code" = 200 ] || die "webhook POST answered $code"
sb_stop

# ---------------------------------------------------------------- (a)+(b) ingest vs the ceiling
taskset -c $SCPU "$W/bin/ref_server" $REFPORT >/dev/null 2>&1 &
REFPID=$!
sleep 0.3
sb_start
count() { q "select count(*) from messages"; }
tticks() { # per-thread CPU ticks of a process: "tid comm ticks"
    local t
    for t in /proc/$1/task/*; do
        echo "${t##*/} $(cat "$t/comm" 2>/dev/null) $(awk '{print $14+$15}' "$t/stat" 2>/dev/null)"
    done
}
cpu0() { awk '/^cpu0 /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
cpu0_split() { # cpu0_split "BEFORE" "AFTER" SERVER_CPU_PCT: how busy CPU 0 was, and with what besides the server
    echo "$1 $2" | awk -v s="$3" '{b=100*($3-$1)/($4-$2); o=b-s; if (o<0) o=0; printf "cpu0_busy_pct=%.0f cpu0_others_pct=%.0f", b, o}'
}
cpu_split() { # cpu_split BEFORE_FILE AFTER_FILE MS: server CPU in % of one core, MHD workers, busiest other thread
    awk -v ms="$3" -v hz="$(getconf CLK_TCK)" 'NR==FNR{a[$1]=$3; next}
        {d=$3-a[$1]; tot+=d; if ($2=="MHD-worker") mhd+=d; else if (d>top) top=d}
        END{f=100/hz/(ms/1000); printf "cpu_pct=%.0f mhd_pct=%.0f busiest_other_thread_pct=%.0f", tot*f, mhd*f, top*f}' "$1" "$2"
}
ingest_run() { # ingest_run TAG SECONDS HOOK_ENV...: wrk on the webhook(s); stored rate, commits and CPU of the server
    local tag=$1 secs=$2
    shift 2
    local n0 m0 t0 r n1 last t1 commits=""
    n0=$(count); m0=$(q "select coalesce(max(id),0) from messages")
    tticks $SBPID >"$W/tt0"
    local c0a c0b split
    c0a=$(cpu0)
    local pp=""
    rm -f "$W/fsync.$tag"
    if command -v perf >/dev/null; then
        perf stat -x, -e syscalls:sys_enter_fdatasync -p $SBPID -o "$W/fsync.$tag" -- sleep "$secs" >/dev/null 2>&1 &
        pp=$!
    fi
    t0=$(ms)
    r=$(env "$@" bash -c "taskset -c $LCPU wrk -t1 -c$CONNS -d${secs}s -s '$HERE/webhook.lua' http://127.0.0.1:$PORT 2>&1 | grep '^RESULT' || echo 'RESULT failed=1'")
    t1=$(ms)
    tticks $SBPID >"$W/tt1"
    c0b=$(cpu0)
    [ -n "$pp" ] && wait $pp
    commits=$(awk -F, '/fdatasync/{print $1; exit}' "$W/fsync.$tag" 2>/dev/null)
    n1=$(count); last=$(q "select max(created) from messages where id > $m0")
    local stored=$((n1 - n0))
    local srate
    srate=$(awk -v n=$stored -v a=$t0 -v b="${last:-0}" 'BEGIN{ if (b>a) printf "%.0f", n/((b-a)/1000); else print 0 }')
    split=$(cpu_split "$W/tt0" "$W/tt1" $((t1 - t0)))
    local reqs spct
    reqs=$(field "$r" requests)
    spct=$(field "$split" cpu_pct)
    echo "$r stored=$stored stored_rps=$srate fdatasyncs=${commits:-?} rows_per_fdatasync=$(awk -v n=$stored -v c="${commits:-0}" 'BEGIN{ if (c>0) printf "%.1f", n/c; else print "?" }') $split $(cpu0_split "$c0a" "$c0b" "$spct") cpu_us_per_req=$(awk -v p="$spct" -v n="${reqs:-0}" -v ms=$((t1 - t0)) 'BEGIN{ if (n>0) printf "%.0f", p/100*ms*1000/n; else print "?" }')"
}
log "ingest vs the bare ceiling: $ROUNDS interleaved round(s) of ${D}s"
SB_HOOK=/webhook/0/ref wrk_run $REFPORT "$HERE/webhook.lua" $WARM >/dev/null
SB_HOOK=$HOOK1 wrk_run $PORT "$HERE/webhook.lua" $WARM >/dev/null
ref_run() { # wrk on the bare reference, with its CPU use
    local a b c0a c0b t0 t1 x pct
    a=$(awk '{print $14+$15}' /proc/$REFPID/stat); c0a=$(cpu0); t0=$(ms)
    x=$(SB_HOOK=/webhook/0/ref wrk_run $REFPORT "$HERE/webhook.lua" $1)
    b=$(awk '{print $14+$15}' /proc/$REFPID/stat); c0b=$(cpu0); t1=$(ms)
    pct=$(awk -v d=$((b - a)) -v hz="$(getconf CLK_TCK)" -v ms=$((t1 - t0)) 'BEGIN{printf "%.0f", 100*d/hz/(ms/1000)}')
    echo "$x cpu_pct=$pct $(cpu0_split "$c0a" "$c0b" "$pct") cpu_us_per_req=$(awk -v p=$pct -v n="$(field "$x" requests)" -v ms=$((t1 - t0)) 'BEGIN{ if (n>0) printf "%.1f", p/100*ms*1000/n; else print "?" }')"
}
for r in $(seq 1 $ROUNDS); do
    x=$("$W/bin/fsync_probe" "$DATA" 2)
    put "fsync_r$r" "$x"
    log "  fsync  round $r: $x"
    x=$(ref_run $D)
    put "ref_sat_r$r" "$x"
    log "  ref    round $r: $x"
    x=$(ingest_run one $D SB_HOOK=$HOOK1)
    put "sb1_sat_r$r" "$x"
    log "  sb 1   round $r: $x"
    x=$(ingest_run many $D "SB_HOOKS=$HOOKS100")
    put "sb100_sat_r$r" "$x"
    log "  sb 100 round $r: $x"
done
put fsync_paced "$("$W/bin/fsync_probe" "$DATA" 2)"
for rate in 1000 5000; do
    x=$(taskset -c $LCPU "$W/bin/post_load" -p $REFPORT -c $CONNS -d $PD -r $rate -b "$CARD" -u /webhook/0/ref -x 1)
    put "ref_paced_$rate" "$x"
    log "  ref paced $rate/s: $x"
    m0=$(q "select coalesce(max(id),0) from messages")
    x=$(taskset -c $LCPU "$W/bin/post_load" -p $PORT -c $CONNS -d $PD -r $rate -b "$CARD" -u "$HOOK1" -x 1)
    put "sb1_paced_$rate" "$x stored=$(q "select count(*) from messages where id > $m0")"
    log "  sb1 paced $rate/s: $x"
    x=$(taskset -c $LCPU "$W/bin/post_load" -p $PORT -c $CONNS -d $PD -r $rate -b "$CARD" -U "$W/hooks100.txt" -x 1)
    put "sb100_paced_$rate" "$x"
    log "  sb100 paced $rate/s: $x"
done
kill $REFPID; wait $REFPID 2>/dev/null; REFPID=""
put load_after_ingest "$(loadavg)"
put busy_mid "$(busy1s)"

# ---------------------------------------------------------------- (b) SIGKILL right after (during) a burst
log "SIGKILL at the end of a ${KILL_D}s saturating burst (64 connections still sending)"
m0=$(q "select coalesce(max(id),0) from messages")
x=$(taskset -c $LCPU "$W/bin/post_load" -p $PORT -c $CONNS -d $KILL_D -r 0 -b "$CARD" -u "$HOOK1" -x 1 \
    -s 1000000001 -o "$W/sb_acked.txt" -k $SBPID)
wait $SBPID 2>/dev/null
SBPID=""
sort -u "$W/sb_acked.txt" >"$W/sb_acked.sorted"
q "select json_extract(card,'\$.envelope.summary') from messages where id > $m0" | grep -o '#[0-9]\{10\}' | tr -d '#' | sed 's/^0*//' | sort >"$W/sb_stored.all"
sort -u "$W/sb_stored.all" >"$W/sb_stored.sorted"
acked=$(wc -l <"$W/sb_acked.sorted")
stored=$(wc -l <"$W/sb_stored.all")
lost=$(comm -23 "$W/sb_acked.sorted" "$W/sb_stored.sorted" | wc -l)
dups=$(($(wc -l <"$W/sb_stored.all") - $(wc -l <"$W/sb_stored.sorted")))
extra=$(comm -13 "$W/sb_acked.sorted" "$W/sb_stored.sorted" | wc -l)
gaps=$(q "select count(*) from (select seq, lag(seq) over (order by seq) p from events) where p is not null and seq != p + 1")
sb_start
after=$(count)
put sb_kill "$x acked=$acked stored=$stored lost=$lost duplicates=$dups stored_unacked=$extra seq_gaps=$gaps restart_ok=1 rows_after_restart=$after"
log "  switchboard kill: acked=$acked stored=$stored lost=$lost dups=$dups unacked_but_stored=$extra seq_gaps=$gaps"
sb_stop

# ---------------------------------------------------------------- (f) ingest with 10,000 idle subscribers vs none
NIDLE=10000
log "ingest with $NIDLE idle subscribers vs none: $IDLE_ROUNDS round(s)"
for r in $(seq 1 $IDLE_ROUNDS); do
    sb_start
    SB_HOOK=$HOOK1 wrk_run $PORT "$HERE/webhook.lua" $WARM >/dev/null
    x=$(ingest_run none $D SB_HOOK=$HOOK1)
    put "idle0_r$r" "$x"
    log "  none   round $r: $x"
    rm -f "$W/stop"
    taskset -c $LCPU "$W/bin/sse_load" -p $PORT -n $NIDLE -t "$IDLE_TOK" -i 8 -h 3600000 -S "$W/stop" >"$W/idle_$r.out" 2>&1 &
    SSEPID=$!
    for _ in $(seq 1200); do grep -q ESTABLISHED "$W/idle_$r.out" && break; sleep 0.1; done
    put "idle_conn_r$r" "$(grep ESTABLISHED "$W/idle_$r.out")"
    sleep 1
    x=$(ingest_run with $D SB_HOOK=$HOOK1)
    put "idle10k_r$r" "$x"
    log "  10k    round $r: $x ($(grep ESTABLISHED "$W/idle_$r.out"))"
    touch "$W/stop"
    wait $SSEPID
    SSEPID=""
    put "idle_hold_r$r" "$(grep HOLD "$W/idle_$r.out")"
    sb_stop
done

# ---------------------------------------------------------------- (d) fan-out
for N in 1000 10000; do
    log "fan-out to $N subscribers, $EV events"
    sb_start
    sleep 0.5
    rss0=$(rss_kb $SBPID); slab0=$(slab_kb)
    rm -f "$W/go"
    taskset -c $LCPU "$W/bin/sse_load" -p $PORT -n $N -t "$TOK" -i 8 -e $EV -g 1000 -u "$HOOK1" \
        -b "$W/card_fixed.json" -G "$W/go" -h 500 >"$W/fanout_$N.out" 2>&1 &
    SSEPID=$!
    for _ in $(seq 1200); do grep -q ESTABLISHED "$W/fanout_$N.out" && break; sleep 0.1; done
    sleep 2
    rss1=$(rss_kb $SBPID); slab1=$(slab_kb)
    c1=$(awk '{print $14+$15}' /proc/$SBPID/stat); sleep 1; c2=$(awk '{print $14+$15}' /proc/$SBPID/stat)
    touch "$W/go"
    wait $SSEPID
    SSEPID=""
    rss2=$(rss_kb $SBPID)
    put "fanout_$N" "$(grep ^FANOUT "$W/fanout_$N.out") $(grep ESTABLISHED "$W/fanout_$N.out" | sed 's/ESTABLISHED //;s/ ms=/ connect_ms=/') rss0_kb=$rss0 rss_idle_kb=$rss1 rss_after_kb=$rss2 slab_delta_kb=$((slab1 - slab0)) idle_cpu_ticks_1s=$((c2 - c1)) other_id_max=$(grep ^EVENT "$W/fanout_$N.out" | sed 's/.*other_id=\([0-9]*\).*/\1/' | sort -n | tail -1) ack_ms_max=$(grep ^EVENT "$W/fanout_$N.out" | sed 's/.*ack_ms=//' | sort -g | tail -1)"
    grep -E '^(EVENT|FANOUT|ESTABLISHED)' "$W/fanout_$N.out" | sed 's/^/    /' >&2
    sb_stop
done

# ---------------------------------------------------------------- (e) history
log "history: inserting $HIST_ROWS messages into one channel with the sqlite3 CLI"
now=$(ms)
text=$(printf 'Deploy **finished** for `service-a` on host-3: all checks green. %.0s' 1 2 3)
t0=$(ms)
q "PRAGMA journal_mode=WAL;
BEGIN;
INSERT INTO channels(team_id, name, created) VALUES($TEAM, 'history-1m', $now);
INSERT INTO channels(team_id, name, created) VALUES($TEAM, 'history-50', $now);
CREATE TEMP TABLE base AS SELECT (SELECT max(seq) FROM events) AS s,
  (SELECT id FROM channels WHERE name='history-1m' AND team_id=$TEAM) AS big,
  (SELECT id FROM channels WHERE name='history-50' AND team_id=$TEAM) AS small;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $HIST_ROWS + 50)
INSERT INTO events(seq, team_id, user_id, kind, data, created)
  SELECT (SELECT s FROM base) + x, $TEAM, NULL, 'message.created', '{}', $now + x / 100 FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $HIST_ROWS + 50)
INSERT INTO messages(id, channel_id, author_user_id, created, text)
  SELECT (SELECT s FROM base) + x, CASE WHEN x <= 50 THEN (SELECT small FROM base) ELSE (SELECT big FROM base) END,
         1, $now + x / 100, '$text #' || x FROM c;
COMMIT;" >/dev/null || die "history insert"
put hist_insert "rows=$HIST_ROWS ms=$(($(ms) - t0))"
BIG=$(q "select id from channels where name='history-1m' and team_id=$TEAM")
SMALL=$(q "select id from channels where name='history-50' and team_id=$TEAM")
put hist_rows "$(q "select count(*) from messages where channel_id=$BIG") in channel $BIG; db $(du -m "$DATA/switchboard.db" | cut -f1) MB"
sb_start
cold=$(curl -s -o "$W/hist_first.json" -w '%{time_total}' -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT/api/v1/channels/$BIG/messages?limit=50")
nmsg=$(jq '.messages | length' "$W/hist_first.json")
put hist_first "ms=$(awk -v t=$cold 'BEGIN{printf "%.2f", t*1000}') messages=$nmsg has_more=$(jq .has_more "$W/hist_first.json") newest=$(jq '.messages[0].id' "$W/hist_first.json")"
SB_TOKEN=$TOK SB_CHANNEL=$SMALL wrk_run $PORT "$HERE/history.lua" $WARM 16 >/dev/null
SB_TOKEN=$TOK SB_CHANNEL=$BIG wrk_run $PORT "$HERE/history.lua" $WARM 16 >/dev/null
for r in $(seq 1 $ROUNDS); do
    x=$(SB_TOKEN=$TOK SB_CHANNEL=$SMALL wrk_run $PORT "$HERE/history.lua" $PD 16)
    put "hist50_r$r" "$x"
    y=$(SB_TOKEN=$TOK SB_CHANNEL=$BIG wrk_run $PORT "$HERE/history.lua" $PD 16)
    put "hist1m_r$r" "$y"
    log "  history round $r: 50-message channel: $x | 1M channel: $y"
done
# the oldest page too (a deep cursor), to show the cost does not depend on position
oldest=$(q "select min(id) from messages where channel_id=$BIG")
deep=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT/api/v1/channels/$BIG/messages?limit=50&before=$((oldest + 60))")
put hist_deep "ms=$(awk -v t=$deep 'BEGIN{printf "%.2f", t*1000}')"
sb_stop

# ---------------------------------------------------------------- (c) ejabberd
if [ "${BENCH_NO_EJABBERD:-0}" != 1 ] && command -v ejabberdctl >/dev/null; then
    log "ejabberd: fresh database (WAL), archived MUC room, pinned to CPU $SCPU"
    if ej_start_fresh; then
        put ej_setup ok
        # the same 1 KB job with a unique id in the text, for the kill test
        pad=$(printf 'Build #1234 failed on main: fix race in scheduler, see log line 410. %.0s' $(seq 15) | cut -c1-985)
        printf '{"type":"groupchat","from":"bot@localhost","to":"bench@conference.localhost","subject":"","body":"%s #@ID@"}' "$pad" >"$W/ej_body.json"
        taskset -c $LCPU wrk -t1 -c$CONNS -d${WARM}s -s "$HERE/ejabberd_send.lua" http://127.0.0.1:15280 >/dev/null 2>&1
        ej_wait_idle
        id0=$(ejq "select coalesce(max(id),0) from archive")
        ts=$(date +%s%6N)
        x=$(taskset -c $LCPU wrk -t1 -c$CONNS -d${EJ_D}s -s "$HERE/ejabberd_send.lua" http://127.0.0.1:15280 2>&1 | grep '^RESULT')
        te=$(date +%s%6N)
        ej_wait_idle
        set -- $(ejq "select count(*), coalesce(sum(timestamp<=$te),0), coalesce(max(timestamp),0) from archive where id>$id0" | tr '|' ' ')
        srate=$(awk -v n=$1 -v a=$ts -v b=$3 'BEGIN{ if (b>a) printf "%.0f", n/((b-a)/1e6); else print 0 }')
        lag=$(awk -v a=$te -v b=$3 'BEGIN{ l=(b-a)/1e6; if (l<0) l=0; printf "%.1f", l }')
        put ej_sat "$x archived=$1 stored_during_load=$2 last_row_after_stop_s=$lag stored_rps=$srate"
        log "  ejabberd saturation: $x archived=$1 stored_during_load=$2 last_row_after_stop=${lag}s stored_rps=$srate"
        for rate in 1000 5000; do
            x=$(taskset -c $LCPU "$W/bin/post_load" -p 15280 -c $CONNS -d $PD -r $rate -b "$W/ej_body.json" -u /api/send_message -x 0 -s $((rate * 1000)))
            put "ej_paced_$rate" "$x"
            log "  ejabberd paced $rate/s: $x"
            ej_wait_idle
        done
        log "  ejabberd: SIGKILL at the end of a ${KILL_D}s burst"
        id0=$(ejq "select coalesce(max(id),0) from archive")
        x=$(taskset -c $LCPU "$W/bin/post_load" -p 15280 -c $CONNS -d $KILL_D -r 0 -b "$W/ej_body.json" -u /api/send_message \
            -x 0 -s 1000000001 -o "$W/ej_acked.txt" -k "$(ej_pid)")
        for _ in $(seq 50); do [ -z "$(ej_pid)" ] && break; sleep 0.1; done
        sort -u "$W/ej_acked.txt" >"$W/ej_acked.sorted"
        ejq "select txt from archive where id > $id0" | grep -o '#[0-9]\{10\}' | tr -d '#' | sed 's/^0*//' | sort >"$W/ej_stored.all"
        sort -u "$W/ej_stored.all" >"$W/ej_stored.sorted"
        acked=$(wc -l <"$W/ej_acked.sorted")
        stored=$(wc -l <"$W/ej_stored.all")
        lost=$(comm -23 "$W/ej_acked.sorted" "$W/ej_stored.sorted" | wc -l)
        put ej_kill "$x acked=$acked stored=$stored lost=$lost"
        log "  ejabberd kill: acked=$acked stored=$stored lost=$lost"
    else
        put ej_setup "failed (see /var/log/ejabberd/error.log)"
        log "  ejabberd did not start; see /var/log/ejabberd/error.log"
    fi
    ej_stop_quiet
    ej_restore
else
    put ej_setup skipped
fi
put load_after_peer "$(loadavg)"

# ---------------------------------------------------------------- profiles
if [ "${BENCH_NO_PERF:-0}" != 1 ] && command -v perf >/dev/null; then
    prof() { # prof TAG: perf record the server for PROF_D seconds while the caller's load runs
        perf record -F 1999 -p $SBPID -o "$W/perf.$1.data" -- sleep $PROF_D >/dev/null 2>&1
        perf report -i "$W/perf.$1.data" --no-children --sort comm,dso,symbol --stdio 2>/dev/null |
            grep -E '^ +[0-9.]+%' | head -25 >"$W/prof.$1.self.txt"
        perf report -i "$W/perf.$1.data" --no-children --sort comm,dso --stdio 2>/dev/null |
            grep -E '^ +[0-9.]+%' | head -12 >"$W/prof.$1.dso.txt"
        perf report -i "$W/perf.$1.data" --no-children --stdio 2>/dev/null | grep -m1 '^# Samples' >"$W/prof.$1.samples.txt"
    }
    log "profiling: ingest at saturation (1 webhook)"
    sb_start
    SB_HOOK=$HOOK1 wrk_run $PORT "$HERE/webhook.lua" $((PROF_D + 2)) >"$W/prof.ingest.wrk" &
    wp=$!
    sleep 1
    prof ingest
    wait $wp
    log "profiling: ingest with $NIDLE idle subscribers"
    rm -f "$W/stop"
    taskset -c $LCPU "$W/bin/sse_load" -p $PORT -n $NIDLE -t "$IDLE_TOK" -i 8 -h 3600000 -S "$W/stop" >"$W/prof_idle.out" 2>&1 &
    SSEPID=$!
    for _ in $(seq 1200); do grep -q ESTABLISHED "$W/prof_idle.out" && break; sleep 0.1; done
    SB_HOOK=$HOOK1 wrk_run $PORT "$HERE/webhook.lua" $((PROF_D + 2)) >"$W/prof.idle.wrk" &
    wp=$!
    sleep 1
    prof idle
    wait $wp
    touch "$W/stop"; wait $SSEPID; SSEPID=""
    sb_stop
    log "profiling: fan-out to 10,000 subscribers"
    sb_start
    rm -f "$W/go"
    taskset -c $LCPU "$W/bin/sse_load" -p $PORT -n 10000 -t "$TOK" -i 8 -e $((PROF_D + 1)) -g 1000 -u "$HOOK1" \
        -b "$W/card_fixed.json" -G "$W/go" -h 200 >"$W/prof_fanout.out" 2>&1 &
    SSEPID=$!
    for _ in $(seq 1200); do grep -q ESTABLISHED "$W/prof_fanout.out" && break; sleep 0.1; done
    touch "$W/go"
    prof fanout
    wait $SSEPID; SSEPID=""
    sb_stop
fi

put load_end "$(loadavg)"
put busy_end "$(busy1s)"
put finished "$(date -u +%FT%TZ)"
# ---------------------------------------------------------------- report
/usr/bin/python3 "$HERE/report.py" "$W" "$OUT" || die "report"
log "wrote $OUT (raw data in $W)"
