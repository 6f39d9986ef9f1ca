#!/usr/bin/env bash
# Client overhead of the openai adapter on loopback, against llama-server's own timings:
# median (harness TTFT - server prompt_ms) and the ratio of client to server decode rates.
#
#   scripts/bench-client-overhead.sh [--prompt N] [--gen N] [--reps N] [--threads N]
#                                    [--build DIR] [--model FILE]
#
# Starts llama-server (from the llama.cpp that edgebench was built with) on 127.0.0.1 with
# a tinyllama-1.1b-shaped Q4_0 model (synthesized once into ~/.cache/edgebench/models),
# runs `edgebench run` with a temporary config and reads the figures from the database,
# then repeats the TTFT measurement with a bare raw-socket client (python3, when present)
# as a baseline for the server's own share. The server's decode clock starts at the first
# token, so its rate is (predicted_n - 1) / predicted_ms, the same definition as the
# harness's.
set -euo pipefail
cd "$(dirname "$0")/.."

prompt=128 gen=64 reps=5 threads=2 build=build
model=${EB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgebench}/models/tinyllama-1.1b-q4_0.gguf
while [ $# -gt 0 ]; do
  case "$1" in
    --prompt) prompt=$2; shift 2 ;;
    --gen) gen=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-client-overhead: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

