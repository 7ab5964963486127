#!/usr/bin/env bash
# Fuzzes fedglioma's readers with libFuzzer (clang, AddressSanitizer + UndefinedBehaviorSanitizer).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]   (default: 120 s, every target)
#
# Targets (tests/fuzz/fuzz_*.cpp): config (JSON -> validated config, resolved config reads back
# the same), manifest (+ the leakage check), label_tables (the seven dataset tables), nifti (the
# header checks that run before ITK), checkpoint (state bundles), model_pt (model.pt into a model).
# Each runs from tests/fuzz/corpus/<target> (committed seeds plus what earlier runs kept); new
# inputs that add coverage are merged back into it, and a crash leaves crash-* in build-fuzz/ and
# fails the script. Every crash found becomes a regression test (tests/data, tests/sim, ...).
# The build (build-fuzz/) holds only the fuzzed readers: Debian's ITK headers accept only GCC.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-120}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(config manifest label_tables nifti checkpoint model_pt)
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DFEDGLIOMA_FUZZ=ON -DFEDGLIOMA_SANITIZE=address,undefined >build-fuzz.configure.log 2>&1 ||
    { cat build-fuzz.configure.log >&2; exit 1; }
fi
cmake --build build-fuzz -j"${FEDGLIOMA_JOBS:-2}"

status=0
for target in "${TARGETS[@]}"; do
  corpus=tests/fuzz/corpus/$target
  fresh=build-fuzz/corpus-$target
  mkdir -p "$corpus" "$fresh"
  echo "fuzz: $target for ${SECONDS_PER_TARGET} s (corpus: $(ls "$corpus" | wc -l) inputs)"
  # detect_leaks=0: LibTorch's process-lifetime allocations are not leaks of ours.
  if ! (cd build-fuzz && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "./fuzz_$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=4096 -max_len=262144 \
        -print_final_stats=1 -artifact_prefix="crash-$target-" "corpus-$target" "../$corpus" \
        2>"fuzz-$target.log"); then
    echo "fuzz: $target FOUND A CRASH: see build-fuzz/fuzz-$target.log and build-fuzz/crash-$target-*" >&2
    status=1
  fi
  grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)" "build-fuzz/fuzz-$target.log" || true
  # Keep what adds coverage: minimised into the committed corpus.
  (cd build-fuzz && ASAN_OPTIONS=detect_leaks=0 "./fuzz_$target" -merge=1 -max_len=262144 "../$corpus" "corpus-$target" \
    >/dev/null 2>&1) || true
done
exit $status
