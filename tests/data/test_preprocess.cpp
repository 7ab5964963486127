#include <catch2/catch.hpp>

#include <cmath>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/metrics.h"
#include "data/cache.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "data/preprocess.h"
#include "data/scan_checks.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma::data;

namespace {

const char* kBratsCase = "brainlesion-tutorials/BraTS-Toolkit/data/OtherEXampleFromTCIA/OtherEXampleFromTCIA_brainles";
const char* kNativeCase = "brainlesion-tutorials/BraTS-Toolkit/data/OtherEXampleFromTCIA";
const char* kDeepmedicCase =
    "deepmedic-brats2015/examples/dataForExamples/brats2015TrainingData/test/brats_2013_pat0001_1";

// Mean and standard deviation of each channel over the voxels where any channel is non-zero.
void require_zscored(const Sample& s) {
  const std::size_t n = static_cast<std::size_t>(s.geometry.voxel_count());
  for (std::size_t m = 0; m < 4; ++m) {
    double sum = 0, sum_sq = 0, count = 0;
    for (std::size_t v = 0; v < n; ++v) {
      bool inside = false;
      for (std::size_t c = 0; c < 4; ++c) inside |= s.image[c * n + v] != 0.0f;
      const float x = s.image[m * n + v];
      REQUIRE(std::isfinite(x));
      if (!inside) continue;
      sum += x;
      sum_sq += static_cast<double>(x) * x;
      ++count;
    }
    REQUIRE(count > 0);
    const double mean = sum / count;
    REQUIRE(mean == Approx(0.0).margin(1e-3));
    REQUIRE(std::sqrt(sum_sq / count - mean * mean) == Approx(1.0).epsilon(1e-3));
  }
}

Case brats_case(const fs::path& root) {
  const fs::path dir = root / kBratsCase;
  Case c;
  c.id = "TCGA-FG-6692";
  c.site = "tcga";
  c.split = "train";
  c.images = {dir / "raw_bet/OtherEXampleFromTCIA_t1_bet.nii.gz", dir / "raw_bet/OtherEXampleFromTCIA_t1c_bet.nii.gz",
              dir / "raw_bet/OtherEXampleFromTCIA_t2_bet.nii.gz", dir / "raw_bet/OtherEXampleFromTCIA_fla_bet.nii.gz"};
  c.mask = dir / "fusion/mav.nii.gz";
  return c;
}

}  // namespace

TEST_CASE("preprocessing a BraTS-space case gives the shape and z-scores and an exact round trip of the mask",
          "[data][preprocess][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  // Prepare: 1 mm, a grid that holds the whole brain, so nothing is interpolated or cut.
  PreprocessOptions options;
  options.size = {160, 192, 160};
  options.spacing = {1.0, 1.0, 1.0};
  const Case c = brats_case(root);

  // Execute
  GridMapping mapping;
  const Sample s = preprocess_case(c, options, &mapping);

  // Assert: the grid, the normalisation, the whole tumour (labels 1, 2, 4), the way back.
  REQUIRE(s.geometry.size == options.size);
  REQUIRE(s.image.size() == 4u * 160 * 192 * 160);
  require_zscored(s);
  std::size_t tumour = 0;
  for (auto v : s.mask) tumour += v;
  REQUIRE(tumour == 2477 + 20862 + 6840);
  MaskVolume on_grid;
  on_grid.geometry = s.geometry;
  on_grid.voxels = s.mask;
  const MaskVolume back = to_original_grid(on_grid, mapping);
  const MaskVolume original = read_labels(*c.mask);
  REQUIRE(back.geometry.same_grid(original.geometry));
  std::vector<std::uint8_t> original_binary(original.voxels.size());
  for (std::size_t v = 0; v < original.voxels.size(); ++v) original_binary[v] = original.voxels[v] != 0;
  REQUIRE(fedglioma::dice(back.voxels.data(), original_binary.data(), back.voxels.size()) == 1.0);
}

