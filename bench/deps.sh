#!/bin/sh
# bench/deps.sh: install what `make bench` needs, from Debian packages only, when missing.
# Idempotent; run as root (run.sh calls it). Set BENCH_NO_APT=1 to only check.
#   tools:      wrk sqlite3 curl jq python3 taskset (util-linux) perf (linux-perf) valgrind
#   build:      cc, pkg-config, libmicrohttpd-dev (bench/ref_server.c, bench/sse_load.c)
#   peer:       ejabberd + erlang-p1-sqlite3 (SQLite backend for ejabberd's archive)
set -e
need=""
have() { command -v "$1" >/dev/null 2>&1; }
have wrk || need="$need wrk"
have sqlite3 || need="$need sqlite3"
have curl || need="$need curl"
have jq || need="$need jq"
[ -x /usr/bin/python3 ] || need="$need python3"
have taskset || need="$need util-linux"
have cc || need="$need gcc libc6-dev"
have pkg-config || need="$need pkg-config"
pkg-config --exists libmicrohttpd 2>/dev/null || need="$need libmicrohttpd-dev"
have perf || need="$need linux-perf"
have valgrind || need="$need valgrind"
have ejabberdctl || need="$need ejabberd"
dpkg -s erlang-p1-sqlite3 >/dev/null 2>&1 || need="$need erlang-p1-sqlite3"
[ -z "$need" ] && { echo "deps: all present"; exit 0; }
if [ -n "$BENCH_NO_APT" ]; then echo "deps: missing:$need" >&2; exit 1; fi
[ "$(id -u)" = 0 ] || { echo "deps: missing:$need (run as root to install)" >&2; exit 1; }
echo "deps: installing:$need"
# the ejabberd package starts the daemon with Debian's default config (listening on ::) unless
# invoke-rc.d is told not to; many containers already have such a policy-rc.d
created_rcd=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_rcd=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need
[ -n "$created_rcd" ] && rm -f /usr/sbin/policy-rc.d
if have ejabberdctl; then
    have systemctl && systemctl disable ejabberd >/dev/null 2>&1 || true
    # keep pristine copies; run.sh writes its own config and restores these afterwards
    [ -e /etc/ejabberd/ejabberd.yml.debian-default ] || cp -p /etc/ejabberd/ejabberd.yml /etc/ejabberd/ejabberd.yml.debian-default
    [ -e /etc/default/ejabberd.debian-default ] || cp -p /etc/default/ejabberd /etc/default/ejabberd.debian-default
fi
echo "deps: done"
