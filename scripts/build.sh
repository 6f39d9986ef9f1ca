#!/usr/bin/env bash
# Sets up everything edgebench needs on a Debian machine and builds it into build/:
# missing Debian packages, llama.cpp (cached outside the repo), then CMake.
#   EB_LLAMA_DIR=/path  use your own llama.cpp (build tree or install prefix), e.g. CUDA
#   EB_BUILD_TYPE=...   CMake build type (default RelWithDebInfo; Asan for sanitizers)
#   EB_WERROR=ON        warnings are errors (the test command sets this)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
llama_dir=$(bash scripts/llama.sh)
build=${EB_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${EB_BUILD_TYPE:-RelWithDebInfo}" \
  -DEB_LLAMA_DIR="$llama_dir" -DEB_WERROR="${EB_WERROR:-OFF}" >"${TMPDIR:-/tmp}/edgebench-cmake.log" 2>&1 ||
  { cat "${TMPDIR:-/tmp}/edgebench-cmake.log" >&2; exit 1; }
cmake --build "$build" -j"${EB_JOBS:-$(nproc)}"
