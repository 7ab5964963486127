#!/usr/bin/python3
"""Tables and a plot of the asynchronous-federation study (scripts/async_study.sh).

Usage:
    /usr/bin/python3 scripts/async_study.py STUDY_DIR [--budget-s S] [--threshold D] [--out FILE.png]

STUDY_DIR holds one run folder per federation and seed, named VARIANT-sSEED. For each federation
it prints, as Markdown: the external mean Dice and AUCs of the last evaluation at or before the
budget (the mean over seeds with a 95 % t-interval), the simulated hours each needs to first reach
a validation mean Dice of D (default 0.6; the seeds that never do are counted), and the cost:
server steps, client participations, and wall seconds per server step. The plot (--out) shows the
external and validation mean Dice against simulated hours, each seed as a thin line and their
median bold, each federation in its own colour.

Needs numpy, scipy and matplotlib: run it with Debian's interpreter, /usr/bin/python3.
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
ORDER = ("fedavg", "fedavg-deadline", "fedbuff", "fedasync")


def read_runs(study_dir):
    """{variant: {seed: [rounds.jsonl objects]}} of the run folders named VARIANT-sSEED."""
    runs = {}
    for name in sorted(os.listdir(study_dir)):
        match = re.fullmatch(r"(.+)-s(\d+)", name)
        path = os.path.join(study_dir, name, "rounds.jsonl")
        if not match or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            rounds = [json.loads(line) for line in f if line.strip()]
        if any("clock_seconds" not in r for r in rounds):
            sys.exit(f"async_study.py: error: {path}: a line without clock_seconds (not on the virtual clock)")
        runs.setdefault(match.group(1), {})[int(match.group(2))] = rounds
    if not runs:
        sys.exit(f"async_study.py: error: {study_dir}: no VARIANT-sSEED run folders with rounds.jsonl")
    return runs


def value(summary, key):
    v = summary.get("auc", {}).get(key) if key in MARKERS else summary.get(key)
    return math.nan if v is None else float(v)


def at_budget(rounds, budget_s):
    """The last evaluated round at or before the budget."""
    evaluated = [r for r in rounds if "eval" in r and r["clock_seconds"] <= budget_s + 1e-9]
    return evaluated[-1] if evaluated else None


def t_interval(values):
    """(mean, lo, hi) over the finite values: a 95 % t-interval, (mean, nan, nan) for fewer than 2."""
    v = np.array([x for x in values if not math.isnan(x)])
    if len(v) == 0:
        return math.nan, math.nan, math.nan
    if len(v) < 2:
        return float(v.mean()), math.nan, math.nan
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def cell(values, digits=3, bounds=(-math.inf, math.inf)):
    """mean [lo, hi]: the 95 % t-interval over the seeds, kept within `bounds` (a Dice or an AUC lies
    in [0, 1]; with 3 seeds an interval is wide)."""
    mean, lo, hi = t_interval(values)
    if math.isnan(mean):
        return "-"
    lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return f"{mean:.{digits}f}" + ("" if math.isnan(lo) else f" [{lo:.{digits}f}, {hi:.{digits}f}]")


def seeds_text(values):
    return " / ".join("-" if math.isnan(v) else f"{v:.2f}" for v in values)


def hours_to_reach(rounds, threshold):
    for r in rounds:
        if "eval" in r and value(r["eval"]["val"], "dice_mean") >= threshold:
            return r["clock_seconds"] / 3600.0
    return math.nan


def tables(runs, budget_s, threshold):
    variants = [v for v in ORDER if v in runs] + [v for v in runs if v not in ORDER]
    seeds = sorted({s for v in runs.values() for s in v})
    print(f"External set at {budget_s / 3600:.1f} simulated hours (last evaluation within the budget; mean over "
          f"seeds {', '.join(map(str, seeds))} with a 95 % t-interval):\n")
    print("| federation | server steps | external Dice | (each seed) | AUC IDH | AUC 1p/19q | AUC MGMT | AUC grade |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    unit = (0.0, 1.0)
    for v in variants:
        last = [at_budget(r, budget_s) for r in runs[v].values()]
        steps = [float(x["round"]) if x else math.nan for x in last]
        ext = [x["eval"]["external"] if x else {} for x in last]
        dice = [value(e, "dice_mean") if e else math.nan for e in ext]
        cols = [cell(dice, bounds=unit), seeds_text(dice)] + [cell([value(e, m) for e in ext], bounds=unit)
                                                               for m in MARKERS]
        print(f"| {v} | {cell(steps, 0, (0, math.inf))} | " + " | ".join(cols) + " |")
    print(f"\nSimulated hours to first reach a validation mean Dice of {threshold} (mean over the seeds that "
          "reach it), and the cost:\n")
    print("| federation | hours to val Dice | seeds reaching it | participations | wall s per server step |")
    print("| --- | --- | --- | --- | --- |")
    for v in variants:
        hours = [hours_to_reach(r, threshold) for r in runs[v].values()]
        reached = sum(not math.isnan(h) for h in hours)
        within = [[r for r in rounds if r["clock_seconds"] <= budget_s + 1e-9] for rounds in runs[v].values()]
        participations = [float(sum(len(r["clients"]) for r in w)) for w in within]
        wall = [sum(r["seconds"] for r in w) / max(1, len(w)) for w in within]
        zero = (0.0, math.inf)
        print(f"| {v} | {cell(hours, 2, zero)} | {reached} of {len(hours)} | {cell(participations, 0, zero)} | "
              f"{cell(wall, 2, zero)} |")
    return variants


def curve(rounds, grid, set_name):
    """The set's mean Dice of the last evaluation at or before each grid time (nan before the first)."""
    out = []
    evaluated = [(r["clock_seconds"] / 3600.0, value(r["eval"][set_name], "dice_mean")) for r in rounds if "eval" in r]
    for t in grid:
        known = [d for h, d in evaluated if h <= t + 1e-12]
        out.append(known[-1] if known else math.nan)
    return out


