#!/usr/bin/env bash
# Checks a run's roc.csv, calibration.csv, cases.csv and the Brier scores, ECE, AUCs and
# thresholded rates in its rounds.jsonl against scikit-learn on the run's own predictions.csv
# (roc_curve with every point kept, roc_auc_score, calibration_curve with 10 uniform bins,
# brier_score_loss), and that every AUC and mean Dice in metrics.csv has its interval or a
# reason. A tiny run of the fedglioma binary given as $1. Exits 77 (skipped) when
# /usr/bin/python3 lacks scikit-learn.
set -euo pipefail

PY=/usr/bin/python3
if ! "$PY" -c 'import sklearn, numpy' 2>/dev/null; then
  echo "fedglioma-test-skip: curves_sklearn: $PY cannot import sklearn and numpy"
  exit 77
fi
FEDGLIOMA=${1:?usage: curves_sklearn_test.sh PATH/TO/fedglioma}
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

COHORT_CASES=10 COHORT_EXTERNAL=8 COHORT_SEED=5 VAL_FRACTION=0.4 tiny_config '{"rounds": 3}' '{}' '"report": false'
"$FEDGLIOMA" run "$TMP/tiny.json" --out "$TMP/run" >"$TMP/run.log" 2>&1 || fail "run: $(cat "$TMP/run.log")"

"$PY" - "$TMP/run" <<'PYTHON' || fail "the checks above"
import csv, json, math, sys
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

run = sys.argv[1]
MARKERS = ["idh", "codeletion_1p19q", "mgmt", "grade"]
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)

def rows(name):
    with open(f"{run}/{name}", newline="") as f:
        return list(csv.DictReader(f))

summary = json.load(open(f"{run}/summary.json"))
final_round = summary["final"]["round"]
predictions = [r for r in rows("predictions.csv") if r["model"] == "global"]
roc, calibration = rows("roc.csv"), rows("calibration.csv")
final_eval = summary["final"]["eval"]
compared = 0
for split in ("val", "external"):
    for m in MARKERS:
        cases = [r for r in predictions if r["set"] == split and r[f"y_{m}"] != "" and r[f"p_{m}"] != ""]
        y = np.array([int(r[f"y_{m}"]) for r in cases])
        p = np.array([float(r[f"p_{m}"]) for r in cases])
        where = f"{split} {m}"
        block = final_eval[split]
        if len(set(y.tolist())) < 2:
            check(block["auc"][m] is None and "reason" in block["auc_ci"][m], f"{where}: one class, yet an AUC or no reason")
            continue
        compared += 1
        fpr, tpr, thresholds = roc_curve(y, p, drop_intermediate=False)
        mine = [r for r in roc if r["model"] == "final" and r["split"] == split and r["site"] == "all"
                and r["marker"] == m and r["predictor"] == "global"]
        check(len(mine) == len(fpr), f"{where}: {len(mine)} ROC points, scikit-learn {len(fpr)}")
        check(mine and mine[0]["threshold"] == "inf", f"{where}: first threshold {mine[0]['threshold'] if mine else None}")
        for k, r in enumerate(mine[:len(fpr)]):
            check(abs(float(r["fpr"]) - fpr[k]) < 1e-9 and abs(float(r["tpr"]) - tpr[k]) < 1e-9, f"{where}: ROC point {k}")
            if k > 0:
                check(abs(float(r["threshold"]) - thresholds[k]) < 1e-8, f"{where}: threshold {k}")
        auc = roc_auc_score(y, p)
        check(all(abs(float(r["auc"]) - auc) < 1e-9 for r in mine), f"{where}: roc.csv auc vs {auc}")
        check(abs(block["auc"][m] - auc) < 1e-6, f"{where}: rounds AUC {block['auc'][m]} vs {auc}")
        check(block["auc_n"][m] == {"positive": int(y.sum()), "negative": int(len(y) - y.sum())}, f"{where}: auc_n")
        prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
        bins = [r for r in calibration if r["model"] == "final" and r["split"] == split and r["site"] == "all"
                and r["marker"] == m and r["predictor"] == "global"]
        check(len(bins) == len(prob_true), f"{where}: {len(bins)} calibration bins, scikit-learn {len(prob_true)}")
        for k, r in enumerate(bins[:len(prob_true)]):
            check(abs(float(r["fraction_positive"]) - prob_true[k]) < 1e-9, f"{where}: bin {k} fraction")
            check(abs(float(r["mean_predicted"]) - prob_pred[k]) < 1e-6, f"{where}: bin {k} mean")
        brier = brier_score_loss(y, p)
        check(all(abs(float(r["brier"]) - brier) < 1e-6 for r in bins), f"{where}: calibration.csv brier vs {brier}")
        check(abs(block["calibration"][m]["brier"] - brier) < 1e-6, f"{where}: rounds.jsonl brier")
        edges = np.linspace(0, 1, 11)
        ids = np.searchsorted(edges[1:-1], p)
        ece = sum(abs(y[ids == b].mean() - p[ids == b].mean()) * (ids == b).sum() / len(y) for b in set(ids.tolist()))
        check(abs(block["calibration"][m]["ece"] - ece) < 1e-6, f"{where}: ECE {block['calibration'][m]['ece']} vs {ece}")
        # The threshold chosen on validation, applied here (on val: its own Youden point).
        t = final_eval["val"]["rates"][m]["youden"]
        rates = block["rates"][m]["at_val_threshold"]
        if t is not None and rates is not None:
            # predictions.csv holds 9 significant digits; the threshold is one of the scores, exactly.
            sens = float(((p >= t["threshold"] - 1e-8) & (y == 1)).sum() / (y == 1).sum())
            check(abs(rates["threshold"] - t["threshold"]) < 1e-12 and abs(rates["sensitivity"] - sens) < 1e-12,
                  f"{where}: rates at the validation threshold")
check(compared >= 2, f"only {compared} (split, marker) pairs had both classes")

# cases.csv: every prediction of the final model once, with its volumes.
cases = [r for r in rows("cases.csv") if r["model"] == "final"]
check(len(cases) == len(rows("predictions.csv")), f"cases.csv has {len(cases)} final rows")
check(all(r["volume_ref_ml"] != "" for r in cases if r["dice"] != ""), "a case with a Dice lacks its reference volume")

# metrics.csv: an interval or a note for every defined AUC and mean Dice.
for r in rows("metrics.csv"):
    for metric, lo in [("dice_mean", "dice_mean_bootstrap_lo")] + [(f"auc_{m}", f"auc_{m}_delong_lo") for m in MARKERS]:
        if r[metric] != "" and r[lo] == "":
            check(metric in r["interval_notes"], f"metrics.csv round {r['round']} {r['set']}: {metric} without interval or note")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"curves_sklearn: {compared} (split, marker) curves equal scikit-learn's")
PYTHON
