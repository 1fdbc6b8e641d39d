#!/usr/bin/env bash
# Checks that every tracked C++ file (*.cpp, *.hpp) is formatted as the root .clang-format says;
# prints each difference and fails when there is one. To fix: clang-format -i FILE...
# Usage: scripts/check-format.sh [REPOSITORY_ROOT]   (the style test suite runs it)
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# The version the tree is formatted with (Debian 12's clang-format); others format a few
# constructs differently.
clang_format=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $clang_format ]]; then
  echo "clang-format is not installed (Debian: apt-get install clang-format; scripts/install-deps.sh installs it)" >&2
  exit 1
fi

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' files < <(git ls-files -z -- '*.cpp' '*.hpp')
else
  mapfile -d '' files < <(find . \( -name '*.cpp' -o -name '*.hpp' \) -not -path './build*' -printf '%P\0')
fi
present=()
for f in "${files[@]}"; do [[ -f $f ]] && present+=("$f"); done

if printf '%s\0' "${present[@]}" | xargs -0 "$clang_format" --dry-run --Werror; then
  echo "${#present[@]} files formatted as .clang-format says ($("$clang_format" --version))"
else
  echo "unformatted files above: run clang-format -i on them" >&2
  exit 1
fi
