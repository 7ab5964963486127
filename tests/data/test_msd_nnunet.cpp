// The Decathlon's 4-D layout and nnU-Net raw datasets in (v2, v1) and out (export-nnunet), on
// the real BraTS 2023 case and dataset.json files in ../shared/data.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/label_conventions.h"
#include "data/layouts.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "data/preprocess.h"
#include "experiments/cli_export_nnunet.h"
#include "tests/support/fixtures.h"
#include "tests/support/nifti4d.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma::data;
using nlohmann::json;

namespace {

std::array<fs::path, 4> resolved(const std::array<fs::path, 4>& files) {
  std::array<fs::path, 4> out;
  for (std::size_t m = 0; m < 4; ++m) out[m] = fs::canonical(files[m]);
  return out;
}

const char* const kGliCase = "brainlesion-tutorials/BraTS/data/segmentation/BraTS-GLI-00001-000";
const char* const kSeg = "datasets2026/files/deep_quality_estimation/tests/data/seg-BraTS23_1.nii.gz";
const char* const kTask01Json = "datasets2026/files/tutorials/modules/dynunet_pipeline/config/dataset_task01.json";
const char* const kNnunet2023Json = "datasets2026/files/nnUNet_BraTS2023_demo/nnUNet_training/dataset.json";

// The real case as 3-D files, kModalities order (t1n, t1c, t2w, t2f).
Case real_case(const fs::path& shared) {
  Case c;
  c.id = "BraTS-GLI-00001-000";
  c.site = "brats";
  c.split = "train";
  const fs::path dir = shared / kGliCase;
  c.images = {dir / (c.id + "-t1n.nii.gz"), dir / (c.id + "-t1c.nii.gz"), dir / (c.id + "-t2w.nii.gz"),
              dir / (c.id + "-t2f.nii.gz")};
  c.mask = shared / kSeg;
  c.label_convention = "brats2023";
  return c;
}

json read_json(const fs::path& path) { return json::parse(fedglioma::read_file(path)); }

PreprocessOptions small_grid() {
  PreprocessOptions o;
  o.size = {40, 48, 32};
  o.spacing = {4.0, 4.0, 5.0};
  return o;
}

}  // namespace

TEST_CASE("msd: a Decathlon case built from the real BraTS case as one 4-D file preprocesses exactly as its 3-D files",
          "[data][layouts][msd][shared][may_skip]") {
  const fs::path shared = fedglioma::testing::shared_data_dir();
  if (shared.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const Case original = real_case(shared);
  const fs::path root = fedglioma::testing::temp_dir("msd") / "Task01_BrainTumour";
  fs::create_directories(root / "imagesTr");
  fs::create_directories(root / "labelsTr");
  // Task01's channel order: 0 FLAIR, 1 T1w, 2 t1gd, 3 T2w.
  std::vector<FloatVolume> volumes;
  for (const std::size_t m : std::array<std::size_t, 4>{3, 0, 1, 2}) volumes.push_back(read_image(original.images[m]));
  fedglioma::testing::write_nifti_4d(root / "imagesTr/BRATS_001.nii", volumes);
  fs::copy_file(*original.mask, root / "labelsTr/BRATS_001.nii.gz");
  fedglioma::write_file_atomic(root / "imagesTr/._BRATS_001.nii", "macOS resource fork");
  json doc = read_json(shared / kTask01Json);  // the real modality and labels blocks
  doc["training"] = json::array({{{"image", "./imagesTr/BRATS_001.nii"}, {"label", "./labelsTr/BRATS_001.nii.gz"}}});
  doc["test"] = json::array();
  fedglioma::write_file_atomic(root / "dataset.json", doc.dump());

  LayoutOptions o;
  o.layout = "msd";
  o.root = root;
  const Manifest m = build_manifest(o);
  REQUIRE(m.cases.size() == 1);
  const Case& c = m.cases[0];
  REQUIRE(c.id == "BRATS_001");
  REQUIRE(c.channels == std::array<int, 4>{1, 2, 3, 0});
  REQUIRE(c.label_convention == "msd");
  const Sample four_d = preprocess_case(c, small_grid());
  const Sample three_d = preprocess_case(original, small_grid());
  REQUIRE(four_d.image == three_d.image);
  REQUIRE(four_d.mask == three_d.mask);
  REQUIRE(four_d.geometry.same_grid(three_d.geometry));

  // A manifest round-trips the channels.
  save_manifest(m, root / "manifest.json");
  REQUIRE(load_manifest(root / "manifest.json").cases[0].channels == c.channels);

  // Bad inputs name the file: a 3-D image, a channel past the last, the real file's absent cases.
  Case three = c;
  three.channels[0] = 4;
  REQUIRE_THROWS_WITH(preprocess_case(three, small_grid()), Contains("BRATS_001.nii") && Contains("4 volumes"));
  doc["training"][0]["image"] = "./labelsTr/BRATS_001.nii.gz";
  fedglioma::write_file_atomic(root / "dataset.json", doc.dump());
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("labelsTr/BRATS_001.nii.gz") && Contains("1 volume(s)"));
  fs::create_directories(root / "real");
  fs::copy_file(shared / kTask01Json, root / "real/dataset.json");
  o.root = root / "real";
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("BRATS_457") && Contains("does not exist"));
}

