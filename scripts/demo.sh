#!/usr/bin/env bash
# The README's first command. Installs what is needed, builds laredo (release), starts a
# throwaway PostgreSQL 15 in a temporary directory, and runs the main job against it
# (laredo-pg-demo): a demo schema with 1,000,000 rows, the baseline with its progress, a write
# workload streamed into indexed memory targets, and a final check that every target equals its
# table. The cluster is removed on exit or Ctrl-C. Arguments go to laredo-pg-demo
# (--rows N, --seconds S). No standard input is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build=${LAREDO_DEMO_BUILD:-build-release}
options=(--buildtype=release -Dtests=false -Dbench=false)
if [ -d "$build" ]; then
  meson setup --reconfigure "$build" "${options[@]}" >/dev/null
else
  meson setup "$build" "${options[@]}" >/dev/null
fi
ninja -C "$build" examples/pg_demo/laredo-pg-demo

source scripts/throwaway-postgres.sh
echo "starting a throwaway PostgreSQL 15 (logical replication on)"
throwaway_postgres_start
echo "PostgreSQL is up: $THROWAWAY_PG_CONNINFO"
status=0
"$build/examples/pg_demo/laredo-pg-demo" "$THROWAWAY_PG_CONNINFO" "$@" || status=$?
echo "stopping PostgreSQL and removing $THROWAWAY_PG_DIR"
throwaway_postgres_stop
exit "$status"
