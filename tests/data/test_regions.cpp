// The BraTS regions (whole tumour, tumour core, enhancing tumour) from each release's labels,
// on the real BraTS 2023 segmentation and its 2021-labelled copy in ../shared/data.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/error.h"
#include "data/label_conventions.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "data/preprocess.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma::data;
namespace testing = fedglioma::testing;

namespace {

const char* const kSegmentations = "datasets2026/files/deep_quality_estimation/tests/data";

std::size_t count_bit(const std::vector<std::uint8_t>& codes, std::uint8_t bit) {
  return static_cast<std::size_t>(std::count_if(codes.begin(), codes.end(), [&](std::uint8_t c) { return (c & bit) != 0; }));
}

std::vector<std::uint8_t> regions(std::vector<std::uint8_t> labels, const char* convention) {
  return tumour_regions(labels, label_convention(convention), "labels");
}

}  // namespace

TEST_CASE("the BraTS regions of the same voxels are identical from 2021 and 2023 labels", "[regions][may_skip]") {
  const fs::path shared = testing::shared_data_dir();
  if (shared.empty()) return (void)testing::skip("../shared/data is not here (the real BraTS 2023 segmentation)");
  const MaskVolume labels_2023 = read_labels(shared / kSegmentations / "seg-BraTS23_1.nii.gz");
  const MaskVolume labels_2021 = read_labels(shared / kSegmentations / "seg-BraTS23_1_mapped.nii.gz");
  const auto codes = tumour_regions(labels_2023.voxels, label_convention("brats2023"), "seg");
  REQUIRE(codes == tumour_regions(labels_2021.voxels, label_convention("brats2021"), "mapped seg"));
  // 17,878 necrotic, 88,029 oedema, 23,327 enhancing voxels.
  REQUIRE(count_bit(codes, kWholeTumourBit) == 129234);
  REQUIRE(count_bit(codes, kTumourCoreBit) == 17878 + 23327);
  REQUIRE(count_bit(codes, kEnhancingBit) == 23327);
  // The label map predict writes gives the 2023 labels back.
  for (std::size_t v = 0; v < codes.size(); ++v)
    if (brats2023_label(codes[v]) != labels_2023.voxels[v]) FAIL("voxel " << v << " does not come back");
  REQUIRE_THROWS_WITH(tumour_regions(labels_2023.voxels, label_convention("binary"), "seg"),
                      Contains("does not tell the tumour's sub-regions apart"));
  REQUIRE_THROWS_WITH(tumour_regions(labels_2021.voxels, label_convention("brats2023"), "the mapped seg"),
                      Contains("the mapped seg holds label 4"));
}

TEST_CASE("each release's labels give its regions", "[regions]") {
  REQUIRE(regions({0, 1, 2, 4}, "brats2021") == std::vector<std::uint8_t>{0, 3, 1, 7});
  REQUIRE(regions({0, 1, 2, 3}, "brats2023") == std::vector<std::uint8_t>{0, 3, 1, 7});
  // 2024's post-treatment labels: 4 is the resection cavity, not tumour.
  REQUIRE(regions({0, 1, 2, 3, 4}, "brats2024") == std::vector<std::uint8_t>{0, 3, 1, 7, 0});
  // The Decathlon's order: 1 edema, 2 non-enhancing tumour, 3 enhancing.
  REQUIRE(regions({0, 1, 2, 3}, "msd") == std::vector<std::uint8_t>{0, 1, 3, 7});
  REQUIRE_FALSE(label_convention("").has_regions());
  REQUIRE_FALSE(label_convention("binary").has_regions());
}

TEST_CASE("preprocessing keeps region codes only when the run asks for the regions", "[regions]") {
  const Manifest cohort = load_manifest(testing::tiny_cohort());
  const auto grade4 = std::find_if(cohort.cases.begin(), cohort.cases.end(), [](const Case& c) { return c.labels.grade == 4; });
  REQUIRE(grade4 != cohort.cases.end());
  REQUIRE(grade4->label_convention == "brats2023");  // the synthetic masks carry a core and an enhancing rim
  PreprocessOptions options;
  options.size = {16, 16, 16};
  options.spacing = {12.0, 12.0, 12.0};
  const Sample whole = preprocess_case(*grade4, options);
  options.regions = true;
  const Sample coded = preprocess_case(*grade4, options);
  REQUIRE_FALSE(whole.has_regions);
  REQUIRE(coded.has_regions);
  REQUIRE(std::all_of(whole.mask.begin(), whole.mask.end(), [](std::uint8_t v) { return v <= 1; }));
  for (std::size_t v = 0; v < whole.mask.size(); ++v) REQUIRE(whole.mask[v] == (coded.mask[v] != 0 ? 1 : 0));
  REQUIRE(count_bit(coded.mask, kEnhancingBit) > 0);
  REQUIRE(count_bit(coded.mask, kTumourCoreBit) > count_bit(coded.mask, kEnhancingBit));
  // A binary mask has no sub-regions: the whole tumour, flagged as such.
  Case binary = *grade4;
  binary.label_convention = "";
  REQUIRE_FALSE(preprocess_case(binary, options).has_regions);
}