TEST_CASE("a modality or mask on another grid is refused from its header, before its voxels are read",
          "[data][preprocess]") {
  // Each off-grid file is cut after its header: had its voxels been read (a 512^3 series would
  // have been inflated in full first), the error would be "truncated", not the grid.
  const fs::path dir = fedglioma::testing::temp_dir("preprocess-header-grid");
  FloatVolume scan;
  scan.geometry.size = {6, 6, 4};
  for (int i = 0; i < 144; ++i) scan.voxels.push_back(static_cast<float>(i % 7));
  FloatVolume other = scan;
  other.geometry.size = {12, 6, 2};
  const auto header_only = [&](const fs::path& path) {
    write_image(path, other);
    fs::resize_file(path, 352);
    return path;
  };
  Case c;
  c.id = "case-7";
  for (std::size_t m = 0; m < 4; ++m) {
    c.images[m] = dir / ("m" + std::to_string(m) + ".nii");
    write_image(c.images[m], scan);
  }
  const fs::path on_grid = c.images[2];
  c.images[2] = header_only(dir / "big.nii");
  PreprocessOptions options;
  REQUIRE_THROWS_WITH(preprocess_case(c, options), Contains("case 'case-7'") && Contains("big.nii' (12x6x2 voxels") &&
                                                       Contains("is not on the grid of") && !Contains("truncated"));
  c.images[2] = on_grid;
  c.mask = header_only(dir / "mask.nii");
  REQUIRE_THROWS_WITH(preprocess_case(c, options), Contains("mask '") && Contains("is not on the grid of") && !Contains("truncated"));
}

TEST_CASE("native oblique scans on different grids are rejected or resampled by config",
          "[data][preprocess][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path dir = root / kNativeCase;
  Case c;
  c.id = "TCGA-FG-6692-native";
  c.site = "tcga";
  c.split = "train";
  c.images = {dir / "T1_AX_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_T1_AX_SE_10_se2d1_t1.nii.gz",
              dir / "MRHR_T1_AX_POST_GAD_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_MRHR_T1_AX_POST_GAD_SE_13_se2d1r_t1c.nii.gz",
              dir / "MRHR_T2_AX_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_MRHR_T2_AX_SE_2_tse2d1_11_t2.nii.gz",
              dir / "MRHR_FLAIR_AX_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_MRHR_FLAIR_AX_SE_IR_5_tir2d1_21_fla.nii.gz"};
  // The native T1 is 256x224x26 at 0.898 x 0.898 x 5.5 mm with an oblique direction.
  const FloatVolume t1 = read_image(c.images[0]);
  REQUIRE(t1.geometry.size == std::array<std::int64_t, 3>{256, 224, 26});
  REQUIRE(t1.geometry.spacing[2] == Approx(5.5));
  // The header's affine (nibabel, RAS): translation (113.656, -74.616, -46.859), first axis
  // (-0.8968, 0.0041, -0.0545) / 0.8984 mm. ITK's world is LPS: x and y change sign.
  REQUIRE(t1.geometry.origin[0] == Approx(-113.656).margin(0.01));
  REQUIRE(t1.geometry.origin[1] == Approx(74.616).margin(0.01));
  REQUIRE(t1.geometry.origin[2] == Approx(-46.859).margin(0.01));
  REQUIRE(t1.geometry.direction[0] == Approx(0.8968 / 0.8984).margin(1e-3));
  REQUIRE(t1.geometry.direction[6] == Approx(-0.0545 / 0.8984).margin(1e-3));  // oblique

  PreprocessOptions options;
  options.size = {64, 64, 48};
  options.spacing = {3.0, 3.0, 3.0};
  REQUIRE_THROWS_WITH(preprocess_case(c, options),
                      Contains("TCGA-FG-6692-native") && Contains("t2.nii.gz") && Contains("t1.nii.gz") &&
                          Contains("data.on_geometry_mismatch"));
  // These series are not co-registered (the T1 at the orbits where the FLAIR shows the
  // ventricles): resampling cannot align them, so they are refused whatever the setting.
  options.on_mismatch = "resample";
  REQUIRE_THROWS_WITH(preprocess_case(c, options), Contains("TCGA-FG-6692-native") && Contains("not co-registered") &&
                                                       Contains("t2.nii.gz") && Contains("mm apart"));
  REQUIRE(skull_warning(t1, c.images[0]).has_value());  // a native scan: the skull is on
  // Through preprocessing: the warning reaches PreprocessOptions::warn, naming the case and file.
  Case skull = c;
  skull.images = {c.images[0], c.images[0], c.images[0], c.images[0]};
  std::vector<std::string> warnings;
  options.warn = [&warnings](const std::string& w) { warnings.push_back(w); };
  preprocess_case(skull, options);
  REQUIRE(warnings.size() == 1);
  REQUIRE_THAT(warnings[0], Contains("TCGA-FG-6692-native") && Contains("se2d1_t1.nii.gz") && Contains("skull"));
}

