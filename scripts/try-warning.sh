#!/usr/bin/env bash
# Tries compiler warnings before they go into CMakeLists.txt: runs every compile command of build/dev
# (configured first if missing) with -fsyntax-only and the given flags, without -Werror, and prints
# each distinct warning (or error) once, then a count. No object is written and ccache is not used.
# Usage: scripts/try-warning.sh FLAG... [-- PATTERN...]
#   FLAG...     warnings to try, e.g. -Wshadow or -Wshadow=compatible-local
#   PATTERN...  only the translation units whose path contains one of these (default: all)
# Example: nice -n 15 scripts/try-warning.sh -Wshadow -- src/server tests/server
set -euo pipefail
cd "$(dirname "$0")/.."

flags=()
patterns=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
[ $# -gt 0 ] && shift
patterns=("$@")
[ ${#flags[@]} -gt 0 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ -f build/dev/compile_commands.json ] || cmake --preset dev >/dev/null

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
units=0
while IFS= read -r -d '' dir && IFS= read -r -d '' file && IFS= read -r -d '' command; do
  if [ ${#patterns[@]} -gt 0 ]; then
    match=0
    for p in "${patterns[@]}"; do [[ "$file" == *"$p"* ]] && match=1; done
    [ "$match" -eq 1 ] || continue
  fi
  units=$((units + 1))
  # The command as CMake wrote it, less ccache, the output file, -Werror and debug information.
  eval "args=($command)"  # CMake shell-quotes the command (-DNAME=\"value\")
  cmd=()
  skip=0
  for a in "${args[@]}"; do
    if [ "$skip" -eq 1 ]; then skip=0; continue; fi
    case "$a" in
      */ccache | ccache) ;;
      -o) skip=1 ;;
      -Werror | -Werror=* | -g) ;;
      *) cmd+=("$a") ;;
    esac
  done
  echo "try-warning: $file" >&2
  (cd "$dir" && "${cmd[@]}" -fsyntax-only "${flags[@]}" 2>&1) | grep -E ': (warning|error): ' >>"$log" || true
done < <(jq -j '.[] | .directory, "\u0000", .file, "\u0000", .command, "\u0000"' build/dev/compile_commands.json)

found=$(sort -u "$log")
if [ -n "$found" ]; then
  printf '%s\n' "$found"
  echo "try-warning: $(printf '%s\n' "$found" | wc -l) distinct warning(s) with ${flags[*]} in $units translation unit(s), $(($(date +%s) - start)) s"
  exit 1
fi
echo "try-warning: no warning with ${flags[*]} in $units translation unit(s), $(($(date +%s) - start)) s"
