#!/usr/bin/python3
"""Generates tests/core/aggregation_reference.inc: reference values for core/aggregation_rules.cpp.

Each rule is written here in numpy, independently of the C++, following the code of its reference
implementation: Flower's flwr/server/strategy/aggregate.py (aggregate, aggregate_median,
aggregate_trimmed_avg/_trim_mean, aggregate_krum/_compute_distances), fedavgm.py, fedadagrad.py,
fedadam.py and fedyogi.py; FedNova (Wang et al. 2020) and SCAFFOLD (Karimireddy et al. 2020) from
their papers. Inputs are fixed float32 values (5 clients x 7 coordinates, with ties, an outlier
client and unequal sample counts). The maths runs in float64 on those values; like the C++ (and
like Flower, whose arrays are float32) the persistent state is rounded to float32 between rounds.

Run with Debian's interpreter: /usr/bin/python3 scripts/make_aggregation_reference.py
"""
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "core" / "aggregation_reference.inc"

F32 = np.float32


def f32(values):
    return np.asarray(values, dtype=F32)


# ---- inputs ---------------------------------------------------------------------------------------

GLOBAL0 = f32([0.50, -0.25, 1.00, 0.125, -1.50, 0.75, 0.0])
# Round-1 client models. Coordinate 2 is tied across all clients, coordinate 4 has a two-way tie,
# client 3 is an outlier (what Krum, the median and the trimmed mean should discard).
CLIENTS = f32([
    [0.61, -0.20, 1.10, 0.150, -1.42, 0.70, 0.05],
    [0.55, -0.31, 1.10, 0.100, -1.42, 0.81, -0.04],
    [0.58, -0.27, 1.10, 0.180, -1.47, 0.77, 0.02],
    [4.20, 3.10, 1.10, -2.500, 2.60, -3.30, 5.00],
    [0.52, -0.22, 1.10, 0.090, -1.55, 0.74, -0.01],
])
# Round-2 client models (for the server optimizers' second step).
CLIENTS_ROUND2 = f32([
    [0.70, -0.12, 1.21, 0.230, -1.31, 0.62, 0.12],
    [0.66, -0.19, 1.17, 0.160, -1.36, 0.69, 0.03],
    [0.68, -0.16, 1.25, 0.210, -1.33, 0.66, 0.08],
    [0.74, -0.05, 1.19, 0.270, -1.28, 0.58, 0.15],
    [0.63, -0.21, 1.23, 0.140, -1.39, 0.71, 0.01],
])
SAMPLES = np.array([12.0, 3.0, 7.0, 20.0, 5.0])
LOCAL_STEPS = np.array([10.0, 4.0, 6.0, 15.0, 8.0])

# SCAFFOLD inputs.
SERVER_CONTROL = f32([0.010, -0.020, 0.000, 0.030, -0.015, 0.005, 0.020])
CONTROL_DELTAS = f32([
    [0.020, 0.010, -0.030, 0.000, 0.015, -0.010, 0.005],
    [-0.010, 0.025, 0.010, 0.020, -0.005, 0.000, 0.030],
    [0.005, -0.015, 0.020, -0.010, 0.010, 0.025, -0.020],
    [0.300, -0.250, 0.400, 0.100, -0.350, 0.200, 0.150],
    [0.000, 0.005, -0.010, 0.015, 0.020, -0.005, 0.010],
])
CLIENT_CONTROL = f32([-0.005, 0.015, 0.010, -0.020, 0.000, 0.030, -0.010])
SCAFFOLD_TOTAL_CLIENTS = 8
SCAFFOLD_SERVER_LR = 0.9
SCAFFOLD_LOCAL_STEPS = 13
SCAFFOLD_LR = 0.01


# ---- the rules, after Flower's code -----------------------------------------------------------------

def weighted_average(clients, samples):
    """aggregate(): sum_k n_k x_k / sum_k n_k."""
    clients = clients.astype(np.float64)
    return sum(x * n for x, n in zip(clients, samples)) / samples.sum()


def median(clients):
    """aggregate_median(): np.median over the clients, sample counts ignored."""
    return np.median(clients.astype(np.float64), axis=0)


