#!/usr/bin/python3
"""Plots one fedglioma run: whole-tumour Dice, marker ROC AUCs and client training loss per round.

Usage:
    /usr/bin/python3 scripts/plot_run.py RUN_DIR [--out FILE.png] [--x round|simulated-hours]

Reads RUN_DIR/rounds.jsonl (and RUN_DIR/config.resolved.json, when present, for the title) and
writes RUN_DIR/plot.png unless --out names another file. The Dice and AUC panels show the external
set, the pooled validation set, the test set when the run has one (each shaded with its 95 %
interval: bootstrap for Dice, DeLong for AUCs, within [0, 1]), and each site (solid), every line
with its n in the legend; with
models of the sites' own (personalising strategies, fine-tuning, local mode) also each site's own
model on its validation cases (dash-dotted, "own:<site>"). Rounds without evaluation are skipped
there, and a null AUC (one class or none among the cases) is a gap. The loss panel is the mean
train_loss of the clients whose status is "ok". With --x simulated-hours the x axis is the
virtual clock (each line's clock_seconds, in hours) instead of the round (or, in an asynchronous
run, the server step); it needs a run with federation.simulated_time enabled.

When RUN_DIR/cross_site.csv exists (local mode, personalising strategies, fine-tuning), it also
writes the cross-site matrix as heatmaps, the model of each site (rows) on the validation cases of
each site (columns), Dice and each AUC: RUN_DIR/cross_site.png unless --cross-site-out names
another file.

Needs matplotlib: run it with Debian's interpreter, /usr/bin/python3.
"""
import argparse
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

MARKERS = {"idh": "IDH mutation", "codeletion_1p19q": "1p/19q codeletion",
           "mgmt": "MGMT methylation", "grade": "grade (high vs low)"}
POOLED = {"external": "black", "val": "tab:blue", "test": "tab:purple"}
SITE_COLOURS = ("tab:orange", "tab:green", "tab:red", "tab:brown", "tab:pink", "tab:olive",
                "tab:cyan", "tab:gray")


class InputError(Exception):
    """A file missing, malformed or not writable; the message names it (and the line)."""


def field(obj, *keys):
    """obj[keys[0]][keys[1]]...; a missing key is a ValueError naming its dotted path."""
    for depth, key in enumerate(keys):
        if not isinstance(obj, dict) or key not in obj:
            raise ValueError(f'missing field "{".".join(keys[:depth + 1])}"')
        obj = obj[key]
    return obj


def number(obj, *keys):
    """A numeric field as a float; JSON null becomes nan, which matplotlib draws as a gap."""
    value = field(obj, *keys)
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'field "{".".join(keys)}" is not a number or null')
    return float(value)


def interval(block, *keys):
    """(lower, upper) of a 95 % interval at block[keys...] ([lo, hi] or null); (nan, nan) when it
    is null or the run predates intervals."""
    for key in keys:
        block = block.get(key) if isinstance(block, dict) else None
    if isinstance(block, list) and len(block) == 2 and all(isinstance(v, (int, float)) for v in block):
        return float(block[0]), float(block[1])
    return math.nan, math.nan


def summary(obj, *keys):
    """The plotted numbers of one evaluation summary: {metric or marker: value}, each one's 95 %
    interval as "<name>_ci" (bootstrap for Dice, DeLong for AUCs) and the set's n."""
    values = {m: number(obj, *keys, "auc", m) for m in MARKERS}
    values.update({m: number(obj, *keys, m) for m in ("dice_mean", "dice_median")})
    block = field(obj, *keys)
    values["dice_mean_ci"] = interval(block, "dice_mean_ci", "interval")
    values.update({f"{m}_ci": interval(block, "auc_ci", m, "delong") for m in MARKERS})
    values["n"] = block.get("n") if isinstance(block.get("n"), int) else None
    return values


