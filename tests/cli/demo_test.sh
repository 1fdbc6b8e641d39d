#!/usr/bin/env bash
# The README's first command in its bounded, non-interactive form: scripts/demo.sh on this
# build directory with a smaller table, no standard input. Passes when it runs to the end and
# its output shows the baseline reaching 100 % and at least one live change arriving.
# Usage: demo_test.sh BUILD_ROOT SOURCE_ROOT
set -euo pipefail
build_root=$1
source_root=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
LAREDO_DEMO_BUILD=$build_root LAREDO_DEMO_ROWS=20000 bash "$source_root/scripts/demo.sh" \
  </dev/null >"$out" 2>&1 || status=$?
cat "$out"
fail() { echo "demo_test: $*" >&2; exit 1; }
[ "$status" -eq 0 ] || fail "scripts/demo.sh exited with $status"
grep -q '^baseline pg:public.accounts:memory.indexed  \[#*\] 100%  20,000/20,000 rows' "$out" ||
  fail "no baseline line reaching 100 %"
grep -q '^change public\.\(accounts\|transfers\) \(INSERT\|UPDATE\|DELETE\)' "$out" ||
  fail "no live change line"
grep -q '^\$ laredo query count public.transfers' "$out" || fail "no laredo query calls"
echo "demo_test: the demo ran to the end: baseline at 100 %, live changes, queries"