def plot(runs, variants, budget_s, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    grid = np.linspace(0, budget_s / 3600.0, 200)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    colours = dict(zip(ORDER, ("black", "tab:orange", "tab:blue", "tab:green")))
    for ax, set_name in zip(axes, ("external", "val")):
        for v in variants:
            curves = np.array([curve(r, grid, set_name) for r in runs[v].values()])
            colour = colours.get(v)
            for c in curves:  # each seed, thin
                ax.plot(grid, c, color=colour, lw=0.7, alpha=0.35)
            median = [np.nan if np.isnan(curves[:, i]).any() else float(np.median(curves[:, i])) for i in range(len(grid))]
            ax.plot(grid, median, label=f"{v} (median of {len(curves)} seeds)", color=colour, lw=1.8)
        ax.set_title(f"{'External' if set_name == 'external' else 'Validation'} mean Dice")
        ax.set_xlabel("simulated hours")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean Dice (whole tumour)")
    axes[1].legend(loc="lower right", fontsize="small")
    fig.suptitle("8 sites with FeTS 2022 measured speeds: each seed (thin) and their median")
    fig.tight_layout()
    tmp = f"{out}.{os.getpid()}.tmp"
    fig.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, out)


def main():
    summary, _, details = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=" ".join(summary.split()), epilog=details,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study_dir", metavar="STUDY_DIR")
    parser.add_argument("--budget-s", type=float, default=10800.0)
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument("--out", metavar="FILE.png")
    args = parser.parse_args()
    if not os.path.isdir(args.study_dir):
        sys.exit(f"async_study.py: error: {args.study_dir}: no such folder")
    runs = read_runs(args.study_dir)
    variants = tables(runs, args.budget_s, args.threshold)
    if args.out:
        plot(runs, variants, args.budget_s, args.out)


if __name__ == "__main__":
    main()
