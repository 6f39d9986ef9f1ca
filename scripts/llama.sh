#!/usr/bin/env bash
# Builds llama.cpp from the pinned npm package node-llama-cpp into a cache outside the
# repository, or reuses that build, or uses the user's own llama.cpp (EB_LLAMA_DIR).
# Prints the llama.cpp directory (with include/ and lib or build/bin) on stdout.
#
#   EB_LLAMA_DIR=/path   use this llama.cpp build tree or install prefix; build nothing
#   EB_CACHE=/path       cache root (default ${XDG_CACHE_HOME:-~/.cache}/edgebench)
#   EB_JOBS=N            parallel build jobs (default: nproc)
#   EB_LLAMA_PORTABLE=1  build without -march=native (GGML_NATIVE=OFF; on x86-64 AVX2,
#                        FMA, F16C, no AVX-512) into a cache directory of its own, ending
#                        in -portable: for valgrind, which cannot run AVX-512, or for
#                        machines older than the build machine
set -euo pipefail
NLC_VERSION=3.22.1            # node-llama-cpp version; its gitRelease.bundle is llama.cpp
cache=${EB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgebench}
jobs=${EB_JOBS:-$(nproc)}

if [ -n "${EB_LLAMA_DIR:-}" ]; then
  if [ -f "$EB_LLAMA_DIR/include/llama.h" ]; then echo "$EB_LLAMA_DIR"; exit 0; fi
  echo "llama.sh: EB_LLAMA_DIR='$EB_LLAMA_DIR' has no include/llama.h" >&2
  exit 1
fi

root="$cache/llama.cpp-nlc$NLC_VERSION"
native=(-DGGML_NATIVE=ON)
if [ "${EB_LLAMA_PORTABLE:-0}" = 1 ]; then
  root="$root-portable"
  native=(-DGGML_NATIVE=OFF)
  if [ "$(uname -m)" = x86_64 ]; then
    native+=(-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
             -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF)
  fi
fi
stamp="$root/.built"
peers=(llama-server llama-bench llama-perplexity llama-quantize llama-batched-bench)
if [ -f "$stamp" ]; then
  # a cache built before a peer was added: build only the missing ones into it, never
  # everything again, and never delete it
  missing=()
  for p in "${peers[@]}"; do
    [ -x "$root/build/bin/$p" ] || missing+=("$p")
  done
  # (a peer that fails to build is left out: the tests that need it skip, saying so)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "llama.sh: the cached build lacks ${missing[*]}; building just that ($jobs jobs)" >&2
    cmake --build "$root/build" -j"$jobs" --target "${missing[@]}" >>"$root/build.log" 2>&1 ||
      { tail -30 "$root/build.log" >&2; echo "llama.sh: ${missing[*]} not built" >&2; }
  fi
  echo "$root"; exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.dl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "llama.sh: fetching node-llama-cpp@$NLC_VERSION (llama.cpp source)" >&2
( cd "$tmp" && npm pack --silent "node-llama-cpp@$NLC_VERSION" >/dev/null )
tar -xzf "$tmp"/node-llama-cpp-*.tgz -C "$tmp"
rm -rf "$root"
git clone -q "$tmp/package/llama/gitRelease.bundle" "$root/src"
# the bundle's HEAD may be detached or unnamed; take whatever it checked out
( cd "$root/src" && git log -1 --format='llama.sh: llama.cpp %H %s' >&2 ) || true
cp -r "$tmp/package/llama/" "$root/nlc-llama" 2>/dev/null || true
echo "llama.sh: building llama.cpp ($jobs jobs; several minutes on 2 cores): ${native[*]}" >&2
cmake -S "$root/src" -B "$root/build" -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=ON -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON \
  "${native[@]}" >"$root/cmake.log" 2>&1 || { tail -30 "$root/cmake.log" >&2; exit 1; }
cmake --build "$root/build" -j"$jobs" --target llama "${peers[@]}" \
  >"$root/build.log" 2>&1 || { tail -30 "$root/build.log" >&2; exit 1; }
mkdir -p "$root/include"
cp "$root/src/include/"*.h "$root/include/"
cp "$root/src/ggml/include/"*.h "$root/include/"
touch "$stamp"
echo "$root"
