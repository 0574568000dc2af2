#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries a binary loads (ldd, then dpkg -S), one a
# line: what the Docker runtime stage installs next to the binary.
# Usage: scripts/runtime-packages.sh build/release/src/app/imggenbot
set -euo pipefail
binary="$1"

owner() {
  # Debian 12 is /usr-merged, but dpkg may know a library under /lib or under /usr/lib.
  local path="$1" real
  real=$(readlink -f "$path")
  for p in "$path" "$real" "/usr${path#/usr}" "${path#/usr}" "/usr${real#/usr}" "${real#/usr}"; do
    if out=$(dpkg -S "$p" 2>/dev/null); then
      echo "${out%%:*}"
      return 0
    fi
  done
  echo "runtime-packages: no package owns $path" >&2
  return 1
}

libs=$(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
for lib in $libs; do owner "$lib"; done | sort -u
