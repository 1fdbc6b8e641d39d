#!/usr/bin/env bash
# Installs what is needed, builds laredo (release), and runs the demo: the CSV example source
# feeding the engine into indexed memory targets, printing what happens.
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
ninja -C "$build" examples/demo/laredo-demo
exec "$build/examples/demo/laredo-demo" "$@"
