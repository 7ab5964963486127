#include <catch2/catch.hpp>

#include <sstream>

#include "core/atomic_file.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "experiments/cli_preprocess.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;

namespace {

// `preprocess` over the tiny config written into `dir`, with its own cache folder there.
fedglioma::experiments::PreprocessCliOptions tiny_preprocess(const fs::path& dir) {
  fedglioma::write_file_atomic(dir / "c.json", fedglioma::testing::tiny_config_json());
  fedglioma::experiments::PreprocessCliOptions options;
  options.config = dir / "c.json";
  options.overrides = {"data.cache_dir=" + (dir / "cache").string()};
  return options;
}

}  // namespace

TEST_CASE("preprocess fills the cache and exports what the network sees as NIfTI", "[experiments][preprocess]") {
  // Prepare: the tiny config with its own cache folder.
  const fs::path dir = fedglioma::testing::temp_dir("preprocess-cli");
  auto options = tiny_preprocess(dir);
  options.export_dir = dir / "export";
  std::ostringstream console;

  // Execute
  const std::size_t cases = fedglioma::experiments::run_preprocess(options, console);

  // Assert: one cache entry and one exported folder per case, on the preprocessed grid.
  const auto manifest = fedglioma::data::load_manifest(fedglioma::testing::tiny_cohort());
  REQUIRE(cases == manifest.cases.size());
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir / "cache")) entries += e.path().extension() == ".fgc";
  REQUIRE(entries == cases);
  const fs::path exported = dir / "export" / manifest.cases[0].id;
  for (const char* name : {"t1.nii.gz", "t1c.nii.gz", "t2.nii.gz", "flair.nii.gz", "mask.nii.gz"})
    REQUIRE(fs::exists(exported / name));
  const auto flair = fedglioma::data::read_image(exported / "flair.nii.gz");
  REQUIRE(flair.geometry.size == std::array<std::int64_t, 3>{16, 16, 16});
  REQUIRE(flair.geometry.spacing[0] == Approx(12.0));
  REQUIRE(console.str().find("preprocessed " + std::to_string(cases)) != std::string::npos);
}

TEST_CASE("preprocess --prune deletes the cache entries of other parameters and keeps this config's",
          "[experiments][preprocess]") {
  const fs::path dir = fedglioma::testing::temp_dir("preprocess-prune");
  fedglioma::write_file_atomic(dir / "c.json", fedglioma::testing::tiny_config_json());
  fedglioma::experiments::PreprocessCliOptions options;
  options.config = dir / "c.json";
  std::ostringstream console;
  // Entries at another spacing (standing in for an older format or an edited file), then ours.
  options.overrides = {"data.cache_dir=" + (dir / "cache").string(), "data.spacing=10"};
  const std::size_t cases = fedglioma::experiments::run_preprocess(options, console);
  options.overrides = {"data.cache_dir=" + (dir / "cache").string()};
  options.prune = true;
  fedglioma::experiments::run_preprocess(options, console);
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir / "cache")) entries += e.path().extension() == ".fgc";
  REQUIRE(entries == cases);
  REQUIRE_THAT(console.str(), Catch::Contains("pruned " + std::to_string(cases) + " other cache entries"));
  // A run finds every case of its own config still cached: pruning again removes nothing.
  std::ostringstream again;
  fedglioma::experiments::run_preprocess(options, again);
  REQUIRE_THAT(again.str(), Catch::Contains("pruned 0 other cache entries"));
}

TEST_CASE("preprocess --export writes only into a folder it made, and never over the user's files",
          "[experiments][preprocess][owned_folder]") {
  const fs::path dir = fedglioma::testing::temp_dir("preprocess-export-owned");
  auto options = tiny_preprocess(dir);
  std::ostringstream console;
  // A folder of the user's (the cohort's own folder, say): refused, untouched.
  fs::create_directories(dir / "mine");
  fedglioma::write_file_atomic(dir / "mine" / "scan.nii.gz", "the user's\n");
  fs::create_directories(dir / "export.partial");  // the user's too: a fixed staging name removed it
  fedglioma::write_file_atomic(dir / "export.partial" / "keep.txt", "kept\n");
  options.export_dir = dir / "mine";
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_preprocess(options, console),
                      Catch::Contains("mine") && Catch::Contains("not a fedglioma export folder"));
  REQUIRE(fedglioma::read_file(dir / "mine" / "scan.nii.gz") == "the user's\n");
  REQUIRE(std::distance(fs::directory_iterator(dir / "mine"), fs::directory_iterator()) == 1);
  // Its own folder: written, and written again (each case's folder replaced).
  options.export_dir = dir / "export";
  fedglioma::experiments::run_preprocess(options, console);
  fedglioma::experiments::run_preprocess(options, console);
  REQUIRE(fs::exists(dir / "export" / ".fedglioma-export"));
  REQUIRE(fedglioma::read_file(dir / "export.partial" / "keep.txt") == "kept\n");
  for (const auto& entry : fs::directory_iterator(dir))
    REQUIRE(entry.path().filename().string().rfind("export.partial-", 0) == std::string::npos);
}
