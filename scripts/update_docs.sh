#!/usr/bin/env bash
# Rewrites the generated blocks of the docs from the built executable: the strategy table in
# docs/strategies.md (`fedglioma strategies`) and the config reference in docs/config.md
# (`fedglioma config-reference`). Tests fail when either differs from the code, naming this script.
# Usage: scripts/update_docs.sh [path to the fedglioma executable, default build/fedglioma]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-build/fedglioma}"
[[ -x "$BIN" ]] || { echo "update_docs.sh: no executable '$BIN' (run scripts/build.sh first)" >&2; exit 1; }

# splice FILE BEGIN-MARKER END-MARKER TEXT-FILE: the lines between the markers become TEXT-FILE's.
splice() {
  local file=$1 begin=$2 end=$3 text=$4
  grep -qF -- "$begin" "$file" || { echo "update_docs.sh: '$file' lacks the line '$begin'" >&2; exit 1; }
  grep -qF -- "$end" "$file" || { echo "update_docs.sh: '$file' lacks the line '$end'" >&2; exit 1; }
  awk -v begin="$begin" -v end="$end" -v text="$text" '
    $0 == begin { print; while ((getline line < text) > 0) print line; skipping = 1; next }
    $0 == end { skipping = 0 }
    !skipping { print }' "$file" > "$file.tmp"
  mv "$file.tmp" "$file"
}

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
"$BIN" strategies > "$tmp"
splice docs/strategies.md "<!-- strategies:begin (fedglioma strategies) -->" "<!-- strategies:end -->" "$tmp"
"$BIN" config-reference > "$tmp"
splice docs/config.md "<!-- config:begin (fedglioma config-reference) -->" "<!-- config:end -->" "$tmp"
echo "update_docs.sh: docs/strategies.md and docs/config.md are the code's"
