#!/usr/bin/env bash
# The README's first command: laredo-server on a throwaway PostgreSQL, watched and queried
# with the laredo CLI. It installs what is needed, builds laredo-server and laredo (release),
# starts a PostgreSQL 15 cluster in a temporary directory (as the postgres user when run as
# root), creates a demo schema (public.accounts with 1,000,000 rows, public.transfers), starts
# laredo-server on a configuration written next to the cluster, and shows `laredo watch`
# (the baseline's progress, then live changes) while a write workload runs (transfers between
# accounts in one transaction over both tables, new and closed accounts), then a few
# `laredo query` calls whose answers change as the workload goes on. Everything stops and the
# cluster is removed on exit or Ctrl-C. No standard input is needed.
#
#   LAREDO_DEMO_ROWS=N      accounts to create (default 1000000)
#   LAREDO_DEMO_BUILD=DIR   an existing, configured build directory (default: build-release,
#                           configured here for a release build)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

rows=${LAREDO_DEMO_ROWS:-1000000}
if [ -n "${LAREDO_DEMO_BUILD:-}" ]; then
  build=$LAREDO_DEMO_BUILD  # an existing build directory, used as it is configured
else
  build=build-release
  options=(--buildtype=release -Dtests=false -Dbench=false)
  if [ -d "$build" ]; then
    meson setup --reconfigure "$build" "${options[@]}" >/dev/null
  else
    meson setup "$build" "${options[@]}" >/dev/null
  fi
fi
# laredo-server refuses LAREDO_* variables that are not its keys: these were the demo's.
unset LAREDO_DEMO_BUILD LAREDO_DEMO_ROWS
ninja -C "$build" laredo/apps/laredo-server/laredo-server laredo/apps/laredo/laredo
server_bin=$build/laredo/apps/laredo-server/laredo-server
laredo=$build/laredo/apps/laredo/laredo

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
  throwaway_postgres_stop
}

source scripts/throwaway-postgres.sh
echo "== starting a throwaway PostgreSQL 15 (logical replication on)"
throwaway_postgres_start
trap stop_all EXIT
work=$THROWAWAY_PG_DIR/laredo
mkdir -p "$work"
psql_run() { psql -X -q -v ON_ERROR_STOP=1 "$THROWAWAY_PG_CONNINFO" "$@"; }

echo "== creating public.accounts ($rows rows) and public.transfers"
psql_run <<SQL
CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, email text NOT NULL,
                       balance numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO accounts SELECT g, 'owner ' || g, 'owner' || g || '@example.com', 1000
  FROM generate_series(1, $rows) g;
CREATE TABLE transfers (id bigserial PRIMARY KEY, from_id bigint NOT NULL, to_id bigint NOT NULL,
                        amount numeric(12,2) NOT NULL, at timestamptz NOT NULL DEFAULT now());
ANALYZE accounts;
SQL

cat >"$work/laredo.toml" <<TOML
[sources.pg]
type = "postgres"
connection = "$THROWAWAY_PG_CONNINFO"
slot_name = "laredo_demo"

[[tables]]
source = "pg"
schema = "public"
table = "accounts"
[[tables.targets]]
type = "indexed-memory"
lookup_fields = ["email"]

[[tables]]
source = "pg"
schema = "public"
table = "transfers"
[[tables.targets]]
type = "indexed-memory"

[api]
port = 0
admin_tokens = ["demo-token"]

[observability.logging]
format = "json"
TOML
"$laredo" config check "$work/laredo.toml"

echo "== starting laredo-server"
"$server_bin" --config "$work/laredo.toml" --conf-dir "$work/conf.d" 2>"$work/server.log" &
pids+=($!)
port=
for _ in $(seq 1 300); do
  port=$(grep '"msg":"listening"' "$work/server.log" | grep '"listener":"api"' |
         sed -n 's/.*"port":\([0-9]*\).*/\1/p' | head -n 1 || true)
  [ -n "$port" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "laredo-server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
export LAREDO_SERVER=http://127.0.0.1:$port LAREDO_TOKEN=demo-token

# A write workload: each transfer moves money from account 1 to another account and records
# it, in one transaction over both tables; every tenth step opens an account and closes it.
# It ends by itself after a minute (and when PostgreSQL stops).
workload() {
  local i=0 end=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$end" ]; do
    i=$((i + 1))
    local to=$((RANDOM % rows + 1))
    echo "BEGIN; UPDATE accounts SET balance = balance - 1, updated_at = now() WHERE id = 1;"
    echo "UPDATE accounts SET balance = balance + 1, updated_at = now() WHERE id = $to;"
    echo "INSERT INTO transfers (from_id, to_id, amount) VALUES (1, $to, 1); COMMIT;"
    if [ $((i % 10)) -eq 0 ]; then
      echo "INSERT INTO accounts (id, owner, email, balance) VALUES ($((rows + i)), 'new', 'new$i@example.com', 0);"
      echo "DELETE FROM accounts WHERE id = $((rows + i));"
    fi
    echo "SELECT pg_sleep(0.25);"
  done | psql_run >/dev/null 2>&1
}

echo "== laredo watch: the baseline, then live changes"
"$laredo" watch --interval 0.5 &
watch_pid=$!
pids+=("$watch_pid")
for _ in $(seq 1 600); do
  "$laredo" ready >/dev/null 2>&1 && break
  sleep 0.2
done
workload &
pids+=($!)
sleep 4
kill -INT "$watch_pid"
wait "$watch_pid" || true

for round in 1 2 3; do
  echo
  echo "== laredo query (round $round, while the workload runs)"
  echo "\$ laredo query count public.transfers"
  "$laredo" query count public.transfers
  echo "\$ laredo query get public.accounts --key id=1"
  "$laredo" query get public.accounts --key id=1
  sleep 2
done
echo
echo "\$ laredo query list public.transfers --limit 3"
"$laredo" query list public.transfers --limit 3
echo
echo "\$ laredo status"
"$laredo" status
echo
echo "== stopping laredo-server and PostgreSQL, removing $THROWAWAY_PG_DIR"