def parse_round(record):
    """One rounds.jsonl object -> {"round", "loss", "eval": {set name: summary} or None}."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    round_ = field(record, "round")
    if isinstance(round_, bool) or not isinstance(round_, int):
        raise ValueError('field "round" is not an integer')
    clients = field(record, "clients")
    if not isinstance(clients, list) or not all(isinstance(c, dict) for c in clients):
        raise ValueError('field "clients" is not a list of objects')
    losses = [number(c, "train_loss") for c in clients if c.get("status") == "ok"]
    losses = [x for x in losses if not math.isnan(x)]
    parsed = {"round": round_, "loss": sum(losses) / len(losses) if losses else math.nan,
              "eval": None}
    if "clock_seconds" in record:
        parsed["hours"] = number(record, "clock_seconds") / 3600.0
    if "eval" in record:
        sites = field(record, "eval", "sites")
        if not isinstance(sites, dict):
            raise ValueError('field "eval.sites" is not an object')
        sets = [s for s in POOLED if s != "test" or "test" in record["eval"]]
        parsed["eval"] = {s: summary(record, "eval", s) for s in sets}
        parsed["eval"].update({f"site:{s}": summary(record, "eval", "sites", s) for s in sites})
        own = record["eval"].get("personal", {})
        if not isinstance(own, dict):
            raise ValueError('field "eval.personal" is not an object')
        parsed["eval"].update({f"own:{c}": summary(record, "eval", "personal", c, "val") for c in own})
    return parsed


def read_rounds(run_dir):
    """The parsed rounds of RUN_DIR/rounds.jsonl in file order (empty if it has none yet)."""
    if not os.path.isdir(run_dir):
        raise InputError(f"{run_dir}: no such folder")
    path = os.path.join(run_dir, "rounds.jsonl")
    try:
        with open(path, "rb") as f:
            lines = f.readlines()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    rounds = []
    for n, line in enumerate(lines, 1):
        try:
            if line.strip():
                rounds.append(parse_round(json.loads(line.decode("utf-8"))))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{n}: malformed JSON at column {e.colno}: {e.msg}") from None
        except ValueError as e:  # also UnicodeDecodeError
            raise InputError(f"{path}:{n}: {e}") from None
    return rounds


def read_json(path):
    """The JSON document in `path`; InputError naming the file (and line) when it is unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: malformed JSON: {e.msg}") from None
    except ValueError as e:
        raise InputError(f"{path}: {e}") from None


def run_title(run_dir):
    """The run folder's name, with the federation mode and strategy when the config is there."""
    title = os.path.basename(os.path.abspath(run_dir))
    path = os.path.join(run_dir, "config.resolved.json")
    if not os.path.exists(path):
        return title
    config = read_json(path)
    federation = config.get("federation") if isinstance(config, dict) else None
    if not isinstance(federation, dict):
        return title
    strategy = federation.get("strategy")
    if isinstance(strategy, dict):  # {"name": "fedprox", "mu": 0.01}
        params = ", ".join(f"{k}={v}" for k, v in strategy.items() if k != "name")
        strategy = str(strategy.get("name", "?")) + (f" ({params})" if params else "")
    parts = [f"mode: {federation['mode']}" if "mode" in federation else None,
             f"strategy: {strategy}" if strategy else None]
    parts = [p for p in parts if p]
    return f"{title} ({', '.join(parts)})" if parts else title


X_LABELS = {"round": "round", "hours": "simulated hours"}


def style_axis(ax, title, ylabel, rounds, unit_range=True, x_key="round"):
    """Common look: title, labelled axes, the same x range on every panel (integer rounds, or
    simulated hours), a light grid."""
    ax.set_title(title)
    ax.set_xlabel(X_LABELS[x_key])
    ax.set_ylabel(ylabel)
    pad = max(0.5 if x_key == "round" else 0.0, 0.03 * (max(rounds) - min(rounds))) or 0.5
    ax.set_xlim(min(rounds) - pad, max(rounds) + pad)
    if x_key == "round":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if unit_range:
        ax.set_ylim(-0.02, 1.02)


