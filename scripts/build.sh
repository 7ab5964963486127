#!/usr/bin/env bash
# Configures (Release) and builds fedglioma into build/ with ccache when present.
# Usage: scripts/build.sh [cmake --build arguments, e.g. --target fedglioma]
set -euo pipefail
cd "$(dirname "$0")/.."

# ccache must ignore the precompiled header's timestamps to hit across clean clones.
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
JOBS="${FEDGLIOMA_JOBS:-2}"

if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${FEDGLIOMA_CMAKE_ARGS:-} > build.configure.log 2>&1 || {
    cat build.configure.log >&2
    exit 1
  }
  mv build.configure.log build/configure.log
fi
cmake --build build -j"$JOBS" "$@"
