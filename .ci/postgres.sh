#!/usr/bin/env bash
# Source this: starts a throwaway PostgreSQL on 127.0.0.1 (random free port) in a temp directory, exports
# BUDDYBOT_TEST_PG (a server URL the tests may create databases on) and stops and removes it on exit.
# initdb refuses to run as root, so as root the server runs as an unprivileged system user.

pg_bin() {
    local found
    found=$(command -v initdb || true)
    if [ -z "$found" ]; then
        found=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    [ -n "$found" ] && dirname "$found"
}

PG_BIN=$(pg_bin || true)
if [ -z "$PG_BIN" ]; then
    echo "ci: initdb not found; installing the Debian package postgresql" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(pg_bin)
fi

PG_DIR=$(mktemp -d /tmp/buddybot-pg.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then
    PG_USER=buddybot-pg
    id "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
    chown "$PG_USER" "$PG_DIR"
    as_pg() { runuser -u "$PG_USER" -- "$@"; }
else
    as_pg() { "$@"; }
fi
PG_PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop_postgres() {
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap stop_postgres EXIT

as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --no-locale -E UTF8 >"$PG_DIR/initdb.log"
# Throwaway data: no fsync. Loopback only; the socket lives in the temp directory too.
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=200" >/dev/null

export BUDDYBOT_TEST_PG="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
export BUDDYBOT_TEST_PG_REQUIRED=1  # the PostgreSQL half of the suite must run, not skip
echo "ci: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT" >&2