def trimmed_mean(clients, beta):
    """_trim_mean(): cut int(beta * n) from each tail after partitioning, mean of the rest."""
    array = clients.astype(np.float64)
    nobs = array.shape[0]
    lowercut = int(beta * nobs)
    uppercut = nobs - lowercut
    assert lowercut < uppercut
    part = np.partition(array, (lowercut, uppercut - 1), axis=0)
    return np.mean(part[lowercut:uppercut], axis=0)


def krum(clients, samples, num_malicious, to_keep):
    """aggregate_krum(): returns (chosen indices ordered by ascending score, aggregate)."""
    flat = clients.astype(np.float64)
    n = len(flat)
    distances = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            distances[i, j] = np.linalg.norm(flat[i] - flat[j]) ** 2
    off_diagonal = distances[~np.eye(n, dtype=bool)]
    assert off_diagonal.min() > 0, "duplicate clients would make Flower's argsort skip ambiguous"
    num_closest = max(1, n - num_malicious - 2)
    closest = [np.argsort(row)[1:num_closest + 1].tolist() for row in distances]
    scores = np.array([np.sum(distances[i, closest[i]]) for i in range(n)])
    # Exact ties (mutual nearest neighbours when num_closest == 1) are fine: both sides break
    # them by index. Near ties would make the selection depend on rounding.
    sorted_scores = np.sort(scores)
    gaps = np.diff(sorted_scores)
    assert np.all((gaps == 0) | (gaps > 1e-6 * sorted_scores[1:])), "near-tied scores"
    if to_keep > 0:
        best = np.argsort(scores, kind="stable")[::-1][n - to_keep:]
        chosen = sorted(best.tolist(), key=lambda i: (scores[i], i))
        return chosen, weighted_average(clients[best], samples[best])
    best = int(np.argmin(scores))
    return [best], flat[best]


def fedavgm(global0, aggregated_rounds, server_lr, momentum):
    """FedAvgM.aggregate_fit(), state rounded to float32 between rounds; returns per-round globals."""
    global_w = global0.astype(np.float64)
    momentum_vector = None
    results = []
    for server_round, aggregated in enumerate(aggregated_rounds, start=1):
        if momentum == 0.0 and server_lr == 1.0:  # server_opt is False
            global_w = aggregated.astype(np.float64)
        else:
            pseudo_gradient = global_w - aggregated
            if momentum > 0.0:
                if server_round > 1:
                    momentum_vector = momentum * momentum_vector + pseudo_gradient
                else:
                    momentum_vector = pseudo_gradient
                momentum_vector = momentum_vector.astype(F32).astype(np.float64)
                pseudo_gradient = momentum_vector
            global_w = global_w - server_lr * pseudo_gradient
        global_w = global_w.astype(F32).astype(np.float64)
        results.append((global_w, momentum_vector))
    return results


def fedopt(kind, global0, aggregated_rounds, eta, beta_1, beta_2, tau):
    """FedAdagrad / FedAdam / FedYogi aggregate_fit(); returns per-round (global, m, v)."""
    current = global0.astype(np.float64)
    m_t = None
    v_t = None
    results = []
    for server_round, aggregated in enumerate(aggregated_rounds, start=1):
        delta_t = aggregated.astype(np.float64) - current
        assert np.abs(delta_t).min() > 1e-3, "tiny deltas make m / sqrt(v) ill-conditioned"
        if m_t is None:
            m_t = np.zeros_like(delta_t)
        m_t = np.multiply(beta_1, m_t) + (1 - beta_1) * delta_t
        if v_t is None:
            v_t = np.zeros_like(delta_t)
        if kind == "adagrad":
            v_t = v_t + np.multiply(delta_t, delta_t)
        elif kind == "adam":
            v_t = beta_2 * v_t + (1 - beta_2) * np.multiply(delta_t, delta_t)
        elif kind == "yogi":
            gap = v_t - np.multiply(delta_t, delta_t)
            assert server_round == 1 or np.abs(gap).min() > 1e-9, "sign(v - delta^2) too close to 0"
            v_t = v_t - (1.0 - beta_2) * np.multiply(delta_t, delta_t) * np.sign(gap)
        else:
            raise ValueError(kind)
        eta_t = eta
        if kind == "adam":
            eta_t = eta * np.sqrt(1 - np.power(beta_2, server_round + 1.0)) / (1 - np.power(beta_1, server_round + 1.0))
        current = current + eta_t * m_t / (np.sqrt(v_t) + tau)
        current = current.astype(F32).astype(np.float64)
        m_t = m_t.astype(F32).astype(np.float64)
        v_t = v_t.astype(F32).astype(np.float64)
        results.append((current, m_t, v_t))
    return results


