#!/usr/bin/env bash
# laredo as its users get it: installs the current build into a staging directory, then builds
# the tiny log source and its conformance test (tests/install/consumer) twice and runs both:
#   (a) against the staged install, with pkg-config and a plain Makefile;
#   (b) as a meson project with laredo as a subproject (subprojects/laredo -> this tree),
#       dependency('laredo-testing') resolved through meson.override_dependency.
# Fails when either does not build or the kit fails.
#
#   consumers_test.sh BUILD_ROOT SOURCE_ROOT SANITIZERS WORK_DIR
#
# SANITIZERS is the build's -Dsanitizers. A sanitized laredo carries its -fsanitize link flag in
# its .pc files' Libs (the runtime must be linked in); (a) compiles the consumer with the same
# flags too, as a user should, so the consumer's code is checked as well and both sides agree
# on the instrumentation. (b) builds laredo afresh inside the consumer, plain (-O0, no
# sanitizer, no debug info): it checks the wiring, quickly; (a) covers the sanitized library.
# WORK_DIR stays between runs (under the build directory) so ccache finds (b)'s objects again.
set -euo pipefail

build_root=$1 source_root=$2 sanitizers=$3 work=$4
consumer=$source_root/tests/install/consumer

case $sanitizers in
  none) sanitize= ;;
  address_undefined) sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer" ;;
  thread) sanitize=-fsanitize=thread ;;
  *) echo "unknown sanitizers option: $sanitizers" >&2; exit 2 ;;
esac

mkdir -p "$work"
staging=$work/staging
rm -rf "$staging"

step() { printf '\n=== %s\n' "$*"; }

# The library (tags devel: headers, static libraries, .pc files; runtime: shared libraries),
# not laredo-server (tag server), which a user of the library does not need.
step "meson install --tags devel,runtime --destdir $staging"
meson install -C "$build_root" --no-rebuild --quiet --tags devel,runtime --destdir "$staging"

# The .pc files name the configured prefix; PKG_CONFIG_SYSROOT_DIR puts the staging directory
# in front of their -I and -L paths, as for any staged (DESTDIR) install.
prefix=$(meson introspect "$build_root" --buildoptions |
         python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
pc_dir=$(dirname "$(find "$staging$prefix" -name laredo-testing.pc -print -quit)")
[ -f "$pc_dir/laredo.pc" ] || { echo "no laredo.pc installed under $staging$prefix" >&2; exit 1; }
export PKG_CONFIG_PATH=$pc_dir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_SYSROOT_DIR=$staging
# Headers the way users include them.
for header in laredo/engine.hpp laredo/sync_source.hpp laredo/testing/conformance.hpp \
              laredo/sources/testsource/test_source.hpp laredo/targets/memory/indexed_target.hpp; do
  [ -f "$staging$prefix/include/$header" ] || { echo "not installed: include/$header" >&2; exit 1; }
done
# (pkg-config puts the sysroot in front of this path too.)
suppressions=$(pkg-config --variable=tsan_suppressions laredo-testing)
[ -f "$suppressions" ] || { echo "not installed: $suppressions" >&2; exit 1; }
echo "pkg-config --cflags --libs laredo: $(pkg-config --cflags --libs laredo)"

step "(a) pkg-config and a plain Makefile"
rm -rf "$work/makefile"
cp -r "$consumer" "$work/makefile"
# -O0 and ccache (when there is one) from the environment keep this quick; the stable
# directory lets ccache find the objects again.
CXXFLAGS="-O0 -g" CXX="$(command -v ccache >/dev/null && echo 'ccache ')${CXX:-c++}" \
  make -C "$work/makefile" --no-print-directory SANITIZE="$sanitize" log_source_test
TSAN_OPTIONS="suppressions=$suppressions ${TSAN_OPTIONS:-}" "$work/makefile/log_source_test"

step "(b) meson, laredo as a subproject"
project=$work/subproject
mkdir -p "$project/subprojects"
cp "$consumer"/*.cpp "$consumer"/*.hpp "$consumer"/meson.build "$project/"
ln -sfn "$source_root" "$project/subprojects/laredo"
# Not the staged laredo-testing.pc: the subproject's own declaration.
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
if [ ! -f "$project/build/build.ninja" ]; then  # configured once; ninja reconfigures on change
  rm -rf "$project/build"
  meson setup "$project/build" "$project" --buildtype=plain --force-fallback-for=laredo-testing \
    -Dlaredo:sanitizers=none >/dev/null
fi
ninja -C "$project/build" log_source_test
"$project/build/log_source_test"
