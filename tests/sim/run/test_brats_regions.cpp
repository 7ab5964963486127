// model.segmentation "brats_regions": three region outputs trained region-based, cohorts mixing
// region and binary masks, per-region Dice and HD95 in rounds.jsonl and the report, and a BraTS
// label map from predict.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/metrics.h"
#include "data/csv_table.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "experiments/cli_predict.h"
#include "experiments/cli_preprocess.h"
#include "experiments/config_json.h"
#include "sim/state/model_identity.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma;

namespace {

// A synthetic cohort whose site-b masks are binary (whole tumour only, label_convention
// "binary"), as a dataset without sub-regions; site-a and the external site keep BraTS 2023 labels.
fs::path mixed_cohort() {
  const fs::path manifest_path = testing::synthetic_cohort("regions-mixed", 6, 11);
  data::Manifest manifest = data::load_manifest(manifest_path);
  for (data::Case& c : manifest.cases) {
    if (c.site != "site-b") continue;
    data::MaskVolume labels = data::read_labels(*c.mask);
    for (std::uint8_t& v : labels.voxels) v = v != 0;
    c.mask = c.mask->parent_path() / "binary.nii.gz";
    data::write_labels(*c.mask, labels);
    c.label_convention = "binary";
  }
  data::save_manifest(manifest, manifest_path);
  return manifest_path;
}

// The tiny cohort with every mask made binary: no case has sub-regions.
fs::path binary_cohort() {
  const fs::path manifest_path = testing::synthetic_cohort("regions-none", 2, 12);
  data::Manifest manifest = data::load_manifest(manifest_path);
  for (data::Case& c : manifest.cases) c.label_convention = "";
  data::save_manifest(manifest, manifest_path);
  return manifest_path;
}

const std::vector<std::string> kRegions = {"model.segmentation=brats_regions", "federation.rounds=2"};

}  // namespace

TEST_CASE("a brats_regions run trains on mixed region and binary masks and logs each region's Dice and HD95",
          "[regions][cohort]") {
  const fs::path cohort = mixed_cohort();
  std::vector<std::string> overrides = kRegions;
  overrides.push_back("data.manifest=" + cohort.string());
  const fs::path run = testing::tiny_run("regions-run", overrides);
  const auto rounds = testing::read_rounds(run);
  REQUIRE(rounds.size() == 2);
  const auto& external = rounds.back()["eval"]["external"];
  for (const char* key : {"dice_tc_median", "dice_et_median", "hd95_tc_median", "hd95_et_median", "dice_median"})
    REQUIRE(external[key].is_number());
  REQUIRE(external["dice_tc_median"].get<double>() >= 0.0);
  // The per-site blocks: site-b's cases have no sub-regions, so no region metric.
  REQUIRE(rounds.back()["eval"]["sites"]["site-b"].is_object());
  REQUIRE_FALSE(rounds.back()["eval"]["sites"]["site-b"].contains("dice_tc_median"));
  REQUIRE(rounds.back()["eval"]["sites"]["site-a"]["dice_tc_median"].is_number());
  REQUIRE_THAT(read_file(run / "metrics.csv"), Contains("dice_tc_median"));
  REQUIRE_THAT(read_file(run / "report.html"), Contains("BraTS regions (selected model)"));

  // The same cohort trained for the whole tumour only logs no region metric (its lines are what
  // they were before the regions existed).
  std::vector<std::string> whole = {"federation.rounds=1", "data.manifest=" + cohort.string()};
  const auto whole_rounds = testing::read_rounds(testing::tiny_run("regions-whole", whole));
  REQUIRE_FALSE(whole_rounds.back()["eval"]["external"].contains("dice_tc_median"));
  REQUIRE(whole_rounds.back()["eval"]["external"]["dice_median"].is_number());

  // predict writes a BraTS 2023 label map in each case's T1 geometry.
  experiments::PredictOptions predict;
  predict.model = run / "model.pt";
  predict.cases = cohort;
  predict.out = testing::temp_dir("regions-predict") / "out";
  std::ostringstream console;
  experiments::run_predict_cohort(predict, console);
  const data::Manifest manifest = data::load_manifest(cohort);
  std::set<int> seen;
  for (const data::Case& c : manifest.cases) {
    const data::MaskVolume labels = data::read_labels(predict.out / c.id / "labels.nii.gz");
    const data::MaskVolume mask = data::read_labels(predict.out / c.id / "mask.nii.gz");
    REQUIRE(labels.geometry.size == data::read_image(c.images[0]).geometry.size);
    for (std::size_t v = 0; v < labels.voxels.size(); ++v) {
      seen.insert(labels.voxels[v]);
      // Oedema (2) is whole tumour without core; background (0) no region at all.
      if ((labels.voxels[v] == 2 || labels.voxels[v] == 0) && (mask.voxels[v] != 0) != (labels.voxels[v] == 2))
        FAIL("case " << c.id << ": voxel " << v << ": label " << int(labels.voxels[v]) << " but mask " << int(mask.voxels[v]));
    }
  }
  REQUIRE(*seen.rbegin() <= 3);

  // predictions.csv: each region's volume from the label map, its Dice where the case's mask has
  // sub-regions (BraTS 2023: core 1 and 3, enhancing 3), empty for site-b's binary masks.
  const auto table = data::CsvTable::read(predict.out / "predictions.csv");
  REQUIRE(table.rows().size() == manifest.cases.size());
  std::size_t with_dice = 0;
  for (std::size_t i = 0; i < manifest.cases.size(); ++i) {
    const data::Case& c = manifest.cases[i];
    const auto& r = table.rows()[i];
    INFO(c.id);
    const data::MaskVolume labels = data::read_labels(predict.out / c.id / "labels.nii.gz");
    const auto& s = labels.geometry.spacing;
    const double voxel_ml = s[0] * s[1] * s[2] / 1000.0;
    const data::MaskVolume truth = data::read_labels(*c.mask);
    for (const auto& [name, in_region] : {std::pair<std::string, std::set<int>>{"tc", {1, 3}}, {"et", {3}}}) {
      std::vector<std::uint8_t> mine(labels.voxels.size()), theirs(labels.voxels.size());
      for (std::size_t v = 0; v < mine.size(); ++v) {
        mine[v] = in_region.count(labels.voxels[v]);
        theirs[v] = in_region.count(truth.voxels[v]);
      }
      const double count = static_cast<double>(std::count(mine.begin(), mine.end(), 1));
      REQUIRE(std::stod(r[table.column("volume_" + name + "_ml")]) == Approx(count * voxel_ml).epsilon(1e-5));
      const std::string& cell = r[table.column("dice_" + name)];
      REQUIRE(cell.empty() == (c.label_convention == "binary"));
      if (cell.empty()) continue;
      REQUIRE(std::stod(cell) == Approx(dice(mine.data(), theirs.data(), mine.size())).epsilon(1e-5));
      ++with_dice;
    }
  }
  REQUIRE(with_dice > 0);
}

