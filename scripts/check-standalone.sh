#!/usr/bin/env bash
# Checks that the project stands on its own: no tracked file points at material outside the
# repository. It fails on
#   - names of documents and tools that were never part of the repository (the list below), and
#   - a path to a Markdown file (`something.md`) that is neither beside the file that names it
#     nor at that path from the repository's root.
# Usage: scripts/check-standalone.sh [REPOSITORY_ROOT]   (the style test suite runs it)
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
root_real=$(pwd -P)
self=scripts/check-standalone.sh

# Tracked files when this is a git checkout; otherwise every file outside build folders.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' files < <(git ls-files -z)
else
  mapfile -d '' files < <(find . -type f -not -path './.git/*' -not -path './build*' -printf '%P\0')
fi
checked=()
for f in "${files[@]}"; do
  [[ $f != "$self" && -f $f ]] && checked+=("$f")
done

status=0

# 1. Names that only exist outside the repository.
outside=(-e '\.\./shared' -e '/work/' -e 'conventions\.md' -e 'inventory\.md' -e 'ecosystem\.md'
         -e 'pg-source\.md' -e 'pg_limits' -e 'DEVELOPERS' -e 'coawait-lint')
# (xargs may split the list: judge by the output, not by grep's exit status)
hits=$(printf '%s\0' "${checked[@]}" | xargs -0 grep -nIE "${outside[@]}" || true)
if [[ -n $hits ]]; then
  echo "references to material outside the repository (point into docs/ instead):"
  echo "$hits"
  status=1
fi

# 2. Markdown paths that do not resolve inside the repository. URLs and absolute paths are
# left to the list above.
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  target=${rest#*:}
  case $target in
    /* | *://*) continue ;;
  esac
  inside() { [[ -f $1 && $(realpath -m "$1") == "$root_real"/* ]]; }
  inside "$(dirname "$file")/$target" || inside "$target" && continue
  echo "$file:$line: $target is not a file of this repository"
  status=1
done < <(printf '%s\0' "${checked[@]}" | xargs -0 grep -noIE '[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b' || true)

if [[ $status == 0 ]]; then
  echo "${#checked[@]} files checked: every reference stays inside the repository"
fi
exit "$status"
