#!/usr/bin/env bash
# The memory ceiling for a hostile peer (issue 15): runs edgebench against each hostile case
# on loopback and prints its peak RSS, VmHWM polled every 1 ms from /proc/PID/status (not
# /usr/bin/time), with the exit status and what edgebench said last. A benchmark, not a test:
# the figures go into docs/reliability.md ("Bounds on what a peer can make edgebench hold").
#
#   scripts/hostile-rss.sh [--build DIR] [CASE...]
#
# Cases (default: all): baseline (a normal 64-token stream), sse-endless, sse-ping (comment
# lines without end: only timeout_s ends it), sse-line (one 100 MB SSE line), tokenize
# (62 MB /tokenize body), gzip (1 GiB inflated stream), exec-yes (/usr/bin/yes through exec
# stream: lines), meter-yes (a cmd meter running yes during a 3 s cell), fetch-endless
# (datasets fetch from a mirror that never ends).
# Each run has timeout_s 20 (an HTTP case) and gen_tokens 64. Needs python3 (the servers and
# the meter, scripts/hostile-peer.py).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
cases=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "hostile-rss: unknown option '$1'" >&2; exit 2 ;;
    *) cases+=("$1"); shift ;;
  esac
done
[ ${#cases[@]} -gt 0 ] || cases=(baseline sse-endless sse-ping sse-line tokenize gzip exec-yes meter-yes fetch-endless)
eb=$PWD/$build/edgebench
[ -x "$eb" ] || { echo "hostile-rss: no '$eb' (build first, or --build DIR)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "hostile-rss: needs python3" >&2; exit 2; }
peer=$PWD/scripts/hostile-peer.py

tmp=$(mktemp -d "${TMPDIR:-/tmp}/eb-hostile.XXXXXX")
srv=
stop_server() {
  if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; fi
  srv=
}
trap 'stop_server; rm -rf "$tmp"' EXIT

# Starts the hostile server in MODE; sets $port.
start_server() {
  rm -f "$tmp/port"
  python3 "$peer" serve "$1" "$tmp/port" &
  srv=$!
  for _ in $(seq 300); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  [ -s "$tmp/port" ] || { echo "hostile-rss: the $1 server did not start" >&2; exit 1; }
  port=$(cat "$tmp/port")
}

# A config with one latency cell on TARGET (a JSON object), and SENSORS (a JSON array).
write_config() {
  cat >"$tmp/cfg.json" <<EOF
{ "name": "hostile",
  "targets": [ $1 ],
  "models": [ { "id": "m", "variants": [ { "quant": "q", "model_name": "m" } ] } ],
  "workloads": { "latency": { "prompt_tokens": [16], "gen_tokens": 64, "warmup": 0,
                              "repetitions": 1 } },
  "sensors": ${2:-[]}, "power": { "idle_s": 0 } }
EOF
}

openai() { # $1: the tokenize option
  echo "{ \"id\": \"t\", \"adapter\": \"openai\", \"options\": { \"base_url\": \"http://127.0.0.1:$port\", \"tokenize\": \"$1\", \"retries\": 0, \"timeout_s\": 20 } }"
}

run_case() {
  local c=$1
  rm -f "$tmp/db.db" "$tmp/db.db-wal" "$tmp/db.db-shm"
  case "$c" in
    baseline|sse-endless|sse-ping|sse-line|gzip)
      start_server "${c/baseline/normal}"
      write_config "$(openai off)" ;;
    tokenize)
      start_server tokenize
      write_config "$(openai on)" ;;
    exec-yes)
      write_config '{ "id": "t", "adapter": "exec", "options": { "argv": ["yes"], "stream": "lines", "timeout_s": 20 } }' ;;
    meter-yes)
      write_config '{ "id": "t", "adapter": "exec", "options": { "argv": ["/bin/sh", "-c", "sleep 3; echo done"], "stream": "lines", "timeout_s": 20 } }' \
                   '[ { "kind": "cmd", "options": { "argv": ["yes", "5"] } } ]' ;;
    fetch-endless)
      start_server mirror ;;
    *) echo "hostile-rss: unknown case '$c'" >&2; exit 2 ;;
  esac
  printf '%-14s ' "$c"
  if [ "$c" = fetch-endless ]; then
    python3 "$peer" measure "$eb" datasets fetch wikitext2 --dir "$tmp/ds" --mirror "http://127.0.0.1:$port/"
  else
    python3 "$peer" measure "$eb" run "$tmp/cfg.json" --db "$tmp/db.db" --quiet
    "$eb" list --db "$tmp/db.db" | sed -n '2s/^ */  /p' | cut -c1-300
  fi
  stop_server
}

echo "$("$eb" version 2>/dev/null | head -1); $(uname -m); peak RSS = VmHWM polled every 1 ms"
for c in "${cases[@]}"; do
  run_case "$c"
done
