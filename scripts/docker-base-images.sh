#!/usr/bin/env bash
# Makes the base images the tests need when no registry can be reached, from Debian's archive (the same
# mirror the host's apt uses), and keeps them as a cache: an image that exists is not made again.
#   debian:bookworm-slim        mmdebstrap --variant=minbase bookworm | docker import, slimmed like the
#                               official image (no man pages, docs or locales; apt keeps no caches)
#   imggenbot-test/postgres:15  Debian's postgresql package on that base (docker/postgres), for the test
#                               stack only: docker-compose.yml keeps the official postgres image.
# Usage: scripts/docker-base-images.sh            (needs a running engine and root for mmdebstrap)
#        IMGGENBOT_DEBIAN_MIRROR=http://… scripts/docker-base-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "docker-base-images: $*" >&2
  exit 1
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }
# BuildKit where the CLI has it built in (Debian's docker.io 20.10): no container per instruction,
# which with the vfs storage driver saves minutes; else the classic builder.
docker_build() {
  if [ -x /usr/bin/docker ] && /usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null | grep -q '^20\.10\.'; then
    DOCKER_BUILDKIT=1 /usr/bin/docker build "$@"
  else
    DOCKER_BUILDKIT=0 docker build "$@"
  fi
}

mirror="${IMGGENBOT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${IMGGENBOT_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

if have_image debian:bookworm-slim; then
  echo "docker-base-images: debian:bookworm-slim present"
elif docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
  echo "docker-base-images: debian:bookworm-slim pulled"
else
  command -v mmdebstrap >/dev/null || die "no mmdebstrap (install it: scripts/deps.sh)"
  echo "docker-base-images: making debian:bookworm-slim with mmdebstrap from $mirror"
  start=$(date +%s)
  # The apt settings of the official image (debuerreotype): no package caches, no translations.
  # shellcheck disable=SC2016 # $1 is the hook's argument (the root directory), expanded by mmdebstrap
  # merged-usr hook: /usr merged by symlinks, as debootstrap does, instead of the usrmerge package (and perl).
  mmdebstrap --variant=minbase --format=tar --quiet --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='printf "%s\n" "Dir::Cache::pkgcache \"\";" "Dir::Cache::srcpkgcache \"\";" "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" "APT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" > "$1/etc/apt/apt.conf.d/docker-clean"' \
    --customize-hook='echo "Acquire::Languages \"none\";" > "$1/etc/apt/apt.conf.d/docker-no-languages"' \
    --customize-hook='echo "APT::Install-Recommends \"false\";" > "$1/etc/apt/apt.conf.d/docker-no-recommends"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb "$1"/var/log/*.log "$1"/tmp/*' \
    bookworm - \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main" |
    docker import --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  echo "docker-base-images: debian:bookworm-slim made in $(($(date +%s) - start)) s"
fi

if have_image imggenbot-test/postgres:15; then
  echo "docker-base-images: imggenbot-test/postgres:15 present"
else
  start=$(date +%s)
  docker_build -q -t imggenbot-test/postgres:15 docker/postgres >/dev/null
  echo "docker-base-images: imggenbot-test/postgres:15 built in $(($(date +%s) - start)) s"
fi
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(debian:bookworm-slim|imggenbot-test/postgres:15) ' >&2
