#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/record/reporters.h"
#include "sim/record/run_log.h"

namespace fedglioma::sim {

/// The scalars TensorBoard shows for one round, all at step `record.round`, in this order;
/// a value that is undefined (nullopt) is left out, and so is its tag:
///   train/loss_mean                    mean train_loss of the clients that have a finite one
///   train/loss/<client id>             each client's train_loss, in the round's client order
///   time/round_seconds                 record.seconds
///   time/simulated_seconds             record.simulated_seconds (federation.simulated_time)
///   time/clock_seconds                 record.clock_seconds (the virtual clock at the round's end)
///   privacy/epsilon, privacy/clip_norm  record.privacy (federation.dp; epsilon only when finite)
/// and when the round was evaluated, for each set `external`, `val`, then `test` (when the
/// manifest has one):
///   <set>/dice_mean, <set>/dice_median
///   <set>/auc/<marker>                 each marker of kMarkers (idh, codeletion_1p19q, mgmt, grade)
/// for each site (by site id):
///   sites/<site>/dice_mean, sites/<site>/auc/<marker>
/// for each client with a model of its own (a personalising strategy, local mode):
///   personal/<client>/val/dice_mean, personal/<client>/external/dice_mean
/// and the spread across sites (round_fairness):
///   fairness/sites/dice_worst, fairness/sites/dice_sd
///   fairness/personal/dice_worst, fairness/personal/dice_sd   (with models of the clients' own)
/// A diverged summary has no metric, so none of its tags appear.
std::vector<std::pair<std::string, double>> tensorboard_scalars(const RoundRecord& record);

/// The tag of the round a run would report so far (written by tensorboard_reporter).
inline constexpr const char* kSelectedRoundTag = "selection/selected_round";

/// TensorBoard event files in `dir` (a run's tensorboard/ folder): each round's
/// tensorboard_scalars as it ends, flushed, so TensorBoard follows a run as it goes; and for
/// each evaluated round, `selection/selected_round`: what `selected_round` says of the history
/// so far (nothing while it says nullopt, or when it is empty).
///
/// `resumed`: the rounds that earlier processes of a resumed run logged. start() removes the
/// earlier processes' event files from `dir` (events.out.tfevents.* only; nothing else there is
/// touched) and writes those rounds again into one new file, so that every step appears once,
/// however often a run was resumed. Rewritten rounds carry the time of the rewrite (rounds.jsonl
/// keeps no wall-clock time of its rounds). Throws IoError when `dir` or its file cannot be
/// created or written.
std::unique_ptr<Reporter> tensorboard_reporter(
    std::filesystem::path dir, std::vector<RoundRecord> resumed,
    std::function<std::optional<int>(const std::vector<RoundRecord>&)> selected_round);

}  // namespace fedglioma::sim
