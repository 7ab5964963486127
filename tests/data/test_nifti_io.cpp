#include <catch2/catch.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using namespace fedglioma::data;

TEST_CASE("NIfTI write then read keeps voxels and geometry", "[data][io]") {
  FloatVolume v;
  v.geometry.size = {5, 4, 3};
  v.geometry.spacing = {0.9, 1.1, 2.5};
  v.geometry.origin = {-10.5, 3.25, 7.0};
  v.geometry.direction = {0, 1, 0, -1, 0, 0, 0, 0, 1};
  for (int i = 0; i < 60; ++i) v.voxels.push_back(static_cast<float>(i) * 0.5f - 3.0f);
  const fs::path path = fedglioma::testing::temp_dir("io") / "v.nii.gz";

  write_image(path, v);
  const FloatVolume back = read_image(path);

  REQUIRE(back.voxels == v.voxels);
  REQUIRE(back.geometry.same_grid(v.geometry));
  REQUIRE(back.geometry.direction[1] == Approx(1.0));
  REQUIRE(fs::directory_iterator(path.parent_path()) != fs::directory_iterator());
  for (const auto& e : fs::directory_iterator(path.parent_path()))
    REQUIRE(e.path().filename().string().rfind(".tmp", 0) != 0);  // no temporary left behind
}

TEST_CASE("reading a real BraTS-space sample gives its geometry", "[data][io][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path dir = root / "brainlesion-tutorials/BraTS-Toolkit/data/OtherEXampleFromTCIA/OtherEXampleFromTCIA_brainles";
  const FloatVolume t1 = read_image(dir / "raw_bet/OtherEXampleFromTCIA_t1_bet.nii.gz");
  REQUIRE(t1.geometry.size == std::array<std::int64_t, 3>{240, 240, 155});
  REQUIRE(t1.geometry.spacing[2] == Approx(1.0));
  // BraTS space: srow = diag(-1, -1, 1) with origin (0, 239, 0) in RAS, which ITK's LPS world
  // reads as an identity direction with origin (0, -239, 0).
  REQUIRE(t1.geometry.origin[0] == Approx(0.0).margin(1e-4));
  REQUIRE(t1.geometry.origin[1] == Approx(-239.0));
  REQUIRE(t1.geometry.origin[2] == Approx(0.0).margin(1e-4));
  REQUIRE(t1.geometry.direction == std::array<double, 9>{1, 0, 0, 0, 1, 0, 0, 0, 1});
  // BraTS labels {0, 1, 2, 4}: PROVENANCE.md counts 2477 + 20862 + 6840 tumour voxels.
  const MaskVolume seg = read_labels(dir / "fusion/mav.nii.gz");
  std::size_t tumour = 0;
  for (auto l : seg.voxels) tumour += l != 0;
  REQUIRE(tumour == 2477 + 20862 + 6840);
  REQUIRE(seg.geometry.same_grid(t1.geometry));
}

TEST_CASE("a scan's grid read from its header alone is the grid read with its voxels", "[data][io][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path tcia = root / "brainlesion-tutorials/BraTS-Toolkit/data/OtherEXampleFromTCIA";
  for (const fs::path& file :  // an oblique native series, a BraTS-space scan, a BraTS 2015 mask
       {tcia / "T1_AX_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_T1_AX_SE_10_se2d1_t1.nii.gz",
        tcia / "OtherEXampleFromTCIA_brainles/fusion/mav.nii.gz",
        root / "deepmedic-brats2015/examples/dataForExamples/brats2015TrainingData/test/brats_2013_pat0001_1/OTMultiClass.nii.gz"}) {
    INFO(file);
    const Geometry header = read_geometry(file), full = read_image(file).geometry;
    REQUIRE(header.size == full.size);
    REQUIRE(header.spacing == full.spacing);
    REQUIRE(header.origin == full.origin);
    REQUIRE(header.direction == full.direction);
  }
}

TEST_CASE("bad image files give errors naming the file", "[data][io]") {
  using Catch::Contains;
  const fs::path dir = fedglioma::testing::temp_dir("io-bad");
  REQUIRE_THROWS_WITH(read_image(dir / "missing.nii.gz"), Contains("missing.nii.gz") && Contains("does not exist"));
  fedglioma::write_file_atomic(dir / "junk.nii.gz", "this is not an image");
  REQUIRE_THROWS_AS(read_image(dir / "junk.nii.gz"), fedglioma::DataError);

  FloatVolume v;
  v.geometry.size = {2, 2, 2};
  v.voxels = {0, 1, 2, 0.5f, 0, 0, 0, 0};
  write_image(dir / "half.nii.gz", v);
  REQUIRE_THROWS_WITH(read_labels(dir / "half.nii.gz"), Contains("half.nii.gz") && Contains("whole number"));
}
