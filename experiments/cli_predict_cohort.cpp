// predict --cases: a trained model over a whole cohort, one folder per case and predictions.csv.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_names.h"
#include "core/metrics.h"
#include "core/owned_folder.h"
#include "core/remove_tree.h"
#include "data/csv_table.h"
#include "data/label_conventions.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "experiments/cli_predict.h"
#include "sim/eval/predict.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;

const OwnedFolder::Kind kCohortFolder{"predict-cohort", "", {"predictions.csv", "*"}};

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string header(bool three_grades) {
  return std::string("id,site,split,status,p_idh,p_1p19q,p_mgmt,p_grade") +
         (three_grades ? ",p_grade2,p_grade3,p_grade4" : "") + ",volume_ml,dice\n";
}

// A case's row: its probabilities, the predicted volume in its T1's geometry and, with a mask,
// Dice against that mask's whole tumour there. A diverged model's row has no numbers.
std::string row(const data::Case& c, const sim::PatientPrediction& p, bool three_grades) {
  std::string line = data::csv_field(c.id) + "," + data::csv_field(c.site) + "," + c.split + ",";
  const std::size_t empty = 4 + (three_grades ? 3 : 0) + 2;
  if (!p.finite) return line + "diverged" + std::string(empty, ',') + "\n";
  line += "ok";
  for (const double prob : p.markers.prob) line += "," + number(prob);
  if (three_grades)
    for (std::size_t g = 0; g < 3; ++g) line += "," + (p.markers.grade ? number((*p.markers.grade)[g]) : std::string());
  const auto& s = p.mask.geometry.spacing;
  std::size_t voxels = 0;
  for (const std::uint8_t v : p.mask.voxels) voxels += v != 0;
  line += "," + number(static_cast<double>(voxels) * s[0] * s[1] * s[2] / 1000.0) + ",";
  if (c.mask) {
    const data::MaskVolume labels = data::read_labels(*c.mask);
    const auto truth = data::whole_tumour(labels.voxels, data::label_convention(c.label_convention),
                                          "case '" + c.id + "': mask '" + c.mask->string() + "'");
    line += number(dice(p.mask.voxels.data(), truth.data(), truth.size()));
  }
  return line + "\n";
}

// "predict: 12/40 cases, 30 s" rewritten in place on a terminal, every tenth case otherwise.
auto progress_line(std::ostream& console) {
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  return [tty, start, &console](std::size_t done, std::size_t total) {
    if (!tty && done % 10 != 0 && done != total) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char line[96];
    std::snprintf(line, sizeof line, "%spredict: %zu/%zu cases, %.0f s%s", tty ? "\r" : "", done, total, s,
                  tty && done < total ? "   " : "\n");
    console << line << std::flush;
  };
}

// An earlier cohort prediction in `out` (checked at the start: the folder is new, empty or one
// predict --cases made) is replaced whole, so no case of another manifest stays beside the new
// predictions.csv; the folder's marker and lock stay.
void clear_earlier(const fs::path& out) {
  std::error_code ec;
  if (!fs::is_directory(out, ec)) return;
  for (const auto& entry : fs::directory_iterator(out))
    if (entry.path().filename().string().rfind(".fedglioma-", 0) != 0) remove_tree(entry.path());
}

}  // namespace

void run_predict_cohort(const PredictOptions& options, std::ostream& console) {
  OwnedFolder::check(options.out, kCohortFolder, false);
  const PredictConfig setup = predict_config(options);
  const data::Manifest cohort = data::load_manifest(options.cases);
  if (cohort.cases.empty()) throw ConfigError("--cases '" + options.cases.string() + "': the manifest has no cases");
  const bool three_grades = setup.loaded.config.model.grade_classes == 3;
  const fs::path staging(options.out.string() + ".partial-" + std::to_string(::getpid()));
  std::error_code ec;
  if (!fs::create_directories(staging, ec) || ec)
    throw IoError("cannot create '" + staging.string() + "'" + (ec ? ": " + ec.message() : ": it exists"));
  try {
    std::string table = header(three_grades);
    sim::predict_cohort(
        setup.loaded.config, options.model, cohort, setup.expected_identity,
        [&](const data::Case& c, const sim::PatientPrediction& p) {
          table += row(c, p, three_grades);
          if (!p.finite) return;  // a diverged model's maps mean nothing (and hold NaN): none written
          const fs::path dir = child_path(staging, c.id, "id", "case '" + c.id + "'");
          fs::create_directories(dir);
          data::write_labels(dir / "mask.nii.gz", p.mask);
          data::write_image(dir / "prob.nii.gz", p.probability);
          if (!p.labels.voxels.empty()) data::write_labels(dir / "labels.nii.gz", p.labels);
        },
        progress_line(console));
    write_file_atomic(staging / "predictions.csv", table);
    clear_earlier(options.out);
    OwnedFolder::publish(staging, options.out, kCohortFolder);
  } catch (...) {
    remove_tree(staging, ec);
    throw;
  }
  console << "wrote " << cohort.cases.size() << " case(s) and predictions.csv to " << options.out.string() << "\n";
}

}  // namespace fedglioma::experiments
