#!/usr/bin/env bash
# Installs what is missing, builds everything and runs the whole test suite under ctest: one ctest
# test per test file (and per test case that can skip), the layout check and the script tests.
# Extra arguments go to ctest, e.g. scripts/test.sh -R synth, or -LE slow to leave the slow ones out.
# Ends with how many tests were skipped (no ../shared/data, no GPU, no Gloo, no AVX-512) and why.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
set +e
ctest --output-on-failure -j"${FEDGLIOMA_JOBS:-2}" "$@" | tee ctest-output.txt
status=${PIPESTATUS[0]}
set -e
# ctest lists the tests that did not run as "NN - name (Skipped)"; each printed its reason.
count="$(grep -c '(Skipped)$' ctest-output.txt || true)"
echo "test.sh: ${count} test(s) skipped"
if [[ "$count" -gt 0 && -f Testing/Temporary/LastTest.log ]]; then
  grep -a '^fedglioma-test-skip: ' Testing/Temporary/LastTest.log | sed 's/^fedglioma-test-skip: /  skipped: /' | sort -u
fi
exit "$status"
