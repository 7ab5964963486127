#include <catch2/catch.hpp>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/random.h"
#include "data/dataset.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "data/synth.h"
#include "experiments/cli_synth.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using namespace fedglioma::data;

TEST_CASE("synth with the same seed writes byte-identical files", "[data][synth][determinism]") {
  // Prepare
  SynthOptions options;
  options.sites = 2;
  options.cases_per_site = 2;
  options.external_cases = 1;
  options.size = 16;
  options.seed = 11;
  options.out = fedglioma::testing::temp_dir("synth-a");
  SynthOptions again = options;
  again.out = fedglioma::testing::temp_dir("synth-b");
  SynthOptions other = options;
  other.out = fedglioma::testing::temp_dir("synth-c");
  other.seed = 12;

  // Execute
  write_synthetic_cohort(options);
  write_synthetic_cohort(again);
  write_synthetic_cohort(other);

  // Assert: every file of the first cohort equals its twin; another seed changes the images.
  std::size_t files = 0, differing = 0;
  for (const auto& entry : fs::recursive_directory_iterator(options.out)) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = fs::relative(entry.path(), options.out);
    REQUIRE(fedglioma::read_file(entry.path()) == fedglioma::read_file(again.out / rel));
    differing += fedglioma::read_file(entry.path()) != fedglioma::read_file(other.out / rel);
    ++files;
  }
  REQUIRE(files == 5 * 5 + 1);  // five cases of five files, and the manifest
  REQUIRE(differing >= 20);
}

TEST_CASE("synth writes a manifest in the DESIGN format with sites that miss labels", "[data][synth]") {
  const Manifest manifest = load_manifest(fedglioma::testing::tiny_cohort());
  REQUIRE(manifest.cases.size() == 2 * 6 + 4);
  std::size_t external = 0;
  for (const Case& c : manifest.cases) {
    REQUIRE(fs::exists(c.images[0]));
    REQUIRE(c.mask.has_value());
    REQUIRE(c.labels.idh.has_value());
    REQUIRE(c.labels.grade.has_value());
    if (c.site == "site-b") REQUIRE_FALSE(c.labels.codeletion_1p19q.has_value());  // like UPenn-GBM
    if (c.site == "site-a") REQUIRE(c.labels.codeletion_1p19q.has_value());
    if (c.site == "external") {
      ++external;
      REQUIRE(c.split == "external");
      REQUIRE(c.labels.mgmt.has_value());
    }
  }
  REQUIRE(external == 4);
}

TEST_CASE("synth writes real NIfTI geometry", "[data][synth]") {
  const Manifest manifest = load_manifest(fedglioma::testing::tiny_cohort());
  const FloatVolume t1 = read_image(manifest.cases[0].images[0]);
  REQUIRE(t1.geometry.size == std::array<std::int64_t, 3>{16, 16, 16});
  REQUIRE(t1.geometry.spacing[0] == Approx(12.0));
  REQUIRE(t1.geometry.origin[0] == Approx(-90.0));
  REQUIRE(read_labels(*manifest.cases[0].mask).geometry.same_grid(t1.geometry));
}

TEST_CASE("synthetic labels have the structure of real cohorts", "[data][synth]") {
  const SiteProfile site = site_profile(0, 3, 1);
  int idh_mutant = 0, codeleted = 0, codeleted_wildtype = 0, low_grade_mutant = 0, high_grade_wildtype = 0;
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    // Labels come first in a case's draw, so a small grid keeps this fast.
    const SynthCase c = synthesize_case(site, 8, fedglioma::derive_seed(1, 0, i, fedglioma::RngPurpose::kSynthCase));
    idh_mutant += *c.labels.idh;
    codeleted += *c.labels.codeletion_1p19q;
    codeleted_wildtype += *c.labels.codeletion_1p19q && !*c.labels.idh;
    low_grade_mutant += *c.labels.idh && *c.labels.grade < 4;
    high_grade_wildtype += !*c.labels.idh && *c.labels.grade == 4;
  }
  const int wildtype = n - idh_mutant;
  REQUIRE(codeleted_wildtype == 0);                 // 1p/19q co-deletion only in IDH-mutant tumours
  REQUIRE(codeleted > 0);
  REQUIRE(low_grade_mutant > 0.7 * idh_mutant);     // IDH-mutant mostly grade 2-3
  REQUIRE(high_grade_wildtype > 0.7 * wildtype);    // wild-type mostly grade 4
  REQUIRE(idh_mutant == Approx(site.p_idh_mutant * n).margin(0.1 * n));
}