TEST_CASE("preprocess --export writes a brats_regions config's masks as BraTS 2023 labels", "[regions]") {
  const fs::path dir = testing::temp_dir("regions-export");
  write_file_atomic(dir / "tiny.json", testing::tiny_config_json());
  experiments::PreprocessCliOptions o;
  o.config = dir / "tiny.json";
  o.export_dir = dir / "export";
  o.overrides = {"model.segmentation=brats_regions"};
  std::ostringstream console;
  experiments::run_preprocess(o, console);
  std::set<int> labels;
  for (const auto& e : fs::directory_iterator(o.export_dir))
    if (e.is_directory() && e.path().filename().string()[0] != '.')
      for (std::uint8_t v : data::read_labels(e.path() / "mask.nii.gz").voxels) labels.insert(v);
  REQUIRE(labels == std::set<int>{0, 1, 2, 3});  // necrotic core, oedema and enhancing all occur
}

TEST_CASE("a brats_regions run whose masks have no sub-regions is refused, naming the conventions", "[regions]") {
  std::vector<std::string> overrides = kRegions;
  overrides.push_back("data.manifest=" + binary_cohort().string());
  REQUIRE_THROWS_WITH(testing::tiny_run("regions-none-run", overrides),
                      Contains("\"brats_regions\" needs masks with sub-regions") && Contains("the manifest's: (none)"));
}

TEST_CASE("a whole-tumour model's identity is what it was before the sub-region and TorchScript keys", "[regions]") {
  const auto loaded = experiments::parse_config(testing::tiny_config_json(), {}, "tiny.json");
  const auto model = nlohmann::json::parse(sim::model_identity(loaded.resolved_json))["model"];
  for (const char* key : {"segmentation", "path", "fingerprint"}) REQUIRE_FALSE(model.contains(key));
  const auto regions = experiments::parse_config(testing::tiny_config_json(), {"model.segmentation=brats_regions"}, "tiny.json");
  REQUIRE(nlohmann::json::parse(sim::model_identity(regions.resolved_json))["model"]["segmentation"] == "brats_regions");
}
