# Shared by the scripts/bench-*.sh programs (sourced, not run). Build output goes to stderr; stdout
# is only the report.

# Builds release targets (installing dependencies first, as every build here does).
bench_build() {
  scripts/build.sh release --target "$@" >&2
}

# Starts a throwaway PostgreSQL for this run, stopped on exit (Ctrl-C included); sets pg_url.
bench_start_pg() {
  pg_dir=$(mktemp -d)
  trap 'scripts/pg-test-server.sh stop "$pg_dir" >&2 || true' EXIT
  trap 'exit 130' INT TERM  # so that the EXIT trap stops the server on Ctrl-C too
  pg_url=$(scripts/pg-test-server.sh start "$pg_dir")
}

# The report's header lines about the machine; $1 says what lives on the temp folder.
bench_machine_lines() {
  local cpu mem tmpfs
  cpu=$(grep -m 1 -E '^(model name|Model|cpu model)' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  tmpfs=$(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 }')
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $(nproc) CPUs ($cpu), $mem RAM, Linux $(uname -r); $1 on ${TMPDIR:-/tmp} ($tmpfs)"
  echo "- Load average (1/5/15 min) at the start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the numbers)"
}
