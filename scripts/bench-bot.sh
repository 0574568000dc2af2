#!/usr/bin/env bash
# The Telegram bot under a burst: 1,000 users (default) each send one prompt at the same moment to
# `imggenbot serve` (release build, SQLite, 4 worker slots, an instant fake Hugging Face server) whose
# Bot API is the tests' fake with Telegram's rate limits on. Reports the time until every user has
# their photo next to the minimum the limits allow, the 429s, the Bot API calls and resident memory.
# Prints markdown for docs/benchmarks.md.
# Usage: scripts/bench-bot.sh [imggenbot-bench-bot options]   default: --users 1000
# The build log goes to stderr; stdout is only the report. Takes about 70 s at 1,000 users (the rate
# limit: 2,000 messages at 30 a second).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--users 1000)

bench_build imggenbot imggenbot-bench-bot
bench=build/release/bench/imggenbot-bench-bot

echo "## Telegram bot: 1,000 users at once"
echo
bench_machine_lines "SQLite file and images"
echo "- Script: \`scripts/bench-bot.sh ${args[*]}\` (release build)"
echo
echo "Command: \`$bench --markdown ${args[*]}\`"
echo
status=0
"$bench" --markdown "${args[@]}" || { echo "bench-bot: failed" >&2; status=1; }
exit $status
