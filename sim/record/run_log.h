#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/numerics.h"
#include "sim/eval/cross_site.h"
#include "sim/eval/evaluation.h"
#include "sim/eval/fairness.h"
#include "sim/eval/round_eval.h"
#include "sim/clients/partition.h"
#include "sim/record/selection.h"

namespace fedglioma::sim {

/// ClientRecord::status of a selected client that dropped out before training (federation.dropout).
inline constexpr const char* kDroppedOut = "dropped out";
/// ClientRecord::status (its start) of a selected client whose update would arrive after the
/// round's deadline (federation.deadline_s): the server cancels its task.
inline constexpr const char* kLate = "late";
/// ClientRecord::status (its start) of an extra client (federation.over_select) that would arrive
/// after the round already had the updates it asked for.
inline constexpr const char* kSurplus = "surplus";
/// ClientRecord::status (its start) of an asynchronous update older than federation.max_staleness.
inline constexpr const char* kStale = "stale";

/// One client's part in a round, as logged.
struct ClientRecord {
  std::string id;
  std::size_t samples = 0;
  std::optional<double> train_loss;  ///< absent when the client failed
  std::string status = "ok";         ///< "ok", or why it was left out of the aggregate
  double io_wait_seconds = 0.0;      ///< waiting for cases not yet read (streaming mode)
  double train_seconds = 0.0;        ///< wall time of its local training
  std::int64_t skipped_steps = 0;    ///< float16 loss-scaling overflows (logged when non-zero)
  std::optional<double> simulated_seconds;  ///< federation.simulated_time: compute + transfer
  /// The asynchronous federations: the server version its model came from, the server steps
  /// applied since (its staleness tau), the weight s(tau), and when its update arrived (simulated).
  std::optional<std::int64_t> base_version, staleness;
  std::optional<double> staleness_weight, arrival_seconds;
};

/// federation.dp: what a round released and what the run has spent after it.
struct PrivacyRecord {
  double epsilon = 0.0;           ///< the run's (its most exposed site's) after the round, at `delta`
  double order = 0.0;             ///< the Renyi order that gave it
  double delta = 0.0;
  double clip_norm = 0.0;         ///< C of the round
  double noise_multiplier = 0.0;  ///< on the update sum: z, or z_update under adaptive clipping
  std::optional<double> unclipped_fraction;  ///< adaptive clipping: the noised fraction b
  std::map<std::string, double> sites;        ///< each site's own epsilon (the per-site ledger)
  std::map<std::string, double> update_norms;  ///< each contributor's update difference norm, before clipping
  std::optional<std::string> stopped;         ///< why the run stops after this round (target_epsilon)
  std::vector<std::string> retired;           ///< the sites retired so far (site_target_epsilon)
};

/// Everything a round logs; one line of rounds.jsonl.
struct RoundRecord {
  int round = 0;
  double seconds = 0.0;
  std::vector<ClientRecord> clients;
  std::optional<std::string> skipped;       ///< why the global model was not updated this round
  std::optional<double> simulated_seconds;  ///< federation.simulated_time: the slowest client
  std::optional<double> clock_seconds;      ///< the virtual clock at the round's (server step's) end
  /// model.task_uncertainty: the global model's s_t = log sigma_t^2 (mask, then kMarkers order)
  std::optional<std::array<double, 5>> task_log_variance;
  std::optional<RoundEval> eval;
  std::optional<PrivacyRecord> privacy;  ///< federation.dp
};

/// The rounds.jsonl line of `record` (DESIGN.md schema), without the trailing newline.
std::string round_json_line(const RoundRecord& record);

/// Parses a rounds.jsonl line back (resume rebuilds the run's history from the file). Throws
/// std::invalid_argument on a malformed line.
RoundRecord round_from_json_line(const std::string& line);

/// The rounds of a rounds.jsonl file, at most `max_rounds` of them, and the text of their lines;
/// the one reader of the format, for resume and sweep alike. Throws IoError naming the file and
/// the line that is damaged, with `remedy` appended.
struct RoundsFile {
  std::vector<RoundRecord> rounds;
  std::string text;  ///< the lines read, each with its newline
};
RoundsFile read_rounds_file(const std::filesystem::path& path, const std::string& remedy,
                            std::size_t max_rounds = SIZE_MAX);

/// The metric columns of metrics.csv (and cross_site.csv): their names, and one summary's values.
std::string metrics_csv_field_names();
std::string metrics_csv_fields(const EvalSummary& summary);

/// cross_site.csv: model (a client id, or `global`), data (a client id: its validation cases; or
/// `external`), then metrics.csv's metric columns.
std::string cross_site_csv(const Partition& partition, const std::vector<CrossSiteCell>& cells);

/// The metrics.csv header and its rows for `record` (one row per evaluated set).
std::string metrics_csv_header();
std::string metrics_csv_rows(const RoundRecord& record);

/// predictions.csv header and one row per prediction (DESIGN.md columns).
std::string predictions_csv_header();
/// `models[i]` names the model that made prediction i ("global", or the client in local mode);
/// `sets[i]` the evaluation set it belongs to ("external", "val", "test", or a cohort's split).
std::string predictions_csv_rows(int round, const std::vector<CasePrediction>& predictions,
                                 const std::vector<std::string>& models, const std::vector<std::string>& sets);

/// partitions.json: the clients with their training and validation case ids, and the held-out sets.
std::string partitions_json(const Partition& partition, const std::string& scheme);

/// The wall time of a run that may have been resumed: every process up to the checkpoint the next
/// one resumed from, plus the last process whole.
struct RunTiming {
  double seconds_total = 0.0;
  double seconds_last_process = 0.0;
  int processes = 1;
};

/// What summary.json records about a run besides its rounds.
struct RunFacts {
  NumericsReport numerics;            ///< cpu mode, ATen's kernels, oneDNN's cap, user-set variables, CUDA determinism
  std::vector<std::string> warnings;  ///< what the run warned about at its start
  SelectionRule rule;                 ///< eval.select_by
  std::string config_fingerprint, data_fingerprint;  ///< hex64 of the resolved config and of the data identity
};

/// summary.json: `selected` (the round eval.select_by chooses on validation, with the rule and
/// its score; the final round, with the reason, when no round has a score), `final` (the last
/// evaluated round), the run's timing (and the last process's peak RSS), `identity` (config and
/// data fingerprints), `numerics` and `warnings` (an array, empty when nothing). There is no
/// "best": a maximum over rounds is only ever taken on validation cases.
std::string summary_json(const std::vector<RoundRecord>& rounds, const RunTiming& timing, const RunFacts& facts);

}  // namespace fedglioma::sim
