#!/usr/bin/env bash
# Installs what is needed, builds laredo with AddressSanitizer + UndefinedBehaviorSanitizer,
# runs every test (unit, engine, sources, targets, PostgreSQL integration against a cluster the
# harness starts itself) and ends with one line: "N passed, N failed" (test cases).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build=${LAREDO_TEST_BUILD:-build-test}
options=(-Dsanitizers=address_undefined -Dbuildtype=debug -Dbench=false)
if [ -d "$build" ]; then
  meson setup --reconfigure "$build" "${options[@]}" >/dev/null
else
  meson setup "$build" "${options[@]}" >/dev/null
fi
ninja -C "$build"

# Sanitizer settings: fail on the first UB report, keep leak checking on.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}

if meson test -C "$build" --num-processes 2 --print-errorlogs; then
  status=0
else
  status=$?
fi
python3 scripts/count-test-cases.py "$build/meson-logs/testlog.junit.xml"
exit "$status"
