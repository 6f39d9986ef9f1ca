#!/usr/bin/env bash
# Fuzzes edgebench's parsers with libFuzzer: builds tests/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) into build-fuzz/, seeds each target's corpus from
# the fixtures in tests/data (and the regression corpus tests/data/fuzz/<target>/), runs
# the targets one after another and prints, per target: seconds, executions, exec/s,
# crashes (crash, leak, timeout and out-of-memory inputs libFuzzer saved).
#   scripts/fuzz.sh [--time SECONDS] [--merge] [TARGET...]
#   --time S   seconds per target (default 60); a crash restarts the target until S is spent
#   --merge    then minimise each corpus into tests/data/fuzz/<target>/ (what
#              check_fuzz_regress replays; the crash reproducers there are kept)
#   --adopt    only copy the findings saved in build-fuzz/crashes/ into
#              tests/data/fuzz/<target>/ as reproducers (crash-*, oom-*, leak-*, timeout-*)
#   --list     print the target names and exit
#   EB_FUZZ_DIR=build-fuzz   build and work directory (corpora, logs, crash inputs)
#   EB_FUZZ_ARGS="..."       extra libFuzzer flags, e.g. "-max_len=8192"
# Exit status 1 when a target found anything. Installs clang (scripts/deps.sh --fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
time_s=60
merge=0
adopt=0
list=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time_s=$2; shift 2 ;;
    --time=*) time_s=${1#--time=}; shift ;;
    --merge) merge=1; shift ;;
    --adopt) adopt=1; shift ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
    *) targets+=("${1#fuzz_}"); shift ;;
  esac
done
all=()
for f in tests/fuzz/fuzz_*.c; do
  n=${f##*/fuzz_}
  all+=("${n%.c}")
done
if [ $list = 1 ]; then
  printf '%s\n' "${all[@]}"
  exit 0
fi
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
dir=${EB_FUZZ_DIR:-build-fuzz}
if [ $adopt = 1 ]; then
  for t in "${targets[@]}"; do
    for f in "$dir/crashes/$t"-{crash,oom,leak,timeout}-*; do
      if [ -f "$f" ]; then
        cp "$f" "tests/data/fuzz/$t/${f##*/$t-}"
        echo "fuzz.sh: tests/data/fuzz/$t/${f##*/$t-}" >&2
      fi
    done
  done
  exit 0
fi
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz.sh: no target '$t' (have: ${all[*]})" >&2; exit 2; }
done
case "$time_s" in ''|*[!0-9]*) echo "fuzz.sh: --time wants whole seconds" >&2; exit 2 ;; esac

bash scripts/deps.sh --fuzz
CC=clang cmake -S . -B "$dir" -DEB_FUZZ=ON -DEB_WITH_LLAMA=OFF -DBUILD_TESTING=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$dir.cmake.log" 2>&1 ||
  { cat "$dir.cmake.log" >&2; exit 1; }
rm -f "$dir.cmake.log"
cmake --build "$dir" -j"${EB_JOBS:-$(nproc)}" --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

