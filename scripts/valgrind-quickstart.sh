#!/usr/bin/env bash
# The quick start (configs/quickstart.json, unchanged) under valgrind memcheck
# --leak-check=full: builds as scripts/build.sh does, synthesizes the two models natively,
# runs `edgebench run` under memcheck into a database of its own and fails unless every
# run reports no memcheck errors and "definitely lost: 0 bytes". Third-party leaks may be
# suppressed only in scripts/valgrind.supp, where each entry says why.
#
# Under memcheck llama.cpp's arithmetic is slow: the q4_0 latency cell below took 644 s
# (2.9 s natively), and the f16 wikitext2 cell (3.0 s natively) had not finished after
# 80 minutes (f16 kernels fare worst), so the whole quick start in its own weights takes
# many hours. By default three runs cover a subset in which every code path of the quick
# start is taken once -- the latency workload, each accuracy protocol (wikitext2-llamacpp,
# hellaswag, kld: the f16 reference written, then q4_0 scored against it):
#   cpu/small-synth/q4_0/latency/p64-g32
#   cpu/small-synth/f16/accuracy/[hw]*      (wikitext2, hellaswag)
#   cpu/small-synth/*/accuracy/kld          (f16 reference, then q4_0)
#
# then the quick start's report (and the card layout) under memcheck on what they stored.
# "possibly lost: 352 bytes in 1 blocks" is libgomp's worker thread (llama.cpp's CPU
# backend runs its OpenMP pool, whose threads are never joined): not ours, not definite.
#
# For every cell of the quick start in reasonable time, --shape tiny runs the same config
# with HOME pointed at results/valgrind-home/, where the two model files it names
# (small-f16.gguf, small-q4_0.gguf) are synthesized in the test suite's 'tiny' shape
# (15.2M parameters instead of 109.5M, same tokenizer): every code path, less arithmetic.
#
#   scripts/valgrind-quickstart.sh               the subset above (hours on f16)
#   scripts/valgrind-quickstart.sh --full        every cell of the quick start (many hours)
#   scripts/valgrind-quickstart.sh --shape tiny  every cell, tiny weights (--full implied)
#   scripts/valgrind-quickstart.sh PATTERN...    one run per --only pattern
#   EB_VALGRIND_LOG=results/valgrind-quickstart  prefix of memcheck's logs (.N.log)
#   EB_VALGRIND_DB=results/valgrind-quickstart.db the database (emptied first), so that
#                                                 two invocations can run side by side
#   OMP_WAIT_POLICY=passive                       libgomp's wait policy (see below); set
#                                                 it to active to compare
set -euo pipefail
cd "$(dirname "$0")/.."
patterns=('cpu/small-synth/q4_0/latency/p64-g32' 'cpu/small-synth/f16/accuracy/[hw]*'
          'cpu/small-synth/*/accuracy/kld')
shape=small
if [ "${1:-}" = --shape ]; then
  shape=${2:?--shape wants a shape name}
  shift 2
  patterns=('*')
fi
if [ "${1:-}" = --full ]; then
  patterns=('*')
elif [ $# -gt 0 ]; then
  patterns=("$@")
fi
bash scripts/deps.sh --fuzz   # valgrind (and clang, for scripts/fuzz.sh)
# Valgrind (3.19 in Debian 12) cannot execute AVX-512: on a CPU that has it, llama.cpp's
# -march=native build dies with SIGILL in ggml_cpu_init under memcheck. There, unless the
# user gave a llama.cpp, build a portable one (AVX2; scripts/llama.sh EB_LLAMA_PORTABLE)
# and edgebench against it into build-valgrind/.
if [ -z "${EB_LLAMA_DIR:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  echo "valgrind-quickstart: this CPU has AVX-512, which valgrind cannot run: using a portable llama.cpp build (AVX2) and build-valgrind/" >&2
  export EB_LLAMA_PORTABLE=1
  export EB_BUILD_DIR=${EB_BUILD_DIR:-build-valgrind}
fi
bash scripts/build.sh
build=${EB_BUILD_DIR:-build}
home=$HOME
if [ "$shape" != small ]; then
  home=$PWD/results/valgrind-home
fi
models="$home/.cache/edgebench/models"
mkdir -p "$models" results
for type in f16 q4_0; do
  # a scratch HOME's files are rewritten (they may be of another shape); the real ones reused
  "$build/edgebench" model synth --shape "$shape" --type "$type" -o "$models/small-$type.gguf" \
    $([ "$shape" = small ] || echo --force) >/dev/null
done
log=${EB_VALGRIND_LOG:-results/valgrind-quickstart}
db=${EB_VALGRIND_DB:-results/valgrind-quickstart.db}
rm -rf "$db" "$db-wal" "$db-shm" "$db.kld" "$log".*.log
fail=0
i=0
for pat in "${patterns[@]}"; do
  i=$((i + 1))
  start=$(date +%s)
  rc=0
  # the config's ${HOME}: where the model files are. OMP_WAIT_POLICY=passive: llama.cpp's
  # OpenMP threads sleep at barriers instead of spinning, which under valgrind (one thread
  # at a time) only burns the other thread's turn: faster, the same code paths
  HOME="$home" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite --error-exitcode=99 \
    --suppressions=scripts/valgrind.supp --log-file="$log.$i.log" \
    "$build/edgebench" run configs/quickstart.json --db "$db" --quiet --only "$pat" || rc=$?
  echo "valgrind-quickstart: --only '$pat' ($shape weights): $(($(date +%s) - start)) s under memcheck, exit $rc ($log.$i.log)"
  grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|suppressed:|All heap blocks" \
    "$log.$i.log" | sed 's/^==[0-9]*== */  /'
  # no "definitely lost" line at all means "All heap blocks were freed"
  lost=$(grep -o "definitely lost: [0-9,]* bytes" "$log.$i.log" | tail -1 || true)
  if [ $rc -ne 0 ] || { [ -n "$lost" ] && [ "$lost" != "definitely lost: 0 bytes" ]; }; then
    fail=1
  fi
done
# the quick start's second command, and the card layout, on what the runs stored
for layout in cells card; do
  i=$((i + 1))
  rc=0
  valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite --error-exitcode=99 \
    --suppressions=scripts/valgrind.supp --log-file="$log.$i.log" \
    "$build/edgebench" report --db "$db" --layout "$layout" || rc=$?
  echo "valgrind-quickstart: report --layout $layout: exit $rc ($log.$i.log)"
  grep -E "ERROR SUMMARY|definitely lost|All heap blocks" "$log.$i.log" | sed 's/^==[0-9]*== */  /'
  lost=$(grep -o "definitely lost: [0-9,]* bytes" "$log.$i.log" | tail -1 || true)
  if [ $rc -ne 0 ] || { [ -n "$lost" ] && [ "$lost" != "definitely lost: 0 bytes" ]; }; then
    fail=1
  fi
done
if [ $fail = 1 ]; then
  echo "valgrind-quickstart: memcheck found errors or leaks; see $log.*.log" >&2
  exit 1
fi
echo "valgrind-quickstart: no memcheck errors, definitely lost: 0 bytes in every run"
