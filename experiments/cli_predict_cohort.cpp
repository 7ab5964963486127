// predict --cases: a trained model over a whole cohort, one folder per case and predictions.csv.
#include <unistd.h>

#include <algorithm>
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

// What predictions.csv has beyond the study's columns: the three WHO grades' probabilities, and
// the tumour core and enhancing tumour of a brats_regions model.
struct Columns {
  bool three_grades = false;
  bool regions = false;
};

std::string header(const Columns& k) {
  return std::string("id,site,split,status,p_idh,p_1p19q,p_mgmt,p_grade") +
         (k.three_grades ? ",p_grade2,p_grade3,p_grade4" : "") + ",volume_ml,dice" +
         (k.regions ? ",volume_tc_ml,volume_et_ml,dice_tc,dice_et" : "") + "\n";
}

double volume_ml(const std::vector<std::uint8_t>& voxels, const data::Geometry& geometry) {
  const auto& s = geometry.spacing;
  const auto count = static_cast<double>(std::count_if(voxels.begin(), voxels.end(), [](std::uint8_t v) { return v != 0; }));
  return count * s[0] * s[1] * s[2] / 1000.0;
}

std::string mask_what(const data::Case& c) { return "case '" + c.id + "': mask '" + c.mask->string() + "'"; }

// ",volume_tc_ml,volume_et_ml,dice_tc,dice_et" from the predicted BraTS 2023 label map: Dice
// against the case's mask where its label convention tells the sub-regions apart, empty otherwise.
std::string region_fields(const data::Case& c, const data::MaskVolume& truth_labels, const sim::PatientPrediction& p) {
  const auto predicted = data::tumour_regions(p.labels.voxels, data::label_convention("brats2023"),
                                              "case '" + c.id + "': predicted labels");
  const data::LabelConvention& convention = data::label_convention(c.label_convention);
  const bool scored = !truth_labels.voxels.empty() && convention.has_regions();
  const auto truth = scored ? data::tumour_regions(truth_labels.voxels, convention, mask_what(c)) : std::vector<std::uint8_t>{};
  std::string volumes, dices;
  for (const std::uint8_t bit : {data::kTumourCoreBit, data::kEnhancingBit}) {
    const auto mine = data::region_mask(predicted, bit);
    volumes += "," + number(volume_ml(mine, p.labels.geometry));
    dices += ",";
    if (!scored) continue;
    const auto theirs = data::region_mask(truth, bit);
    dices += number(dice(mine.data(), theirs.data(), theirs.size()));
  }
  return volumes + dices;
}

// A case's row: its probabilities, the predicted volume in its T1's geometry and, with a mask,
// Dice against that mask's whole tumour there. A diverged model's row has no numbers.
std::string row(const data::Case& c, const sim::PatientPrediction& p, const Columns& k) {
  std::string line = data::csv_field(c.id) + "," + data::csv_field(c.site) + "," + c.split + ",";
  const std::size_t empty = 4 + (k.three_grades ? 3 : 0) + 2 + (k.regions ? 4 : 0);
  if (!p.finite) return line + "diverged" + std::string(empty, ',') + "\n";
  line += "ok";
  for (const double prob : p.markers.prob) line += "," + number(prob);
  if (k.three_grades)
    for (std::size_t g = 0; g < 3; ++g) line += "," + (p.markers.grade ? number((*p.markers.grade)[g]) : std::string());
  line += "," + number(volume_ml(p.mask.voxels, p.mask.geometry)) + ",";
  data::MaskVolume labels;
  if (c.mask) {
    labels = data::read_labels(*c.mask);
    const auto truth = data::whole_tumour(labels.voxels, data::label_convention(c.label_convention), mask_what(c));
    line += number(dice(p.mask.voxels.data(), truth.data(), truth.size()));
  }
  if (k.regions) line += region_fields(c, labels, p);
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
  const Columns columns{setup.loaded.config.model.grade_classes == 3,
                        setup.loaded.config.model.segmentation == "brats_regions"};
  const fs::path staging(options.out.string() + ".partial-" + std::to_string(::getpid()));
  std::error_code ec;
  if (!fs::create_directories(staging, ec) || ec)
    throw IoError("cannot create '" + staging.string() + "'" + (ec ? ": " + ec.message() : ": it exists"));
  try {
    std::string table = header(columns);
    sim::predict_cohort(
        setup.loaded.config, options.model, cohort, setup.expected_identity,
        [&](const data::Case& c, const sim::PatientPrediction& p) {
          table += row(c, p, columns);
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
