#!/usr/bin/env bash
# kill-trials.sh N [M]: N trials of SIGKILL in the middle of a 12-cell `edgebench run` on the
# synthesized tiny models. Odd trials kill at a uniform random moment of the run (kill -9
# from outside); even trials kill inside a uniform random write to the database files (an
# LD_PRELOAD shim writes half of that write, then raises SIGKILL: a kill mid-commit or
# mid-checkpoint, which a uniform moment almost never hits). After each kill:
# PRAGMA integrity_check must say ok; `run --resume` (a plain run when the kill came before
# the run was stored) must exit 0 — or, when the kill came after the run was marked ok
# (while the database was being closed), exit 2 saying there is nothing to resume; every
# cell must be stored exactly once, ok, with all its requests and token times; cells
# finished before the kill must not have run again.
# Then M trials (default 0) of the exits edgebench handles, in turn: SIGHUP, two SIGTERMs,
# two SIGINTs (each at a uniform random moment of the run, the second 5 ms after the
# first), and a full disk while the log is folded into the database at the end (the shim
# fails writes to the .db file past a uniform point of the second half of what a whole run
# writes to it). After each: exit 3 (0 when the run had finished), or for the full disk
# exit 2 with a message naming the -wal; the .db alone, copied right after the exit, must
# pass PRAGMA integrity_check and hold every cell that finished (for the full disk: the
# .db and its -wal together, and the .db alone after `edgebench merge DB` folds them), the
# run must not be left `running` or locked, and `run --resume` must complete it.
# Prints where the kills landed and the failures; exit 1 on any failure.
#   EB_BUILD_DIR=build     where edgebench was built
#   EB_TEST_MODELS=DIR     the tiny models (default BUILD/tests/models; synthesized if missing)
#   EB_FAULTSHIM=FILE      the shim (default BUILD/tests/libeb_faultshim.so)
#   EB_KILL_SEED=1         seed of the kill moments and writes (same seed, same choices)
#   EB_KILL_WORK=DIR       scratch directory, kept (default: a temporary one, removed)
#   EB_KILL_VERBOSE=1      one line per trial
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || [ $# -gt 2 ] || ! [ "$1" -ge 1 ] 2>/dev/null ||
   ! [ "${2:-0}" -ge 0 ] 2>/dev/null; then
  echo "usage: $0 N [M]   (N >= 1 SIGKILL trials, M >= 0 trials of handled exits)" >&2
  exit 2
fi
trials=$1
strials=${2:-0}
build=$(cd "${EB_BUILD_DIR:-build}" && pwd)
bin=$build/edgebench
models=${EB_TEST_MODELS:-$build/tests/models}
shim=${EB_FAULTSHIM:-$build/tests/libeb_faultshim.so}
seed=${EB_KILL_SEED:-1}
verbose=${EB_KILL_VERBOSE:-0}
for tool in sqlite3 python3; do
  command -v $tool >/dev/null || { echo "kill-trials: needs $tool (apt-get install $tool)" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "kill-trials: no edgebench at '$bin' (build first)" >&2; exit 2; }
[ -f "$shim" ] || { echo "kill-trials: no fault shim at '$shim' (build first)" >&2; exit 2; }
if [ ! -f "$models/tiny-q4_0.gguf" ]; then
  sh tests/synth_models.sh "$bin" "$models"
fi
if [ -n "${EB_KILL_WORK:-}" ]; then
  mkdir -p "$EB_KILL_WORK"
  work=$(cd "$EB_KILL_WORK" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/db"
# an ASan build of edgebench accepts a preloaded library only with this
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# 3 variants x 4 prompt lengths = 12 cells of 1 warm-up + 2 requests of 16 tokens each
ncells=12 nreq=3 gen=16
cfg=$work/kill.json
cat >"$cfg" <<EOF
{ "name": "kill-trials",
  "targets": [ { "id": "cpu", "adapter": "llamacpp",
                 "options": { "threads": 1, "n_ctx": 256, "n_gpu_layers": 0 } } ],
  "models": [ { "id": "tiny", "variants": [
      { "quant": "f16", "file": "$models/tiny-f16.gguf" },
      { "quant": "q8_0", "file": "$models/tiny-q8_0.gguf" },
      { "quant": "q4_0", "file": "$models/tiny-q4_0.gguf" } ] } ],
  "workloads": { "latency": { "prompt_tokens": [8, 16, 32, 48], "gen_tokens": $gen,
                              "warmup": 1, "repetitions": 2 } } }
EOF

# The WAL as the kill left it, read before anything opens the database (opening it
# recovers the log): "COMMITTED UNFINISHED", UNFINISHED being frames of the current log
# generation after its last commit frame (a transaction being written when the kill came).
walscan() {
  python3 - "$1" <<'EOF'
import struct, sys
try:
    d = open(sys.argv[1], "rb").read()
except OSError:
    d = b""
committed = unfinished = 0
if len(d) >= 32:
    magic, _, psz, _, s1, s2 = struct.unpack(">6I", d[:24])
    off = 32
    while magic in (0x377f0682, 0x377f0683) and off + 24 <= len(d):
        pg, commit, fs1, fs2 = struct.unpack(">4I", d[off:off + 16])
        if (fs1, fs2) != (s1, s2):
            break
        if off + 24 + psz > len(d):  # a frame cut short
            unfinished += 1
            break
        if commit:
            committed += 1 + unfinished
            unfinished = 0
        else:
            unfinished += 1
        off += 24 + psz
print(committed, unfinished)
EOF
}

q() { sqlite3 -batch -noheader "$1" "$2"; }
rnd() { awk -v s="$seed" -v i="$1" -v hi="$2" 'BEGIN { srand(s * 100003 + i); printf "%.6f", rand() * hi }'; }

echo "kill-trials: calibrating (one full run of $ncells cells, counting its database writes)" >&2
t0=$(date +%s.%N)
EB_FAULT_DIR=$work/db EB_FAULT_COUNT=$work/count LD_PRELOAD=$shim \
  "$bin" run "$cfg" --db "$work/db/cal.db" --quiet
t1=$(date +%s.%N)
rm -f "$work/db/cal.db"*
span=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
read -r nwrites nbytes <"$work/count"
# what a whole run writes to the .db file itself (its checkpoints), for the full-disk trials
EB_FAULT_DIR=$work/db EB_FAULT_FILE=cal.db EB_FAULT_COUNT=$work/count LD_PRELOAD=$shim \
  "$bin" run "$cfg" --db "$work/db/cal.db" --quiet
rm -f "$work/db/cal.db"*
read -r _ dbbytes <"$work/count"
echo "kill-trials: a full run takes $span s and makes $nwrites writes ($nbytes bytes) to its database files" >&2

declare -A n
for k in before mid-cell after after-ok finished t-commit w-commit w-checkpoint w-ok w-other integrity complete; do n[$k]=0; done
failures=0 n_time=0 n_write=0
for ((i = 1; i <= trials; i++)); do
  db=$work/db/t.db
  rm -f "$db" "$db-wal" "$db-shm" "$work/note"
  if ((i % 2)); then
    kind=time
    n_time=$((n_time + 1))
    at=$(rnd "$i" "$span")
    "$bin" run "$cfg" --db "$db" --quiet >"$work/run.log" 2>&1 &
    pid=$!
    sleep "$at"
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    at="at $at s"
  else
    kind=write
    n_write=$((n_write + 1))
    k=$(awk -v x="$(rnd "$i" "$nwrites")" 'BEGIN { printf "%d", x + 1 }')
    EB_FAULT_DIR=$work/db EB_FAULT_KILL_AT_WRITE=$k EB_FAULT_NOTE=$work/note LD_PRELOAD=$shim \
      "$bin" run "$cfg" --db "$db" --quiet >"$work/run.log" 2>&1 &
    rc=0
    wait $! 2>/dev/null || rc=$?
    at="in write $k of $nwrites"
  fi
  why=""
  read -r committed unfinished < <(walscan "$db-wal")
  if [ "$rc" -ne 137 ] && [ "$rc" -ne 0 ]; then
    why="run exited $rc before the kill: $(tail -c 300 "$work/run.log")"
  fi
  # the state the kill left, read from a copy: opening the database recovers and then
  # checkpoints its log, and the resume must start from exactly what the kill left
  runs=0 pending=0 okbefore="" status=""
  if [ -f "$db" ]; then
    rm -rf "$work/look"
    mkdir "$work/look"
    for f in "$db" "$db-wal" "$db-shm"; do [ ! -f "$f" ] || cp "$f" "$work/look/"; done
    look=$work/look/t.db
    ic=$(q "$look" "PRAGMA integrity_check" 2>&1 || true)
    if [ "$ic" = "ok" ]; then
      n[integrity]=$((n[integrity] + 1))
    else
      why="${why:+$why; }integrity_check after the kill: $ic"
    fi
    runs=$(q "$look" "SELECT count(*) FROM runs" 2>/dev/null || echo 0)
    if [ "$runs" -gt 0 ]; then
      pending=$(q "$look" "SELECT $ncells - count(*) FROM cells WHERE status='ok'")
      status=$(q "$look" "SELECT status FROM runs")
      okbefore=$(q "$look" "SELECT group_concat(key || '@' || finished_at, ' ') FROM cells WHERE status='ok'")
      # a cell that did not finish leaves nothing behind
      left=$(q "$look" "SELECT count(*) FROM requests r JOIN cells c ON c.id=r.cell_id WHERE c.status<>'ok'")
      [ "$left" -eq 0 ] || why="${why:+$why; }$left requests of unfinished cells survived the kill"
    fi
  else
    n[integrity]=$((n[integrity] + 1)) # nothing was written, nothing can be corrupt
  fi
  if [ "$rc" -eq 0 ]; then
    landed=finished
  elif [ "$runs" -eq 0 ]; then
    landed=before
  elif [ "$pending" -gt 0 ]; then
    landed=mid-cell
  else
    landed=after
  fi
  [ "$kind" = time ] && n[$landed]=$((n[$landed] + 1))
  [ "$kind" = time ] && [ "$unfinished" -gt 0 ] && n[t-commit]=$((n[t-commit] + 1))
  [ "$kind" = time ] && [ "$landed" = after ] && [ "$status" = ok ] && n[after-ok]=$((n[after-ok] + 1))
  if [ "$kind" = write ]; then
    note=$(cat "$work/note" 2>/dev/null || echo "?")
    if [ "$unfinished" -gt 0 ]; then
      landed="$landed, mid-commit ($unfinished frame(s) of an unfinished transaction)"
      n[w-commit]=$((n[w-commit] + 1))
    elif [ "$note" = "$db" ]; then
      landed="$landed, mid-checkpoint (writing the database file)"
      n[w-checkpoint]=$((n[w-checkpoint] + 1))
      [ "$status" != ok ] || n[w-ok]=$((n[w-ok] + 1))
    else
      landed="$landed, writing ${note##*/}"
      n[w-other]=$((n[w-other] + 1))
    fi
  fi
  # finish the run: afresh when it was never stored; when the kill came after the run was
  # marked ok (while closing the database), --resume must find nothing to do
  if [ "$rc" -ne 0 ] && [ "$status" = ok ]; then
    rrc=0
    "$bin" run "$cfg" --db "$db" --resume --quiet >"$work/resume.log" 2>&1 || rrc=$?
    [ "$rrc" -eq 2 ] && grep -q "no interrupted run of this config" "$work/resume.log" ||
      why="${why:+$why; }run --resume of a finished run exited $rrc: $(tail -c 300 "$work/resume.log")"
  elif [ "$rc" -ne 0 ]; then
    resume=--resume
    [ "$runs" -gt 0 ] || resume=""
    "$bin" run "$cfg" --db "$db" $resume --quiet >"$work/resume.log" 2>&1 ||
      why="${why:+$why; }run $resume exited $?: $(tail -c 300 "$work/resume.log")"
  fi
  # every cell exactly once and complete, the finished ones untouched
  got=$(q "$db" "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM runs WHERE status='ok')
    || ' ' || (SELECT count(*) FROM cells) || ' ' || (SELECT count(DISTINCT key) FROM cells)
    || ' ' || (SELECT count(*) FROM cells WHERE status='ok')
    || ' ' || (SELECT count(*) FROM (SELECT cell_id FROM requests GROUP BY cell_id HAVING count(*)=$nreq))
    || ' ' || (SELECT count(*) FROM requests)
    || ' ' || (SELECT count(*) FROM token_times)
    || ' ' || (SELECT count(*) FROM metrics WHERE name='decode_tps' AND n=2)" 2>&1 || true)
  want="1 1 $ncells $ncells $ncells $ncells $((ncells * nreq)) $((ncells * nreq * gen)) $ncells"
  [ "$got" = "$want" ] ||
    why="${why:+$why; }after resume: runs, ok runs, cells, keys, ok cells, complete cells, requests, token times, decode_tps = '$got', want '$want'"
  ic=$(q "$db" "PRAGMA integrity_check" 2>&1 || true)
  [ "$ic" = "ok" ] || why="${why:+$why; }integrity_check after resume: $ic"
  if [ -n "$okbefore" ]; then
    okafter=" $(q "$db" "SELECT group_concat(key || '@' || finished_at, ' ') FROM cells") "
    for kf in $okbefore; do
      case "$okafter" in *" $kf "*) ;; *) why="${why:+$why; }cell '${kf%@*}', finished before the kill, ran again" ;; esac
    done
  fi
  if [ -n "$why" ]; then
    failures=$((failures + 1))
    echo "trial $i (kill $at: $landed): FAIL: $why" >&2
    cp "$db" "$work/fail-$i.db" 2>/dev/null || true
  else
    n[complete]=$((n[complete] + 1))
    [ "$verbose" != 1 ] || echo "trial $i: kill $at: $landed; WAL $committed+$unfinished frames; ok" >&2
  fi
done

# --- trials of the exits edgebench handles ----------------------------------------------
declare -A sn
for k in hup term2 int2 full exit3 exit0 early fullexit2 alone complete; do sn[$k]=0; done
sfailures=0
for ((i = 1; i <= strials; i++)); do
  db=$work/db/s.db
  rm -f "$db" "$db-wal" "$db-shm"
  rm -rf "$work/look"
  mkdir "$work/look"
  why=""
  case $((i % 4)) in
    1) kind=hup sig=HUP n=1 ;;
    2) kind=term2 sig=TERM n=2 ;;
    3) kind=int2 sig=INT n=2 ;;
    0) kind=full ;;
  esac
  sn[$kind]=$((sn[$kind] + 1))
  if [ "$kind" = full ]; then
    budget=$(awk -v x="$(rnd "$((i + 100000))" "$((dbbytes / 2))")" -v h="$((dbbytes / 2))" 'BEGIN { printf "%d", h + x }')
    rc=0
    EB_FAULT_DIR=$work/db EB_FAULT_FILE=s.db EB_FAULT_ENOSPC_BYTES=$budget LD_PRELOAD=$shim \
      "$bin" run "$cfg" --db "$db" --quiet >"$work/run.log" 2>&1 || rc=$?
    at="full disk past $budget of $dbbytes bytes to the .db"
    if [ "$rc" -eq 2 ] && grep -qF "the latest results are in '$db-wal' beside it" "$work/run.log"; then
      sn[fullexit2]=$((sn[fullexit2] + 1))
      # the .db and its -wal together hold every cell
      for f in "$db" "$db-wal"; do cp "$f" "$work/look/"; done
      ic=$(q "$work/look/s.db" "PRAGMA integrity_check" 2>&1 || true)
      got=$(q "$work/look/s.db" "SELECT count(*) FROM cells WHERE status='ok'" 2>&1 || true)
      [ "$ic" = ok ] && [ "$got" = "$ncells" ] ||
        why="the .db and its -wal together: integrity_check '$ic', $got ok cells of $ncells"
      rm -f "$work/look/"*
      "$bin" merge "$db" >"$work/merge.log" 2>&1 ||
        why="${why:+$why; }merge DB exited $?: $(tail -c 300 "$work/merge.log")"
      cp "$db" "$work/look/"
    else
      why="exit $rc: $(tail -c 300 "$work/run.log")"
    fi
  else
    at=$(rnd "$((i + 100000))" "$span")
    "$bin" run "$cfg" --db "$db" --quiet >"$work/run.log" 2>&1 &
    pid=$!
    sleep "$at"
    kill -"$sig" "$pid" 2>/dev/null || true
    if [ "$n" -eq 2 ]; then
      sleep 0.005
      kill -"$sig" "$pid" 2>/dev/null || true
    fi
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    # the .db alone, right after the exit
    [ ! -f "$db" ] || cp "$db" "$work/look/"
    at="SIG$sig x$n at $at s"
    if [ "$rc" -eq 3 ]; then
      sn[exit3]=$((sn[exit3] + 1))
    elif [ "$rc" -eq 0 ]; then
      sn[exit0]=$((sn[exit0] + 1))
    elif [ "$rc" -gt 128 ] && [ ! -f "$db" ]; then
      sn[early]=$((sn[early] + 1)) # before edgebench opened the database: nothing to lose
    else
      why="exit $rc: $(tail -c 300 "$work/run.log")"
    fi
  fi
  if [ -f "$work/look/s.db" ]; then
    [ ! -s "$db-wal" ] || why="${why:+$why; }a -wal of $(stat -c %s "$db-wal") bytes left beside the database"
    look=$work/look/s.db
    ic=$(q "$look" "PRAGMA integrity_check" 2>&1 || true)
    st=$(q "$look" "SELECT group_concat(status) FROM runs" 2>&1 || true)
    locks=$(q "$look" "SELECT count(*) FROM run_locks" 2>&1 || true)
    # every cell the database says finished is in the .db alone, with all its requests
    okc=$(q "$look" "SELECT count(*) FROM cells WHERE status='ok'" 2>&1 || true)
    whole=$(q "$look" "SELECT count(*) FROM (SELECT cell_id FROM requests GROUP BY cell_id HAVING count(*)=$nreq)" 2>&1 || true)
    okdb=$(q "$db" "SELECT count(*) FROM cells WHERE status='ok'" 2>&1 || true)
    if [ "$ic" = ok ] && [ "$okc" = "$okdb" ] && [ "$okc" = "$whole" ] && [ "$locks" = 0 ] &&
       [ "$st" != running ]; then
      sn[alone]=$((sn[alone] + 1))
    else
      why="${why:+$why; }the .db alone: integrity_check '$ic', run '$st', locks $locks, ok cells $okc (complete $whole; with everything $okdb)"
    fi
    if [ "$st" = interrupted ]; then
      "$bin" run "$cfg" --db "$db" --resume --quiet >"$work/resume.log" 2>&1 ||
        why="${why:+$why; }run --resume exited $?: $(tail -c 300 "$work/resume.log")"
    fi
    got=$(q "$db" "SELECT (SELECT count(*) FROM runs WHERE status='ok') || ' ' || (SELECT count(*) FROM cells WHERE status='ok')
      || ' ' || (SELECT count(*) FROM requests) || ' ' || (SELECT count(*) FROM run_locks)" 2>&1 || true)
    want="1 $ncells $((ncells * nreq)) 0"
    [ "$got" = "$want" ] || why="${why:+$why; }after resume: ok runs, ok cells, requests, locks = '$got', want '$want'"
  fi
  if [ -n "$why" ]; then
    sfailures=$((sfailures + 1))
    echo "signal trial $i ($at): FAIL: $why" >&2
  else
    sn[complete]=$((sn[complete] + 1))
    [ "$verbose" != 1 ] || echo "signal trial $i: $at: exit $rc; ok" >&2
  fi
done
failures=$((failures + sfailures))

cat <<EOF
kill-trials: $trials trials of SIGKILL during a $ncells-cell run ($span s, $nwrites database writes), seed $seed
  $n_time at a uniform moment of the run:
    before the run was stored:                           ${n[before]}
    mid-cell (a cell running, earlier cells stored):     ${n[mid-cell]}
    after the last cell was stored:                      ${n[after]} (of which the run marked ok: ${n[after-ok]})
    run had already finished:                            ${n[finished]}
    (of all these, mid-commit:                           ${n[t-commit]})
  $n_write inside a uniform random write to the database files:
    mid-commit (frames of an unfinished transaction):    ${n[w-commit]}
    mid-checkpoint (writing the database file):          ${n[w-checkpoint]} (of which after the run was marked ok: ${n[w-ok]})
    other (WAL header, shared-memory index):             ${n[w-other]}
  integrity_check ok right after the kill:               ${n[integrity]}/$trials
  resumed to every cell stored exactly once:             ${n[complete]}/$trials
EOF
if [ "$strials" -gt 0 ]; then
  cat <<EOF
kill-trials: $strials trials of handled exits (the .db alone copied right after each)
  SIGHUP / SIGTERM x2 / SIGINT x2 at a uniform moment:   ${sn[hup]} / ${sn[term2]} / ${sn[int2]} (exit 3: ${sn[exit3]}; finished first, exit 0: ${sn[exit0]}; before the database was opened: ${sn[early]})
  full disk at the final checkpoint:                     ${sn[full]} (exit 2 naming the -wal: ${sn[fullexit2]}; a run writes $dbbytes bytes to the .db)
  the .db alone sound, every finished cell, not running: ${sn[alone]}
  resumed (or folded) to every cell stored once:         ${sn[complete]}/$strials
EOF
fi
echo "  failures:                                              $failures"
[ "$failures" -eq 0 ]
