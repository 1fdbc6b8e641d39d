#!/usr/bin/env bash
# Sourced by scripts/demo.sh: starts a throwaway PostgreSQL 15 on loopback in a temporary
# directory (logical replication on), and removes it again. PostgreSQL refuses to run as root,
# so as root the server runs as the `postgres` user.
#
#   source scripts/throwaway-postgres.sh
#   throwaway_postgres_start      # sets THROWAWAY_PG_CONNINFO, THROWAWAY_PG_DIR
#   throwaway_postgres_stop       # also registered on EXIT by start

THROWAWAY_PG_BIN=${THROWAWAY_PG_BIN:-/usr/lib/postgresql/15/bin}

throwaway_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

throwaway_postgres_stop() {
    if [ -n "${THROWAWAY_PG_DIR:-}" ] && [ -d "$THROWAWAY_PG_DIR" ]; then
        throwaway_as_owner "$THROWAWAY_PG_BIN/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -m immediate \
            -w -t 30 stop >/dev/null 2>&1 || true
        rm -rf "$THROWAWAY_PG_DIR"
    fi
    THROWAWAY_PG_DIR=
}

throwaway_postgres_start() {
    THROWAWAY_PG_DIR=$(mktemp -d /tmp/laredo-demo-pg.XXXXXX)
    trap throwaway_postgres_stop EXIT
    trap 'exit 130' INT TERM
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$THROWAWAY_PG_DIR"; fi
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    throwaway_as_owner "$THROWAWAY_PG_BIN/initdb" -D "$THROWAWAY_PG_DIR/data" -U postgres \
        -A trust -E UTF8 --locale=C.UTF-8 >"$THROWAWAY_PG_DIR/initdb.log" 2>&1 || {
        cat "$THROWAWAY_PG_DIR/initdb.log" >&2
        return 1
    }
    cat >>"$THROWAWAY_PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
shared_buffers = 256MB
fsync = off
synchronous_commit = off
CONF
    throwaway_as_owner "$THROWAWAY_PG_BIN/pg_ctl" -D "$THROWAWAY_PG_DIR/data" \
        -l "$THROWAWAY_PG_DIR/postgres.log" -w -t 60 start >/dev/null || {
        cat "$THROWAWAY_PG_DIR/postgres.log" >&2
        return 1
    }
    THROWAWAY_PG_CONNINFO="host=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=disable"
}
