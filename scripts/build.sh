#!/usr/bin/env bash
# Installs the dependencies (Debian packages) and builds one CMake preset: dev, asan or release.
# The Dockerfile's build stage runs this same script (IMGGENBOT_DEPS=build: no tests, see deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
scripts/deps.sh
# With only the build dependencies (the Docker build stage) there is no GoogleTest or benchmark library.
tests=ON
[ "${IMGGENBOT_DEPS:-all}" != build ] || tests=OFF
configure=(-DIMGGENBOT_TESTS=$tests -DIMGGENBOT_BENCH=$tests)
cmake --preset "$preset" "${configure[@]}" >/dev/null
cmake --build --preset "$preset" "$@"
