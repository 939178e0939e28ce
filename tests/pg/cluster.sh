#!/bin/sh
# cluster.sh: a throwaway PostgreSQL cluster for the tests, in a directory of its own.
#
#   tests/pg/cluster.sh start DIR    initdb (first time) and start; prints the connection URI
#                                    postgres://switchboard@127.0.0.1:PORT/switchboard
#                                    (also written to DIR/uri)
#   tests/pg/cluster.sh stop DIR     stops it (fast shutdown)
#   tests/pg/cluster.sh restart DIR  restarts it on the same port (after a crash too)
#
# Layout of DIR: data/ (the cluster), the Unix socket, log (the server's log), uri.
# The cluster trusts every local connection, listens on 127.0.0.1 only, on a free port chosen at
# the first start, and keeps fsync on (the tests check durability). Run as root (CI), the server
# runs as the user postgres and DIR is given to it; run as anyone else, as that user.
# Not for: production clusters.
set -eu

prog=cluster.sh
die() {
    echo "$prog: $*" >&2
    exit 1
}

usage() {
    echo "usage: $prog start|stop|restart DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
case $2 in
/*) dir=$2 ;;
*) dir=$(pwd)/$2 ;;
esac
data=$dir/data
log=$dir/log

# The server's binaries: pg_config's bindir, else the newest /usr/lib/postgresql/*/bin.
find_bindir() {
    if command -v pg_config >/dev/null 2>&1; then
        b=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$b" ] && [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ]; then
            echo "$b"
            return
        fi
    fi
    # shellcheck disable=SC2012 # the version directories are plain numbers
    for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ]; then
            echo "$b"
            return
        fi
    done
    die "PostgreSQL server binaries not found (no initdb in \`pg_config --bindir\` or /usr/lib/postgresql/*/bin); install postgresql (make deps)"
}
bin=$(find_bindir)

# Runs a command as the cluster's owner: postgres when we are root, else ourselves.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 ||
        die "running as root needs the user 'postgres' (the postgresql package creates it)"
    as_owner() {
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            # su needs one command line: quote every argument
            q=
            for a in "$@"; do
                q="$q '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
            done
            su postgres -s /bin/sh -c "$q"
        fi
    }
else
    as_owner() { "$@"; }
fi

is_running() {
    [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

port_of() {
    sed -n 's/^port = \([0-9][0-9]*\).*/\1/p' "$data/postgresql.conf" | tail -n 1
}

uri_of() {
    echo "postgres://switchboard@127.0.0.1:$(port_of)/switchboard"
}

# A TCP port nobody listens on now (the start retries with another when it is taken meanwhile).
pick_port() {
    while :; do
        p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 20000 ))
        if command -v ss >/dev/null 2>&1; then
            ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && continue
        fi
        echo "$p"
        return
    done
}

set_port() {
    as_owner sh -c "sed -i '/^port = /d' '$data/postgresql.conf' && echo 'port = $1' >> '$data/postgresql.conf'"
}

# pg_ctl start|restart, waiting until the server accepts connections.
pg_ctl_up() {
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 "$1" >/dev/null
}

init_cluster() {
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        chmod 0700 "$dir"
    fi
    as_owner test -w "$dir" ||
        die "the server's user cannot write to $dir (a parent directory closed to it?); use another DIR"
    [ -e "$data" ] && die "$data exists but holds no cluster; remove it first"
    if [ "$(printf '%s' "$dir/.s.PGSQL.65535" | wc -c)" -gt 107 ]; then
        die "$dir is too long a path for a Unix socket; use a shorter DIR"
    fi
    # --no-sync: initdb's own files need not reach the disk (a test kills processes, not the
    # machine); the server itself runs with fsync on
    if ! as_owner "$bin/initdb" -D "$data" -U switchboard --auth=trust -E UTF8 --locale=C --no-sync \
        >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed (its output is above)"
    fi
    as_owner sh -c "cat >> '$data/postgresql.conf'" <<EOF

# tests/pg/cluster.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 300
shared_buffers = 128MB
logging_collector = off
EOF
}

start() {
    if is_running; then
        uri_of | tee "$dir/uri"
        return
    fi
    fresh=
    if [ ! -f "$data/PG_VERSION" ]; then
        init_cluster
        fresh=1
    fi
    tries=0
    while :; do
        if [ -n "$fresh" ] || [ -z "$(port_of)" ]; then
            set_port "$(pick_port)"
        fi
        if pg_ctl_up start; then
            break
        fi
        tries=$((tries + 1))
        if [ -n "$fresh" ] && [ $tries -lt 10 ] && grep -q "could not bind\|Address already in use" "$log" 2>/dev/null; then
            continue
        fi
        tail -n 20 "$log" >&2 2>/dev/null || true
        die "the server did not start (the end of $log is above)"
    done
    port=$(port_of)
    if [ -n "$fresh" ]; then
        as_owner "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U switchboard -d postgres \
            -v ON_ERROR_STOP=1 -c 'CREATE DATABASE switchboard' >/dev/null ||
            die "cannot create the database switchboard"
    fi
    as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d switchboard -U switchboard ||
        die "the server does not accept connections on 127.0.0.1:$port"
    uri_of >"$dir/uri.tmp" && mv "$dir/uri.tmp" "$dir/uri"
    cat "$dir/uri"
}

stop() {
    if [ ! -f "$data/PG_VERSION" ]; then
        die "no cluster in $dir"
    fi
    if ! is_running; then
        echo "$prog: the cluster in $dir is not running" >&2
        return
    fi
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
}

restart() {
    [ -f "$data/PG_VERSION" ] || die "no cluster in $dir (start it first)"
    # pg_ctl restart starts a server that is not running (a stale postmaster.pid included)
    pg_ctl_up restart || {
        tail -n 20 "$log" >&2 2>/dev/null || true
        die "the server did not restart (the end of $log is above)"
    }
    as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$(port_of)" -d switchboard -U switchboard ||
        die "the server does not accept connections on 127.0.0.1:$(port_of)"
    uri_of
}

case $cmd in
start) start ;;
stop) stop ;;
restart) restart ;;
*) usage ;;
esac
