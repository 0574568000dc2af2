#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, the `fuzz` preset: clang-16, ASan+UBSan, build/fuzz) and
# runs each one from its seed corpus (fuzz/corpus/<name>).
# Usage: scripts/fuzz.sh [--seconds N] [--runs N] [--no-build] [NAME...]
#   --seconds N  fuzz each harness for N seconds (default 10: what the test command runs)
#   --runs N     fuzz each harness for N executions instead (e.g. 1000000 for docs/benchmarks.md)
#   --no-build   run the harnesses as built (while another build runs in build/fuzz, say)
#   NAME...      only these harnesses (default: every fuzz/*_fuzz.cpp)
# New inputs found go to build/fuzz/corpus/<name> (the repository's seeds are only read); a crash is
# written to build/fuzz/artifacts/<name>/ and makes the script fail. To replay one:
#   build/fuzz/fuzz/<name>_fuzz build/fuzz/artifacts/<name>/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10
runs=""
build_first=1
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --no-build) build_first=0; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
if [ ${#names[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cpp; do
    n=$(basename "$f" _fuzz.cpp)
    names+=("$n")
  done
fi

build=build/fuzz
if [ "$build_first" = 1 ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake --preset fuzz "${launcher[@]}" >/dev/null
  fi
  targets=()
  for n in "${names[@]}"; do targets+=("${n}_fuzz"); done
  start=$(date +%s)
  cmake --build "$build" -j "${IMGGENBOT_BUILD_JOBS:-2}" --target "${targets[@]}"
  echo "fuzz: build took $(( $(date +%s) - start )) s"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Stack traces with function names and lines (llvm-16 carries it).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x /usr/lib/llvm-16/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer
fi

failed=()
summary=()
for n in "${names[@]}"; do
  bin="$build/fuzz/${n}_fuzz"
  seeds="fuzz/corpus/$n"
  work="$build/corpus/$n"
  artifacts="$build/artifacts/$n/"
  log="$build/logs/$n.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  extra=()
  case "$n" in
    # Their code frees on another thread (the server's, the blocking pool's), so the per-input
    # malloc/free counts never balance and libFuzzer would run a full leak scan after nearly every
    # input (a quarter of the time). LeakSanitizer still checks the whole run when it ends.
    http_request|webhook) extra=(-detect_leaks=0) ;;
  esac
  if [ -n "$runs" ]; then echo "fuzz: $n ($runs runs)"; else echo "fuzz: $n ($seconds s)"; fi
  # -timeout: one input taking longer is a hang worth reporting; -max_len: the largest seed is well below.
  if "$bin" "${limit[@]}" "${extra[@]}" -timeout=25 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
       -artifact_prefix="$artifacts" "$work" "$seeds" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$n")
    grep -E "ERROR|fuzz invariant|runtime error|SUMMARY|Test unit written|==[0-9]+==" "$log" | head -20 >&2 || true
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1)
  summary+=("$(printf '%-16s %-6s execs %-9s exec/s %-7s %s %s' "$n" "$status" "${execs:-?}" "${rate:-?}" "${cov:-}" "${corp:-}")")
done

echo "fuzz: summary (logs in $build/logs/)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
