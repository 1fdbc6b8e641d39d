#!/usr/bin/env bash
# Builds the libFuzzer target over the sans-io PostgreSQL wire layer (framing, pgoutput
# decoder, value converter) with clang++-14 -fsanitize=fuzzer,address,undefined in a build
# directory of its own (meson's gcc build does not build it), seeds it with the captured
# streams of tests/postgres/unit/data, and runs it for a bounded time.
#
#   tests/fuzz/build_and_run.sh                         # build, then fuzz for 300 s
#   FUZZ_SECONDS=60 BUILD_DIR=/tmp/fz tests/fuzz/build_and_run.sh
#   tests/fuzz/build_and_run.sh crash-file...           # replay inputs (e.g. a crash) once
#
# Needs clang-14 and libclang-rt-14-dev (the fuzzer and sanitizer runtimes), libfmt-dev and
# the Boost headers. New corpus entries stay in $BUILD_DIR/corpus across runs; a crash is
# written to $BUILD_DIR/crashes/ and makes the script fail.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$root/build-fuzz}"
FUZZ_SECONDS="${FUZZ_SECONDS:-300}"
CXX="${CXX:-clang++-14}"
JOBS="${JOBS:-2}"

mkdir -p "$BUILD_DIR/obj" "$BUILD_DIR/corpus" "$BUILD_DIR/seeds" "$BUILD_DIR/crashes"
common=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
        -fno-sanitize-recover=undefined
        -I"$root/laredo/include" -I"$root/sources/postgres/include")

# What is fuzzed, and the Asio-free core it needs: no Asio, no <ranges> (clang 14 cannot
# compile libstdc++ 12's views).
sources=("$root"/laredo/src/core/*.cpp "$root"/sources/postgres/src/protocol/*.cpp)
objects=()
for src in "${sources[@]}"; do
    obj="$BUILD_DIR/obj/$(echo "${src#"$root"/}" | tr / _).o"
    objects+=("$obj")
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || \
       [ -n "$(find "$root/laredo/include" "$root/sources/postgres/include" "$root/sources/postgres/src/protocol" "$root/laredo/src/core" -name '*.hpp' -newer "$obj" -print -quit)" ]; then
        "$CXX" "${common[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
        while [ "$(jobs -r | wc -l)" -ge "$JOBS" ]; do sleep 0.2; done
    fi
done
wait
"$CXX" "${common[@]}" -fsanitize=fuzzer "$root/tests/fuzz/pgoutput_fuzz.cpp" "${objects[@]}" \
    -lfmt -o "$BUILD_DIR/pgoutput_fuzz"

if [ "$#" -gt 0 ]; then
    exec "$BUILD_DIR/pgoutput_fuzz" "$@"
fi

# Seeds: every captured stream as one input (mode byte 0, then [u16 length][message] frames),
# and text samples for every value kind (mode byte 1, kind byte, text).
python3 - "$root/tests/postgres/unit/data" "$BUILD_DIR/seeds" <<'PY'
import os, sys
data, out = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(data)):
    if not name.endswith('.hex'):
        continue
    frames = bytearray([0])
    for line in open(os.path.join(data, name)):
        if line.startswith('#') or not line.strip():
            continue
        msg = bytes.fromhex(line.strip())
        if len(frames) + 2 + len(msg) > 16384:
            break
        frames += len(msg).to_bytes(2, 'big') + msg
    open(os.path.join(out, 'stream_' + name[:-4]), 'wb').write(bytes(frames))
samples = {  # value_kind order: text bool int64 float64 numeric bytes date time timestamp
             # timestamptz interval uuid json array
    0: ['hello'], 1: ['t', 'f'], 2: ['-9223372036854775808', '42'],
    3: ['NaN', '-Infinity', '1.7976931348623157e+308', '5e-324', '-0'],
    4: ['-99999999999999999999.99999999999999999999', 'NaN'],
    5: ['\\x0001ff', 'ab\\000\\\\'],
    6: ['4713-11-24 BC', '5874897-12-31', 'infinity', '2000-02-29'],
    7: ['24:00:00', '13:05:09.5'],
    8: ['0044-03-15 12:00:00 BC', '294247-01-10 04:00:54.775806'],
    9: ['4713-11-24 05:53:28+05:53:28 BC', '2024-01-01 23:34:05.123456-03:30', '-infinity'],
    10: ['1 year 2 mons'], 11: ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'], 12: ['{"a": 1}'],
    13: ['{1,2,NULL}'],
}
n = 0
for kind, texts in samples.items():
    for t in texts:
        open(os.path.join(out, 'text_%02d' % n), 'wb').write(bytes([1, kind]) + t.encode())
        n += 1
open(os.path.join(out, 'position'), 'wb').write(b'\x01\x00' + b'1A/2B3C4D5E:7')
PY

status=0
"$BUILD_DIR/pgoutput_fuzz" "$BUILD_DIR/corpus" "$BUILD_DIR/seeds" \
    -dict="$root/tests/fuzz/pgoutput.dict" -max_len=16384 -max_total_time="$FUZZ_SECONDS" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$BUILD_DIR/crashes/" 2>&1 | tee "$BUILD_DIR/last_run.log" | \
    grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|Done |stat::|==[0-9]+==|SUMMARY|INFO: (Seed|Loaded))' || status=$?
if grep -q -E 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error|deadly signal' \
       "$BUILD_DIR/last_run.log"; then
    echo "fuzzing found a problem: see $BUILD_DIR/last_run.log and $BUILD_DIR/crashes/" >&2
    exit 1
fi
echo "no crash in ${FUZZ_SECONDS} s; log: $BUILD_DIR/last_run.log"