def fednova(global0, clients, samples, local_steps):
    """Wang et al. 2020 with vanilla SGD: x - tau_eff * sum_i p_i (x - y_i) / tau_i."""
    x = global0.astype(np.float64)
    p = samples / samples.sum()
    d = (x[None, :] - clients.astype(np.float64)) / local_steps[:, None]
    tau_eff = np.sum(p * local_steps)
    return x - tau_eff * np.sum(p[:, None] * d, axis=0)


def scaffold_server(global0, control, clients, deltas, total, server_lr):
    """Karimireddy et al. 2020, Algorithm 1: x += lr * mean(y_i - x); c += |S|/N * mean(dc_i)."""
    x = global0.astype(np.float64)
    dx = np.mean(clients.astype(np.float64) - x, axis=0)
    dc = np.mean(deltas.astype(np.float64), axis=0)
    return x + server_lr * dx, control.astype(np.float64) + len(clients) / total * dc


def scaffold_client(client_control, server_control, global0, local, steps, lr):
    """Option II: c_i+ = c_i - c + (x - y_i) / (K lr)."""
    return (client_control.astype(np.float64) - server_control.astype(np.float64) +
            (global0.astype(np.float64) - local.astype(np.float64)) / (steps * lr))


# ---- output -------------------------------------------------------------------------------------------

# Label-aware aggregation (fedglioma's own rule, sim/strategy/label_aware.h): each coordinate stands for a
# parameter group, weighted by the client's training cases that label it; a group no client labels
# keeps its start value. Coordinate 6 is in no group (a buffer): weighted by the training cases.
LABEL_GROUPS = ["encoder", "marker_trunk", "marker:idh", "marker:codeletion_1p19q", "marker:mgmt",
                "marker:grade"]
# Per client: cases with a mask, with any marker label, and labelled for each marker (kMarkers order).
LABEL_MASKS = np.array([12.0, 3.0, 0.0, 20.0, 5.0])
LABEL_ANY = np.array([12.0, 2.0, 7.0, 15.0, 5.0])
LABEL_MARKERS = np.array([
    [12.0, 0.0, 6.0, 12.0],
    [0.0, 0.0, 2.0, 3.0],
    [7.0, 0.0, 0.0, 7.0],
    [10.0, 0.0, 15.0, 20.0],
    [0.0, 0.0, 5.0, 5.0],
])


def label_aware_mean(global0, clients):
    weights = [LABEL_MASKS, LABEL_ANY] + [LABEL_MARKERS[:, m] for m in range(4)] + [SAMPLES]
    out = []
    for i in range(clients.shape[1]):
        w = weights[i]
        out.append(float(global0[i]) if w.sum() == 0 else
                   float(np.sum(w * clients[:, i].astype(np.float64)) / w.sum()))
    return out


def floats(values):
    return "{" + ", ".join(np.format_float_positional(F32(v), unique=True, trim="0") + "f" for v in np.ravel(values)) + "}"


def doubles(values):
    return "{" + ", ".join(repr(float(v)) for v in np.ravel(values)) + "}"


def float_matrix(rows):
    return "{\n    " + ",\n    ".join(floats(r) for r in rows) + "}"


