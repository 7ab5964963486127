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
