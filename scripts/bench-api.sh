#!/usr/bin/env bash
# HTTP API throughput with wrk on loopback, side by side in the same run with nginx returning a
# constant JSON body (the ceiling of one core here), and optionally the FastAPI anchor of
# ../shared/anchors. The servers take turns for --rounds rounds (so that the machine's drift hits
# them alike) and each row is the round with the median req/s. Prints markdown.
# Usage: scripts/bench-api.sh [--seconds N] [--rounds N] [--with-fastapi]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
seconds=10
rounds=3
with_fastapi=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --with-fastapi) with_fastapi=1; shift ;;
    *) echo "usage: $0 [--seconds N] [--rounds N] [--with-fastapi]" >&2; exit 2 ;;
  esac
done

bench_build imggenbot
command -v wrk >/dev/null && command -v nginx >/dev/null || scripts/deps.sh >&2
bin="$PWD/build/release/src/app/imggenbot"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- imggenbot (API role) on SQLite, with a plan big enough that quota never runs out ----------------
cat > "$work/bench.toml" <<TOML
[plans.free]
images_per_period = 1000000000
max_concurrent_jobs = 1000000000
TOML
api_port=$(free_port)
export DATABASE_URL="sqlite://$work/data/imggenbot.db" DATA_DIR="$work/data" IMGGENBOT_CONFIG="$work/bench.toml"
export HTTP_LISTEN="127.0.0.1:$api_port" API_RATE_PER_MINUTE=1000000000 API_RATE_BURST=1000000000 LOG_LEVEL=warn
# No daily brake on free images (FREE_DAILY_IMAGES): it would answer 503 after the first thousand.
export FREE_DAILY_IMAGES=0
(cd "$work" && "$bin" migrate >/dev/null)
key=$(cd "$work" && "$bin" apikey create --telegram-id 1 --name bench 2>/dev/null)
(cd "$work" && exec "$bin" api) 2>"$work/api.log" &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$api_port/healthz" >/dev/null && break; sleep 0.1; done
job=$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"prompt":"a red fox in the snow, cinematic","width":1024,"height":768,"steps":4}' \
  "http://127.0.0.1:$api_port/v1/generate" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')

cat > "$work/status.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $key"
LUA
cat > "$work/generate.lua" <<LUA
wrk.method = "POST"
wrk.body   = '{"prompt":"a red fox in the snow, cinematic","width":1024,"height":768,"steps":4}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA

# --- nginx: one worker process returning a constant JSON body --------------------------------------
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '{"job_id":"$job","status":"succeeded","progress":100}'; }
  }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$nginx_port/" >/dev/null && break; sleep 0.1; done

# --- optional: the FastAPI anchor -------------------------------------------------------------------
anchor=""
if [ "$with_fastapi" = 1 ]; then
  if ! /usr/bin/python3 -c 'import fastapi, uvicorn, uvloop, httptools' 2>/dev/null; then
    apt-get install -y -q python3-fastapi python3-uvicorn python3-uvloop python3-httptools >&2
  fi
  anchor_port=$(free_port)
  (cd ../shared/anchors && ANCHOR_DB="$work/anchor.sqlite" exec /usr/bin/python3 -m uvicorn fastapi_app:app \
     --port "$anchor_port" --loop uvloop --http httptools --log-level warning --workers 2) &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$anchor_port/health" >/dev/null && break; sleep 0.2; done
  anchor="http://127.0.0.1:$anchor_port"
fi

# wrk -t1 -c64, as the anchors' README does; one line per run: rps p50 p90 p99
run() {
  local out
  out=$(wrk -t1 -c64 -d"${seconds}s" --latency "$@")
  local rps p50 p90 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p90=$(awk '$1=="90%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  echo "$rps|$p50|$p90|$p99|${errors:-0}"
}

row() {  # name url-suffix results
  IFS='|' read -r rps p50 p90 p99 errors <<<"$3"
  local share=""
  [ -n "${nginx_rps:-}" ] && share=$(python3 -c "print(f'{100*$rps/$nginx_rps:.0f}%')")
  echo "| $1 | $2 | $rps | $share | $p50 | $p90 | $p99 | $errors |"
}

median() {  # result lines on stdin -> the one with the median req/s
  grep . | sort -t'|' -k1,1 -g | awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }'
}

declare -A results
for _ in $(seq 1 "$rounds"); do
  results[nginx]+="$(run "http://127.0.0.1:$nginx_port/")"$'\n'
  results[status]+="$(run -s "$work/status.lua" "http://127.0.0.1:$api_port/v1/status/$job")"$'\n'
  results[generate]+="$(run -s "$work/generate.lua" "http://127.0.0.1:$api_port/v1/generate")"$'\n'
  if [ -n "$anchor" ]; then
    results[anchor_status]+="$(run -s ../shared/anchors/status.lua "$anchor/v1/status/job-1")"$'\n'
    results[anchor_generate]+="$(run -s ../shared/anchors/generate.lua "$anchor/v1/generate")"$'\n'
  fi
done
nginx_res=$(median <<<"${results[nginx]}")
nginx_rps=$(cut -d'|' -f1 <<<"$nginx_res")

args="--seconds $seconds --rounds $rounds"
[ "$with_fastapi" = 1 ] && args="$args --with-fastapi"
echo "## HTTP API (\`scripts/bench-api.sh $args\`)"
echo
bench_machine_lines "the SQLite file"
echo "- wrk -t1 -c64 -d${seconds}s on loopback, $rounds rounds taking turns, the median round of each shown; imggenbot \`api\` role (release build, SQLite WAL), nginx with one worker returning a constant body"
echo
echo "| server | request | req/s | of nginx | p50 | p90 | p99 | non-2xx |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
row "nginx (constant body)" "GET /" "$nginx_res"
row "imggenbot" "GET /v1/status/{id}" "$(median <<<"${results[status]}")"
row "imggenbot" "POST /v1/generate" "$(median <<<"${results[generate]}")"
if [ -n "$anchor" ]; then
  row "FastAPI + uvicorn (2 workers)" "GET /v1/status/{id}" "$(median <<<"${results[anchor_status]}")"
  row "FastAPI + uvicorn (2 workers)" "POST /v1/generate" "$(median <<<"${results[anchor_generate]}")"
fi
