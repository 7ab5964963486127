#!/usr/bin/env bash
# Installs what fedglioma needs to build and test from Debian 12's packages, non-interactively.
# Idempotent: packages already installed are not touched, and apt is not called at all when
# nothing is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ccache git
  libtorch-dev                 # LibTorch C++ frontend (CPU build; a CUDA LibTorch works via -DTorch_DIR)
  libinsighttoolkit5-dev       # ITK: NIfTI IO and resampling
  nlohmann-json3-dev libcli11-dev catch2
  libgloo-dev                  # Gloo's headers for LibTorch's c10d ProcessGroupGloo (multi-process runs)
  ninja-build                  # the build tool (scripts/build.sh): only what a change touches rebuilds
  zlib1g-dev                   # scanning float NIfTI voxels for NaN/Inf before ITK reads them
  python3-matplotlib python3-numpy  # scripts/plot_*.py (Debian's /usr/bin/python3), tested by ctest
  python3-sklearn              # ctest curves_sklearn: roc.csv, calibration.csv and Brier against scikit-learn
  python3-protobuf             # scripts/read_tensorboard.py, the independent reader of the TensorBoard files
  chromium                     # ctest report_browser: report.html rendered in a real headless browser
  python3-torch python3-nibabel  # models/multitask_unet3d.py (the network in Python), its tests and exports
  python3-onnx                 # export-model --format onnx: onnx's checker and shape inference
)
if [[ "${FEDGLIOMA_WITH_REFERENCE_TOOLS:-0}" == "1" ]]; then
  PACKAGES+=(python3-scipy)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then
  exit 0
fi

SUDO=""
if [[ "$(id -u)" != "0" ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
