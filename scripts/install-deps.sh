#!/usr/bin/env bash
# Installs everything laredo needs to build, test and run on Debian 12 (bookworm).
# Run as root, or as a user with sudo. Does nothing when everything is already installed.
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config python3
  libboost1.81-dev libboost-json1.81-dev libfmt-dev libpq-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 postgresql-client-15 openssl ca-certificates procps
  # tests/install builds a consumer of the installed library with a plain Makefile.
  make
  # laredo-server: TOML configuration, logs, TLS; promtool checks /metrics in its tests,
  # systemd-analyze its unit, wrk drives its benchmark.
  libtomlplusplus-dev libspdlog-dev libssl-dev prometheus systemd wrk
  # the style test suite checks the formatting (scripts/check-format.sh)
  clang-format
  # the laredo CLI's command line
  libcli11-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
