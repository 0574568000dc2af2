#!/usr/bin/env bash
# Installs the dependencies (Debian packages) and builds one CMake preset: dev, asan or release.
# The Dockerfile's build stage runs this same script.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
scripts/deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" "$@"
