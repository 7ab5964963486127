#!/usr/bin/env bash
# The demo: installs what is missing, builds the executable, generates the synthetic multi-site
# cohort (3 training sites + 1 external site, 32^3 voxels) and runs experiments/configs/smoke.json
# as a federated experiment, printing one table row per round and, at the end, the run folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh --target fedglioma

COHORT=cohorts/smoke
if [[ ! -f "$COHORT/manifest.json" ]]; then
  build/fedglioma synth --out "$COHORT" --sites 3 --cases-per-site 30 --external-cases 30 --size 32 --seed 1
fi
build/fedglioma run experiments/configs/smoke.json "$@"
