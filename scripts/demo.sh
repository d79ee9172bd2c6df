#!/usr/bin/env bash
# make demo: the environment is up (scripts/setup-env.sh) and the images are built; run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env-defaults.sh
exec npx tsx scripts/demo.ts
