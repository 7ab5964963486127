#!/usr/bin/env bash
# Builds fedglioma with sanitizers and runs the tests under them; exits non-zero on any finding.
#
#   scripts/sanitize.sh [address|thread|all]   (default: all)
#
# address: GCC, AddressSanitizer + UndefinedBehaviorSanitizer, every finding fatal (build-asan/);
#          runs every test that is not [slow] nor a [cuda] test. (Debian's ITK headers accept only
#          GCC; the libFuzzer targets have their own clang tree: scripts/fuzz.sh.)
# thread:  GCC, ThreadSanitizer (build-tsan/); runs the determinism ([determinism], every worker
#          count), streaming-store ([store]), federation, training, round-loop, client-state, asynchronous
#          ([async]) and differential-privacy ([dp]) tests: where the executor, the prefetcher, the
#          streaming store, the round loop and the event loop run fedglioma's own threads.
# Suppressions (scripts/sanitizers/*.supp) cover third-party code only; each line says why.
# TSan's ignore_noninstrumented_modules=1: accesses made by interceptors (memset, memcpy) called
# from libraries not built with TSan (libtorch_cpu, libdnnl, libgomp) are not reported. Those
# libraries' OpenMP pool threads synchronise through libgomp's uninstrumented barriers, which TSan
# cannot see; fedglioma's own code is instrumented and still checked in full.
# Both builds use ccache; the first build of each takes 15-25 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WHICH=${1:-all}
JOBS=${FEDGLIOMA_JOBS:-2}
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
SUPP=$ROOT/scripts/sanitizers

configure() {  # DIR CC CXX SANITIZE [extra cmake args]
  local dir=$1 cc=$2 cxx=$3 sanitize=$4
  shift 4
  # A configure that failed (packages missing) leaves a cache without a build system: configure again.
  if [[ ! -f $dir/CMakeCache.txt || ! -f $dir/Makefile ]]; then
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
      -DFEDGLIOMA_SANITIZE="$sanitize" "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log" >&2; exit 1; }
  fi
}

# The test binary exits 77 when it passed but skipped tests (no AVX-512, no CUDA; each is named
# in its output): a pass here, as ctest counts it. Any other non-zero status is a failure.
passed() {  # WHAT RC START
  if [[ $2 -ne 0 && $2 -ne 77 ]]; then
    echo "sanitize: $1: FAILED (exit status $2)" >&2
    exit "$2"
  fi
  echo "sanitize: $1: tests passed in $((SECONDS - $3)) s$([[ $2 -eq 77 ]] && echo ', some skipped (named above)')"
}

run_address() {
  configure build-asan gcc g++ address,undefined
  cmake --build build-asan -j"$JOBS" --target fedglioma fedglioma_tests
  local start=$SECONDS
  # detect_leaks=0: LibTorch and ITK allocate process-lifetime singletons that LeakSanitizer lists
  # at exit (dozens of reports, none ours); leaks of ours would also be caught by the RSS benchmarks.
  local rc=0
  (cd build-asan &&
    ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$SUPP/ubsan.supp" \
    ./fedglioma_tests "~[slow]~[cuda]" --warn NoTests) || rc=$?
  passed address,undefined $rc $start
}

run_thread() {
  configure build-tsan gcc g++ thread
  cmake --build build-tsan -j"$JOBS" --target fedglioma_tests
  local start=$SECONDS
  local rc=0
  (cd build-tsan &&
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$SUPP/tsan.supp" \
    ./fedglioma_tests "[determinism]~[slow],[store]~[slow],[federation]~[slow],[training]~[slow],[round_loop],[client_state],[async]~[slow],[dp]~[slow]" --warn NoTests) || rc=$?
  passed thread $rc $start
}

case $WHICH in
  address) run_address ;;
  thread) run_thread ;;
  all) run_address; run_thread ;;
  *) echo "usage: scripts/sanitize.sh [address|thread|all]" >&2; exit 2 ;;
esac
