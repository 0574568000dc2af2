#!/usr/bin/env bash
# The Docker phase of scripts/test.sh: an engine (started if none answers), the base images (made from
# Debian's archive when no registry answers), the real image from the real Dockerfile, the fakes image,
# then the container end-to-end test (tests/docker/e2e.sh). Prints how long each part took.
# Usage: tests/docker/run.sh FAKES_BINARY      e.g. build/asan/tests/support/imggenbot-fakes
#
# On any exit it removes what it made: the stack (e2e.sh's own trap), the application and fakes
# images and every other image this run created (the build stage's layers included), and stops the
# engine if it started it. It keeps the base images debian:bookworm-slim and
# imggenbot-test/postgres:15: they stand in for what a registry would serve, are the same for every
# run, and take minutes to make (scripts/docker-base-images.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

[ $# -eq 1 ] || { echo "usage: $0 FAKES_BINARY" >&2; exit 2; }
fakes_bin=$1
[ -x "$fakes_bin" ] || { echo "docker phase: $fakes_bin is not an executable (build the imggenbot-fakes target)" >&2; exit 2; }

tag="igbtest$$"
app_image="imggenbot-test/app:$tag"
fakes_image="imggenbot-test/fakes:$tag"
engine_dir=$(mktemp -d)
context=$(mktemp -d)
build_logs=$(mktemp -d)
images_before=""
timings=()

now() { date +%s; }

# BuildKit: builds the stages side by side and makes no container per instruction (with the vfs
# storage driver each one copies the whole file system: the classic builder spends minutes on that).
# Debian's docker.io CLI has it built in; a newer CLI needs the buildx plugin, which Debian 12 lacks,
# so the classic builder is the fallback.
docker_build() {
  if [ -x /usr/bin/docker ] && /usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null | grep -q '^20\.10\.'; then
    DOCKER_BUILDKIT=1 /usr/bin/docker build "$@"
  else
    DOCKER_BUILDKIT=0 docker build "$@"
  fi
}
# build_image LOG TAG CONTEXT: builds with the whole log in LOG, not on the terminal. A failed build
# prints the log's last lines and the engine's free disk (vfs copies every layer), then is tried once
# more: the build stage installs ~100 packages from Debian's mirror, and a CI run once failed there
# (stop 17) with the reason lost to a clipped log. A second failure fails the phase.
build_image() {
  local log=$1 tag=$2 dir=$3 attempt
  for attempt in 1 2; do
    if docker_build -t "$tag" "$dir" >"$log" 2>&1; then
      return 0
    fi
    echo "docker phase: building $tag failed (attempt $attempt of 2); the last 40 lines of its log:" >&2
    tail -n 40 "$log" | cut -c1-300 >&2
    echo "docker phase: free disk: $(df -h --output=avail,target /var/lib/docker 2>/dev/null | tail -n 1)" >&2
  done
  return 1
}
engine_was_running=0
timed() { # timed LABEL COMMAND…
  local label=$1 t0 rc=0
  shift
  t0=$(now)
  "$@" || rc=$?
  timings+=("$label $(($(now) - t0))s")
  echo "docker phase: $label took $(($(now) - t0)) s (exit $rc)" >&2
  return "$rc"
}

# Top-level images (tagged, or dangling like the build stage's result); removing one removes the
# untagged layers beneath it that nothing else uses.
all_images() { docker image ls -q --no-trunc 2>/dev/null | sort -u; }

cleanup() {
  local rc=$?
  set +e
  if docker info >/dev/null 2>&1; then
    docker image rm -f "$app_image" "$fakes_image" >/dev/null 2>&1
    if [ -n "$images_before" ]; then
      local keep made
      keep=$(docker image inspect -f '{{.Id}}' debian:bookworm-slim imggenbot-test/postgres:15 2>/dev/null)
      made=$(comm -13 <(echo "$images_before") <(all_images) | grep -vxF -f <(echo "$keep") -)
      [ -z "$made" ] || docker image rm -f $made >/dev/null 2>&1
    fi
    # BuildKit's cache (not images): kept on a developer's engine, where it makes the next build rebuild
    # only what changed; dropped with the engine this run started (a CI machine).
    if [ "$engine_was_running" = 0 ]; then
      docker builder prune -af >/dev/null 2>&1
    else
      echo "docker phase: BuildKit cache kept: $(docker system df --format '{{.Type}} {{.Size}}' | grep -i 'build cache')"
    fi
    echo "docker phase: left behind: $(docker ps -aq | wc -l) containers," \
         "$(docker image ls -aq | wc -l) images ($(docker image ls --format '{{.Repository}}:{{.Tag}}' | tr '\n' ' ')), " \
         "$(docker volume ls -q | wc -l) volumes, $(docker network ls -q | wc -l) networks (bridge, host, none are the engine's)"
  fi
  scripts/docker-engine.sh stop "$engine_dir"
  rm -rf "$context" "$build_logs"
  echo "docker phase timings: ${timings[*]:-none}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

! docker info >/dev/null 2>&1 || engine_was_running=1
timed "engine" scripts/docker-engine.sh start "$engine_dir"
images_before=$(all_images)
timed "base-images" scripts/docker-base-images.sh

# The real image, from the real Dockerfile, as an operator builds it.
timed "app-image" build_image "$build_logs/app.log" "$app_image" .
size=$(docker image inspect -f '{{.Size}}' "$app_image")
echo "docker phase: $app_image is $((size / 1000000)) MB ($(docker history -q "$app_image" | wc -l) layers)"
docker image history --format '    {{.Size}}\t{{.CreatedBy}}' "$app_image" | cut -c1-150 | head -n 12
# What the issue asks of the runtime image: not root, no compiler.
runtime_user=$(docker image inspect -f '{{.Config.User}}' "$app_image")
[ -n "$runtime_user" ] && [ "$runtime_user" != root ] && [ "$runtime_user" != 0 ] ||
  { echo "docker phase: the runtime image runs as root" >&2; exit 1; }
if docker run --rm --entrypoint sh "$app_image" -c 'command -v cc || command -v gcc || command -v c++ || command -v g++ || command -v clang' ; then
  echo "docker phase: the runtime image holds a compiler" >&2
  exit 1
fi
echo "docker phase: the runtime image runs as $runtime_user and holds no compiler"

# The fakes: the binary the host build made, with the packages of its shared libraries.
cp "$fakes_bin" "$context/imggenbot-fakes"
cp tests/support/telegram/botapi.json "$context/botapi.json"
scripts/runtime-packages.sh "$fakes_bin" >"$context/runtime-packages"
cp docker/fakes/Dockerfile "$context/Dockerfile"
timed "fakes-image" build_image "$build_logs/fakes.log" "$fakes_image" "$context"

IMGGENBOT_IMAGE="$app_image" IGB_TEST_FAKES_IMAGE="$fakes_image" IGB_TEST_PROJECT="$tag" \
  timed "e2e" tests/docker/e2e.sh
