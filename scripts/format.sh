#!/usr/bin/env bash
# Formats the C++ sources with Debian's clang-format-16 and the repository's .clang-format (includes
# are never re-sorted: their order groups them by layer). Usage: scripts/format.sh [--check]
#   --check  change nothing; list the files that are not formatted and exit 1 if there are any
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format-16 >/dev/null || { echo "format: clang-format-16 is missing; run scripts/deps.sh" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format-16 --dry-run -Werror "$f" >/dev/null 2>&1; then echo "not formatted: $f"; bad=1; fi
  done
  exit $bad
fi
clang-format-16 -i "${files[@]}"
