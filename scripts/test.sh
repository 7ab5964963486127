#!/usr/bin/env bash
# Installs what is missing, builds everything and runs the whole test suite (Catch2 test cases,
# each registered with CTest). Extra arguments go to ctest, e.g. scripts/test.sh -R synth
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
ctest --output-on-failure -j"${FEDGLIOMA_JOBS:-2}" "$@"
