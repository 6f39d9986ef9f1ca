#!/usr/bin/env bash
# Benchmark: `edgebench report` and `edgebench compare` on 10,000 cells and 1,000,000
# request rows (2 runs x 5,000 cells x 100 requests); the target is under 2 s each.
#   EB_BUILD_DIR=build   where edgebench and tests/gen_bigdb were built
#   EB_BENCH_DB=path     the database to (re)generate (default: $TMPDIR/edgebench-bench.db)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${EB_BUILD_DIR:-build}
db=${EB_BENCH_DB:-${TMPDIR:-/tmp}/edgebench-bench.db}
eb=$build/edgebench
[ -x "$eb" ] && [ -x "$build/tests/gen_bigdb" ] ||
  { echo "bench-report: build first (scripts/build.sh; EB_BUILD_DIR=$build)" >&2; exit 2; }

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
start=$(date +%s%N)
"$build/tests/gen_bigdb" "$db" 5000 100 2
echo "generate: $(ms "$start") ms"
sqlite3 "$db" 'SELECT count(*) || " cells" FROM cells; SELECT count(*) || " requests" FROM requests;' 2>/dev/null || true

out=${TMPDIR:-/tmp}/edgebench-bench.out
status=0
# name, expected exit code, command...
bench() {
  local name=$1 want=$2 rc=0 t0 took verdict="ok (< 2 s)"
  shift 2
  t0=$(date +%s%N)
  "$@" >"$out" 2>&1 || rc=$?
  took=$(ms "$t0")
  if [ "$rc" -ne "$want" ]; then
    echo "bench-report: $name: exit $rc (expected $want)" >&2
    tail -5 "$out" >&2
    status=1
  fi
  if [ "$took" -ge 2000 ]; then
    verdict="SLOW (>= 2 s)"
    status=1
  fi
  printf '%-40s %6d ms  %s\n' "$name" "$took" "$verdict"
}
# --run all: every cell of both runs (the default is each device's latest run)
bench "report (table, 10,000 cells)" 0 "$eb" report --db "$db" --run all
bench "report --format csv" 0 "$eb" report --db "$db" --run all --format csv
bench "report --layout long --format json" 0 "$eb" report --db "$db" --run all --layout long --format json
bench "report --layout card --format md" 0 "$eb" report --db "$db" --run all --layout card --format md
bench "compare 1 2 (1,000,000 requests)" 1 "$eb" compare --db "$db" 1 2 --junit "${out}.xml"
grep -E '^regressions' "$out" || true
bench "compare 1 2 --format json" 1 "$eb" compare --db "$db" 1 2 --format json
exit $status
