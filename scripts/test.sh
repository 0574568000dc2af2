#!/usr/bin/env bash
# Runs every test: installs dependencies, builds with ASan+UBSan, starts a throwaway PostgreSQL on
# loopback (the PostgreSQL tests run, they are not skipped), runs CTest, stops the server by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh asan

pgdir=$(mktemp -d)
trap 'scripts/pg-test-server.sh stop "$pgdir"' EXIT
IMGGENBOT_TEST_PG_URL=$(scripts/pg-test-server.sh start "$pgdir")
export IMGGENBOT_TEST_PG_URL
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# docker-compose.yml must stay valid (there is no Docker engine here to run it).
if [ -f docker-compose.yml ]; then
  docker-compose -f docker-compose.yml config -q
  echo "docker-compose config: ok"
fi

ctest --preset asan -j "$(nproc)" "$@"