TEST_CASE("synthetic images carry the imaging signatures of their markers", "[data][synth]") {
  // Mean of a modality (z-scored) over the tumour mask, for cases grouped by a label.
  const SiteProfile site = site_profile(0, 3, 2);
  double t1c_high = 0, t1c_low = 0, mismatch_mut = 0, mismatch_wt = 0;
  int high = 0, low = 0, mut = 0, wt = 0;
  for (int i = 0; i < 40; ++i) {
    const SynthCase c = synthesize_case(site, 32, fedglioma::derive_seed(2, 0, i, fedglioma::RngPurpose::kSynthCase));
    double t1c = 0, t2 = 0, flair = 0, voxels = 0;
    for (std::size_t v = 0; v < c.mask.voxels.size(); ++v)
      if (c.mask.voxels[v]) {
        t1c = std::max<double>(t1c, c.images[1].voxels[v] / site.scale[1]);
        t2 += c.images[2].voxels[v] / site.scale[2];
        flair += c.images[3].voxels[v] / site.scale[3];
        ++voxels;
      }
    REQUIRE(voxels > 0);
    (*c.labels.grade == 4 ? t1c_high : t1c_low) += t1c;
    (*c.labels.grade == 4 ? high : low) += 1;
    const double mismatch = (t2 - flair) / voxels;  // T2-FLAIR mismatch: T2 bright, FLAIR not
    (*c.labels.idh ? mismatch_mut : mismatch_wt) += mismatch;
    (*c.labels.idh ? mut : wt) += 1;
  }
  REQUIRE(high > 0);
  REQUIRE(low > 0);
  REQUIRE(t1c_high / high > 1.15 * (t1c_low / low));  // ring enhancement in grade 4
  REQUIRE(mismatch_mut / mut > mismatch_wt / wt + 0.1);
}

TEST_CASE("synth rejects bad options", "[data][synth]") {
  SynthOptions options;
  options.out = fedglioma::testing::temp_dir("synth-bad");
  options.size = 4;
  REQUIRE_THROWS_WITH(write_synthetic_cohort(options), Catch::Contains("--size"));
  options.size = 16;
  options.sites = 0;
  REQUIRE_THROWS_WITH(write_synthetic_cohort(options), Catch::Contains("--sites"));
}

TEST_CASE("synth writes only into a cohort folder of its own, never over the user's files", "[data][synth][owned_folder]") {
  const fs::path dir = fedglioma::testing::temp_dir("synth-owned");
  fedglioma::experiments::SynthCliOptions options;
  options.cohort.out = dir / "cohort";
  options.cohort.sites = 1;
  options.cohort.cases_per_site = 1;
  options.cohort.external_cases = 0;
  options.cohort.size = 8;
  REQUIRE(fedglioma::experiments::run_synth(options) == 0);
  REQUIRE(fs::exists(dir / "cohort" / ".fedglioma-cohort"));
  REQUIRE(fedglioma::experiments::run_synth(options) == 0);  // its own cohort: made again
  // A folder of the user's is refused; forced, it is refused while it holds a manifest.
  fs::create_directories(dir / "mine");
  fedglioma::write_file_atomic(dir / "mine" / "manifest.json", "{\"the user's\": true}");
  options.cohort.out = dir / "mine";
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_synth(options), Catch::Contains("--force"));
  options.force = true;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_synth(options), Catch::Contains("manifest.json"));
  REQUIRE(fedglioma::read_file(dir / "mine" / "manifest.json") == "{\"the user's\": true}");
  // A bad option fails before anything is left behind in a folder synth created.
  options.cohort.out = dir / "bad";
  options.cohort.sites = 0;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_synth(options), Catch::Contains("--sites"));
  REQUIRE_FALSE(fs::exists(dir / "bad"));
}
