#!/usr/bin/env bash
# The asynchronous-federation study of BENCHMARKS.md: synchronous FedAvg, FedAvg with a round
# deadline, FedBuff and FedAsync on a synthetic cohort of 8 sites whose speeds are the FeTS
# challenge's measured profiles (federation.simulated_time.profile fets2022), 3 seeds each, all
# given the same simulated time (BUDGET_S, 3 hours). Then scripts/async_study.py prints the
# tables (external Dice and AUCs at the budget, with t-intervals over the seeds; the simulated
# time to reach a validation Dice) and writes the plot against simulated hours.
#
# Usage: scripts/async_study.sh [OUT_DIR]   (after scripts/build.sh; default runs/async-study;
#        JOBS=2 runs that many at once; a finished run is kept, so a re-run only does the rest)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/async-study}
JOBS=${JOBS:-2}
BUDGET_S=${BUDGET_S:-10800}
BIN=${FEDGLIOMA:-build/fedglioma}
mkdir -p "$OUT"
[[ -f cohorts/async-study/manifest.json ]] ||
  "$BIN" synth --out cohorts/async-study --sites 8 --cases-per-site 12 --external-cases 32 --size 32 --seed 5 >/dev/null

# The four federations, each as its --set options. Synchronous rounds last their slowest
# client (about 15 simulated minutes here), rounds with the 400 s deadline at most 400 s: each
# gets the rounds that fill the budget. The asynchronous ones stop at the budget.
declare -A VARIANTS=(
  [fedavg]="federation.rounds=12"
  [fedavg-deadline]="federation.rounds=27 federation.deadline_s=400"
  [fedbuff]="federation.aggregation=fedbuff federation.buffer_size=4 federation.rounds=100000 eval.every=4 federation.simulated_time.budget_s=$BUDGET_S"
  [fedasync]="federation.aggregation=fedasync federation.mixing=0.5 federation.rounds=100000 eval.every=16 federation.simulated_time.budget_s=$BUDGET_S"
)

run_one() {  # run_one VARIANT SEED
  local dir="$OUT/$1-s$2" sets=()
  [[ -f "$dir/summary.json" ]] && return 0
  rm -rf "$dir"
  for s in ${VARIANTS[$1]}; do sets+=(--set "$s"); done
  "$BIN" run experiments/configs/async_study.json --out "$dir" "${sets[@]}" --set "runtime.seed=$2" \
    >"$OUT/$1-s$2.log" 2>&1 || { echo "async_study: $1 seed $2 failed, see $OUT/$1-s$2.log" >&2; return 1; }
}

for seed in 1 2 3; do
  for variant in fedavg fedavg-deadline fedbuff fedasync; do
    run_one "$variant" "$seed" &
    while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n || true; done
  done
done
wait
for seed in 1 2 3; do
  for variant in fedavg fedavg-deadline fedbuff fedasync; do
    [[ -f "$OUT/$variant-s$seed/summary.json" ]] || { echo "async_study: $variant seed $seed did not finish" >&2; exit 1; }
  done
done
/usr/bin/python3 scripts/async_study.py "$OUT" --budget-s "$BUDGET_S" --out "$OUT/async_study.png"
