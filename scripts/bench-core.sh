#!/usr/bin/env bash
# Measures the core's reservations, job claims and claim+succeed cycles per second on SQLite and on
# PostgreSQL (a throwaway local server), and prints the results as markdown for docs/benchmarks.md.
# Usage: scripts/bench-core.sh [imggenbot-bench-core options]
#        default options: --threads 1,4 --ops 5000 --seconds 20
# The build log goes to stderr; stdout is only the report.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--threads 1,4 --ops 5000 --seconds 20)

bench_build imggenbot-bench-core
bench=build/release/bench/imggenbot-bench-core

bench_start_pg


echo "## Core throughput"
echo
bench_machine_lines "SQLite file"
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
