#!/usr/bin/env bash
# Runs the whole suite (unit and integration) and ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env-defaults.sh
mkdir -p .tap
results=.tap/results.tap
# Integration tests share one Docker engine and one MariaDB: two jobs keep the 2-core machine responsive.
npx tap --reporter=tap --jobs=2 "$@" | tee "$results"
tap_status=${PIPESTATUS[0]}
node scripts/tap-count.mjs < "$results"
count_status=$?
[ "$tap_status" -eq 0 ] && [ "$count_status" -eq 0 ]
