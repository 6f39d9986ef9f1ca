#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (gcc): builds with
# EB_BUILD_TYPE=Asan (warnings are errors) into build-asan/ and runs every ctest there.
# Every edgebench library, the binary and the tests are instrumented; llama.cpp is not.
# Any ASan or UBSan report, and any leak LeakSanitizer finds at a process's exit, fails
# the test that ran into it.
#   EB_TEST_ARGS="-L unit"   pass extra arguments to ctest (e.g. a label)
set -euo pipefail
cd "$(dirname "$0")/.."
export EB_BUILD_DIR=${EB_ASAN_BUILD_DIR:-build-asan}
EB_BUILD_TYPE=Asan EB_WERROR=ON bash scripts/build.sh
bash scripts/deps-test.sh
# halt_on_error + abort_on_error: the first report kills the process with SIGABRT, which
# Check and ctest report as a failure; detect_leaks: LeakSanitizer at every exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
# (the Asan build triples every test's timeout: EB_TEST_TIMEOUT_SCALE in tests/CMakeLists.txt)
cd "$EB_BUILD_DIR"
# shellcheck disable=SC2086
ctest --output-on-failure -j"${EB_JOBS:-$(nproc)}" ${EB_TEST_ARGS:-}