TEST_CASE("nnunet: the real BraTS 2023 v2 dataset.json with region labels, and a v1 Task folder",
          "[data][layouts][nnunet][shared][may_skip]") {
  const fs::path shared = fedglioma::testing::shared_data_dir();
  if (shared.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const Case original = real_case(shared);
  const fs::path base = fedglioma::testing::temp_dir("nnunet-in");
  const fs::path v2 = base / "Dataset137_BraTS2023";
  fs::create_directories(v2 / "imagesTr");
  fs::create_directories(v2 / "labelsTr");
  for (int ch = 0; ch < 4; ++ch)  // channel_names: 0 T1, 1 T1ce, 2 T2, 3 FLAIR
    fs::create_symlink(original.images[static_cast<std::size_t>(ch)], v2 / "imagesTr" / ("BraTS-GLI-00001-000_000" + std::to_string(ch) + ".nii.gz"));
  fs::create_symlink(*original.mask, v2 / "labelsTr/BraTS-GLI-00001-000.nii.gz");
  fedglioma::write_file_atomic(v2 / "imagesTr/._BraTS-GLI-00001-000_0000.nii.gz", "junk");
  fs::copy_file(shared / kNnunet2023Json, v2 / "dataset.json");
  LayoutOptions o;
  o.layout = "nnunet";
  o.root = v2;
  const Manifest m = build_manifest(o);
  REQUIRE(m.cases.size() == 1);
  REQUIRE(resolved(m.cases[0].images) == resolved(original.images));
  REQUIRE(m.cases[0].label_convention == "brats2023");  // tumor_core [1, 3]: BraTS 2023's order
  REQUIRE(preprocess_case(m.cases[0], small_grid()).mask == preprocess_case(original, small_grid()).mask);

  fs::remove(v2 / "imagesTr/BraTS-GLI-00001-000_0003.nii.gz");
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("BraTS-GLI-00001-000_0003.nii.gz") && Contains("flair"));

  // v1, converted from the Decathlon: FLAIR at 0, `training` names files without the channel.
  const fs::path v1 = base / "Task001_BrainTumour";
  fs::create_directories(v1 / "imagesTr");
  fs::create_directories(v1 / "labelsTr");
  for (const auto& [ch, m_index] : std::vector<std::pair<int, std::size_t>>{{0, 3}, {1, 0}, {2, 1}, {3, 2}})
    fs::create_symlink(original.images[m_index], v1 / "imagesTr" / ("BRATS_001_000" + std::to_string(ch) + ".nii.gz"));
  fs::create_symlink(*original.mask, v1 / "labelsTr/BRATS_001.nii.gz");
  json doc = read_json(shared / kTask01Json);
  doc["training"] = json::array({{{"image", "./imagesTr/BRATS_001.nii.gz"}, {"label", "./labelsTr/BRATS_001.nii.gz"}},
                                 {{"image", "./imagesTr/BRATS_002.nii.gz"}, {"label", "./labelsTr/BRATS_002.nii.gz"}}});
  fedglioma::write_file_atomic(v1 / "dataset.json", doc.dump());
  o.root = v1;
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("BRATS_002") && Contains("BRATS_002_0000.nii.gz"));
  doc["training"].erase(1);
  fedglioma::write_file_atomic(v1 / "dataset.json", doc.dump());
  const Manifest v1_manifest = build_manifest(o);
  REQUIRE(resolved(v1_manifest.cases[0].images) == resolved(original.images));
  REQUIRE(v1_manifest.cases[0].label_convention == "msd");

  // Names that say nothing: refused until --channel says which is which.
  doc["modality"] = {{"0", "MR1"}, {"1", "MR2"}, {"2", "MR3"}, {"3", "MR4"}};
  fedglioma::write_file_atomic(v1 / "dataset.json", doc.dump());
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("no channel is t1") && Contains("--channel t1=INDEX"));
  o.channels = {"t1=1", "t1c=2", "t2=3", "flair=0"};
  REQUIRE(resolved(build_manifest(o).cases[0].images) == resolved(original.images));
  o.channels = {"t1=7"};
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("--channel 't1=7'"));
}

