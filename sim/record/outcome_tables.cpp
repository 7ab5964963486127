#include "sim/record/outcome_tables.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <tuple>

#include "core/atomic_file.h"
#include "core/curves.h"
#include "core/error.h"
#include "core/metrics.h"
#include "data/csv_table.h"
#include "data/manifest.h"

namespace fedglioma::sim {
namespace {

namespace fs = std::filesystem;

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// One predictions.csv row, by column name.
struct Row {
  std::string predictor, case_id, site, split;
  std::vector<std::string> cells;  ///< dice, hd95, volume_ml, reference_volume_ml, p_*, y_* as written
  std::array<std::optional<double>, 4> p;
  std::array<std::optional<int>, 4> y;
};

std::vector<Row> read_rows(const fs::path& path) {
  const data::CsvTable table = data::CsvTable::read(path);
  std::vector<std::string> kept = {"dice", "hd95", "volume_ml", "reference_volume_ml"};
  for (const char* m : data::kMarkers) kept.push_back(std::string("p_") + m);
  for (const char* m : data::kMarkers) kept.push_back(std::string("y_") + m);
  std::vector<std::size_t> at;
  for (const std::string& name : kept) at.push_back(table.column(name));
  const std::size_t model = table.column("model"), id = table.column("case_id"), site = table.column("site"),
                    set = table.column("set");
  std::vector<Row> rows;
  for (const auto& cells : table.rows()) {
    Row r{cells[model], cells[id], cells[site], cells[set], {}, {}, {}};
    for (std::size_t k : at) r.cells.push_back(cells[k]);
    for (std::size_t m = 0; m < 4; ++m) {
      const std::string& p = r.cells[4 + m];
      const std::string& y = r.cells[8 + m];
      if (!p.empty()) r.p[m] = std::stod(p);
      if (!y.empty()) r.y[m] = std::stoi(y);
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

// The labelled scores of each (predictor, split, site, marker), site "all" pooling the split.
using Key = std::tuple<std::string, std::string, std::string, std::size_t>;
struct Scores {
  std::vector<double> scores;
  std::vector<int> labels;
};

std::map<Key, Scores> grouped(const std::vector<Row>& rows) {
  std::map<Key, Scores> out;
  for (const Row& r : rows)
    for (std::size_t m = 0; m < 4; ++m) {
      if (!r.p[m] || !r.y[m]) continue;
      for (const std::string& site : {std::string("all"), r.site}) {
        Scores& s = out[{r.predictor, r.split, site, m}];
        s.scores.push_back(*r.p[m]);
        s.labels.push_back(*r.y[m]);
      }
    }
  return out;
}

std::string key_cells(const std::string& model, int round, const Key& key) {
  return data::csv_field(model) + "," + std::to_string(round) + "," + data::csv_field(std::get<0>(key)) + "," +
         data::csv_field(std::get<1>(key)) + "," + data::csv_field(std::get<2>(key)) + "," +
         data::kMarkers[std::get<3>(key)];
}

void add_curves(const std::string& model, int round, const std::vector<Row>& rows, OutcomeTables& out) {
  for (const auto& [key, s] : grouped(rows)) {
    const std::string head = key_cells(model, round, key);
    const auto positives = static_cast<std::size_t>(std::count(s.labels.begin(), s.labels.end(), 1));
    const std::optional<double> auc = roc_auc(s.scores, s.labels);
    for (const RocPoint& p : roc_curve(s.scores, s.labels))
      out.roc_csv += head + "," + std::to_string(positives) + "," + std::to_string(s.labels.size() - positives) + "," +
                     number(*auc) + "," + number(p.threshold) + "," + number(p.fpr) + "," + number(p.tpr) + "\n";
    const std::string scores = number(*brier_score(s.scores, s.labels)) + "," +
                               number(*expected_calibration_error(s.scores, s.labels));
    for (const CalibrationBin& b : calibration_bins(s.scores, s.labels))
      out.calibration_csv += head + "," + std::to_string(b.bin) + "," + number(b.lower) + "," + number(b.upper) + "," +
                             std::to_string(b.n) + "," + number(b.mean_predicted) + "," + number(b.fraction_positive) +
                             "," + scores + "\n";
  }
}

void add_cases(const std::string& model, int round, const std::vector<Row>& rows, OutcomeTables& out) {
  for (const Row& r : rows) {
    out.cases_csv += data::csv_field(model) + "," + std::to_string(round) + "," + data::csv_field(r.predictor) + "," +
                     data::csv_field(r.case_id) + "," + data::csv_field(r.site) + "," + data::csv_field(r.split);
    for (const std::string& cell : r.cells) out.cases_csv += "," + data::csv_field(cell);
    out.cases_csv += "\n";
  }
}

std::string header(const std::string& tail) { return "model,round,predictor,split,site,marker," + tail + "\n"; }

class OutcomeTablesReporter : public Reporter {
 public:
  OutcomeTablesReporter(fs::path run_dir, SelectionRule rule) : run_dir_(std::move(run_dir)), rule_(std::move(rule)) {}
  void finish(const std::vector<RoundRecord>& history, const RunTiming&) override {
    const Selection selection = select_round(history, rule_);
    if (!selection.round) return;
    int final_round = 0;
    for (const RoundRecord& r : history)
      if (r.eval) final_round = r.round;
    const fs::path chosen = selected_dir(run_dir_) / "predictions.csv";
    const bool own_file = selection.score && selection.round->round != final_round && fs::exists(chosen);
    const OutcomeTables t = outcome_tables(own_file ? chosen : run_dir_ / "predictions.csv", selection.round->round,
                                           run_dir_ / "predictions.csv", final_round);
    write_file_atomic(run_dir_ / "roc.csv", t.roc_csv);
    write_file_atomic(run_dir_ / "calibration.csv", t.calibration_csv);
    write_file_atomic(run_dir_ / "cases.csv", t.cases_csv);
  }

 private:
  fs::path run_dir_;
  SelectionRule rule_;
};

}  // namespace

OutcomeTables outcome_tables(const fs::path& selected_predictions, int selected_round, const fs::path& final_predictions,
                             int final_round) {
  OutcomeTables out;
  out.roc_csv = header("n_positive,n_negative,auc,threshold,fpr,tpr");
  out.calibration_csv = header("bin,bin_lower,bin_upper,n,mean_predicted,fraction_positive,brier,ece");
  out.cases_csv = "model,round,predictor,case_id,site,split,dice,hd95,volume_pred_ml,volume_ref_ml";
  for (const char* m : data::kMarkers) out.cases_csv += std::string(",p_") + m;
  for (const char* m : data::kMarkers) out.cases_csv += std::string(",y_") + m;
  out.cases_csv += "\n";
  for (const auto& [model, round, path] : {std::tuple{"selected", selected_round, selected_predictions},
                                           std::tuple{"final", final_round, final_predictions}}) {
    const std::vector<Row> rows = read_rows(path);
    add_curves(model, round, rows, out);
    add_cases(model, round, rows, out);
  }
  return out;
}

std::unique_ptr<Reporter> outcome_tables_reporter(fs::path run_dir, SelectionRule rule) {
  return std::make_unique<OutcomeTablesReporter>(std::move(run_dir), std::move(rule));
}

}  // namespace fedglioma::sim
