#!/usr/bin/env bash
# Runs clang-tidy (Debian's clang-tidy-16, configuration in .clang-tidy) over the product's sources
# with the compile commands of build/dev (configured first if missing). Exits non-zero on any finding.
# Usage: scripts/tidy.sh [--changed] [FILE...]
#   --changed  only .cpp files changed against origin/main (else where the branch left main, else HEAD~1)
#   FILE...    only these files (default: every src/**/*.cpp)
# It takes about 20 s per file on two cores, so it is not part of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v clang-tidy-16 >/dev/null || { echo "tidy: clang-tidy-16 is missing; run scripts/deps.sh" >&2; exit 2; }
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --changed)
      base=$(git rev-parse --verify -q origin/main || git merge-base HEAD main 2>/dev/null || git rev-parse HEAD~1)
      mapfile -t files < <(git diff --name-only "$base" -- 'src/*.cpp' 'tests/*.cpp' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
      [ ${#files[@]} -gt 0 ] || { echo "tidy: no .cpp file changed since $(git rev-parse --short "$base")"; exit 0; }
      shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "tidy: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
[ -f build/dev/compile_commands.json ] || cmake --preset dev >/dev/null
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(find src -name '*.cpp' | sort)
fi
echo "tidy: ${#files[@]} file(s) on $(nproc) core(s)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
status=0
# The compile commands are GCC's: clang does not know -Wno-error=maybe-uninitialized (CMakeLists.txt),
# which is not a finding.
run-clang-tidy-16 -quiet -p build/dev -j "$(nproc)" -extra-arg=-Wno-unknown-warning-option "${files[@]}" \
  2>&1 | tee "$log" || status=$?
elapsed=$(($(date +%s) - start))
# A finding in a header is reported once for every file that includes it: count each place once.
findings=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): .*\[[a-z0-9.,-]+\]$' "$log" | sort -u || true)
echo
echo "tidy: summary"
if [ -n "$findings" ]; then
  count=$(printf '%s\n' "$findings" | wc -l)
  where=$(printf '%s\n' "$findings" | cut -d: -f1 | sort -u | wc -l)
  printf '%s\n' "$findings" | sed -E 's/.*\[([a-z0-9-]+\.?[a-z0-9-]*)[],].*/\1/' | sort | uniq -c | sort -rn |
    sed 's/^/  /'
  printf '%s\n' "$findings" | cut -d: -f1 | sort | uniq -c | sort -rn | sed 's/^/  /'
  echo "tidy: $count finding(s) in $where file(s); ${#files[@]} file(s) checked in ${elapsed} s"
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "tidy: no finding, but clang-tidy failed (exit $status; a file that does not compile?); ${#files[@]} file(s) in ${elapsed} s"
  exit "$status"
fi
echo "tidy: clean, ${#files[@]} file(s) checked in ${elapsed} s"