# The hwmon target reads "attribute=value" lines (tests/fuzz/fuzz_hwmon.c): one seed per
# fixture device directory, "@" between devices of one tree.
hwmon_seeds() {
  local out=$1 tree dev f
  for tree in tests/data/sysfs/*/; do
    local seed="$out/$(basename "$tree")"
    : >"$seed"
    while IFS= read -r dev; do
      if [ -s "$seed" ]; then echo "@" >>"$seed"; fi
      for f in "$dev"/*; do
        if [ -f "$f" ]; then
          printf '%s=%s\n' "$(basename "$f")" "$(head -c 200 "$f" | tr '\n' ' ')" >>"$seed"
        fi
      done
    done < <(find "$tree" \( -name 'hwmon[0-9]*' -o -name 'iio:device*' \) -type d | sort)
    [ -s "$seed" ] || rm -f "$seed"
  done
}

# Fixture files each target starts from (besides tests/data/fuzz/<target>/).
seed() {
  local t=$1 out=$2
  mkdir -p "$out"
  case "$t" in
    config)
      for f in tests/data/config/*/config.json; do cp "$f" "$out/$(basename "$(dirname "$f")").json"; done
      cp configs/*.json "$out/" ;;
    sse|oai_stream) cp tests/data/streams/*.sse "$out/" ;;
    ndjson|ollama_stream) cp tests/data/streams/*.ndjson "$out/" ;;
    tegrastats) cp tests/data/tegrastats/*.log "$out/" ;;
    hwmon) hwmon_seeds "$out" ;;
    hellaswag)
      cp datasets/samples/hellaswag_sample.jsonl tests/data/accuracy/hellaswag_fake.jsonl "$out/"
      cp tests/data/hellaswag/preprocess_cases.jsonl "$out/"
      for f in tests/data/hellaswag/bad/*/input.jsonl; do
        cp "$f" "$out/bad-$(basename "$(dirname "$f")").jsonl"
      done ;;
    wikitext) cp datasets/samples/wiki.test.raw "$out/" ;;
    zip) cp datasets/samples/wikitext-2-raw-v1.zip "$out/" ;;
    c4)
      cp datasets/samples/c4-validation.00000-of-00008.json.gz "$out/"
      gzip -dc datasets/samples/c4-validation.00000-of-00008.json.gz >"$out/c4-plain.jsonl" ;;
    *) ;;
  esac
}

# Per-target libFuzzer flags. Inputs are capped at 4 KB (libFuzzer's default without seeds)
# except for the two archives, whose 5 KB seeds must stay whole (a zip's directory is at
# its end). WikiText's byte-wise text passes run ~40 times slower under coverage
# instrumentation, so its inputs are kept at 2 KB. -malloc_limit_mb=256 (below) makes
# one allocation of more than 256 MB a finding: no input of a few KB deserves that.
target_args() {
  case "$1" in
    zip|c4) echo "-max_len=8192" ;;
    wikitext) echo "-max_len=2048" ;;
    *) echo "-max_len=4096" ;;
  esac
}

# Distinct findings in a log: the kind of error and the first stack frame in edgebench's
# own code (allocation wrappers and the fuzz targets left out), e.g.
# "out-of-memory eb_zip_read() datasets/zip.c"; UBSan and the targets' oracles give
# file:line. Many saved inputs are usually one bug.
distinct() {
  # one libFuzzer process stops at its first finding: the first error line of a run (ended
  # by its final stats) names the kind, the first frame in our sources the place
  awk -v root="$PWD/" '
    function emit() { if (kind != "") print kind, (where != "" ? where : "?"); kind = ""; where = "" }
    /^stat::number_of_executed_units/ { emit(); next }
    kind == "" && /ERROR: libFuzzer: |ERROR: AddressSanitizer: |ERROR: LeakSanitizer: |runtime error: |fuzz oracle failed/ {
      kind = $0
      if (kind ~ /runtime error: /) {
        where = $1; sub(/:[0-9]+:$/, "", where); sub(".*" root, "", where)
        sub(/.*runtime error: /, "ubsan: ", kind)
        gsub(/-?[0-9][0-9.e+-]*/, "N", kind) # the values differ from input to input
      } else if (kind ~ /fuzz oracle failed/) {
        where = $1; sub(/:$/, "", where); sub(".*" root, "", where); kind = "oracle"
      } else {
        sub(/.*ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): /, "", kind)
      }
      sub(/ \(.*/, "", kind); sub(/ on address.*/, "", kind); sub(/ [0-9a-fx]+ .*/, "", kind)
      next
    }
    kind != "" && where == "" && /^ *#[0-9]+ / && index($0, root) {
      f = substr($0, index($0, root) + length(root)); sub(/:[0-9]+(:[0-9]+)?( .*)?$/, "", f)
      if (f ~ /^(base|store|cli|harness|adapters|metrics|datasets|reports)\/[a-z_0-9]+\.c$/ && f != "base/util.c")
        where = $4 "() " f
    }
    END { emit() }
  ' "$1" | sort -u
}

