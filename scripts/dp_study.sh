#!/usr/bin/env bash
# The differential-privacy trade-off of BENCHMARKS.md: central DP-FedAvg on a 32-client IID
# partition of a synthetic cohort (Poisson sampling at q = 0.25, clip norm 1), noise multiplier z
# in {0, 0.5, 1, 2}, 3 seeds each; then the external Dice and AUCs against the final epsilon, with
# t-intervals over the seeds (scripts/dp_study.py). Then the per-site ledger under FedBuff: the
# asynchronous study's 8 sites with the FeTS 2022 speeds (scripts/async_study.sh's cohort), central
# DP at z = 1 and clip norm 1, 3 simulated hours: each site's releases and epsilon.
#
# Usage: scripts/dp_study.sh [OUT_DIR]   (after scripts/build.sh; default runs/dp-study; JOBS=2 runs
#        that many at once; a finished run is kept, so a re-run only does the rest)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/dp-study}
JOBS=${JOBS:-2}
BIN=${FEDGLIOMA:-build/fedglioma}
mkdir -p "$OUT"
[[ -f cohorts/dp-study/manifest.json ]] ||
  "$BIN" synth --out cohorts/dp-study --sites 2 --cases-per-site 64 --external-cases 32 --size 32 --seed 6 >/dev/null

run_one() {  # run_one Z SEED
  local dir="$OUT/z$1-s$2"
  [[ -f "$dir/summary.json" ]] && return 0
  rm -rf "$dir"
  "$BIN" run experiments/configs/dp_study.json --out "$dir" --set "federation.dp.noise_multiplier=$1" \
    --set "runtime.seed=$2" >"$OUT/z$1-s$2.log" 2>&1 || { echo "dp_study: z $1 seed $2 failed, see $OUT/z$1-s$2.log" >&2; return 1; }
}

for seed in 1 2 3; do
  for z in 0 0.5 1 2; do
    run_one "$z" "$seed" &
    while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n || true; done
  done
done
wait
for seed in 1 2 3; do
  for z in 0 0.5 1 2; do
    [[ -f "$OUT/z$z-s$seed/summary.json" ]] || { echo "dp_study: z $z seed $seed did not finish" >&2; exit 1; }
  done
done
[[ -f cohorts/async-study/manifest.json ]] ||
  "$BIN" synth --out cohorts/async-study --sites 8 --cases-per-site 12 --external-cases 32 --size 32 --seed 5 >/dev/null
if [[ ! -f "$OUT/fedbuff-ledger/summary.json" ]]; then
  rm -rf "$OUT/fedbuff-ledger"
  "$BIN" run experiments/configs/async_study.json --out "$OUT/fedbuff-ledger" --set federation.aggregation=fedbuff \
    --set federation.buffer_size=4 --set federation.rounds=100000 --set eval.every=8 \
    --set federation.simulated_time.budget_s=10800 --set federation.dp.enabled=true \
    --set federation.dp.noise_multiplier=1 --set federation.dp.clip_norm=1 >"$OUT/fedbuff-ledger.log" 2>&1 ||
    { echo "dp_study: the FedBuff ledger run failed, see $OUT/fedbuff-ledger.log" >&2; exit 1; }
fi
/usr/bin/python3 scripts/dp_study.py "$OUT"