TEST_CASE("co-registered modalities on different grids are resampled; a skull-stripped scan raises no skull warning",
          "[data][preprocess][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path dir = root / "brainlesion-tutorials/BraTS/data/segmentation/BraTS-GLI-00001-000";
  Case c;
  c.id = "BraTS-GLI-00001-000";
  c.site = "brats";
  c.split = "train";
  c.images = {dir / (c.id + "-t1n.nii.gz"), dir / (c.id + "-t1c.nii.gz"), dir / (c.id + "-t2w.nii.gz"),
              dir / (c.id + "-t2f.nii.gz")};
  // The T2 moved onto a coarser grid in the same world: still co-registered.
  const FloatVolume t2 = read_image(c.images[2]);
  Geometry coarse = t2.geometry;
  coarse.spacing = {2.0, 2.0, 2.5};
  coarse.size = {120, 120, 62};
  const fs::path moved = fedglioma::testing::temp_dir("coregistered") / "t2-coarse.nii.gz";
  write_image(moved, resample(t2, coarse, Interpolation::kLinear));
  c.images[2] = moved;
  PreprocessOptions options;
  options.size = {40, 48, 32};
  options.spacing = {4.0, 4.0, 5.0};
  std::vector<std::string> warnings;
  options.warn = [&warnings](const std::string& w) { warnings.push_back(w); };
  REQUIRE_THROWS_WITH(preprocess_case(c, options), Contains("t2-coarse.nii.gz") && Contains("data.on_geometry_mismatch"));
  options.on_mismatch = "resample";
  const Sample s = preprocess_case(c, options);
  require_zscored(s);
  REQUIRE(warnings.empty());
  const auto centres = std::make_pair(head_centre(read_image(c.images[0])), head_centre(read_image(moved)));
  REQUIRE(std::hypot(centres.first[0] - centres.second[0], centres.first[1] - centres.second[1],
                     centres.first[2] - centres.second[2]) < 2.0);
}

TEST_CASE("BraTS 2015 labels (3 = non-enhancing tumour) count as whole tumour and float images read as stored",
          "[data][preprocess][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path dir = root / kDeepmedicCase;
  // deepmedic ships FLAIR and T1c only (float32, sform-only headers): they stand in for all four.
  Case c;
  c.id = "brats_2013_pat0001_1";
  c.site = "brats2015";
  c.split = "train";
  c.images = {dir / "T1c_subtrMeanDivStd.nii.gz", dir / "T1c_subtrMeanDivStd.nii.gz", dir / "Flair_subtrMeanDivStd.nii.gz",
              dir / "Flair_subtrMeanDivStd.nii.gz"};
  c.mask = dir / "OTMultiClass.nii.gz";
  const FloatVolume flair = read_image(c.images[2]);
  const auto [lo, hi] = std::minmax_element(flair.voxels.begin(), flair.voxels.end());
  REQUIRE(*lo == Approx(-3.624).margin(1e-3));
  REQUIRE(*hi == Approx(9.156).margin(1e-3));

  PreprocessOptions options;
  options.size = {160, 192, 160};
  options.spacing = {1.0, 1.0, 1.0};
  const Sample s = preprocess_case(c, options);
  std::size_t tumour = 0;
  for (auto v : s.mask) tumour += v;
  REQUIRE(tumour == 26371 + 53050 + 818 + 31485);
}

