#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL server for the tests, listening on loopback only.
# Usage: scripts/pg-test-server.sh start DIR   prints the connection URL (the only line on stdout)
#        scripts/pg-test-server.sh stop DIR    stops that server by its pid and removes DIR
# DIR is a fresh directory the caller made (mktemp -d). PostgreSQL refuses to run as root, so as
# root the server runs as the postgres user.
set -euo pipefail

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2

pg_bin() {
  local newest
  newest=$(ls -1 /usr/lib/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -n 1 || true)
  [ -n "$newest" ] && [ -x "/usr/lib/postgresql/$newest/bin/pg_ctl" ] ||
    die "no PostgreSQL server under /usr/lib/postgresql (install the postgresql package: scripts/deps.sh)"
  echo "/usr/lib/postgresql/$newest/bin"
}

as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  [ -d "$dir" ] || die "start: $dir is not a directory (create it first, e.g. with mktemp -d)"
  [ ! -e "$dir/data" ] || die "start: $dir/data already exists; use a fresh directory"
  dir=$(cd "$dir" && pwd)
  cd "$dir" # the server user may not be able to read the caller's working directory
  local bin
  bin=$(pg_bin)
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "start: running as root but there is no postgres user to run the server as"
    chown postgres: "$dir"
    # The server user must be able to reach DIR; mktemp dirs under /tmp are fine, others may not be.
    runuser -u postgres -- test -w "$dir" || die "start: the postgres user cannot write to $dir"
  fi

  as_server_user "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "start: initdb failed (log above)"; }

  # Another process may take the port between choosing and binding it; then try another.
  local port="" attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port) || die "start: cannot pick a free port (python3 missing?)"
    if as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >&2; then
      break
    fi
    port=""
    echo "pg-test-server: start attempt $attempt failed; retrying" >&2
  done
  [ -n "$port" ] || { tail -n 20 "$dir/log" >&2 || true; die "start: the server did not start (log: $dir/log)"; }

  head -n 1 "$dir/data/postmaster.pid" >"$dir/pid"
  as_server_user "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c 'CREATE DATABASE imggenbot_test' >&2 || die "start: cannot create database imggenbot_test"
  echo "postgresql://postgres@127.0.0.1:$port/imggenbot_test"
}

stop() {
  if [ ! -d "$dir" ]; then
    echo "pg-test-server: $dir does not exist; nothing to stop" >&2
    return 0
  fi
  dir=$(cd "$dir" && pwd)
  cd "$dir"
  local pid=""
  if [ -f "$dir/data/postmaster.pid" ]; then
    pid=$(head -n 1 "$dir/data/postmaster.pid")
  elif [ -f "$dir/pid" ]; then
    pid=$(head -n 1 "$dir/pid")
  fi
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    local bin=""
    bin=$(pg_bin 2>/dev/null) || true
    if [ -z "$bin" ] || ! as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >&2; then
      # A postmaster runs in its data directory; anything else with this pid is not ours.
      if [ "$(readlink "/proc/$pid/cwd" 2>/dev/null || true)" != "$dir/data" ]; then
        echo "pg-test-server: pid $pid is not the postmaster of $dir/data; not killing it" >&2
        rm -rf "$dir"
        return 0
      fi
      echo "pg-test-server: pg_ctl stop failed; killing postmaster $pid" >&2
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  cd /
  rm -rf "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
