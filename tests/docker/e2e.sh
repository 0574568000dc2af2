#!/usr/bin/env bash
# The container end-to-end test: the production docker-compose.yml with docker/compose.test.yml on
# top (PostgreSQL, api, bot, two workers, and imggenbot-fakes standing in for Hugging Face and the
# Bot API), driven from the outside as an operator and users would:
#   1. up: every service with a health check turns healthy, the others run
#   2. an API key from `docker-compose exec api imggenbot apikey create`; POST /v1/generate → status →
#      the PNG downloaded from the published port
#   3. a Telegram prompt → chat action → photo, through the bot container and the fake Bot API
#   4. a Stars payment through the bot (plans → invoice → pre-checkout → successful payment)
#   5. a worker killed (SIGKILL) mid-job: the other worker finishes it, once
#   6. the bot without TELEGRAM_BOT_TOKEN exits non-zero with a clear message; the API keeps serving
#   7. down, then up: users, payments and images are still there (named volumes)
#   8. stop: each process ends on SIGTERM with exit 0 within its grace period
# Prints `docker e2e: N passed, M failed` and exits non-zero if anything failed. Removes its
# containers, networks and volumes on any exit (trap); the images are the caller's (tests/docker/run.sh).
#
# Usage: IMGGENBOT_IMAGE=… IGB_TEST_FAKES_IMAGE=… tests/docker/e2e.sh
#   IGB_TEST_POSTGRES_IMAGE (default imggenbot-test/postgres:15); IGB_TEST_PROJECT (default igbtest$$).
# Needs docker, docker-compose (v1), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${IMGGENBOT_IMAGE:?the application image to test}"
: "${IGB_TEST_FAKES_IMAGE:?the imggenbot-fakes image}"
export IMGGENBOT_IMAGE IGB_TEST_FAKES_IMAGE
export IGB_TEST_POSTGRES_IMAGE="${IGB_TEST_POSTGRES_IMAGE:-imggenbot-test/postgres:15}"
project="${IGB_TEST_PROJECT:-igbtest$$}"

passed=0
failed=0
summary_printed=0
work=$(mktemp -d)
started=$(date +%s)

log() { echo "docker e2e [$(($(date +%s) - started))s]: $*"; }
pass() {
  passed=$((passed + 1))
  log "ok: $*"
}
fail() {
  failed=$((failed + 1))
  log "FAILED: $*" >&2
}
# check NAME COMMAND…: one expectation.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
# A hang guard, not a timing check: polls COMMAND… until it succeeds or GUARD seconds pass.
wait_for() {
  local guard=$1
  shift
  local end=$(($(date +%s) + guard))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.5
  done
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }

# Compose reads its settings from here only: a developer's .env must not leak into the test.
: >"$work/env"
export API_PORT POSTGRES_PASSWORD PAYMENT_PAYLOAD_SECRET TELEGRAM_BOT_TOKEN
API_PORT=$(free_port)
POSTGRES_PASSWORD=$(secret)
PAYMENT_PAYLOAD_SECRET=$(secret)
TELEGRAM_BOT_TOKEN="123456789:AAFakeTokenForTests_abcdefghijklmnop"  # what imggenbot-fakes accepts
api="http://127.0.0.1:$API_PORT"
dc() { docker-compose --ansi never -p "$project" --env-file "$work/env" -f docker-compose.yml -f docker/compose.test.yml "$@"; }

cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
    log "logs of the failed run (last 40 lines of each service):"
    dc logs --no-color --tail 40 2>&1 | sed 's/^/    /' || true
  fi
  if [ "$rc" -ne 0 ] && [ "$summary_printed" = 0 ]; then
    echo "docker e2e: $passed passed, $((failed + 1)) failed (aborted: the failure above stopped the run)"
  fi
  dc down -v --remove-orphans --timeout 15 >/dev/null 2>&1 || true
  # Anything compose did not know about (a run container left by a killed script) goes too.
  docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker volume ls -q --filter "label=com.docker.compose.project=$project" | xargs -r docker volume rm >/dev/null 2>&1 || true
  docker network ls -q --filter "label=com.docker.compose.project=$project" | xargs -r docker network rm >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'log "aborted at line $LINENO: $BASH_COMMAND" >&2' ERR

fakes_url=""
fakes() { # fakes METHOD PATH [BODY]: the fakes' control interface, published on a loopback port
  [ -n "$fakes_url" ] || fakes_url="http://$(dc port fakes 8000 | tr -d '\r')"
  if [ -n "${3:-}" ]; then
    curl -fsS -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$fakes_url$2"
  else
    curl -fsS -X "$1" "$fakes_url$2"
  fi
}
sql() { dc exec -T postgres psql -X -q -At -U imggenbot -d imggenbot -v ON_ERROR_STOP=1 -c "$1"; }

