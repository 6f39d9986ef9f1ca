#!/usr/bin/env bash
# The whole test suite: set up, build with warnings as errors, run every ctest.
#   EB_TEST_ARGS="-L unit"   pass extra arguments to ctest (e.g. a label)
set -euo pipefail
cd "$(dirname "$0")/.."
EB_WERROR=ON bash scripts/build.sh
bash scripts/deps-test.sh   # test-only packages (chromium for the html report test)
cd "${EB_BUILD_DIR:-build}"
# shellcheck disable=SC2086
ctest --output-on-failure -j"${EB_JOBS:-$(nproc)}" ${EB_TEST_ARGS:-}
