#!/usr/bin/env bash
# Preprocessing throughput on the real BraTS-space samples in ../shared/data (two TCGA cases,
# four modalities of 240x240x155 each): the first pass decodes NIfTI through ITK and resamples,
# the second reads the disk cache. Prints seconds per case for both, and the cache read rate
# next to a plain read of the same bytes.
# Usage: scripts/bench_preprocess.sh [SIZE] [SPACING_MM]   (default 128 and 1.5, the study's input)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="$(cd .. && pwd)/shared/data/brainlesion-tutorials/BraTS-Toolkit/data"
[[ -d "$SHARED" ]] || { echo "bench_preprocess: $SHARED not found" >&2; exit 1; }
SIZE="${1:-128}"
SPACING="${2:-1.5}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

case_json() {  # id folder prefix
  local d="$SHARED/$2/$2_brainles"
  [[ "$2" == "OtherEXampleFromTCIA" ]] || d="$SHARED/$2/$2_brainles"
  cat <<JSON
{"id": "$1", "site": "tcga", "split": "train",
 "images": {"t1": "$d/raw_bet/$3_t1_bet.nii.gz", "t1c": "$d/raw_bet/$3_t1c_bet.nii.gz",
            "t2": "$d/raw_bet/$3_t2_bet.nii.gz", "flair": "$d/raw_bet/$3_fla_bet.nii.gz"},
 "mask": "$d/fusion/mav.nii.gz", "labels": {}}
JSON
}
{
  echo '{"version": 1, "cases": ['
  case_json TCGA-FG-6692 OtherEXampleFromTCIA OtherEXampleFromTCIA
  echo ','
  case_json TCGA-DU-7294 TCGA-DU-7294 TCGA-DU-7294
  echo ']}'
} > "$WORK/manifest.json"
echo '{}' > "$WORK/config.json"

run() {
  build/fedglioma preprocess --config "$WORK/config.json" --set data.manifest="$WORK/manifest.json" \
    --set data.size=[$SIZE,$SIZE,$SIZE] --set data.spacing=$SPACING --set data.cache_dir="$WORK/cache" \
    --set runtime.workers=1 | tail -1
}
echo "grid ${SIZE}^3 at ${SPACING} mm, 2 cases, 1 thread"
seconds() { sed -E 's/.* in ([0-9.]+) s.*/\1/'; }
first=$(run | seconds)
second=$(run | seconds)
bytes=$(cat "$WORK"/cache/*.fgc | wc -c)
start=$(date +%s.%N); cat "$WORK"/cache/*.fgc > /dev/null; end=$(date +%s.%N)
gbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.2f", b / s / 1e9 }'; }
echo "first pass (ITK read + resample + z-score): $first s ($(awk -v s="$first" 'BEGIN { printf "%.2f", s / 2 }') s/case)"
echo "second pass (cache, checksum verified):     $second s ($(gbps "$second") GB/s of entries)"
echo "plain read of the same $bytes bytes (cat):  $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') s ($(gbps "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')") GB/s)"