# ---- 1. up
container_ok() { # healthy when the container has a health check, running otherwise
  local state
  state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1")
  [ "$state" = "running healthy" ] || [ "$state" = "running none" ]
}
all_up() {
  local ids
  ids=$(dc ps -q)
  [ "$(echo "$ids" | grep -c .)" -eq 6 ] || return 1
  for id in $ids; do container_ok "$id" || return 1; done
}
health_report() {
  for id in $(dc ps -q); do
    docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}(no health check){{end}}' "$id"
  done | sed 's/^/    /'
}
up() {
  local t0
  t0=$(date +%s.%N)
  dc up -d --no-build --scale worker=2 >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; return 1; }
  wait_for 180 all_up || { health_report >&2; return 1; }
  fakes_url=""  # published on a new port after each up
  up_seconds=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
  log "every service up (healthy where checked) ${up_seconds}s after docker-compose up"
  health_report
}
check "up: postgres, fakes, api healthy; bot and two workers running" up
with_health=$(for id in $(dc ps -q); do docker inspect -f '{{if .State.Health}}{{.Name}}{{end}}' "$id"; done | grep -c . || true)
check "three services have a health check (postgres, fakes, api)" test "$with_health" -eq 3

# ---- 2. the HTTP API through the published port
key=$(dc exec -T api imggenbot apikey create --telegram-id 1001 --name e2e 2>"$work/apikey.err" | tr -d '\r' | tail -n 1)
check "apikey create printed a key" test -n "$key"
check "apikey create did not log the key" bash -c "! grep -qF -- '$key' '$work/apikey.err'"
auth=(-H "Authorization: Bearer $key")

job_status() { curl -fsS "${auth[@]}" "$api/v1/status/$1" | json 'd["status"]'; }
job_done() { [ "$(job_status "$1")" = succeeded ]; }
generate() { # generate PROMPT SEED → job id
  curl -fsS "${auth[@]}" -H 'Content-Type: application/json' \
    -d "{\"prompt\": \"$1\", \"width\": 256, \"height\": 256, \"seed\": $2}" "$api/v1/generate" | json 'd["job_id"]'
}
is_png_of() { # is_png_of FILE W H
  python3 - "$@" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
ok = data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
w, h = struct.unpack(">II", data[16:24]) if ok else (0, 0)
sys.exit(0 if ok and (w, h) == (int(sys.argv[2]), int(sys.argv[3])) else 1)
EOF
}

job1=$(generate "a lighthouse in a storm" 7)
check "POST /v1/generate queued a job" test -n "$job1"
check "the job succeeded" wait_for 120 job_done "$job1"
image_path=$(curl -fsS "${auth[@]}" "$api/v1/status/$job1" | json 'd["result"]["image_url"].split("/v1/", 1)[1]')
curl -fsS "${auth[@]}" -o "$work/api.png" "$api/v1/$image_path"
check "the PNG came back through the published port (256×256)" is_png_of "$work/api.png" 256 256
check "without a key: 401" test "$(curl -s -o /dev/null -w '%{http_code}' "$api/v1/status/$job1")" = 401

# ---- optional: the cost of the container network (docs/benchmarks.md, "Docker"). The same binary
# (copied out of the image) runs on the host against the same PostgreSQL; wrk runs GET /v1/status/{id}
# through the published port, then against the host process. Needs API_RATE_PER_MINUTE and
# API_RATE_BURST raised (e.g. 1000000000) in the environment, or the rate limit is what is measured.
if [ "${IGB_DOCKER_BENCH:-0}" = 1 ]; then
  bench_args=(-t1 -c"${IGB_BENCH_CONNECTIONS:-64}" -d"${IGB_BENCH_SECONDS:-10}s" --latency -H "Authorization: Bearer $key")
  log "wrk ${bench_args[*]:0:4} GET /v1/status/{id} through the published port:"
  wrk "${bench_args[@]}" "$api/v1/status/$job1" | sed 's/^/    /'
  api_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(dc ps -q api)")
  log "the same to the container's address on the bridge ($api_ip:8080; no docker-proxy in the way):"
  wrk "${bench_args[@]}" "http://$api_ip:8080/v1/status/$job1" | sed 's/^/    /'
  docker cp "$(dc ps -q api):/usr/local/bin/imggenbot" "$work/imggenbot"
  pg_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(dc ps -q postgres)")
  host_port=$(free_port)
  mkdir -p "$work/data"
  env -i PATH="$PATH" HOME="$work" DATA_DIR="$work/data" HTTP_LISTEN="127.0.0.1:$host_port" \
    DATABASE_URL="postgresql://imggenbot:$POSTGRES_PASSWORD@$pg_ip:5432/imggenbot" \
    API_RATE_PER_MINUTE="${API_RATE_PER_MINUTE:-}" API_RATE_BURST="${API_RATE_BURST:-}" \
    "$work/imggenbot" api >"$work/host-api.log" 2>&1 &
  host_api=$!
  host_up() { curl -fsS -o /dev/null "http://127.0.0.1:$host_port/healthz" 2>/dev/null; }
  if wait_for 60 host_up; then
    log "the same wrk run against the same binary on the host (127.0.0.1:$host_port, PostgreSQL in its container):"
    wrk "${bench_args[@]}" "http://127.0.0.1:$host_port/v1/status/$job1" | sed 's/^/    /'
  else
    fail "the host api did not start: $(tail -n 5 "$work/host-api.log")"
  fi
  kill -TERM "$host_api" && wait "$host_api" || true
