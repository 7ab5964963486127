#!/usr/bin/env bash
# Checks that `fedglioma report` of a real run renders in a browser: a tiny FedPer run (so that
# cross_site.csv, roc.csv, calibration.csv and cases.csv all exist) with the fedglioma binary
# given as $1, then report.html opened by headless Chromium, whose page sets
# data-report-check="ok" on <body> only when every inline image decoded and no script failed.
# A copy with one image's base64 payload replaced by garbage must be reported as failed, and a
# screenshot must be a non-empty PNG. Exits 77 (skipped) when /usr/bin/chromium is absent.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [[ ! -x "$CHROMIUM" ]]; then
  echo "fedglioma-test-skip: report_browser: $CHROMIUM is not installed"
  exit 77
fi
FEDGLIOMA=${1:?usage: report_browser_test.sh PATH/TO/fedglioma}
[[ -x "$FEDGLIOMA" ]] || { echo "FAIL: $FEDGLIOMA is not an executable" >&2; exit 1; }
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

# chrome NAME ARGS...: headless Chromium with a profile of its own under $TMP, stopped after 90 s.
chrome() {
  local name=$1
  shift
  HOME="$TMP" XDG_CONFIG_HOME="$TMP/xdg" XDG_CACHE_HOME="$TMP/xdg" timeout 90 "$CHROMIUM" --headless --no-sandbox \
    --disable-gpu --disable-dev-shm-usage --no-first-run --user-data-dir="$TMP/chrome-$name" \
    --virtual-time-budget=5000 "$@" 2>"$TMP/chrome-$name.err"
}

# report_check NAME FILE: what the page's check left in <body data-report-check> ("" when nothing).
report_check() {
  chrome "$1" --dump-dom "file://$2" >"$TMP/$1.dom" || fail "chromium on $2: $(tail -n 5 "$TMP/chrome-$1.err")"
  sed -n 's/.*<body[^>]*data-report-check="\([^"]*\)".*/\1/p' "$TMP/$1.dom" | head -n 1
}

tiny_config '{"rounds": 2, "strategy": {"name": "fedper"}}'
RUN="$TMP/run"
"$FEDGLIOMA" run "$TMP/tiny.json" --out "$RUN" >"$TMP/run.log" 2>&1 || fail "run: $(cat "$TMP/run.log")"
for file in summary.json rounds.jsonl cross_site.csv roc.csv calibration.csv cases.csv; do
  [[ -s "$RUN/$file" ]] || fail "the fedper run wrote no $file"
done

"$FEDGLIOMA" report "$RUN" >"$TMP/report.log" 2>&1 || fail "report: $(cat "$TMP/report.log")"
REPORT="$RUN/report.html"
grep -qF "wrote $REPORT" "$TMP/report.log" || fail "report did not say it wrote $REPORT: $(cat "$TMP/report.log")"
for id in run selection curves sites cross-site roc timing regenerate; do
  grep -qF "<section id=\"$id\">" "$REPORT" || fail "report.html has no section '$id'"
done
if grep -qF "not written by this run" "$REPORT"; then
  fail "report.html says a file is missing: $(grep -oF "not written by this run" "$REPORT" | head -n 1)"
fi
# Self-contained: no URL but the SVG namespace (base64 has no ':', so an image cannot hide one).
if grep -o 'https\?://[^" )]*' "$REPORT" | grep -qv '^http://www.w3.org/2000/svg$'; then
  fail "report.html refers to something outside it: $(grep -o 'https\?://[^" )]*' "$REPORT" | sort -u | head -n 3)"
fi
images=$(grep -o '<img src="data:image/svg+xml;base64,' "$REPORT" | wc -l)
((images >= 8)) || fail "report.html has $images inline images, expected at least 8"

check=$(report_check ok "$REPORT")
[[ "$check" == ok ]] || fail "the page's check says '${check:-nothing}' (expected ok)"

# One image broken in a copy: the page's check must say so.
sed '0,/base64,[A-Za-z0-9+\/=]*"/s//base64,bm90IGFuIGltYWdl"/' "$REPORT" >"$TMP/broken.html"
if cmp -s "$REPORT" "$TMP/broken.html"; then fail "could not break an image in the copy"; fi
check=$(report_check broken "$TMP/broken.html")
[[ "$check" == "failed: images not decoded: "* ]] || fail "a broken image was not seen: the check says '${check:-nothing}'"

chrome shot --screenshot="$TMP/report.png" --window-size=1200,3000 "file://$REPORT" >/dev/null ||
  fail "chromium screenshot: $(tail -n 5 "$TMP/chrome-shot.err")"
[[ -s "$TMP/report.png" ]] || fail "no screenshot written"
[[ "$(head -c 8 "$TMP/report.png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] || fail "the screenshot is not a PNG"
size=$(stat -c %s "$TMP/report.png")
((size > 50000)) || fail "the screenshot is $size bytes: a blank page?"

echo "PASS: report.html with $images images, its check ok; a broken image seen; a screenshot of $size bytes"