TEST_CASE("export-nnunet writes the config's cohort and partition; --layout nnunet reads back the same cases",
          "[experiments][nnunet]") {
  const fs::path dir = fedglioma::testing::temp_dir("export-nnunet");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  fedglioma::experiments::ExportNnunetOptions options;
  options.config = dir / "tiny.json";
  options.out = dir / "Tiny";
  std::ostringstream console;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_export_nnunet(options, console), Contains("DatasetXXX_Name"));
  REQUIRE_FALSE(fs::exists(dir / "Tiny"));
  options.out = dir / "Dataset501_Tiny";
  REQUIRE(fedglioma::experiments::run_export_nnunet(options, console) > 0);

  const Manifest source = load_manifest(fedglioma::testing::tiny_cohort());
  LayoutOptions o;
  o.layout = "nnunet";
  o.root = options.out;
  const Manifest back = build_manifest(o);
  REQUIRE(back.cases.size() == source.cases.size());
  std::map<std::string, const Case*> by_id;
  for (const Case& c : back.cases) by_id[c.id] = &c;
  for (const Case& c : source.cases) {
    INFO(c.id);
    REQUIRE(by_id.count(c.id));
    const Case& b = *by_id.at(c.id);
    for (std::size_t m = 0; m < 4; ++m) REQUIRE(read_image(b.images[m]).voxels == read_image(c.images[m]).voxels);
    REQUIRE(b.mask.has_value() == c.mask.has_value());
    if (c.mask)
      REQUIRE(read_labels(*b.mask).voxels == whole_tumour(read_labels(*c.mask).voxels, label_convention(c.label_convention), "m"));
    REQUIRE(b.split == (c.split == "external" || c.split == "test" ? "test" : c.split));
  }
  const json splits = read_json(options.out / "splits_final.json");
  const json description = read_json(options.out / "dataset.json");
  REQUIRE(splits.size() == description["fedglioma"]["clients"].size() + 1);
  std::set<std::string> trained;
  for (const char* side : {"train", "val"})
    for (const auto& id : splits[0][side]) trained.insert(id.get<std::string>());
  for (const Case& c : source.cases) REQUIRE(trained.count(c.id) == (c.split == "train" || c.split == "val" ? 1u : 0u));
  REQUIRE(description["numTraining"] == trained.size());

  options.grid = "network";  // fedglioma's grid: 16^3 at 12 mm
  options.out = dir / "Dataset502_TinyGrid";
  fedglioma::experiments::run_export_nnunet(options, console);
  const Geometry g = read_geometry(options.out / "imagesTr" / (*trained.begin() + "_0000.nii.gz"));
  REQUIRE(g.size == std::array<std::int64_t, 3>{16, 16, 16});
  REQUIRE(g.spacing[0] == Approx(12.0));
}
