#!/usr/bin/env bash
# The quick start: set up, build, run configs/quickstart.json on the CPU, print the table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
mkdir -p results
rc=0
build/edgebench run configs/quickstart.json "$@" || rc=$?
build/edgebench report --db results/quickstart.db --run latest
exit $rc
