#!/usr/bin/python3
"""Tables of the differential-privacy study (scripts/dp_study.sh).

Usage:
    /usr/bin/python3 scripts/dp_study.py STUDY_DIR

STUDY_DIR holds one run folder per noise multiplier and seed, named zZ-sSEED. Prints, as Markdown,
for each z: the final epsilon (at the run's delta) and the external mean Dice and AUCs of the last
round, the mean over seeds with a 95 % t-interval; then what the study's own setting (5 sites,
every site every round, so q = 1 and no amplification; 100 rounds; delta = 1 / (10 x 5)) would
spend at each z, from the closed form of the Gaussian mechanism's RDP, alpha / (2 z^2) per round,
over the accountant's orders and Balle et al. 2020's conversion.

Needs numpy and scipy: run it with Debian's interpreter, /usr/bin/python3.
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np
from scipy import stats

MARKERS = ("idh", "codeletion_1p19q", "mgmt", "grade")
ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))


def t_cell(values, digits=3, bounds=(0.0, 1.0)):
    """mean [lo, hi], a 95 % t-interval over the seeds kept within `bounds`, and each seed's value."""
    v = np.array([x for x in values if x is not None and not math.isnan(x)])
    if len(v) == 0:
        return "-"
    seeds = " / ".join(f"{x:.2f}" for x in v)
    if len(v) < 2:
        return f"{v.mean():.{digits}f}"
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    lo, hi = max(v.mean() - half, bounds[0]), min(v.mean() + half, bounds[1])
    return f"{v.mean():.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}] ({seeds})"


def gaussian_epsilon(z, steps, delta):
    if z == 0:
        return math.inf
    return min(steps * a / (2 * z * z) + math.log((a - 1) / a) - (math.log(delta) + math.log(a)) / (a - 1)
               for a in ORDERS)


def ledger(path):
    """The per-site ledger of a FedBuff run: each site's releases (server steps its update entered)
    and its own epsilon after the last step."""
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        rounds = [json.loads(l) for l in f if l.strip()]
    releases = {}
    for r in rounds:
        for c in r["clients"]:
            if c["status"] == "ok":
                releases[c["id"]] = releases.get(c["id"], 0) + 1
    last = rounds[-1]["privacy"]
    print(f"\nThe per-site ledger under FedBuff (K = 4, z = 1, {len(rounds)} server steps in "
          f"{rounds[-1]['clock_seconds'] / 3600:.1f} simulated hours, delta {last['delta']:g}):\n")
    print("| site | releases | its epsilon |")
    print("| --- | --- | --- |")
    for site, eps in sorted(last["sites"].items(), key=lambda kv: -(kv[1] or 0)):
        print(f"| {site} | {releases.get(site, 0)} | {eps:.2f} |")


def main():
    summary, _, details = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=" ".join(summary.split()), epilog=details,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study_dir", metavar="STUDY_DIR")
    args = parser.parse_args()
    if not os.path.isdir(args.study_dir):
        sys.exit(f"dp_study.py: error: {args.study_dir}: no such folder")
    runs = {}
    for name in sorted(os.listdir(args.study_dir)):
        match = re.fullmatch(r"z([0-9.]+)-s(\d+)", name)
        path = os.path.join(args.study_dir, name, "rounds.jsonl")
        if match and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                runs.setdefault(float(match.group(1)), []).append([json.loads(l) for l in f if l.strip()])
    if not runs:
        sys.exit(f"dp_study.py: error: {args.study_dir}: no zZ-sSEED run folders with rounds.jsonl")
    print("| z | epsilon | external Dice | AUC IDH | AUC 1p/19q | AUC MGMT | AUC grade |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for z in sorted(runs):
        last = [[r for r in rounds if "eval" in r][-1] for rounds in runs[z]]
        eps = [r["privacy"]["epsilon"] if r["privacy"]["epsilon"] is not None else math.inf for r in last]
        ext = [r["eval"]["external"] for r in last]
        eps_text = "inf (no noise)" if all(math.isinf(e) for e in eps) else f"{np.mean(eps):.2f}"
        cols = [t_cell([e.get("dice_mean") for e in ext])] + [t_cell([e["auc"].get(m) for e in ext]).split(" (")[0]
                                                              for m in MARKERS]
        delta = last[0]["privacy"]["delta"]
        print(f"| {z:g} | {eps_text} (delta {delta:g}) | " + " | ".join(cols) + " |")
    ledger(os.path.join(args.study_dir, "fedbuff-ledger", "rounds.jsonl"))
    print("\nThe study's setting (5 sites every round: q = 1, no amplification; delta = 0.02):\n")
    print("| z | 10 rounds | 100 rounds |")
    print("| --- | --- | --- |")
    for z in (0.5, 1, 2, 5, 10):
        print(f"| {z:g} | {gaussian_epsilon(z, 10, 0.02):.2f} | {gaussian_epsilon(z, 100, 0.02):.2f} |")


if __name__ == "__main__":
    main()