def save_png(fig, out):
    """Writes fig to out through a temporary file beside it, so out is never half-written."""
    tmp = f"{out}.{os.getpid()}.tmp"
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, out)
    except OSError as e:
        raise InputError(f"{out}: cannot write: {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def plot_run(rounds, title, x_key="round"):
    """The run figure: Dice, the four AUCs and the training loss, one line per evaluation set,
    against the round or (x_key "hours") the virtual clock."""
    evaluated = [r for r in rounds if r["eval"] is not None]
    names = list(dict.fromkeys(s for r in evaluated for s in r["eval"]))  # first-seen order
    sites = iter(SITE_COLOURS * len(names))
    colours = {s: POOLED.get(s) or next(sites) for s in names}
    x = [r[x_key] for r in evaluated]
    all_rounds = [r[x_key] for r in rounds]

    def values(name, metric):
        return [r["eval"].get(name, {}).get(metric, math.nan) for r in evaluated]

    def band(ax, name, metric, colour):
        """A pooled set's 95 % interval, shaded and kept within [0, 1]."""
        ci = [r["eval"].get(name, {}).get(f"{metric}_ci", (math.nan, math.nan)) for r in evaluated]
        lo = [min(max(c[0], 0.0), 1.0) for c in ci]
        hi = [min(max(c[1], 0.0), 1.0) for c in ci]
        ax.fill_between(x, lo, hi, color=colour, alpha=0.15, lw=0)

    def label(name):
        """The legend's name with the set's n (the last evaluated round's)."""
        n = evaluated[-1]["eval"].get(name, {}).get("n") if evaluated else None
        return name if n is None else f"{name} (n={n})"

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    dice_ax, auc_axes, loss_ax = axes.flat[0], axes.flat[1:5], axes.flat[5]
    site_colour = {}
    for name in names:  # a site's own model takes its site's colour
        if name.startswith("site:"):
            site_colour[name[5:]] = colours[name]
    for name in names:
        if name.startswith("own:") and name[4:] in site_colour:
            colours[name] = site_colour[name[4:]]
    for name, colour in colours.items():
        style = {"color": colour, "lw": 2 if name in POOLED else 1.2}
        if name.startswith("own:"):
            style["ls"] = "-."
        dice_ax.plot(x, values(name, "dice_mean"), marker="o", ms=3, label=label(name), **style)
        if not name.startswith("own:"):
            dice_ax.plot(x, values(name, "dice_median"), **{**style, "ls": "--"})
        for ax, marker in zip(auc_axes, MARKERS):
            ax.plot(x, values(name, marker), marker="o", ms=3, **style)
        if name in POOLED:
            band(dice_ax, name, "dice_mean", colour)
            for ax, marker in zip(auc_axes, MARKERS):
                band(ax, name, marker, colour)
    style_axis(dice_ax, "(a) Whole-tumour Dice", "Dice", all_rounds, x_key=x_key)
    dice_ax.legend([Line2D([], [], color="grey"), Line2D([], [], color="grey", ls="--")],
                   ["mean", "median"], loc="lower right", fontsize="small")
    for ax, letter, label in zip(auc_axes, "bcde", MARKERS.values()):
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        style_axis(ax, f"({letter}) {label}", "ROC AUC", all_rounds, x_key=x_key)
    if not evaluated:
        for ax in axes.flat[:5]:
            ax.text(0.5, 0.5, "no evaluated rounds", ha="center", transform=ax.transAxes)

    loss_ax.plot(all_rounds, [r["loss"] for r in rounds], color="black", marker="o", ms=3)
    style_axis(loss_ax, '(f) Mean client train loss (status "ok")', "train loss", all_rounds,
               unit_range=False, x_key=x_key)

    fig.suptitle(title)
    ncol = min(len(names), 6) or 1
    rows = math.ceil(len(names) / ncol)
    if names:
        fig.legend(*dice_ax.get_legend_handles_labels(), loc="lower center", ncol=ncol)
    fig.tight_layout(rect=(0, 0.035 * rows, 1, 1))
    return fig


def read_cross_site(path):
    """cross_site.csv -> (model ids, data ids, {metric: matrix}) with nan for empty cells."""
    import csv
    metrics = ["dice_mean"] + [f"auc_{m}" for m in MARKERS]
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    if not rows or any(k not in rows[0] for k in ["model", "data"] + metrics):
        raise InputError(f"{path}: expected the columns model, data, {', '.join(metrics)}")
    models = list(dict.fromkeys(r["model"] for r in rows))
    data = list(dict.fromkeys(r["data"] for r in rows))
    grids = {m: [[math.nan] * len(data) for _ in models] for m in metrics}
    grids["n"] = [[0] * len(data) for _ in models]
    for r in rows:
        grids["n"][models.index(r["model"])][data.index(r["data"])] = int(r.get("n") or 0)
    for n, r in enumerate(rows, 2):
        for m in metrics:
            try:
                value = float(r[m]) if r[m] != "" else math.nan
            except ValueError:
                raise InputError(f"{path}:{n}: {m} is not a number: {r[m]!r}") from None
            grids[m][models.index(r["model"])][data.index(r["data"])] = value
    return models, data, grids


def plot_cross_site(models, data, grids, title):
    """One heatmap per metric: rows are the models (the global one first, when the run has one,
    then the sites' own), columns the sites' validation cases and the external set; each cell
    shows its value and its n. The figure is sized to its cells."""
    counts = grids.pop("n")
    cell = 0.75
    width, height = cell * len(data) + 0.9, cell * len(models) + 1.9
    fig, axes = plt.subplots(1, len(grids), figsize=(width * len(grids) + 1.6, height), sharey=True,
                             squeeze=False)
    axes = axes[0]
    labels = {"dice_mean": "Dice (mean)", **{f"auc_{m}": f"AUC {name}" for m, name in MARKERS.items()}}
    for ax, (metric, grid) in zip(axes, grids.items()):
        image = ax.imshow(grid, vmin=0.0, vmax=1.0, cmap="viridis")
        ax.set_xticks(range(len(data)), data, rotation=45, ha="right")
        ax.set_yticks(range(len(models)), models)
        ax.set_xlabel("cases of (sites: validation)")
        if ax is axes[0]:
            ax.set_ylabel("model of")
        ax.set_title(labels[metric], fontsize="medium")
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                text = ("-" if math.isnan(value) else f"{value:.2f}") + f"\nn={counts[i][j]}"
                ax.text(j, i, text, ha="center", va="center", color="white" if value < 0.6 else "black",
                        fontsize="small")
    fig.colorbar(image, ax=list(axes), shrink=0.8, pad=0.01, fraction=0.02)
    fig.suptitle(f"cross-site matrix of the final models: {title}", fontsize="medium", wrap=True)
    return fig


def main():
    summary, _, details = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=" ".join(summary.split()), epilog=details,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--out", metavar="FILE.png", help="default: RUN_DIR/plot.png")
    parser.add_argument("--cross-site-out", metavar="FILE.png", help="default: RUN_DIR/cross_site.png")
    parser.add_argument("--x", choices=("round", "simulated-hours"), default="round",
                        help="the x axis: rounds (default) or the virtual clock's hours")
    args = parser.parse_args()
    out = args.out or os.path.join(args.run_dir, "plot.png")
    try:
        rounds = read_rounds(args.run_dir)
        if not rounds:
            raise InputError(f"{os.path.join(args.run_dir, 'rounds.jsonl')}: no rounds yet")
        x_key = "hours" if args.x == "simulated-hours" else "round"
        untimed = [r["round"] for r in rounds if x_key not in r]
        if untimed:
            raise InputError(f"{os.path.join(args.run_dir, 'rounds.jsonl')}: round {untimed[0]} has no "
                             "clock_seconds; --x simulated-hours needs a run with "
                             "federation.simulated_time enabled")
        title = run_title(args.run_dir)
        cross_site = os.path.join(args.run_dir, "cross_site.csv")
        matrix = read_cross_site(cross_site) if os.path.exists(cross_site) else None
        save_png(plot_run(rounds, title, x_key), out)
        if matrix:
            save_png(plot_cross_site(*matrix, title),
                     args.cross_site_out or os.path.join(args.run_dir, "cross_site.png"))
    except InputError as e:
        sys.exit(f"plot_run.py: error: {e}")


if __name__ == "__main__":
    main()
