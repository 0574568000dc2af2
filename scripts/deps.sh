#!/usr/bin/env bash
# Installs every build, test and run dependency from Debian 12's packages, skipping what is present.
# Usage: scripts/deps.sh                     (build + test + benchmark dependencies: CI, development)
#        IMGGENBOT_DEPS=build scripts/deps.sh (only what compiling the binary needs: the Docker build
#                                              stage; scripts/build.sh then configures without tests)
# The Docker runtime stage installs the packages that hold the built binary's shared libraries
# (scripts/runtime-packages.sh), not a list kept here.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libpq-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libpng-dev libjpeg62-turbo-dev libwebp-dev
  prometheus-cpp-dev
)
test_pkgs=(
  libgtest-dev libgmock-dev libbenchmark-dev
  # test and benchmark tools: a real PostgreSQL server, python for fake servers, wrk and nginx
  postgresql python3 wrk nginx-light curl
  # the Docker phase (tests/docker): an engine, Compose v1, and mmdebstrap (+ gpg, the archive
  # keyring) to make debian:bookworm-slim where no registry answers (scripts/docker-base-images.sh)
  docker.io docker-compose mmdebstrap gpg debian-archive-keyring
  # fuzzing (scripts/fuzz.sh): clang 16, libFuzzer, the sanitizer runtimes, llvm-symbolizer
  clang-16 libfuzzer-16-dev libclang-rt-16-dev llvm-16
  # development tools: scripts/tidy.sh (clang-tidy) and .clang-format
  clang-tidy-16 clang-format-16
)
case "${IMGGENBOT_DEPS:-all}" in
  all) build_pkgs+=("${test_pkgs[@]}") ;;
  build) ;;
  *) echo "deps: IMGGENBOT_DEPS must be 'all' or 'build'" >&2; exit 2 ;;
esac

missing=()
for p in "${build_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#build_pkgs[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
