#!/usr/bin/env bash
# Measures the core's reservations, job claims and claim+succeed cycles per second on SQLite and on
# PostgreSQL (a throwaway local server), and prints the results as markdown for docs/benchmarks.md.
# Usage: scripts/bench-core.sh [imggenbot-bench-core options]
#        default options: --threads 1,4 --ops 5000 --seconds 20
# The build log goes to stderr; stdout is only the report.
set -euo pipefail
cd "$(dirname "$0")/.."

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--threads 1,4 --ops 5000 --seconds 20)

cmake --preset release >&2
cmake --build build/release --target imggenbot-bench-core >&2
bench=build/release/bench/imggenbot-bench-core

pg_dir=$(mktemp -d)
stop_pg() { scripts/pg-test-server.sh stop "$pg_dir" >&2 || true; }
trap stop_pg EXIT
trap 'exit 130' INT TERM # so that the EXIT trap stops the server on Ctrl-C too
pg_url=$(scripts/pg-test-server.sh start "$pg_dir")

cpu=$(grep -m 1 -E '^(model name|Model|cpu model)' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
tmpfs=$(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 }')

echo "## Core throughput"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- Machine: $(nproc) CPUs ($cpu), $mem RAM, Linux $(uname -r); SQLite file on ${TMPDIR:-/tmp} ($tmpfs)"
echo "- Load average (1/5/15 min) at the start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the numbers)"
echo "- Command: \`scripts/bench-core.sh ${args[*]}\` (release build, database server on the same machine)"
echo "- ops/s counts operations completed by all threads together; latencies are per operation."
echo
echo "### SQLite"
echo
"$bench" --database-url sqlite --markdown "${args[@]}"
echo
echo "### PostgreSQL"
echo
"$bench" --database-url "$pg_url" --markdown "${args[@]}"
