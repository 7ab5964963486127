// The brats2023 layout on the real BraTS 2023 files in ../shared/data: modalities, label
// conventions by release, timepoints as one patient, other BraTS tasks refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/label_conventions.h"
#include "data/layouts.h"
#include "data/nifti_io.h"
#include "data/patients.h"
#include "data/preprocess.h"
#include "sim/clients/partition.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma::data;

namespace {

const char* const kGliCase = "brainlesion-tutorials/BraTS/data/segmentation/BraTS-GLI-00001-000";
const char* const kSegmentations = "datasets2026/files/deep_quality_estimation/tests/data";

// `root`/<id>/<id>-<suffix>.nii.gz linked to `source`/<source_id>-<suffix>.nii.gz for the four modalities.
void link_case(const fs::path& root, const std::string& id, const fs::path& source, const std::string& source_id) {
  fs::create_directories(root / id);
  for (const char* s : {"t1n", "t1c", "t2w", "t2f"})
    fs::create_symlink(source / (source_id + "-" + s + ".nii.gz"), root / id / (id + "-" + s + ".nii.gz"));
}

void touch_case(const fs::path& root, const std::string& id, bool seg) {
  fs::create_directories(root / id);
  for (const char* s : {"t1n", "t1c", "t2w", "t2f", "seg"})
    if (seg || std::string(s) != "seg") fedglioma::write_file_atomic(root / id / (id + "-" + s + ".nii.gz"), "");
}

std::size_t count(const std::vector<std::uint8_t>& v, std::uint8_t value) {
  return static_cast<std::size_t>(std::count(v.begin(), v.end(), value));
}

}  // namespace

TEST_CASE("brats2023 reads the real BraTS 2023 case: t1n t1c t2w t2f, and its 2023-label segmentation",
          "[data][layouts][brats2023][shared][may_skip]") {
  const fs::path shared = fedglioma::testing::shared_data_dir();
  if (shared.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path root = fedglioma::testing::temp_dir("brats2023-real") / "ASNR-MICCAI-BraTS2023-GLI-Challenge-TrainingData";
  const std::string id = "BraTS-GLI-00001-000";
  link_case(root, id, shared / kGliCase, id);
  fs::create_symlink(shared / kSegmentations / "seg-BraTS23_1.nii.gz", root / id / (id + "-seg.nii.gz"));

  LayoutOptions o;
  o.layout = "brats2023";
  o.root = root;
  const Manifest m = build_manifest(o);  // the release (2023) from the folder's name
  REQUIRE(m.cases.size() == 1);
  const Case& c = m.cases[0];
  REQUIRE(c.id == id);
  REQUIRE(c.patient == "BraTS-GLI-00001");
  REQUIRE(c.label_convention == "brats2023");
  REQUIRE(c.images[0].filename() == id + "-t1n.nii.gz");
  REQUIRE(c.images[1].filename() == id + "-t1c.nii.gz");
  REQUIRE(c.images[2].filename() == id + "-t2w.nii.gz");
  REQUIRE(c.images[3].filename() == id + "-t2f.nii.gz");

  const MaskVolume labels = read_labels(*c.mask);
  REQUIRE(count(labels.voxels, 1) == 17878);
  REQUIRE(count(labels.voxels, 2) == 88029);
  REQUIRE(count(labels.voxels, 3) == 23327);
  const auto tumour = whole_tumour(labels.voxels, label_convention("brats2023"), "seg");
  REQUIRE(count(tumour, 1) == 129234);

  // The same voxels stored with the 2021 labels (3 -> 4) give the same whole tumour under 2021's
  // convention, and are refused under 2023's (a 4 is not a 2023 label).
  const fs::path mapped = shared / kSegmentations / "seg-BraTS23_1_mapped.nii.gz";
  const MaskVolume labels_2021 = read_labels(mapped);
  REQUIRE(whole_tumour(labels_2021.voxels, label_convention("brats2021"), "seg") == tumour);
  REQUIRE_THROWS_WITH(whole_tumour(labels_2021.voxels, label_convention("brats2023"), "the mapped seg"),
                      Contains("the mapped seg") && Contains("label 4") && Contains("brats2023"));

  // ... but that file's affine (identity, RAS) is not the images' (LPS): refused, not resampled.
  PreprocessOptions options;
  options.size = {48, 48, 32};
  options.spacing = {4.0, 4.0, 5.0};
  Case wrong = c;
  wrong.mask = mapped;
  wrong.label_convention = "brats2021";
  REQUIRE_THROWS_WITH(preprocess_case(wrong, options), Contains("seg-BraTS23_1_mapped") && Contains("not on the grid"));
  const Sample s = preprocess_case(c, options);
  REQUIRE(s.has_mask);
  REQUIRE(std::count(s.mask.begin(), s.mask.end(), 1) > 0);
  REQUIRE(s.patient == "BraTS-GLI-00001");
}

TEST_CASE("brats2023: the 2024 post-treatment release's resection cavity (4) is not tumour", "[data][layouts][brats2023]") {
  const LabelConvention& post = label_convention("brats2024");
  REQUIRE(whole_tumour({0, 1, 2, 3, 4}, post, "seg") == std::vector<std::uint8_t>{0, 1, 1, 1, 0});
  REQUIRE(whole_tumour({0, 1, 2, 3, 4}, label_convention(""), "seg") == std::vector<std::uint8_t>{0, 1, 1, 1, 1});
  REQUIRE_THROWS_WITH(whole_tumour({5}, post, "seg"), Contains("label 5") && Contains("resection cavity"));

  const fs::path base = fedglioma::testing::temp_dir("brats2023-release");
  touch_case(base / "BraTS2024-BraTS-GLI-TrainingData", "BraTS-GLI-02073-100", true);
  touch_case(base / "plain", "BraTS-GLI-00002-000", true);
  LayoutOptions o;
  o.layout = "brats2023";
  o.root = base / "BraTS2024-BraTS-GLI-TrainingData";
  REQUIRE(build_manifest(o).cases[0].label_convention == "brats2024");
  o.release = "2023";  // the folder says 2024: a contradiction, not a choice
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("--release 2023") && Contains("BraTS 2024"));
  o.root = base / "plain";
  o.release.clear();  // neither the path nor an option says: never guessed from the labels
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("release") && Contains("--release 2024"));
  o.release = "2023";
  REQUIRE(build_manifest(o).cases[0].label_convention == "brats2023");
  o.release = "2022";
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("--release '2022'"));
  o.layout = "brats2021";
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("--release applies to --layout brats2023"));
}