fi

# ---- 3. Telegram: prompt → chat action ("sending photo…"; a short wait gets no status message) → photo
photos() { fakes GET "/control/calls?method=sendPhoto" | json 'd["count"]'; }
fakes POST /control/push_message '{"user_id": 2002, "first_name": "Ann", "text": "/start"}' >/dev/null
fakes POST /control/push_message '{"user_id": 2002, "first_name": "Ann", "text": "a paper boat on a pond --seed 5"}' >/dev/null
photo_sent() { [ "$(photos)" -ge 1 ]; }
check "the bot sent a photo" wait_for 120 photo_sent
transcript=$(fakes GET "/control/transcript?chat=2002")
echo "$transcript" | sed 's/^/    /'
check "the transcript: the prompt, a chat action, then the photo replying to it" python3 -c '
import re, sys
t = sys.argv[1]
prompt = re.search(r"^> Ann: a paper boat on a pond.*$", t, re.M)
status = prompt and re.search(r"^< sendChatAction upload_photo$", t[prompt.end():], re.M)
photo = status and re.search(r"^< sendPhoto #\d+ \(reply to #\d+\) \(upload image/png ", t[prompt.end() + status.end():], re.M)
sys.exit(0 if photo else 1)' "$transcript"
photo_id=$(fakes GET "/control/messages?chat=2002" | json '[m["file_id"] for m in d if m["kind"] == "photo"][0]')
fakes GET "/control/file?id=$photo_id" >"$work/tg.png"
check "the photo is a PNG" python3 -c 'import sys; sys.exit(open(sys.argv[1],"rb").read()[:8] != b"\x89PNG\r\n\x1a\n")' "$work/tg.png"

# ---- 4. a Stars payment through the bot
calls_of() { fakes GET "/control/calls?method=$1" | json 'd["count"]'; }
count_at_least() { [ "$(calls_of "$1")" -ge "$2" ]; }
sent_before=$(calls_of sendMessage)
fakes POST /control/push_message '{"user_id": 2002, "first_name": "Ann", "text": "/plans"}' >/dev/null
wait_for 60 count_at_least sendMessage $((sent_before + 1)) || true
plans_msg=$(fakes GET "/control/messages?chat=2002" | json '[m["message_id"] for m in d if m["from_bot"]][-1]')
fakes POST /control/push_callback "{\"user_id\": 2002, \"first_name\": \"Ann\", \"message_id\": $plans_msg, \"data\": \"buy:basic\"}" >/dev/null
check "the bot made an invoice link" wait_for 60 count_at_least createInvoiceLink 1
invoice=$(fakes GET "/control/last_call?method=createInvoiceLink")
payload=$(echo "$invoice" | json 'd["params"]["payload"]')
amount=$(echo "$invoice" | json 'd["params"]["prices"][0]["amount"]')
fakes POST /control/push_pre_checkout \
  "{\"user_id\": 2002, \"first_name\": \"Ann\", \"total_amount\": $amount, \"invoice_payload\": \"$payload\"}" >/dev/null
check "the pre-checkout query was answered" wait_for 60 count_at_least answerPreCheckoutQuery 1
check "the pre-checkout answer was ok" test "$(fakes GET "/control/last_call?method=answerPreCheckoutQuery" | json 'd["params"]["ok"]')" = True
fakes POST /control/push_payment \
  "{\"user_id\": 2002, \"first_name\": \"Ann\", \"total_amount\": $amount, \"invoice_payload\": \"$payload\", \"charge_id\": \"e2e-charge-1\"}" >/dev/null
paid() { [ "$(sql "SELECT count(*) FROM payments WHERE charge_id = 'e2e-charge-1'" 2>/dev/null)" = 1 ]; }
check "the payment is recorded" wait_for 60 paid
check "the Bot API calls all met the spec" test "$(fakes GET /control/spec_violations)" = "[]"

