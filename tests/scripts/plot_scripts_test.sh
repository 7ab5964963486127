#!/usr/bin/env bash
# Checks scripts/plot_run.py and scripts/plot_sweep.py on small fake run and sweep folders: they
# write PNGs, skip unfinished sweep points, and fail cleanly on bad input (exit 1, the file and
# line named, no traceback, no PNG). Exits 77 (skipped) when /usr/bin/python3 lacks matplotlib.
set -euo pipefail

PY=/usr/bin/python3
if ! "$PY" -c 'import matplotlib, numpy' 2>/dev/null; then
  echo "fedglioma-test-skip: plot_scripts: $PY cannot import matplotlib and numpy"
  exit 77
fi
SCRIPTS="$(cd "$(dirname "$0")/../../scripts" && pwd)"
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

check_png() {
  [[ -s "$1" ]] || fail "$1 is missing or empty"
  [[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] || fail "$1 is not a PNG"
}

# summary DICE_MEAN DICE_MEDIAN AUC [CODELETION_AUC]: one evaluation summary as rounds.jsonl has it.
summary() {
  echo "{\"n\": 6, \"dice_mean\": $1, \"dice_median\": $2, \"hd95_median\": 9.5, \"auc\":" \
    "{\"idh\": $3, \"codeletion_1p19q\": ${4:-$3}, \"mgmt\": $3, \"grade\": $3}}"
}

# write_run DIR STRATEGY SEED LIFT: four rounds; round 2 has no eval, site-b's 1p/19q AUC is null
# in round 3, and site-b's client fails in round 1. External scores rise by 0.1 * LIFT and vary
# with the seed.
write_run() {
  local dir=$1 strategy=$2 s=$3 l=$4 d=$(($3 * 6))
  mkdir -p "$dir"
  cat >"$dir/config.resolved.json" <<EOF
{"federation": {"mode": "federated", "rounds": 4, "strategy": {"name": "$strategy", "mu": 0.01}},
 "runtime": {"seed": $s}}
EOF
  cat >"$dir/rounds.jsonl" <<EOF
{"round": 1, "seconds": 1.5, "clients": [{"id": "site-a", "samples": 8, "train_loss": 1.$d, "status": "ok"}, {"id": "site-b", "samples": 8, "train_loss": null, "status": "failed"}], "eval": {"external": $(summary 0.$((2 + l))$d 0.$((3 + l))$d 0.$((5 + l))$d), "val": $(summary 0.45 0.5 0.62), "sites": {"site-a": $(summary 0.5 0.55 0.66), "site-b": $(summary 0.4 0.45 0.58)}}}
{"round": 2, "seconds": 1.4, "clients": [{"id": "site-a", "samples": 8, "train_loss": 0.9, "status": "ok"}, {"id": "site-b", "samples": 8, "train_loss": 0.8$d, "status": "ok"}]}
{"round": 3, "seconds": 1.6, "clients": [{"id": "site-a", "samples": 8, "train_loss": 0.7, "status": "ok"}, {"id": "site-b", "samples": 8, "train_loss": 0.6$d, "status": "ok"}], "eval": {"external": $(summary 0.$((5 + l))$d 0.$((6 + l))$d 0.$((6 + l))$d), "val": $(summary 0.7 0.72 0.75), "sites": {"site-a": $(summary 0.75 0.78 0.8), "site-b": $(summary 0.65 0.68 0.7 null)}}}
{"round": 4, "seconds": 1.5, "clients": [{"id": "site-a", "samples": 8, "train_loss": 0.5, "status": "ok"}, {"id": "site-b", "samples": 8, "train_loss": 0.4$d, "status": "ok"}], "eval": {"external": $(summary 0.$((6 + l))$d 0.$((7 + l))$d 0.$((7 + l))$d), "val": $(summary 0.78 0.8 0.82), "sites": {"site-a": $(summary 0.82 0.84 0.86), "site-b": $(summary 0.74 0.77 0.79)}}}
EOF
}

# One run.
write_run "$TMP/run" fedprox 0 0
"$PY" "$SCRIPTS/plot_run.py" "$TMP/run"
check_png "$TMP/run/plot.png"
"$PY" "$SCRIPTS/plot_run.py" "$TMP/run" --out "$TMP/run-custom.png"
check_png "$TMP/run-custom.png"
# Against the virtual clock: every line needs clock_seconds, and the axis says hours.
expect_error "no clock" "round 1 has no clock_seconds; --x simulated-hours needs" \
  "$PY" "$SCRIPTS/plot_run.py" "$TMP/run" --x simulated-hours --out "$TMP/hours.png"
[[ ! -e "$TMP/hours.png" ]] || fail "plot_run.py left a PNG after an error"
cp -r "$TMP/run" "$TMP/clocked"
"$PY" -c 'import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
for l in lines: l["clock_seconds"] = 1800 * l["round"]
open(sys.argv[1], "w").write("".join(json.dumps(l) + "\n" for l in lines))' "$TMP/clocked/rounds.jsonl"
"$PY" "$SCRIPTS/plot_run.py" "$TMP/clocked" --x simulated-hours --out "$TMP/hours.png"
check_png "$TMP/hours.png"
"$PY" - "$SCRIPTS" "$TMP/clocked" <<'PYTHON' || fail "plot_run.py: the simulated-hours axis is wrong"
import sys
sys.path.insert(0, sys.argv[1])
import plot_run
rounds = plot_run.read_rounds(sys.argv[2])
fig = plot_run.plot_run(rounds, "t", "hours")
dice = fig.axes[0]
assert dice.get_xlabel() == "simulated hours", dice.get_xlabel()
xs = list(dice.lines[0].get_xdata())
assert xs == [0.5, 1.5, 2.0], xs  # rounds 1, 3, 4 evaluated, at 1800 s, 5400 s, 7200 s
PYTHON

# A personalised run: each site's own model per round, and the cross-site matrix.
write_run "$TMP/own" fedper 0 0
sed -i 's/"sites": {"site-a": \(.*\)}}}$/"sites": {"site-a": \1}, "personal": {"site-a": {"val": SUMMARY, "external": SUMMARY}}}}/' "$TMP/own/rounds.jsonl"
sed -i "s/SUMMARY/$(summary 0.8 0.8 0.9)/g" "$TMP/own/rounds.jsonl"
grep -q '"personal"' "$TMP/own/rounds.jsonl" || fail "the fake personal run has no personal block"
printf '%s\n' "model,data,n,dice_mean,dice_median,hd95_median,auc_idh,auc_codeletion_1p19q,auc_mgmt,auc_grade,auc_grade_macro_ovr" \
  "site-a,site-a,2,0.8,0.8,3,1,,0.5,1," "site-a,site-b,2,0.6,0.6,4,0.5,,0,1," \
  "site-b,site-a,2,0.7,0.7,3,1,,1,0," "site-b,site-b,2,0.75,0.75,3,1,,1,1," >"$TMP/own/cross_site.csv"
"$PY" "$SCRIPTS/plot_run.py" "$TMP/own" 2>"$TMP/err" || fail "plot_run.py (personal): $(cat "$TMP/err")"
check_png "$TMP/own/plot.png"
check_png "$TMP/own/cross_site.png"
[[ ! -e "$TMP/run/cross_site.png" ]] || fail "cross_site.png written for a run without cross_site.csv"
sed -i '3s/,0.6,0.6,/,high,0.6,/' "$TMP/own/cross_site.csv"
rm "$TMP/own/cross_site.png" "$TMP/own/plot.png"
expect_error "bad cross-site cell" "$TMP/own/cross_site.csv:3: dice_mean is not a number" \
  "$PY" "$SCRIPTS/plot_run.py" "$TMP/own"
[[ ! -e "$TMP/own/cross_site.png" ]] || fail "cross_site.png left behind by a failed plot"

# A sweep: 2 strategies x 2 seeds, and one point that has not started.
for seed in 0 1; do
  write_run "$TMP/sweep/fedavg-$seed" fedavg "$seed" 0
  write_run "$TMP/sweep/fedprox-$seed" fedprox "$seed" 1
done
mkdir -p "$TMP/sweep/fedavg-2"
cat >"$TMP/sweep/points.json" <<'EOF'
[{"name": "fedavg-0", "dir": "fedavg-0", "settings": {"federation.strategy.name": "fedavg", "runtime.seed": 0}},
 {"name": "fedavg-1", "dir": "fedavg-1", "settings": {"federation.strategy.name": "fedavg", "runtime.seed": 1}},
 {"name": "fedavg-2", "dir": "fedavg-2", "settings": {"federation.strategy.name": "fedavg", "runtime.seed": 2}},
 {"name": "fedprox-0", "dir": "fedprox-0", "settings": {"federation.strategy.name": "fedprox", "runtime.seed": 0}},
 {"name": "fedprox-1", "dir": "fedprox-1", "settings": {"federation.strategy.name": "fedprox", "runtime.seed": 1}}]
EOF
"$PY" "$SCRIPTS/plot_sweep.py" "$TMP/sweep" 2>"$TMP/err" || fail "plot_sweep.py: $(cat "$TMP/err")"
check_png "$TMP/sweep/sweep.png"
grep -q "warning: skipping point 'fedavg-2'" "$TMP/err" || fail "no warning for the unfinished point"
"$PY" "$SCRIPTS/plot_sweep.py" "$TMP/sweep" --set val --out "$TMP/sweep-val.png" 2>"$TMP/err" ||
  fail "plot_sweep.py --set val: $(cat "$TMP/err")"
check_png "$TMP/sweep-val.png"

# Per-site tables of the sweep: the unfinished point skipped with a warning, two seeds per setting.
"$PY" "$SCRIPTS/site_table.py" "$TMP/sweep" --ci-setting fedprox >"$TMP/sites.md" 2>"$TMP/err" ||
  fail "site_table.py: $(cat "$TMP/err")"
grep -q "warning: skipping point 'fedavg-2'" "$TMP/err" || fail "site_table.py: no warning for the unfinished point"
grep -q '^| fedavg | 2 | 0.630 +- 0.042 |' "$TMP/sites.md" || fail "site_table.py: no external row for fedavg over 2 seeds"
grep -q '^| fedprox | site-b | 0.740 +- 0.000 |' "$TMP/sites.md" || fail "site_table.py: wrong site-b row for fedprox"
grep -q '^| fedprox | 1 | ' "$TMP/sites.md" || fail "site_table.py: no per-seed AUC rows for --ci-setting"
grep -q '^External set (6 cases' "$TMP/sites.md" || fail "site_table.py: the external set's size is not the runs' n"

# --help gives the whole description, not its first line cut mid-sentence.
for script in plot_run plot_sweep site_table load_model_pt check_layout; do
  "$PY" "$SCRIPTS/$script.py" --help >"$TMP/help" || fail "$script.py --help failed"
  grep -q 'Usage:\|usage:' "$TMP/help" && ! grep -q 'points that$\|per group of$' "$TMP/help" ||
    fail "$script.py --help is cut short: $(cat "$TMP/help")"
done
"$PY" "$SCRIPTS/plot_sweep.py" --help | grep -q "Needs matplotlib" || fail "plot_sweep.py --help lacks its details"

# plot_run.py: the pooled sets' 95 % intervals as bands within [0, 1], and each line's n.
"$PY" - "$SCRIPTS" <<'PYTHON' || fail "plot_run.py: intervals or n missing"
import sys
sys.path.insert(0, sys.argv[1])
import plot_run
def block(n, dice, lo, hi):
    return {"n": n, "dice_mean": dice, "dice_median": dice, "dice_mean_ci": {"interval": [lo, hi]},
            "auc": {m: 0.9 for m in plot_run.MARKERS},
            "auc_ci": {m: {"delong": [0.7, 1.3]} for m in plot_run.MARKERS}}
rounds = [plot_run.parse_round({"round": r, "clients": [], "eval": {
    "external": block(30, 0.6, 0.5, 0.7), "val": block(18, 0.8, 0.7, 0.9),
    "sites": {"site-a": block(6, 0.7, None, None)}}}) for r in (1, 2)]
fig = plot_run.plot_run(rounds, "t")
bands = [p for ax in fig.axes for band in ax.collections for p in band.get_paths()]
assert len(bands) == 2 * 5, len(bands)  # external and val, on the Dice and the four AUC panels
for path in bands:
    ys = path.vertices[:, 1]
    assert ys.min() >= 0 and ys.max() <= 1, (ys.min(), ys.max())
labels = fig.legends[0].get_texts()
assert [t.get_text() for t in labels][:3] == ["external (n=30)", "val (n=18)", "site:site-a (n=6)"], \
    [t.get_text() for t in labels]
PYTHON

# The sweep's seed bands are 95 % intervals kept inside [0, 1], even for values near 1.
"$PY" - "$SCRIPTS" <<'PYTHON' || fail "plot_sweep.py: a band leaves [0, 1]"
import sys
sys.path.insert(0, sys.argv[1])
import plot_sweep
runs = [[{"round": 1, "eval": {"external": {"dice_mean": v, **{m: v for m in plot_sweep.MARKERS}}}}] for v in (0.99, 0.6)]
fig = plot_sweep.plot_sweep({"near one": runs}, "external", "t")
for ax in fig.axes:
    for band in ax.collections:
        for path in band.get_paths():
            ys = path.vertices[:, 1]
            assert ys.min() >= 0 and ys.max() <= 1, (ys.min(), ys.max())
PYTHON

# Bad input: exit status 1, the file (and line) named, and no PNG left behind.
expect_error "missing run folder" "$TMP/nowhere: no such folder" \
  "$PY" "$SCRIPTS/plot_run.py" "$TMP/nowhere"
mkdir "$TMP/empty"
expect_error "missing rounds.jsonl" "$TMP/empty/rounds.jsonl: cannot read" \
  "$PY" "$SCRIPTS/plot_run.py" "$TMP/empty"
sed -i '3s/"round": 3,/"round": 3/' "$TMP/sweep/fedprox-1/rounds.jsonl"
expect_error "malformed line (run)" "$TMP/sweep/fedprox-1/rounds.jsonl:3: malformed JSON" \
  "$PY" "$SCRIPTS/plot_run.py" "$TMP/sweep/fedprox-1"
rm "$TMP/sweep/sweep.png"
expect_error "malformed line (sweep)" "$TMP/sweep/fedprox-1/rounds.jsonl:3: malformed JSON" \
  "$PY" "$SCRIPTS/plot_sweep.py" "$TMP/sweep"
sed -i '1s/"mgmt": 0.62,/"mgmt": "high",/' "$TMP/run/rounds.jsonl"
rm "$TMP/run/plot.png"
expect_error "non-numeric AUC" "$TMP/run/rounds.jsonl:1: field \"eval.val.auc.mgmt\" is not a number" \
  "$PY" "$SCRIPTS/plot_run.py" "$TMP/run"
leftovers="$(find "$TMP/run" "$TMP/sweep" "$TMP/sweep/fedprox-1" -maxdepth 1 -name '*.png*')"
[[ -z "$leftovers" ]] || fail "files left behind by failed runs: $leftovers"

echo "PASS"
