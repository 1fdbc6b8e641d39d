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
logs=("$build/meson-logs/testlog.junit.xml")

# ThreadSanitizer: the engine's tests and the conformance kit (its concurrency cases drive
# sources from several threads) again, in a build of their own. LAREDO_TSAN=0 skips it.
if [ "${LAREDO_TSAN:-1}" != 0 ]; then
  tsan_build=${LAREDO_TSAN_BUILD:-build-test-tsan}
  tsan_options=(-Dsanitizers=thread -Dbuildtype=debug -Dbench=false)
  if [ -d "$tsan_build" ]; then
    meson setup --reconfigure "$tsan_build" "${tsan_options[@]}" >/dev/null
  else
    meson setup "$tsan_build" "${tsan_options[@]}" >/dev/null
  fi
  tsan_suites=(engine conformance)
  # Build only the executables of those suites.
  mapfile -t tsan_targets < <(python3 scripts/suite-executables.py "$tsan_build" "${tsan_suites[@]}")
  ninja -C "$tsan_build" "${tsan_targets[@]}"
  suite_args=()
  for s in "${tsan_suites[@]}"; do suite_args+=(--suite "$s"); done
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1}
  if ! meson test -C "$tsan_build" --no-rebuild --num-processes 2 --print-errorlogs \
      "${suite_args[@]}"; then
    status=1
  fi
  logs+=("$tsan_build/meson-logs/testlog.junit.xml")
fi

python3 scripts/count-test-cases.py "${logs[@]}"
exit "$status"
