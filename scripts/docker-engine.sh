#!/usr/bin/env bash
# Starts a Docker engine for the tests when none answers, and stops only the one it started (the
# throwaway-service pattern of scripts/pg-test-server.sh).
# Usage: scripts/docker-engine.sh start DIR   DIR: a fresh directory (mktemp -d) for the pid and the log
#        scripts/docker-engine.sh stop DIR    stops the dockerd that `start DIR` started (by its pid),
#                                             nothing when an engine was already running; removes DIR
# As root: dockerd --storage-driver=vfs (works in a container or VM without overlayfs; vfs copies each
# layer, so keep images few and small). The engine keeps /var/lib/docker (images cached between runs).
set -euo pipefail

die() {
  echo "docker-engine: $*" >&2
  exit 1
}

[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=$1
dir=$2

answers() { timeout 10 docker info >/dev/null 2>&1; }

start() {
  [ -d "$dir" ] || die "start: $dir is not a directory (create it with mktemp -d)"
  if answers; then
    echo "docker-engine: an engine is already running; using it (it will not be stopped)" >&2
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "start: no engine answers and starting dockerd needs root"
  command -v dockerd >/dev/null || die "start: no dockerd (install docker.io: scripts/deps.sh)"
  local driver="${IMGGENBOT_DOCKER_STORAGE_DRIVER:-vfs}"
  # setsid: its own process group, so the caller's Ctrl-C does not kill it before the cleanup runs.
  setsid dockerd --storage-driver="$driver" >"$dir/dockerd.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/pid"
  for _ in $(seq 120); do
    if answers; then
      echo "docker-engine: dockerd (pid $pid, storage driver $driver) is up" >&2
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$dir/dockerd.log" >&2; die "start: dockerd exited (log above)"; }
    sleep 0.5
  done
  tail -n 30 "$dir/dockerd.log" >&2
  die "start: dockerd did not answer within 60 s (log: $dir/dockerd.log)"
}

stop() {
  [ -d "$dir" ] || return 0
  local pid=""
  [ -f "$dir/pid" ] && pid=$(head -n 1 "$dir/pid")
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    if [ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null || true)")" != dockerd ]; then
      echo "docker-engine: pid $pid is not dockerd; not killing it" >&2
    else
      kill -TERM "$pid"
      # dockerd stops its containers (10 s each at most) and its own containerd first.
      for _ in $(seq 600); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then
        echo "docker-engine: dockerd $pid did not stop within 60 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
      echo "docker-engine: dockerd $pid stopped" >&2
    fi
  fi
  rm -rf "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