eb=$build/edgebench
[ -x "$eb" ] || { echo "bench-client-overhead: no '$eb' (build first, or --build DIR)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "bench-client-overhead: needs the sqlite3 program" >&2; exit 2; }
command -v curl >/dev/null || { echo "bench-client-overhead: needs the curl program" >&2; exit 2; }
bindir=$(sed -n 's/^EB_LLAMA_BINDIR:PATH=//p' "$build/CMakeCache.txt")
server=$bindir/llama-server
[ -x "$server" ] || { echo "bench-client-overhead: no llama-server in '$bindir'" >&2; exit 2; }

if [ ! -f "$model" ]; then
  mkdir -p "$(dirname "$model")"
  echo "bench-client-overhead: synthesizing $model" >&2
  "$eb" model synth --shape tinyllama-1.1b --type q4_0 --threads "$threads" -o "$model"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/eb-bench.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# a free loopback port: one nothing answers on
for _ in $(seq 50); do
  port=$((20000 + RANDOM % 40000))
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" || break
done
ctx=$((prompt + gen + 64))
"$server" -m "$model" -c "$ctx" -t "$threads" -np 1 --host 127.0.0.1 --port "$port" \
  --no-webui >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  if curl -sf -o /dev/null "http://127.0.0.1:$port/health"; then break; fi
  kill -0 "$pid" 2>/dev/null || { tail -20 "$tmp/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$port/health" || { echo "bench-client-overhead: llama-server not ready" >&2; exit 1; }

cat >"$tmp/bench.json" <<EOF
{
  "name": "client-overhead",
  "targets": [ { "id": "llama-server", "adapter": "openai",
                 "options": { "base_url": "http://127.0.0.1:$port" } } ],
  "models": [ { "id": "tinyllama-1.1b", "variants": [
    { "quant": "q4_0", "model_name": "tinyllama-1.1b-q4_0" } ] } ],
  "workloads": { "latency": { "prompt_tokens": [$prompt], "gen_tokens": $gen,
                              "warmup": 1, "repetitions": $reps } }
}
EOF
"$eb" run "$tmp/bench.json" --db "$tmp/bench.db" --quiet

# Baseline: the same requests from a bare client (python3 on a raw socket, if there is
# one) against the same server, so the server's own time between its prompt_ms clock and
# the first chunk on the wire can be told apart from edgebench's share. The prompt is
# built as the harness builds it (datasets/prompts.c's text, cut with the server's
# /tokenize and /detokenize), because the server's share depends on the text.
baseline=
if command -v python3 >/dev/null; then
  baseline=$(python3 - "$port" "$prompt" "$gen" "$reps" datasets/prompts.c <<'PY' || true
import json, re, socket, statistics, sys, time
port, n_prompt, n_gen, reps = (int(a) for a in sys.argv[1:5])
src = open(sys.argv[5], encoding="utf-8").read()
lits = re.findall(r'"((?:[^"\\]|\\.)*)"', src.split("eb_corpus[] =", 1)[1].split(";", 1)[0])
corpus = "".join(lits).encode().decode("unicode_escape")

conn = None

def call(path, obj):
    """One request on a kept-alive connection, as libcurl sends them."""
    global conn
    body = json.dumps(obj).encode()
    if conn is None:
        conn = socket.create_connection(("127.0.0.1", port))
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % (path.encode(), len(body))) + body
    t0 = time.perf_counter()
    conn.sendall(req)
    buf, first = b"", None
    while True:
        d = conn.recv(65536)
        if not d:
            conn = None
            break
        buf += d
        if first is None and re.search(rb'"text":"[^"]', buf):
            first = time.perf_counter()
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if not sep:
            continue
        m = re.search(rb"(?i)\r\ncontent-length: *([0-9]+)", head)
        if m and len(rest) >= int(m.group(1)):
            break
        if not m and rest.endswith(b"\r\n0\r\n\r\n"):
            break
    return buf, t0, first

def jbody(buf):
    return json.loads(buf.partition(b"\r\n\r\n")[2])

pre = jbody(call("/tokenize", {"content": "", "add_special": True})[0])["tokens"]
toks = jbody(call("/tokenize", {"content": corpus, "add_special": False})[0])["tokens"]
hello = jbody(call("/tokenize", {"content": "Hello", "add_special": False})[0])["tokens"]
strip = jbody(call("/detokenize", {"tokens": hello})[0])["content"] == " Hello"
text = jbody(call("/detokenize", {"tokens": toks[:n_prompt - len(pre)]})[0])["content"]
if strip and text.startswith(" "):
    text = text[1:]
req = {"prompt": text, "max_tokens": n_gen, "temperature": 0.0, "seed": 42, "stream": True,
       "stream_options": {"include_usage": True}, "ignore_eos": True, "min_tokens": n_gen,
       "cache_prompt": False}
out = []
for i in range(reps + 1):
    buf, t0, first = call("/v1/completions", req)
    m = re.search(rb'"prompt_ms":([0-9.]+)', buf)
    if i and first and m:
        out.append((first - t0) * 1e3 - float(m.group(1)))
print("%.3f" % statistics.median(out))
PY
)
fi

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
q() { sqlite3 -batch -noheader "$tmp/bench.db" "$1"; }
where="warmup = 0 AND json_extract(server_json, '\$.timings.predicted_ms') > 0"
overhead=$(q "SELECT ttft_ns / 1e6 - json_extract(server_json, '\$.timings.prompt_ms') FROM requests WHERE $where" | median)
ratio=$(q "SELECT decode_tps / ((json_extract(server_json, '\$.timings.predicted_n') - 1) * 1e3 / json_extract(server_json, '\$.timings.predicted_ms')) FROM requests WHERE $where" | median)
ttft=$(q "SELECT ttft_ns / 1e6 FROM requests WHERE $where" | median)
prompt_ms=$(q "SELECT json_extract(server_json, '\$.timings.prompt_ms') FROM requests WHERE $where" | median)
client_tps=$(q "SELECT decode_tps FROM requests WHERE $where" | median)
server_tps=$(q "SELECT (json_extract(server_json, '\$.timings.predicted_n') - 1) * 1e3 / json_extract(server_json, '\$.timings.predicted_ms') FROM requests WHERE $where" | median)
n=$(q "SELECT count(*) FROM requests WHERE $where")
n_prompt=$(q "SELECT group_concat(DISTINCT n_prompt) FROM requests WHERE $where")
n_out=$(q "SELECT group_concat(DISTINCT n_out) FROM requests WHERE $where")

printf 'model: %s (llama-server, %s threads, 127.0.0.1:%s)\n' "$model" "$threads" "$port"
printf 'requests: %s measured (+1 warm-up), prompt %s tokens (server counted %s), %s generated (%s)\n' \
  "$n" "$prompt" "$n_prompt" "$gen" "$n_out"
printf 'median TTFT %.3f ms, median server prompt_ms %.3f ms\n' "$ttft" "$prompt_ms"
printf 'client overhead: median (harness TTFT - server prompt_ms) = %.3f ms\n' "$overhead"
if [ -n "$baseline" ]; then
  printf 'baseline: the same with a bare raw-socket client (python3) = %s ms; edgebench adds %.3f ms\n' \
    "$baseline" "$(awk -v a="$overhead" -v b="$baseline" 'BEGIN { print a - b }')"
fi
printf 'decode: client %.2f tok/s, server %.2f tok/s (medians); median ratio client/server = %.4f\n' \
  "$client_tps" "$server_tps" "$ratio"
