#!/usr/bin/env bash
# The sampler's own CPU cost (issue 4's benchmark): 10 ms interval, two hwmon rails from the
# generic fixture tree and a tegrastats stream from the fake tegrastats, for 10 s; prints the
# sampler thread's CPU time as % of one core (getrusage RUSAGE_THREAD). Target: < 1%.
#   EB_BUILD_DIR=build   where edgebench was built
#   EB_SECONDS=10        how long to sample
#   EB_TS_INTERVAL=10    tegrastats --interval in ms (real boards run 100-1000)
#   extra arguments go to `edgebench sensors` (e.g. --json)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${EB_BUILD_DIR:-build}/edgebench
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
printf '{"sensors": [{"kind": "hwmon"}, {"kind": "tegrastats", "options": {"interval_ms": %d}}]}\n' \
  "${EB_TS_INTERVAL:-10}" >"$cfg"
PATH="$PWD/tests/data/bin:$PATH" "$bin" sensors --bench --config "$cfg" \
  --root tests/data/sysfs/generic --interval 10 --seconds "${EB_SECONDS:-10}" --max-pct 1 "$@"
