#!/usr/bin/env bash
# The cost of the process boundary on this machine (BENCHMARKS.md, "Several processes"):
# 1. the smoke config's rounds with 1 process x 2 workers vs `launch --procs 2` x 1 worker
#    (mean seconds per round over rounds 2..N-1, training samples per second);
# 2. fedglioma_bench_exchange: one allgather of k clients' updates between 2 ranks, for the
#    paper-scale network (depth 5, base 16: 5.70 M parameters) and k = 1..5.
# Usage: scripts/bench_processes.sh [rounds (default 6)]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
[[ -f cohorts/smoke/manifest.json ]] ||
  build/fedglioma synth --out cohorts/smoke --sites 3 --cases-per-site 30 --external-cases 30 --size 32 --seed 1 >/dev/null
out=$(mktemp -d)
rate() {
  /usr/bin/python3 - "$1" <<'PYEOF'
import json, sys
rounds = [json.loads(l) for l in open(sys.argv[1] + "/rounds.jsonl")][1:-1]
sec = sum(r["seconds"] for r in rounds) / len(rounds)
samples = sum(c["samples"] for c in rounds[0]["clients"])
print(f"{sec:.3f} s/round, {samples / sec:.1f} samples/s")
PYEOF
}
common=(--set federation.rounds=$rounds --set eval.every=1000)
build/fedglioma run experiments/configs/smoke.json --out "$out/one" "${common[@]}" --set runtime.workers=2 >/dev/null
echo "1 process x 2 workers:  $(rate "$out/one")"
build/fedglioma launch --procs 2 -- run experiments/configs/smoke.json --out "$out/two" "${common[@]}" --set runtime.workers=1 >/dev/null
echo "2 processes x 1 worker: $(rate "$out/two")"
/usr/bin/python3 - "$out/one" "$out/two" <<'PYEOF'
import json, sys
strip = lambda r: json.dumps({k: v for k, v in r.items() if k != "seconds" and k != "clients"}, sort_keys=True)
a, b = ([json.loads(l) for l in open(d + "/rounds.jsonl")] for d in sys.argv[1:])
print("rounds.jsonl metrics identical:", [strip(x) for x in a] == [strip(y) for y in b])
PYEOF
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for r in 1 0; do
  MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 RANK=$r build/fedglioma_bench_exchange 5.70 5 &
done
wait
rm -rf "$out"
