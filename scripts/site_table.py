#!/usr/bin/python3
"""Per-site tables of one or more sweeps: what BENCHMARKS.md's "Every site counts" section shows.

Usage:
    /usr/bin/python3 scripts/site_table.py SWEEP_DIR [SWEEP_DIR ...] [--ci-setting TEXT ...]

For every setting of every sweep (its grid values other than runtime.seed), over its seeds, from
each point's last evaluated round in rounds.jsonl: the external set (the global model; local mode:
the mean over the local models), each site's validation cases under the model the site deploys
(its own where the run has one, eval.personal, else the global model, eval.sites) and the worst
site (eval.fairness of the deployed models). Values are mean +- sd over seeds (sd with n - 1);
a metric undefined in some seeds is averaged over the others and marked with its count. Points
without an evaluated round yet are skipped with a warning. With
--ci-setting, the settings whose label contains TEXT also get their external AUCs per seed with
DeLong 95% intervals. Prints Markdown. Needs only the standard library.
"""
import argparse
import json
import math
import os
import sys

MARKERS = ["idh", "codeletion_1p19q", "mgmt", "grade"]
HEAD = ["Dice", "AUC IDH", "AUC 1p/19q", "AUC MGMT", "AUC grade"]


def fail(message):
    sys.exit(f"site_table.py: error: {message}")


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")


def last_eval(run_dir):
    """The eval block of the last evaluated round, or None when the run has none yet."""
    path = os.path.join(run_dir, "rounds.jsonl")
    if not os.path.exists(path):
        return None
    last = None
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        record = json.loads(line)
                    except ValueError as e:
                        fail(f"{path}:{n}: {e}")
                    if "eval" in record:
                        last = record["eval"]
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    return last


def metrics(summary):
    return [summary.get("dice_mean")] + [summary.get("auc", {}).get(m) for m in MARKERS]


def label(settings):
    parts = []
    for key, value in settings.items():
        if key == "runtime.seed":
            continue
        if isinstance(value, dict):
            extra = ", ".join(f"{k}={json.dumps(v)}" for k, v in value.items() if k != "name")
            parts.append(value.get("name", "?") + (f" ({extra})" if extra else ""))
        elif key == "federation.mode":
            parts.append(f"{value} mode")
        elif isinstance(value, str):
            parts.append(value)
        else:
            parts.append(f"{key.split('.')[-1]}={json.dumps(value)}")
    return ", ".join(parts) or "(all)"


def cell(values):
    defined = [v for v in values if v is not None]
    if not defined:
        return "-"
    mean = sum(defined) / len(defined)
    text = f"{mean:.3f}"
    if len(defined) > 1:
        sd = math.sqrt(sum((v - mean) ** 2 for v in defined) / (len(defined) - 1))
        text += f" +- {sd:.3f}"
    if len(defined) < len(values):
        text += f" (n={len(defined)})"
    return text


def collect(sweep_dirs):
    """{setting label: [eval blocks, one per seed]}, in sweep and grid order."""
    groups = {}
    for sweep in sweep_dirs:
        for point in read_json(os.path.join(sweep, "points.json")):
            run = os.path.join(sweep, point["dir"])
            e = last_eval(run)
            if e is None:
                print(f"site_table.py: warning: skipping point '{point['name']}': no evaluated round yet",
                      file=sys.stderr)
                continue
            groups.setdefault(label(point["settings"]), []).append(e)
    return groups


def deployed_sites(e):
    if e.get("personal"):
        return {site: own["val"] for site, own in e["personal"].items()}
    return e["sites"]


def tables(groups, ci_settings):
    sizes = sorted({e["external"].get("n") for evals in groups.values() for e in evals} - {None})
    n = " or ".join(str(k) for k in sizes) if sizes else "no"
    out = [f"External set ({n} cases, never trained on): the global model, local mode the mean of the "
           "local models; mean +- sd over seeds.", "",
           "| setting | seeds | " + " | ".join(HEAD) + " |", "|" + " --- |" * (len(HEAD) + 2)]
    for name, evals in groups.items():
        columns = list(zip(*[metrics(e["external"]) for e in evals]))
        out.append(f"| {name} | {len(evals)} | " + " | ".join(cell(list(c)) for c in columns) + " |")
    out += ["", "Each site's validation cases, under the model the site deploys (its own where the "
            "strategy personalises or fine-tunes, else the global model):", "",
            "| setting | site | " + " | ".join(HEAD) + " |", "|" + " --- |" * (len(HEAD) + 2)]
    for name, evals in groups.items():
        sites = sorted(set().union(*[deployed_sites(e).keys() for e in evals]))
        for site in sites:
            columns = list(zip(*[metrics(deployed_sites(e).get(site, {})) for e in evals]))
            out.append(f"| {name} | {site} | " + " | ".join(cell(list(c)) for c in columns) + " |")
    out += ["", "The worst site (lowest value across the sites' validation cases, deployed models):", "",
            "| setting | " + " | ".join(HEAD) + " |", "|" + " --- |" * (len(HEAD) + 1)]
    for name, evals in groups.items():
        def worst(e):
            per_site = [metrics(summary) for summary in deployed_sites(e).values()]
            return [min((v for v in column if v is not None), default=None) for column in zip(*per_site)]
        columns = list(zip(*[worst(e) for e in evals]))
        out.append(f"| {name} | " + " | ".join(cell(list(c)) for c in columns) + " |")
    chosen = [n for n in groups if any(t in n for t in ci_settings)]
    if chosen:
        out += ["", "External AUCs per seed with DeLong 95% intervals:", "",
                "| setting | seed | " + " | ".join(HEAD[1:]) + " |", "|" + " --- |" * (len(HEAD) + 1)]
        for name in chosen:
            for seed, e in enumerate(groups[name]):
                row = []
                for m in MARKERS:
                    auc = e["external"]["auc"][m]
                    ci = e["external"].get("auc_ci", {}).get(m, {}).get("delong")
                    row.append("-" if auc is None else f"{auc:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""))
                out.append(f"| {name} | {seed} | " + " | ".join(row) + " |")
    return "\n".join(out) + "\n"


def main():
    summary, _, details = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=" ".join(summary.split()), epilog=details,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweeps", nargs="+", metavar="SWEEP_DIR")
    parser.add_argument("--ci-setting", action="append", default=[], metavar="TEXT")
    args = parser.parse_args()
    sys.stdout.write(tables(collect(args.sweeps), args.ci_setting))


if __name__ == "__main__":
    main()
