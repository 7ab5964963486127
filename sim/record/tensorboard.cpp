#include "sim/record/tensorboard.h"

#include <cassert>
#include <cmath>
#include <system_error>

#include "core/error.h"
#include "data/manifest.h"
#include "sim/eval/fairness.h"
#include "sim/record/tensorboard_events.h"

namespace fedglioma::sim {
namespace {

namespace fs = std::filesystem;

using Scalars = std::vector<std::pair<std::string, double>>;
using SelectedRound = std::function<std::optional<int>(const std::vector<RoundRecord>&)>;

void add(Scalars& out, std::string tag, const std::optional<double>& value) {
  if (value) out.emplace_back(std::move(tag), *value);
}

void add_aucs(Scalars& out, const std::string& prefix, const EvalSummary& summary) {
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m)
    add(out, prefix + "/auc/" + data::kMarkers[m], summary.auc[m]);
}

void add_set(Scalars& out, const std::string& set, const EvalSummary& summary) {
  add(out, set + "/dice_mean", summary.dice_mean);
  add(out, set + "/dice_median", summary.dice_median);
  add_aucs(out, set, summary);
}

void add_fairness(Scalars& out, const std::string& prefix, const Fairness& fairness) {
  add(out, prefix + "/dice_worst", fairness.dice.worst);
  add(out, prefix + "/dice_sd", fairness.dice.sd);
}

void add_train(Scalars& out, const RoundRecord& record) {
  double sum = 0.0;
  int n = 0;
  for (const ClientRecord& c : record.clients)
    if (c.train_loss && std::isfinite(*c.train_loss)) {
      sum += *c.train_loss;
      ++n;
    }
  if (n > 0) out.emplace_back("train/loss_mean", sum / n);
  for (const ClientRecord& c : record.clients) add(out, "train/loss/" + c.id, c.train_loss);
}

void add_eval(Scalars& out, const RoundEval& eval) {
  add_set(out, "external", eval.external);
  add_set(out, "val", eval.val);
  if (eval.test) add_set(out, "test", *eval.test);
  for (const auto& [site, summary] : eval.sites) {
    add(out, "sites/" + site + "/dice_mean", summary.dice_mean);
    add_aucs(out, "sites/" + site, summary);
  }
  for (const auto& [client, own] : eval.personal) {
    add(out, "personal/" + client + "/val/dice_mean", own.val.dice_mean);
    add(out, "personal/" + client + "/external/dice_mean", own.external.dice_mean);
  }
  const RoundFairness fairness = round_fairness(eval);
  add_fairness(out, "fairness/sites", fairness.sites);
  if (fairness.personal) add_fairness(out, "fairness/personal", *fairness.personal);
}

// Only the event files: the folder may hold anything else a user put there.
void remove_event_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  std::vector<fs::path> earlier;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().rfind(kEventFilePrefix, 0) == 0 && it->is_regular_file())
      earlier.push_back(it->path());
  if (ec)
    throw IoError("cannot list the TensorBoard folder '" + dir.string() + "': " + ec.message() +
                  "; check runtime.tensorboard");
  for (const fs::path& file : earlier)
    if (!fs::remove(file, ec) && ec)
      throw IoError("cannot remove the earlier TensorBoard events '" + file.string() + "': " + ec.message());
}

class TensorBoard : public Reporter {
 public:
  TensorBoard(fs::path dir, std::vector<RoundRecord> resumed, SelectedRound selected_round)
      : dir_(std::move(dir)), resumed_(std::move(resumed)), selected_round_(std::move(selected_round)) {}

  void start() override {
    remove_event_files(dir_);
    writer_ = std::make_unique<EventFileWriter>(dir_);
    for (RoundRecord& record : resumed_) write(std::move(record));
    resumed_.clear();
    writer_->flush();
  }

  void round(const RoundRecord& record) override {
    write(record);
    writer_->flush();
  }

  void finish(const std::vector<RoundRecord>&, const RunTiming&) override {
    if (writer_) writer_->flush();
  }

 private:
  void write(RoundRecord record) {
    assert(writer_ && "TensorBoard reporter: round() before start()");
    const double now = unix_seconds_now();
    for (const auto& [tag, value] : tensorboard_scalars(record)) writer_->add_scalar(tag, record.round, value, now);
    const bool evaluated = record.eval.has_value();
    const int step = record.round;
    history_.push_back(std::move(record));
    if (!evaluated || !selected_round_) return;
    if (const std::optional<int> selected = selected_round_(history_))
      writer_->add_scalar(kSelectedRoundTag, step, *selected, now);
  }

  fs::path dir_;
  std::vector<RoundRecord> resumed_;
  SelectedRound selected_round_;
  std::vector<RoundRecord> history_;
  std::unique_ptr<EventFileWriter> writer_;
};

}  // namespace

Scalars tensorboard_scalars(const RoundRecord& record) {
  Scalars out;
  add_train(out, record);
  out.emplace_back("time/round_seconds", record.seconds);
  add(out, "time/simulated_seconds", record.simulated_seconds);
  add(out, "time/clock_seconds", record.clock_seconds);
  if (record.privacy && std::isfinite(record.privacy->epsilon)) out.emplace_back("privacy/epsilon", record.privacy->epsilon);
  if (record.privacy) out.emplace_back("privacy/clip_norm", record.privacy->clip_norm);
  if (record.eval) add_eval(out, *record.eval);
  return out;
}

std::unique_ptr<Reporter> tensorboard_reporter(fs::path dir, std::vector<RoundRecord> resumed,
                                               SelectedRound selected_round) {
  return std::make_unique<TensorBoard>(std::move(dir), std::move(resumed), std::move(selected_round));
}

}  // namespace fedglioma::sim
