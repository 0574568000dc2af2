#!/usr/bin/env bash
# User-space instructions per request of `imggenbot api`, counted by callgrind: a figure that does not
# move with the machine's load, unlike req/s, so small changes to the request path can be compared.
# 200 requests warm up, then N are counted (kernel time is not in it). Prints markdown.
# --binary runs another build of imggenbot (an older commit's, to compare) instead of building this one.
# Usage: scripts/bench-api-instructions.sh [--requests N] [--connections C] [--binary PATH]
set -euo pipefail
shopt -s inherit_errexit  # a failed load inside $(measure …) ends the script, not only the subshell
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
requests=2000
connections=40
bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --binary) bin=$(realpath "$2"); shift 2 ;;
    *) echo "usage: $0 [--requests N] [--connections C] [--binary PATH]" >&2; exit 2 ;;
  esac
done

if [ -z "$bin" ]; then
  bench_build imggenbot
  bin="$PWD/build/release/src/app/imggenbot"
fi
if ! command -v valgrind >/dev/null; then
  apt-get update -q >&2 && apt-get install -y -q valgrind >&2
fi
work=$(mktemp -d)
vpid=""
cleanup() {
  [ -n "$vpid" ] && kill "$vpid" 2>/dev/null && wait "$vpid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/bench.toml" <<TOML
[plans.free]
images_per_period = 1000000000
max_concurrent_jobs = 1000000000
TOML
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DATABASE_URL="sqlite://$work/data/imggenbot.db" DATA_DIR="$work/data" IMGGENBOT_CONFIG="$work/bench.toml"
export HTTP_LISTEN="127.0.0.1:$port" API_RATE_PER_MINUTE=1000000000 API_RATE_BURST=1000000000 LOG_LEVEL=warn
# No daily brake on free images (FREE_DAILY_IMAGES): it would answer 503 after the first thousand.
export FREE_DAILY_IMAGES=0
(cd "$work" && "$bin" migrate >/dev/null)
export KEY=$(cd "$work" && "$bin" apikey create --telegram-id 1 --name bench 2>/dev/null)
export PORT=$port
body='{"prompt":"a red fox in the snow, cinematic","width":1024,"height":768,"steps":4}'

# Requests over C keep-alive connections at once; fails on any non-2xx answer.
load() {  # method path body count
  python3 - "$@" "$connections" <<'PY'
import http.client, os, sys, threading
method, path, body, n, conns = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
headers = {"Authorization": "Bearer " + os.environ["KEY"]}
if body:
    headers["Content-Type"] = "application/json"
failed = []
def run(count):
    c = http.client.HTTPConnection("127.0.0.1", int(os.environ["PORT"]))
    for _ in range(count):
        c.request(method, path, body=body or None, headers=headers)
        r = c.getresponse()
        r.read()
        if r.status >= 300:
            failed.append(r.status)
threads = [threading.Thread(target=run, args=(n // conns + (i < n % conns),)) for i in range(conns)]
[t.start() for t in threads]
[t.join() for t in threads]
if failed:
    sys.exit(f"{len(failed)} requests failed, e.g. {failed[0]}")
PY
}

measure() {  # method path body -> instructions per request
  (cd "$work" && exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" "$bin" api) \
    2>"$work/valgrind.log" &
  vpid=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  load "$@" 200
  callgrind_control -i on "$vpid" >/dev/null
  load "$@" "$requests"
  callgrind_control -i off "$vpid" >/dev/null
  kill "$vpid"; wait "$vpid" 2>/dev/null || true
  vpid=""
  local total
  total=$(callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  echo $((total / requests))
}

# One job to poll: queued through the server run plainly.
(cd "$work" && exec "$bin" api) 2>/dev/null &
plain=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
job=$(curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$body" \
  "http://127.0.0.1:$port/v1/generate" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
kill "$plain"; wait "$plain" 2>/dev/null || true

status=$(measure GET "/v1/status/$job" "")
generate=$(measure POST /v1/generate "$body")
echo "## HTTP API, instructions per request (\`scripts/bench-api-instructions.sh --requests $requests --connections $connections\`)"
echo
echo "- Binary: $bin"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); callgrind (valgrind $(valgrind --version | sed 's/valgrind-//')), release build, SQLite WAL"
echo
echo "| request | user-space instructions per request |"
echo "|---|---:|"
echo "| GET /v1/status/{id} | $status |"
echo "| POST /v1/generate | $generate |"
