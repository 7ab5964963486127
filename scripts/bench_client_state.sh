#!/usr/bin/env bash
# Per-client state in RAM and on disk (runtime.client_state_ram_gb): peak resident memory, round
# time, and checkpoint size for 64 IID virtual clients of SCAFFOLD with kept SGD-momentum state
# (each client keeps 2 x 4P bytes), with the budget large (all in RAM), small and zero.
# Usage: scripts/bench_client_state.sh   (after scripts/build.sh; writes under runs/bench-state-*)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[[ -f cohorts/bench-140/manifest.json ]] ||
  build/fedglioma synth --out cohorts/bench-140 --sites 2 --cases-per-site 70 --external-cases 4 --size 32 --seed 2

echo "| runtime.client_state_ram_gb | client state in RAM MB | on disk MB | peak RSS MB | round 1 s | round 2 s | checkpoints/ MB | latest.state MB |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for budget in 4 0.02 0; do
  name=bench-state-$budget
  rm -rf "runs/$name"
  build/fedglioma run experiments/configs/smoke.json --out "runs/$name" --set runtime.devices=cpu \
    --set data.manifest=cohorts/bench-140/manifest.json --set partition.scheme=iid \
    --set partition.num_clients=64 --set partition.val_fraction=0 --set federation.rounds=2 \
    --set eval.every=2 --set train.local_epochs=1 --set runtime.workers=2 \
    --set federation.strategy.name=scaffold --set train.optimizer=sgd --set train.momentum=0.9 \
    --set train.keep_optimizer_state=true --set model.base_channels=8 \
    --set runtime.client_state_ram_gb=$budget > "runs/$name.log"
  $PY - "runs/$name" "$budget" <<'PYEOF'
import json, os, re, sys
run, budget = sys.argv[1], sys.argv[2]
summary = json.load(open(run + "/summary.json"))
rounds = [json.loads(l) for l in open(run + "/rounds.jsonl")]
log = open(run + ".log").read()
m = re.search(r"client state: (\d+) MB in RAM, (\d+) MB on disk", log)
ram, disk = m.group(1), m.group(2)
def size(path):
    # Each inode once: the snapshot's hard links count with the live files they share.
    seen, total = set(), 0
    for root, _, files in os.walk(path):
        for f in files:
            st = os.stat(os.path.join(root, f))
            if st.st_ino not in seen:
                seen.add(st.st_ino); total += st.st_size
    return total / 1e6
print(f"| {budget} | {ram} | {disk} | {summary['peak_rss_mb']:.0f} | {rounds[0]['seconds']:.1f} | "
      f"{rounds[1]['seconds']:.1f} | {size(run + '/checkpoints'):.0f} | {os.path.getsize(run + '/checkpoints/latest.state') / 1e6:.1f} |")
PYEOF
done
