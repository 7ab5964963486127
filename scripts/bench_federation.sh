#!/usr/bin/env bash
# Federation benchmarks on the synthetic smoke cohort (32^3, the smoke config's model):
#   1. training samples per second for 1, 2, 3 workers x 1, 2 intra-op threads, and the round
#      overhead (round wall time minus the workers' training time), from rounds.jsonl;
#   2. peak resident memory (summary.json peak_rss_mb) for 8, 32 and 128 virtual IID clients.
# Usage: scripts/bench_federation.sh   (after scripts/build.sh; writes under runs/bench-*)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[[ -f cohorts/smoke/manifest.json ]] ||
  build/fedglioma synth --out cohorts/smoke --sites 3 --cases-per-site 30 --external-cases 30 --size 32 --seed 1
[[ -f cohorts/bench-140/manifest.json ]] ||
  build/fedglioma synth --out cohorts/bench-140 --sites 2 --cases-per-site 70 --external-cases 4 --size 32 --seed 2

run() {  # run NAME --set ... : a fresh run folder under runs/
  local name=$1; shift
  rm -rf "runs/$name"
  build/fedglioma run experiments/configs/smoke.json --out "runs/$name" --set runtime.devices=cpu "$@" >/dev/null
}

echo "## training throughput (3 clients x 24 cases x 3 local epochs; round 2 of 3, which has no evaluation)"
echo "| workers | threads per worker | training samples/s | round overhead s |"
echo "| --- | --- | --- | --- |"
for workers in 1 2 3; do
  for threads in 1 2; do
    (( workers * threads > 4 )) && continue
    name=bench-w${workers}-t${threads}
    run "$name" --set federation.rounds=3 --set eval.every=3 --set runtime.workers=$workers \
      --set runtime.threads_per_worker=$threads
    $PY - "runs/$name" "$workers" <<'PYEOF'
import json, sys
r2 = [json.loads(l) for l in open(sys.argv[1] + "/rounds.jsonl")][1]
workers = int(sys.argv[2])
train = [c["train_seconds"] for c in r2["clients"]]
samples = sum(c["samples"] * 3 for c in r2["clients"])
# Overhead = wall time minus the time workers spent training: exact with one worker (clients in
# turn) and with a worker per client (the slowest client); undefined in between.
busy = sum(train) if workers == 1 else max(train) if workers >= len(train) else None
overhead = f"{r2['seconds'] - busy:.3f}" if busy is not None else "-"
print(f"| {workers} | {sys.argv[1].split('-t')[-1]} | {samples / r2['seconds']:.1f} | {overhead} |")
PYEOF
  done
done

echo
echo "## peak resident memory, IID virtual clients (1 round, 2 workers, fedavg and scaffold)"
echo "| strategy | virtual clients | cases per client | peak RSS MB | round s |"
echo "| --- | --- | --- | --- | --- |"
for strategy in fedavg scaffold; do
  for clients in 8 32 128; do
    name=bench-clients-$strategy-$clients
    run "$name" --set data.manifest=cohorts/bench-140/manifest.json --set partition.scheme=iid \
      --set partition.num_clients=$clients --set partition.val_fraction=0 --set federation.rounds=1 \
      --set train.local_epochs=1 --set runtime.workers=2 --set federation.strategy.name=$strategy
    $PY - "runs/$name" "$clients" "$strategy" <<'PYEOF'
import json, sys
summary = json.load(open(sys.argv[1] + "/summary.json"))
rounds = [json.loads(l) for l in open(sys.argv[1] + "/rounds.jsonl")]
print(f"| {sys.argv[3]} | {sys.argv[2]} | {140 // int(sys.argv[2])} | {summary['peak_rss_mb']:.0f} | {rounds[0]['seconds']:.1f} |")
PYEOF
  done
done
