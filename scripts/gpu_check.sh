#!/usr/bin/env bash
# The GPU check: builds fedglioma against the LibTorch of the Python `torch` found on PATH (or the
# Torch_DIR given), runs the [cuda] tests, the smoke config on the GPU, the GPU workload of
# BENCHMARKS.md (8 clients x 8 cases at 64^3, fedglioma with 1/2/4 workers against the Python
# FedAvg loop of ../shared/bench/peer_fedavg.py when it is there) and fedglioma_bench_model at
# 64^3 and 128^3 with and without amp, then prints one summary.
# Usage: scripts/gpu_check.sh [-DTorch_DIR=...] [more cmake arguments]
#   FEDGLIOMA_GPU_BUILD (default build-gpu): the build folder; FEDGLIOMA_CMAKE_ARGS: extra cmake
#   arguments (a machine without Debian's ITK: see ../shared/gpu/README.md); FEDGLIOMA_GPU_AUGMENT
#   (default "false true"): the train.augment values of the workload; FEDGLIOMA_PEER: the Python
#   peer (default ../shared/bench/peer_fedavg.py).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FEDGLIOMA_GPU_BUILD:-build-gpu}
LOG=${FEDGLIOMA_GPU_LOG:-$BUILD/gpu_check}
PY=${FEDGLIOMA_PYTHON:-python3}
mkdir -p "$BUILD" "$LOG"

torch_args=("$@")
if [[ ! " $* " =~ -DTorch_DIR= ]]; then
  prefix=$("$PY" -c "import torch; print(torch.utils.cmake_prefix_path)")
  torch_args+=("-DTorch_DIR=$prefix/Torch")
fi
summary=()
note() { summary+=("$1"); echo "gpu_check: $1"; }

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "${torch_args[@]}" ${FEDGLIOMA_CMAKE_ARGS:-} > "$LOG/configure.log" 2>&1
cmake --build "$BUILD" -j"$(nproc)" > "$LOG/build.log" 2>&1 || { tail -50 "$LOG/build.log"; exit 1; }
warnings=$(grep -c "warning:" "$LOG/build.log" || true)
note "build: $(grep -m1 -o 'Torch_DIR=[^ ]*' <<<"${torch_args[*]}"), $warnings compiler warning(s)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$LOG/gpu.txt" 2>/dev/null || true
note "device: $(cat "$LOG/gpu.txt" 2>/dev/null || echo unknown)"

if "$BUILD/fedglioma_tests" "[cuda]" > "$LOG/cuda_tests.log" 2>&1; then
  note "[cuda] tests: $(tail -2 "$LOG/cuda_tests.log" | tr -s '\n' ' ')"
else
  note "[cuda] tests FAILED: see $LOG/cuda_tests.log"; tail -40 "$LOG/cuda_tests.log"
fi
bash scripts/check_symbol_bindings.sh "$BUILD/fedglioma" "$BUILD/fedglioma_tests" > "$LOG/bindings.log" 2>&1 &&
  note "symbol bindings: ok" || note "symbol bindings FAILED: $(cat "$LOG/bindings.log")"

# The smoke config on the GPU (the demo's cohort).
[[ -f cohorts/smoke/manifest.json ]] ||
  "$BUILD/fedglioma" synth --out cohorts/smoke --sites 3 --cases-per-site 30 --external-cases 30 --size 32 --seed 1 >/dev/null
rm -rf runs/gpu-smoke
"$BUILD/fedglioma" run experiments/configs/smoke.json --out runs/gpu-smoke --set runtime.devices=cuda:0 \
  > "$LOG/smoke.log" 2>&1 && note "smoke on GPU: $(grep -E '^ +14 ' "$LOG/smoke.log" | tr -s ' ')" ||
  note "smoke on GPU FAILED: see $LOG/smoke.log"

# The GPU workload: seconds per round (rounds 2-4 mean, no evaluation) and training samples/s.
[[ -f cohorts/gpu-workload/manifest.json ]] ||
  "$BUILD/fedglioma" synth --out cohorts/gpu-workload --sites 8 --cases-per-site 10 --external-cases 2 --size 64 --seed 3 >/dev/null
round_rate() {  # round_rate RUN_DIR: "s/round samples/s" over rounds 2..N-1 (the last one evaluates)
  /usr/bin/env "$PY" - "$1" <<'PYEOF'
import json, sys
rounds = [json.loads(l) for l in open(sys.argv[1] + "/rounds.jsonl")][1:-1]
sec = sum(r["seconds"] for r in rounds) / len(rounds)
samples = sum(c["samples"] for c in rounds[0]["clients"])
print(f"{sec:.3f} s/round, {samples / sec:.1f} samples/s")
PYEOF
}
for augment in ${FEDGLIOMA_GPU_AUGMENT:-false true}; do
  for workers in 1 2 4; do
    name=gpu-workload-w$workers-aug-$augment
    rm -rf "runs/$name"
    "$BUILD/fedglioma" run experiments/configs/gpu_workload.json --out "runs/$name" --set runtime.devices=cuda:0 \
      --set runtime.workers=$workers --set train.augment=$augment > "$LOG/$name.log" 2>&1 &&
      note "workload (augment=$augment) $workers worker(s): $(round_rate "runs/$name")" ||
      note "workload $name FAILED: see $LOG/$name.log"
  done
done
peer=${FEDGLIOMA_PEER:-../shared/bench/peer_fedavg.py}
if [[ -f $peer ]]; then
  note "python loop (torch $("$PY" -c 'import torch; print(torch.__version__)')): $("$PY" "$peer" --size 64 --base 16 --depth 4 \
    --clients 8 --cases 8 --batch 2 --rounds 3 --device cuda 2>&1 | tail -1)"
fi

for edge in 64 128; do
  for amp in 0 1; do
    note "bench_model ${edge}^3 depth 5 base 16 batch 1 amp=$amp: $("$BUILD/fedglioma_bench_model" $edge 5 16 1 4 cuda:0 $amp 2>&1 | tail -2 | tr '\n' ' ')"
  done
done

echo
echo "== gpu_check summary =="
printf '%s\n' "${summary[@]}"