TEST_CASE("brats2023: a patient's timepoints stay together in the leakage check and in every partition",
          "[data][layouts][brats2023]") {
  const fs::path root = fedglioma::testing::temp_dir("brats2023-timepoints");
  for (const char* id : {"BraTS-GLI-00008-000", "BraTS-GLI-00008-001", "BraTS-GLI-00009-000", "BraTS-GLI-00010-000",
                         "BraTS-GLI-00011-000", "BraTS-GLI-00012-000", "BraTS-GLI-00012-001"})
    touch_case(root / "TrainingData", id, true);
  touch_case(root / "ValidationData", "BraTS-GLI-00013-000", false);  // validation: no -seg
  LayoutOptions o;
  o.layout = "brats2023";
  o.root = root;
  o.release = "2023";
  Manifest m = build_manifest(o);
  REQUIRE(m.cases.size() == 8);
  REQUIRE(m.cases[0].patient == m.cases[1].patient);
  REQUIRE_FALSE(m.cases[7].mask.has_value());

  m.cases[1].split = "external";  // one timepoint held out, the other trained on: a leak
  REQUIRE_THROWS_WITH(check_patient_leakage(m), Contains("BraTS-GLI-00008-001") && Contains("BraTS-GLI-00008-000"));
  m.cases[1].split = "train";
  REQUIRE_NOTHROW(check_patient_leakage(m));

  std::vector<Sample> samples(m.cases.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i].id = m.cases[i].id;
    samples[i].patient = m.cases[i].patient_id();
    samples[i].site = "brats";
    samples[i].split = "train";
  }
  for (const char* scheme : {"iid", "quantity", "dirichlet"})
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      fedglioma::sim::PartitionConfig config;
      config.scheme = scheme;
      config.num_clients = 2;
      config.alpha = 1.0;
      config.val_fraction = 0.5;
      const auto partition = fedglioma::sim::make_partition(samples, config, "federated", seed);
      std::map<std::string, std::set<std::string>> where;  // patient -> client/side
      for (const auto& client : partition.clients) {
        for (const Sample* s : client.train) where[s->patient].insert(client.id + "/train");
        for (const Sample* s : client.val) where[s->patient].insert(client.id + "/val");
      }
      INFO(scheme << " seed " << seed);
      for (const auto& [patient, places] : where) REQUIRE(places.size() == 1);
    }
}

TEST_CASE("brats2023 refuses the other BraTS tasks (the real BraTS-MET case) as not glioma",
          "[data][layouts][brats2023][shared][may_skip]") {
  const fs::path shared = fedglioma::testing::shared_data_dir();
  if (shared.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path root = fedglioma::testing::temp_dir("brats2023-met") / "BraTS2023-MET-TrainingData";
  link_case(root, "BraTS-MET-00110-000", shared / "datasets2026/files/preprocessing/AURORA/example_data",
            "BraTS-MET-00110-000");
  LayoutOptions o;
  o.layout = "brats2023";
  o.root = root;
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("BraTS-MET-00110-000") && Contains("metastases") &&
                                             Contains("not glioma"));
  touch_case(root, "BraTS-PED-00001-000", true);
  fs::remove_all(root / "BraTS-MET-00110-000");
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("BraTS-PED") && Contains("paediatric"));
}
