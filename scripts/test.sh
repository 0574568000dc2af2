#!/usr/bin/env bash
# Runs every test: installs dependencies, builds with ASan+UBSan, starts a throwaway PostgreSQL on
# loopback (the PostgreSQL tests run, they are not skipped), runs CTest, stops the server by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh asan

# The sources stay as .clang-format has them (scripts/format.sh applies it).
scripts/format.sh --check

pgdir=$(mktemp -d)
trap 'scripts/pg-test-server.sh stop "$pgdir"' EXIT
IMGGENBOT_TEST_PG_URL=$(scripts/pg-test-server.sh start "$pgdir")
export IMGGENBOT_TEST_PG_URL
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# docker-compose.yml (and the test stack on top of it) must stay valid.
if [ -f docker-compose.yml ]; then
  docker-compose -f docker-compose.yml config -q
  IGB_TEST_FAKES_IMAGE=config-check TELEGRAM_BOT_TOKEN=x PAYMENT_PAYLOAD_SECRET=x \
    docker-compose -f docker-compose.yml -f docker/compose.test.yml config -q
  echo "docker-compose config: ok"
fi

ctest --preset asan -j "$(nproc)" "$@"

# Every fuzzer (clang-16 libFuzzer, ASan+UBSan) for 10 s from its seed corpus; a crash fails the run.
scripts/fuzz.sh --seconds 10

# The Docker phase: the real image from the Dockerfile, the compose stack with two workers, end to end
# through the containers (tests/docker). IMGGENBOT_SKIP_DOCKER=1 skips it (a machine without Docker).
if [ "${IMGGENBOT_SKIP_DOCKER:-0}" != 1 ]; then
  tests/docker/run.sh build/asan/tests/support/imggenbot-fakes
fi
