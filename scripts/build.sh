#!/usr/bin/env bash
# Configures (Release, Ninja) and builds fedglioma into build/ with ccache when present.
# Usage: scripts/build.sh [cmake --build arguments, e.g. --target fedglioma]
set -euo pipefail
cd "$(dirname "$0")/.."

# ccache: ignore the precompiled header's timestamps, and rewrite the tree's absolute paths to
# relative ones (CCACHE_BASEDIR), so that a clean clone anywhere hits what another one compiled.
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
JOBS="${FEDGLIOMA_JOBS:-2}"

# Ninja rebuilds only what a change touches (a new source file compiles alone). A build/ that an
# older checkout configured with another generator is configured again.
if [[ -f build/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' build/CMakeCache.txt; then
  echo "build.sh: build/ was configured with another generator; configuring it again for Ninja"
  rm -rf build/CMakeCache.txt build/CMakeFiles
fi
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${FEDGLIOMA_CMAKE_ARGS:-} > build.configure.log 2>&1 || {
    cat build.configure.log >&2
    exit 1
  }
  mv build.configure.log build/configure.log
fi
cmake --build build -j"$JOBS" "$@"
