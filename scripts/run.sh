#!/usr/bin/env bash
# Builds the release binary (installing dependencies first) and runs the service: all roles in one
# process on SQLite under ./data unless DATABASE_URL says otherwise. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release --target imggenbot
exec build/release/src/app/imggenbot "${@:-serve}"