crashes_dir="$dir/crashes"
mkdir -p "$crashes_dir" "$dir/logs"
report="$dir/fuzz-report.tsv"
printf 'target\tseconds\texecutions\texec_per_s\tcrashes\tdistinct\tcorpus\n' >"$report"
found=0
for t in "${targets[@]}"; do
  corpus="$dir/corpus/$t"
  seeds="$dir/seeds/$t"
  regress="tests/data/fuzz/$t"
  rm -rf "$seeds"
  seed "$t" "$seeds"
  mkdir -p "$corpus" "$regress"
  log="$dir/logs/$t.log"
  : >"$log"
  execs=0
  restarts=0
  start=$(date +%s)
  left=$time_s
  # Findings are the crash/leak/timeout/oom inputs this invocation saved for the target.
  findings() { find "$crashes_dir" -maxdepth 1 -name "$t-*" -newer "$dir/logs/.start-$t" | wc -l; }
  touch "$dir/logs/.start-$t"
  # A crash ends a libFuzzer process: start it again (corpus kept) until the time is spent.
  while [ "$left" -gt 0 ] && [ $restarts -lt 20 ]; do
    before=$(findings)
    rc=0
    # shellcheck disable=SC2046,SC2086
    "$dir/tests/fuzz/fuzz_$t" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 \
      -malloc_limit_mb=256 -print_final_stats=1 -artifact_prefix="$crashes_dir/$t-" \
      $(target_args "$t") ${EB_FUZZ_ARGS:-} \
      "$corpus" "$regress" "$seeds" >"$log.run" 2>&1 || rc=$?
    # libFuzzer prints its final stats on a crash too
    n=$(grep -a '^stat::number_of_executed_units:' "$log.run" | tail -1 | awk '{print $2}')
    execs=$((execs + ${n:-0}))
    cat "$log.run" >>"$log"
    rm -f "$log.run"
    [ $rc -eq 0 ] && break
    restarts=$((restarts + 1))
    if [ "$(findings)" -le "$before" ]; then
      echo "fuzz.sh: fuzz_$t exited $rc without saving an input; stopping it (see $log)" >&2
      printf 'exit status %s, no input saved\n' "$rc" >"$crashes_dir/$t-exit-$rc"
      break
    fi
    # an input found earlier (in the working corpus, named by its sha1 as the finding is)
    # would stop every restart at once: take it out of the corpus
    for f in $(find "$crashes_dir" -maxdepth 1 -name "$t-*" -newer "$dir/logs/.start-$t"); do
      rm -f "$corpus/${f##*-}"
    done
    left=$((time_s - ($(date +%s) - start)))
  done
  crashes=$(findings)
  secs=$(($(date +%s) - start))
  [ $crashes -eq 0 ] || found=1
  distinct "$log" >"$dir/logs/$t.findings"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$secs" "$execs" "$((execs / (secs > 0 ? secs : 1)))" \
    "$crashes" "$(wc -l <"$dir/logs/$t.findings")" "$(ls "$corpus" | wc -l)" >>"$report"
done

if [ $merge = 1 ]; then
  for t in "${targets[@]}"; do
    regress="tests/data/fuzz/$t"
    new="$dir/merged/$t"
    rm -rf "$new"
    mkdir -p "$new"
    "$dir/tests/fuzz/fuzz_$t" -set_cover_merge=1 -timeout=10 -rss_limit_mb=2048 "$new" \
      "$dir/corpus/$t" "$regress" "$dir/seeds/$t" >"$dir/logs/$t-merge.log" 2>&1
    find "$regress" -maxdepth 1 -type f ! -name 'crash-*' ! -name 'oom-*' ! -name 'leak-*' \
      ! -name 'timeout-*' -delete
    cp "$new"/* "$regress/" 2>/dev/null || true
    echo "fuzz.sh: $regress: $(ls "$regress" | wc -l) inputs after merge" >&2
  done
fi

column -t -s $'\t' "$report"
for t in "${targets[@]}"; do
  if [ -s "$dir/logs/$t.findings" ]; then
    sed "s/^/  $t: /" "$dir/logs/$t.findings"
  fi
done
echo "logs: $dir/logs/   crash inputs: $crashes_dir/   table: $report"
if [ $found = 1 ]; then
  echo "fuzz.sh: findings saved in $crashes_dir/ (replay one: $dir/tests/fuzz/fuzz_<target> <file>)" >&2
  exit 1
fi
