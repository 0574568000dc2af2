#!/usr/bin/env bash
# Measures the generation worker on SQLite and on PostgreSQL (a throwaway local server): jobs per
# second through the queue and worker slots against an instant fake Hugging Face server, the time a
# worker adds around a provider call, and the resident memory of `imggenbot serve` with 10,000 queued
# jobs. Prints the results as markdown for docs/benchmarks.md.
# Usage: scripts/bench-worker.sh [imggenbot-bench-worker options for the throughput runs]
#        default options: --jobs 2000 --slots 4 --image-size 64
# The memory runs always use `--memory` with its defaults (10,000 jobs, WORKER_CONCURRENCY=4, 5 s).
# The build log goes to stderr; stdout is only the report. A failed measurement is reported on stderr,
# the others still run, and the script then exits with 1.
set -euo pipefail
cd "$(dirname "$0")/.."

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--jobs 2000 --slots 4 --image-size 64)

cmake --preset release >&2
cmake --build build/release --target imggenbot imggenbot-bench-worker >&2
bench=build/release/bench/imggenbot-bench-worker

pg_dir=$(mktemp -d)
stop_pg() { scripts/pg-test-server.sh stop "$pg_dir" >&2 || true; }
trap stop_pg EXIT
trap 'exit 130' INT TERM # so that the EXIT trap stops the server on Ctrl-C too
pg_url=$(scripts/pg-test-server.sh start "$pg_dir")

cpu=$(grep -m 1 -E '^(model name|Model|cpu model)' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
tmpfs=$(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 }')

status=0
# Prints the command as it is run (the PostgreSQL URL shown as $PG_URL), then runs it.
run() {
  local shown="$*"
  shown=${shown//"$pg_url"/\$PG_URL}
  echo "Command: \`$shown\`"
  echo
  "$@" || { echo "bench-worker: failed: $shown" >&2; status=1; }
}

echo "## Generation worker"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- Machine: $(nproc) CPUs ($cpu), $mem RAM, Linux $(uname -r); SQLite files and images on ${TMPDIR:-/tmp} ($tmpfs)"
echo "- Load average (1/5/15 min) at the start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the numbers)"
echo "- Script: \`scripts/bench-worker.sh ${args[*]}\` (release build; \$PG_URL is the throwaway server that \`scripts/pg-test-server.sh start\` printed, on the same machine)"
echo
echo "### Throughput and worker overhead, SQLite"
echo
run "$bench" --database-url sqlite --markdown "${args[@]}"
echo
echo "### Throughput and worker overhead, PostgreSQL"
echo
run "$bench" --database-url "$pg_url" --markdown "${args[@]}"
echo
echo "### Memory of imggenbot serve with 10,000 queued jobs, SQLite"
echo
run "$bench" --memory --database-url sqlite --markdown
echo
echo "### Memory of imggenbot serve with 10,000 queued jobs, PostgreSQL"
echo
run "$bench" --memory --database-url "$pg_url" --markdown
exit $status