# ---- 5. a worker killed mid-job
hf_calls() { fakes GET /control/hf_calls | json 'len(d)'; }
calls_before=$(hf_calls)
fakes POST /control/hf '{"delay_ms": 600000}' >/dev/null  # the model is slow: the job stays running
job2=$(generate "a clock tower at noon" 11)
hf_called() { [ "$(hf_calls)" -gt "$calls_before" ]; }
check "a worker took the job and called the provider" wait_for 60 hf_called
owner=$(sql "SELECT lease_owner FROM jobs WHERE id = '$job2'")
victim=""
for id in $(dc ps -q worker); do
  # lease_owner is <hostname>-<pid>-<random>; a container's hostname is its short id.
  [[ "$owner" == "$(docker inspect -f '{{.Config.Hostname}}' "$id")-"* ]] && victim=$id
done
check "the job's lease owner is one of the two workers" test -n "$victim"
if [ -n "$victim" ]; then
  docker kill --signal KILL "$victim" >/dev/null
  log "killed worker $(docker inspect -f '{{.Name}}' "$victim") with SIGKILL while it held $job2"
fi
fakes POST /control/hf '{"delay_ms": 0}' >/dev/null
check "the other worker finished the job" wait_for 180 job_done "$job2"
check "it took two attempts" test "$(curl -fsS "${auth[@]}" "$api/v1/status/$job2" | json 'd["attempts"]')" -eq 2
check "the job finished once: one image, one finish" test \
  "$(sql "SELECT count(*) FROM jobs j JOIN images i ON i.id = j.image_id WHERE j.id = '$job2' AND j.status = 'succeeded'")" = 1
new_owner=$(sql "SELECT coalesce(lease_owner, '') FROM jobs WHERE id = '$job2'")
log "lease owner after the finish: '${new_owner}' (was '$owner')"
check "the provider was asked twice for it (the killed attempt and the finishing one)" \
  test "$(fakes GET /control/hf_calls | json 'sum(1 for c in d if c["inputs"].startswith("a clock tower at noon"))')" -eq 2
dc up -d --no-build --scale worker=2 >/dev/null 2>&1  # the killed worker back, for what follows
check "two workers again" wait_for 60 all_up

# ---- 6. the bot without a token
bot_rc=0
dc run --rm --no-deps -T -e TELEGRAM_BOT_TOKEN= bot >"$work/bot.out" 2>"$work/bot.err" || bot_rc=$?
log "bot without TELEGRAM_BOT_TOKEN: exit $bot_rc: $(tr -d '\r' <"$work/bot.err" | grep -m 1 TELEGRAM_BOT_TOKEN || true)"
check "the bot without a token exits non-zero" test "$bot_rc" -ne 0
check "with a message naming TELEGRAM_BOT_TOKEN" grep -q TELEGRAM_BOT_TOKEN "$work/bot.err"
check "the API keeps serving" test "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$api/v1/status/$job1")" = 200

# ---- 7. down, then up: the volumes keep users, payments and images
counts() { sql "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM payments) || ' ' || (SELECT count(*) FROM images)"; }
before=$(counts)
log "users payments images before down: $before"
dc down --timeout 30 >/dev/null 2>&1
check "down removed the containers" test -z "$(dc ps -q)"
check "up again" up
after=$(counts)
log "users payments images after up: $after"
check "users, payments and images are still there" test "$before" = "$after"
check "non-empty: at least 2 users, 1 payment, 3 images" python3 -c '
import sys; u, p, i = map(int, sys.argv[1].split()); sys.exit(0 if u >= 2 and p >= 1 and i >= 3 else 1)' "$after"
curl -fsS "${auth[@]}" -o "$work/api-again.png" "$api/v1/$image_path"
check "the first image downloads again, the same bytes (the key still works)" cmp -s "$work/api.png" "$work/api-again.png"

# ---- 8. stop: SIGTERM, exit 0, within the grace period
ids=$(dc ps -q)
t0=$(date +%s.%N)
dc stop >/dev/null 2>&1
stop_seconds=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
log "docker-compose stop took ${stop_seconds}s"
for id in $ids; do
  name=$(docker inspect -f '{{.Name}}' "$id")
  state=$(docker inspect -f '{{.State.Status}} exit {{.State.ExitCode}} oom {{.State.OOMKilled}}' "$id")
  log "  $name: $state"
  check "$name stopped with exit 0 (SIGTERM, not the SIGKILL after the grace period)" test "$state" = "exited exit 0 oom false"
done
for id in $(dc ps -q api bot worker); do
  name=$(docker inspect -f '{{.Name}}' "$id")
  check "$name logged 'shutting down (SIGTERM)' and 'stopped'" bash -c \
    "docker logs '$id' 2>&1 | grep -q 'shutting down (SIGTERM)' && docker logs '$id' 2>&1 | grep -q 'stopped'"
done

elapsed=$(($(date +%s) - started))
log "up-to-healthy ${up_seconds}s, stop ${stop_seconds}s, whole test ${elapsed}s"
echo "docker e2e: $passed passed, $failed failed"
summary_printed=1
[ "$failed" -eq 0 ]
