#!/usr/bin/env bash
# laredo-server over HTTP on loopback, beside the same lookups in-process:
#   1. lookups by key: wrk over keep-alive connections against GET /v1/tables/public.users/rows/<id>
#      (100 000 rows in an indexed memory target), then server_lookup_bench (the same get and
#      JSON encoding without HTTP);
#   2. status calls: wrk against GET /v1/status while a client inserts into PostgreSQL.
# Needs a release build (BUILD, default build-release: meson setup build-release
# --buildtype=release -Dtests=false) and wrk. Runs the throwaway PostgreSQL test cluster.
#
#   bash bench/server/server_bench.sh [seconds]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-build-release}
[[ $build = /* ]] || build=$root/$build
seconds=${1:-10}
rows=100000
token=bench-token
work=$(mktemp -d /tmp/laredo-server-bench-XXXXXX)
ninja -C "$build" laredo/apps/laredo-server/laredo-server bench/server/server_lookup_bench \
    sources/postgres/src/client/pg-test-cluster >&2

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$build/sources/postgres/src/client/pg-test-cluster" --name server-bench > "$work/pg.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do grep -q '^conninfo:' "$work/pg.out" && break; sleep 0.1; done
conninfo=$(sed -n 's/^conninfo: //p' "$work/pg.out")
psql "$conninfo" -q -c "DROP TABLE IF EXISTS users; CREATE TABLE users (id bigint PRIMARY KEY, name text, email text, city text);
  INSERT INTO users SELECT g, 'user' || g, 'u' || g || '@example.com', CASE WHEN g % 2 = 0 THEN 'berlin' ELSE 'oslo' END
  FROM generate_series(1, $rows) g;"

cat > "$work/laredo.toml" <<TOML
[sources.pg]
type = "postgres"
connection = "$conninfo"
slot_name = "bench_slot"
[[tables]]
source = "pg"
schema = "public"
table = "users"
[[tables.targets]]
type = "indexed-memory"
[api]
port = 0
admin_tokens = ["$token"]
[observability.logging]
format = "json"
[server]
threads = 2
TOML
"$build/laredo/apps/laredo-server/laredo-server" --config "$work/laredo.toml" --conf-dir "$work/none" \
    2> "$work/server.log" &
pids+=($!)
port=""
for _ in $(seq 1 600); do
    port=$(grep -o '"listener":"api"[^}]*"port":[0-9]*' "$work/server.log" | grep -o '[0-9]*$' || true)
    [[ -n $port ]] && curl -sf "http://127.0.0.1:$port/health/ready" > /dev/null && break
    sleep 0.1
done
echo "laredo-server on 127.0.0.1:$port, $rows rows"

echo "== lookups by key over HTTP (wrk, 2 threads, 16 keep-alive connections, ${seconds}s)"
ROWS=$rows TOKEN=$token wrk -t2 -c16 -d"${seconds}s" --latency -s "$root/bench/server/lookup.lua" \
    "http://127.0.0.1:$port" | grep -E 'Requests/sec|Latency|50%|99%'

echo "== the same lookups in-process (get + JSON encoding)"
"$build/bench/server/server_lookup_bench" --benchmark_min_time=2 | grep -E 'lookup|items'

echo "== status calls while PostgreSQL streams inserts"
( for i in $(seq 1 1000000); do
      psql "$conninfo" -q -c "INSERT INTO users SELECT g, 'x', 'y', 'z' FROM generate_series($((rows + i * 100)), $((rows + i * 100 + 99))) g" || break
  done ) > /dev/null 2>&1 &
pids+=($!)
TOKEN=$token wrk -t2 -c8 -d"${seconds}s" -s "$root/bench/server/status.lua" "http://127.0.0.1:$port" \
    | grep -E 'Requests/sec|Latency'
echo "rows after streaming: $(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/tables/public.users/count")"
