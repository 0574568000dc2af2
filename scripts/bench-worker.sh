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
source scripts/bench-common.sh

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--jobs 2000 --slots 4 --image-size 64)

bench_build imggenbot imggenbot-bench-worker
bench=build/release/bench/imggenbot-bench-worker

bench_start_pg


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
bench_machine_lines "SQLite files and images"
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
