# Shared by the script tests (sourced): a scratch folder $TMP removed on exit, and assertions.

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_error WHAT MESSAGE COMMAND...: COMMAND exits 1 and prints MESSAGE, without a traceback.
expect_error() {
  local what=$1 message=$2 status=0
  shift 2
  "$@" >"$TMP/out" 2>"$TMP/err" || status=$?
  [[ $status -eq 1 ]] || fail "$what: exit status $status, expected 1"
  grep -qF -- "$message" "$TMP/err" || fail "$what: stderr lacks '$message': $(cat "$TMP/err")"
  if grep -q Traceback "$TMP/err"; then fail "$what: traceback: $(cat "$TMP/err")"; fi
}

# tiny_config [FEDERATION [EVAL [RUNTIME]]]: synthesises the script tests' tiny cohort into
# $TMP/cohort with "$FEDGLIOMA" (2 sites x COHORT_CASES cases, default 6, and COHORT_EXTERNAL
# external cases, default 4; 16^3 voxels; seed COHORT_SEED, default 7) and writes $TMP/tiny.json:
# the tiny network and training on it, with FEDERATION and EVAL as the config's "federation"
# and "eval" objects (default {"rounds": 2} and {}) and RUNTIME's members added to "runtime".
tiny_config() {
  local federation=${1:-'{"rounds": 2}'} eval=${2:-'{}'} runtime=${3:-}
  "$FEDGLIOMA" synth --out "$TMP/cohort" --sites 2 --cases-per-site "${COHORT_CASES:-6}" \
    --external-cases "${COHORT_EXTERNAL:-4}" --size 16 --seed "${COHORT_SEED:-7}" >"$TMP/synth.log" ||
    fail "synth: $(cat "$TMP/synth.log")"
  cat >"$TMP/tiny.json" <<JSON
{"data": {"manifest": "$TMP/cohort/manifest.json", "size": [16, 16, 16], "spacing": 12, "cache_dir": "$TMP/cache"},
 "partition": {"val_fraction": ${VAL_FRACTION:-0.34}},
 "model": {"depth": 2, "base_channels": 4, "head_hidden": 8},
 "train": {"local_epochs": 1, "batch_size": 2, "lr": 0.003},
 "federation": $federation,
 "eval": $eval,
 "runtime": {"devices": "cpu", "workers": 1, "threads_per_worker": 1, "seed": 3${runtime:+, $runtime}}}
JSON
}