TEST_CASE("scl_slope/scl_inter-scaled and qform-only masks read as labels", "[data][io][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  // int32 with scl_slope = 2^-32, scl_inter = 0.5: raw {-2^31, 2147483520} -> {0, 0.99999997}.
  const MaskVolume brain = read_labels(root / kDeepmedicCase / "brainmask.nii.gz");
  std::size_t ones = 0;
  for (auto v : brain.voxels) {
    REQUIRE(v <= 1);
    ones += v;
  }
  REQUIRE(ones > 100000);
  // sform_code 0, qform_code 1: the quaternion gives the BraTS-space geometry of its sibling.
  const fs::path gli = root / "brainlesion-tutorials/BraTS/data";
  const MaskVolume inpaint = read_labels(gli / "inpainting/BraTS-GLI-00001-000/BraTS-GLI-00001-000-mask.nii.gz");
  const FloatVolume t1n = read_image(gli / "segmentation/BraTS-GLI-00001-000/BraTS-GLI-00001-000-t1n.nii.gz");
  REQUIRE(inpaint.geometry.same_grid(t1n.geometry));
  std::size_t masked = 0;
  for (auto v : inpaint.voxels) masked += v;
  REQUIRE(masked == 297936);
}

TEST_CASE("unknown mask labels and constant images are errors naming the case and file", "[data][preprocess]") {
  const Manifest manifest = load_manifest(fedglioma::testing::tiny_cohort());
  PreprocessOptions options;
  options.size = {16, 16, 16};
  options.spacing = {12, 12, 12};
  const fs::path dir = fedglioma::testing::temp_dir("bad-preprocess");

  Case c = manifest.cases[0];
  MaskVolume mask = read_labels(*c.mask);
  mask.voxels[100] = 7;
  c.mask = dir / "mask7.nii.gz";
  write_labels(*c.mask, mask);
  REQUIRE_THROWS_WITH(preprocess_case(c, options), Contains(c.id) && Contains("mask7.nii.gz") && Contains("label 7"));

  c = manifest.cases[0];
  FloatVolume flat = read_image(c.images[1]);
  for (float& v : flat.voxels) v = v != 0.0f ? 5.0f : 0.0f;
  c.images[1] = dir / "flat.nii.gz";
  write_image(c.images[1], flat);
  REQUIRE_THROWS_WITH(preprocess_case(c, options), Contains(c.id) && Contains("t1c") && Contains("constant"));

  c = manifest.cases[0];
  FloatVolume zero = read_image(c.images[0]);
  std::fill(zero.voxels.begin(), zero.voxels.end(), 0.0f);
  for (auto& image : c.images) {
    image = dir / "zero.nii.gz";
  }
  write_image(dir / "zero.nii.gz", zero);
  REQUIRE_THROWS_WITH(preprocess_case(c, options), Contains("zero.nii.gz") && Contains("all zero"));
}

TEST_CASE("the cache returns what preprocessing gave and misses on changes and rebuilds damaged entries",
          "[data][cache]") {
  const Manifest manifest = load_manifest(fedglioma::testing::tiny_cohort());
  PreprocessOptions options;
  options.size = {16, 16, 16};
  options.spacing = {12, 12, 12};
  const SampleCache cache(fedglioma::testing::temp_dir("cache-unit"));
  const Case& c = manifest.cases[2];

  REQUIRE_FALSE(cache.load(c, options).has_value());
  const Sample fresh = preprocess_case(c, options);
  cache.store(c, options, fresh);
  const auto cached = cache.load(c, options);
  REQUIRE(cached.has_value());
  REQUIRE(cached->image == fresh.image);
  REQUIRE(cached->mask == fresh.mask);
  REQUIRE(cached->geometry.same_grid(fresh.geometry));
  REQUIRE(cached->id == c.id);

  PreprocessOptions other = options;
  other.spacing = {11, 12, 12};
  REQUIRE_FALSE(cache.load(c, other).has_value());  // a parameter is part of the key

  // Truncate the entry: it is detected, removed and not loaded.
  const fs::path entry = cache.entry_path(c, options);
  std::string bytes = fedglioma::read_file(entry);
  fedglioma::write_file_atomic(entry, bytes.substr(0, bytes.size() / 2));
  REQUIRE_FALSE(cache.load(c, options).has_value());
  REQUIRE_FALSE(fs::exists(entry));
  // Flip one byte of the payload: the checksum catches it.
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x40);
  fedglioma::write_file_atomic(entry, bytes);
  REQUIRE_FALSE(cache.load(c, options).has_value());

  // load_samples fills the cache, then reads it.
  const auto first = load_samples({&c}, options, cache, 1);
  REQUIRE(fs::exists(entry));
  const auto second = load_samples({&c}, options, cache, 1);
  REQUIRE(second[0].image == first[0].image);
}
