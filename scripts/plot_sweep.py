#!/usr/bin/python3
"""Plots a fedglioma sweep: Dice and marker ROC AUCs per round, one line per group of points that
differ only in their seed (the mean over seeds, shaded with the seeds' 95 % t-interval when there
are several, clipped to [0, 1]).

Usage:
    /usr/bin/python3 scripts/plot_sweep.py SWEEP_DIR [--out FILE.png] [--set external|val]

SWEEP_DIR/points.json lists the points: [{"name": str, "dir": run folder relative to SWEEP_DIR,
"settings": {"federation.strategy.name": "fedprox", "runtime.seed": 0, ...}}, ...]. A line is
labelled with the settings, other than the seed, that vary across the sweep. Points whose
rounds.jsonl is missing or empty (not finished) are skipped with a warning. --set picks the
evaluation set (default external). Writes SWEEP_DIR/sweep.png unless --out names another file.

Needs matplotlib and numpy: run it with Debian's interpreter, /usr/bin/python3.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

# plot_run selects the non-interactive Agg backend before it imports pyplot.
from plot_run import MARKERS, InputError, plt, read_json, read_rounds, save_png, style_axis

SEED = "runtime.seed"


def read_points(sweep_dir):
    """The entries of SWEEP_DIR/points.json, checked for shape."""
    if not os.path.isdir(sweep_dir):
        raise InputError(f"{sweep_dir}: no such folder")
    path = os.path.join(sweep_dir, "points.json")
    points = read_json(path)
    if not isinstance(points, list) or not points:
        raise InputError(f"{path}: expected a non-empty JSON list of points")
    for i, p in enumerate(points, 1):
        if not (isinstance(p, dict) and isinstance(p.get("name"), str)
                and isinstance(p.get("dir"), str) and isinstance(p.get("settings"), dict)):
            raise InputError(f'{path}: point {i}: expected {{"name": str, "dir": str, '
                             f'"settings": {{...}}}}')
    return points


def group_points(points):
    """{label: [points]}: points that share every setting but the seed, labelled by what varies."""
    keys = list(dict.fromkeys(k for p in points for k in p["settings"] if k != SEED))
    varying = [k for k in keys
               if len({json.dumps(p["settings"].get(k), sort_keys=True) for p in points}) > 1]

    def show(key, value):  # a bare number would not say what it is
        return value if isinstance(value, str) else f"{key.split('.')[-1]}={json.dumps(value)}"

    groups = {}
    for p in points:
        label = ", ".join(show(k, p["settings"].get(k)) for k in varying) or "all points"
        groups.setdefault(label, []).append(p)
    return groups


# Student's t 97.5 % quantiles for 1-30 degrees of freedom (beyond: the 30's, conservative).
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]


def seed_stats(runs, set_name, metric):
    """Rounds, mean and the half-width of the seeds' 95 % t-interval of one metric over runs; null
    values are left out, the interval needs two."""
    by_round = {}
    for rounds in runs:
        for r in rounds:
            if r["eval"] is not None:
                value = r["eval"].get(set_name, {}).get(metric, math.nan)
                by_round.setdefault(r["round"], []).append(value)
    x = sorted(by_round)
    kept = [[v for v in by_round[k] if not math.isnan(v)] for k in x]
    mean = [np.mean(v) if v else math.nan for v in kept]
    half = [T975[min(len(v) - 1, 30) - 1] * np.std(v, ddof=1) / math.sqrt(len(v)) if len(v) > 1 else math.nan
            for v in kept]
    return np.array(x), np.array(mean), np.array(half)


def plot_sweep(groups, set_name, title):
    """The sweep figure: Dice and the four AUCs of set_name, one line per group of seeds."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    panels = [("dice_mean", "(a) Whole-tumour Dice (mean)", "Dice")]
    panels += [(m, f"({letter}) {label}", "ROC AUC")
               for letter, (m, label) in zip("bcde", MARKERS.items())]
    # Ten colours, then the same colours dashed, then dotted: every group stays distinguishable.
    colours = plt.get_cmap("tab10").colors
    styles = ["-", "--", ":"]
    all_rounds = [r["round"] for runs in groups.values() for rounds in runs for r in rounds]
    for i, (label, runs) in enumerate(groups.items()):
        colour = colours[i % len(colours)]
        style = styles[(i // len(colours)) % len(styles)]
        seeds = f"{len(runs)} seed" + ("s" if len(runs) > 1 else "")
        for ax, (metric, _, _) in zip(axes.flat, panels):
            x, mean, half = seed_stats(runs, set_name, metric)
            ax.plot(x, mean, color=colour, ls=style, marker="o", ms=3, lw=1.8, label=f"{label} ({seeds})")
            if len(runs) > 1:
                ax.fill_between(x, np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1), color=colour,
                                alpha=0.2, lw=0)
    for ax, (metric, panel_title, ylabel) in zip(axes.flat, panels):
        if metric != "dice_mean":
            ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        style_axis(ax, panel_title, ylabel, all_rounds)
    legend_ax = axes.flat[5]
    legend_ax.axis("off")
    legend_ax.legend(*axes.flat[0].get_legend_handles_labels(), loc="center",
                     title="line: mean over seeds\nband: 95 % t-interval over seeds")
    fig.suptitle(f"{title} — {set_name} set")
    fig.tight_layout()
    return fig


def main():
    summary, _, details = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=" ".join(summary.split()), epilog=details,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir", metavar="SWEEP_DIR")
    parser.add_argument("--out", metavar="FILE.png", help="default: SWEEP_DIR/sweep.png")
    parser.add_argument("--set", choices=("external", "val"), default="external")
    args = parser.parse_args()
    out = args.out or os.path.join(args.sweep_dir, "sweep.png")
    try:
        groups = {}
        for label, points in group_points(read_points(args.sweep_dir)).items():
            for p in points:
                run_dir = os.path.join(args.sweep_dir, p["dir"])
                rounds_path = os.path.join(run_dir, "rounds.jsonl")
                rounds = read_rounds(run_dir) if os.path.isfile(rounds_path) else []
                if rounds:
                    groups.setdefault(label, []).append(rounds)
                else:
                    print(f"plot_sweep.py: warning: skipping point {p['name']!r}: no rounds in "
                          f"{rounds_path} (unfinished?)", file=sys.stderr)
        if not groups:
            raise InputError(f"{args.sweep_dir}: no point has finished a round")
        title = os.path.basename(os.path.abspath(args.sweep_dir))
        save_png(plot_sweep(groups, args.set, title), out)
    except InputError as e:
        sys.exit(f"plot_sweep.py: error: {e}")


if __name__ == "__main__":
    main()