def main():
    aggregated1 = weighted_average(CLIENTS, SAMPLES).astype(F32)
    aggregated2 = weighted_average(CLIENTS_ROUND2, SAMPLES).astype(F32)
    rounds = [aggregated1, aggregated2]

    lines = [
        "// Generated by scripts/make_aggregation_reference.py; do not edit by hand.",
        "// Regenerate with: /usr/bin/python3 scripts/make_aggregation_reference.py",
        "// Inputs are float32; expected values are float64 results of numpy code that follows Flower's",
        "// flwr/server/strategy (aggregate.py, fedavgm.py, fedadagrad.py, fedadam.py, fedyogi.py) and the",
        "// FedNova / SCAFFOLD papers.",
        "",
        "inline const std::vector<float> kGlobal0 = " + floats(GLOBAL0) + ";",
        "inline const std::vector<std::vector<float>> kClients = " + float_matrix(CLIENTS) + ";",
        "inline const std::vector<std::vector<float>> kClientsRound2 = " + float_matrix(CLIENTS_ROUND2) + ";",
        "inline const std::vector<double> kSamples = " + doubles(SAMPLES) + ";",
        "inline const std::vector<double> kLocalSteps = " + doubles(LOCAL_STEPS) + ";",
        "// Sample-weighted means of kClients / kClientsRound2, rounded to float32: the servers' inputs.",
        "inline const std::vector<float> kAggregated1 = " + floats(aggregated1) + ";",
        "inline const std::vector<float> kAggregated2 = " + floats(aggregated2) + ";",
        "",
        "inline const std::vector<double> kMedian = " + doubles(median(CLIENTS)) + ";",
        "// Even client count: mean of the two middle values.",
        "inline const std::vector<double> kMedianFirst4 = " + doubles(median(CLIENTS[:4])) + ";",
        "",
        "struct TrimmedMeanReference { double beta; std::vector<double> expected; };",
        "inline const std::vector<TrimmedMeanReference> kTrimmedMean = {",
    ]
    for beta in (0.0, 0.1, 0.2, 0.3, 0.4, 0.49):  # 0.1 and 0.3: int() truncates 0.5 and 1.5
        lines.append(f"    {{{beta!r}, {doubles(trimmed_mean(CLIENTS, beta))}}},")
    lines += ["};", ""]

    lines.append("struct KrumReference { int num_malicious; int to_keep; std::vector<std::size_t> selected; "
                 "std::vector<double> expected; };")
    lines.append("inline const std::vector<KrumReference> kKrum = {")
    for num_malicious, to_keep in ((1, 0), (1, 3), (0, 0), (0, 2), (2, 0), (2, 1), (2, 4), (0, 5)):
        chosen, expected = krum(CLIENTS, SAMPLES, num_malicious, to_keep)
        lines.append(f"    {{{num_malicious}, {to_keep}, {{{', '.join(map(str, chosen))}}}, {doubles(expected)}}},")
    lines += ["};", ""]

    lines.append("struct FedAvgMReference { double server_lr; double momentum; std::vector<double> global1, global2, "
                 "momentum2; };")
    lines.append("inline const std::vector<FedAvgMReference> kFedAvgM = {")
    for server_lr, momentum in ((1.0, 0.9), (0.5, 0.0), (0.7, 0.5)):
        (g1, _), (g2, m2) = fedavgm(GLOBAL0, rounds, server_lr, momentum)
        lines.append(f"    {{{server_lr!r}, {momentum!r}, {doubles(g1)}, {doubles(g2)}, "
                     f"{doubles(m2 if m2 is not None else [])}}},")
    lines += ["};", ""]

    lines.append("struct FedOptReference { fedglioma::FedOptKind kind; fedglioma::FedOptParams params; "
                 "std::vector<double> global1, global2, m2, v2; };")
    lines.append("inline const std::vector<FedOptReference> kFedOpt = {")
    configs = [  # Flower's defaults per strategy, then non-default settings.
        ("adagrad", "kAdagrad", 0.1, 0.0, 0.0, 1e-9),
        ("adam", "kAdam", 0.1, 0.9, 0.99, 1e-9),
        ("yogi", "kYogi", 0.01, 0.9, 0.99, 1e-3),
        ("adagrad", "kAdagrad", 0.05, 0.9, 0.0, 1e-3),
        ("adam", "kAdam", 0.03, 0.8, 0.9, 1e-2),
        ("yogi", "kYogi", 0.02, 0.5, 0.9, 1e-4),
    ]
    for kind, cpp_kind, eta, beta_1, beta_2, tau in configs:
        (g1, _, _), (g2, m2, v2) = fedopt(kind, GLOBAL0, rounds, eta, beta_1, beta_2, tau)
        lines.append(f"    {{fedglioma::FedOptKind::{cpp_kind}, {{{eta!r}, {beta_1!r}, {beta_2!r}, {tau!r}}}, "
                     f"{doubles(g1)}, {doubles(g2)}, {doubles(m2)}, {doubles(v2)}}},")
    lines += ["};", ""]

    lines += [
        "// Label-aware mean: coordinate i is group kLabelGroups[i] (coordinate 6 is in none).",
        "inline const std::vector<std::string> kLabelGroups = {" +
        ", ".join(f'"{g}"' for g in LABEL_GROUPS) + "};",
        "inline const std::vector<std::size_t> kLabelMasks = {" + ", ".join(str(int(v)) for v in LABEL_MASKS) + "};",
        "inline const std::vector<std::size_t> kLabelAny = {" + ", ".join(str(int(v)) for v in LABEL_ANY) + "};",
        "inline const std::vector<std::vector<std::size_t>> kLabelMarkers = {" +
        ", ".join("{" + ", ".join(str(int(v)) for v in row) + "}" for row in LABEL_MARKERS) + "};",
        "inline const std::vector<double> kLabelAwareMean = " + doubles(label_aware_mean(GLOBAL0, CLIENTS)) + ";",
        "",
    ]
    lines.append("inline const std::vector<double> kFedNova = " +
                 doubles(fednova(GLOBAL0, CLIENTS, SAMPLES, LOCAL_STEPS)) + ";")
    lines.append("")

    lines += [
        "inline const std::vector<float> kServerControl = " + floats(SERVER_CONTROL) + ";",
        "inline const std::vector<std::vector<float>> kControlDeltas = " + float_matrix(CONTROL_DELTAS) + ";",
        "inline const std::vector<float> kClientControl = " + floats(CLIENT_CONTROL) + ";",
        f"inline constexpr std::size_t kScaffoldTotalClients = {SCAFFOLD_TOTAL_CLIENTS};",
        f"inline constexpr double kScaffoldServerLr = {SCAFFOLD_SERVER_LR!r};",
        f"inline constexpr std::int64_t kScaffoldLocalSteps = {SCAFFOLD_LOCAL_STEPS};",
        f"inline constexpr double kScaffoldLr = {SCAFFOLD_LR!r};",
    ]
    x, c = scaffold_server(GLOBAL0, SERVER_CONTROL, CLIENTS, CONTROL_DELTAS, SCAFFOLD_TOTAL_CLIENTS,
                           SCAFFOLD_SERVER_LR)
    _, c_from_zero = scaffold_server(GLOBAL0, np.zeros(7, dtype=F32), CLIENTS, CONTROL_DELTAS,
                                     SCAFFOLD_TOTAL_CLIENTS, SCAFFOLD_SERVER_LR)
    lines += [
        "inline const std::vector<double> kScaffoldGlobal = " + doubles(x) + ";",
        "inline const std::vector<double> kScaffoldControl = " + doubles(c) + ";",
        "// The server control after the first round, starting from zeros.",
        "inline const std::vector<double> kScaffoldControlFromZero = " + doubles(c_from_zero) + ";",
        "// Client 1's new control variate, local model kClients[1] after training from kGlobal0.",
        "inline const std::vector<double> kScaffoldClientControl = " +
        doubles(scaffold_client(CLIENT_CONTROL, SERVER_CONTROL, GLOBAL0, CLIENTS[1], SCAFFOLD_LOCAL_STEPS,
                                SCAFFOLD_LR)) + ";",
        "inline const std::vector<double> kScaffoldClientControlFromZero = " +
        doubles(scaffold_client(np.zeros(7, dtype=F32), np.zeros(7, dtype=F32), GLOBAL0, CLIENTS[1],
                                SCAFFOLD_LOCAL_STEPS, SCAFFOLD_LR)) + ";",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
