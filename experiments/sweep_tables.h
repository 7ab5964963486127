#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "experiments/sweep_points.h"

namespace fedglioma::experiments {

/// sweep.csv and sweep.md of a sweep folder `out` (docs/cli.md#sweep), from each finished point's
/// summary.json. sweep.csv: one row per finished point: its name, each grid key's value, then
/// for the `final` and the `selected` round (eval.select_by, chosen on validation) the round,
/// the set the values are from (`external`, else `val`), why a value has no interval
/// (`_interval_notes`, the reasons summary.json gives), and per metric (dice, auc_<marker>,
/// worst_site_dice) its value, its 95 % interval (`_lo`, `_hi`: bootstrap for Dice, DeLong for an
/// AUC, empty when it has none) and its n (`_n`; AUCs `_n_pos`, `_n_neg`). Every value of a row's
/// `final_*` (or `selected_*`) columns is from one round. sweep.md: per setting other than the
/// seed, the selected rounds' mean over seeds with the seeds' 95 % t-interval (one seed: that
/// run's own interval), clamped to [0, 1]; then the failed points with their errors.
void write_sweep_tables(const std::filesystem::path& out, const std::string& name, const std::vector<std::string>& keys,
                        const std::vector<SweepPoint>& points, const std::vector<PointFailure>& failures);

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom (df >= 1), from a
/// table (df 1-30 exact to 3 decimals; beyond, the next smaller tabulated df's: conservative).
double t_quantile_975(std::size_t df);

}  // namespace fedglioma::experiments
