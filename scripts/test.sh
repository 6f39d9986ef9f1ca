#!/usr/bin/env bash
# The whole test suite: the layer check (scripts/check-layers.sh), set up, build with
# warnings as errors, run every ctest; then the same suites again under AddressSanitizer +
# UndefinedBehaviorSanitizer and LeakSanitizer (scripts/test-asan.sh, build-asan/).
#   EB_TEST_ARGS="-L unit"   pass extra arguments to ctest (e.g. a label), both stages
#   EB_TEST_ASAN=0           skip the sanitizer stage (quicker local runs; CI runs both)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/check-layers.sh   # the layer order first: it needs no build and says which line broke it
EB_WERROR=ON bash scripts/build.sh
bash scripts/deps-test.sh   # test-only packages (chromium for the html report test)
(
  cd "${EB_BUILD_DIR:-build}"
  # shellcheck disable=SC2086
  ctest --output-on-failure -j"${EB_JOBS:-$(nproc)}" ${EB_TEST_ARGS:-}
)
if [ "${EB_TEST_ASAN:-1}" != 0 ]; then
  bash scripts/test-asan.sh
fi
