#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "data/patients.h"
#include "experiments/cli_manifest.h"
#include "experiments/cli_run.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma::data;

namespace {

// Runs `fedglioma manifest --merge` over `inputs` saved in `dir`; returns its console output.
std::string merge_cli(const fs::path& dir, const std::vector<Manifest>& inputs) {
  fedglioma::experiments::ManifestCliOptions options;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const fs::path path = dir / ("input-" + std::to_string(i) + ".json");
    save_manifest(inputs[i], path);
    options.merge.push_back(path);
  }
  options.out = dir / "all.json";
  std::ostringstream console;
  fedglioma::experiments::run_manifest(options, console);
  return console.str();
}

Case record(const std::string& id, const std::string& site, std::vector<std::string> aliases = {}) {
  Case c;
  c.id = id;
  c.site = site;
  c.split = "train";
  c.images = {"/d/" + id + "/t1.nii.gz", "/d/" + id + "/t1c.nii.gz", "/d/" + id + "/t2.nii.gz", "/d/" + id + "/flair.nii.gz"};
  c.aliases = std::move(aliases);
  return c;
}

}  // namespace

TEST_CASE("merging keeps one record per patient with the union of its labels", "[data][merge]") {
  // Prepare: UCSF-PDGM-0004 is BraTS2021_00097 (the UCSF table's crosswalk); TCGA-02-0006 is
  // BraTS2021_00500 only through a crosswalk file.
  Manifest ucsf, brats;
  ucsf.cases = {record("UCSF-PDGM-0004", "ucsf", {"BraTS2021_00097"}), record("UCSF-PDGM-0005", "ucsf")};
  ucsf.cases[0].labels.idh = 0;
  ucsf.cases[0].labels.mgmt = 0;
  brats.cases = {record("BraTS2021_00097", "brats"), record("BraTS2021_00500", "brats"), record("BraTS2021_00001", "brats")};
  brats.cases[0].labels.mgmt = 1;  // disagrees with UCSF's
  brats.cases[0].labels.grade = 4;
  Manifest tcga;
  tcga.cases = {record("TCGA-02-0006", "tcga")};
  tcga.cases[0].labels.idh = 0;

  // Execute
  MergeReport report;
  const Manifest merged = merge_manifests({ucsf, brats, tcga}, {{"BraTS2021_00500", "TCGA-02-0006"}}, &report);

  // Assert
  REQUIRE(report.cases_in == 6);
  REQUIRE(report.cases_out == 4);
  REQUIRE(merged.cases.size() == 4);
  const Case& kept = merged.cases[0];
  REQUIRE(kept.id == "UCSF-PDGM-0004");  // the first input wins
  REQUIRE(kept.labels.grade == 4);       // filled from BraTS
  REQUIRE(kept.labels.mgmt == 0);        // conflict: the kept value stays...
  REQUIRE(report.merged.size() == 2);
  REQUIRE(report.merged[0].kept == "UCSF-PDGM-0004");
  REQUIRE(report.merged[0].dropped == std::vector<std::string>{"BraTS2021_00097"});
  REQUIRE_THAT(report.merged[0].conflicts.at(0), Contains("mgmt"));  // ...and is reported
  REQUIRE(report.merged[1].kept == "BraTS2021_00500");
  REQUIRE(report.merged[1].dropped == std::vector<std::string>{"TCGA-02-0006"});
  REQUIRE(merged.cases[2].labels.idh == 0);
  REQUIRE(std::find(merged.cases[2].aliases.begin(), merged.cases[2].aliases.end(), "TCGA-02-0006") !=
          merged.cases[2].aliases.end());
}

TEST_CASE("held-out cases that are training patients are refused", "[data][merge][leakage]") {
  Manifest m;
  m.cases = {record("UCSF-PDGM-0004", "ucsf", {"BraTS2021_00097"}), record("BraTS2021_00097", "brats")};
  REQUIRE_NOTHROW(check_patient_leakage(m));  // both training: duplicates, but no leak
  m.cases[1].split = "external";
  REQUIRE_THROWS_WITH(check_patient_leakage(m),
                      Contains("BraTS2021_00097") && Contains("UCSF-PDGM-0004") && Contains("same patient"));
  m.cases[1].split = "test";
  REQUIRE_THROWS_AS(check_patient_leakage(m), fedglioma::ConfigError);
}

TEST_CASE("held-out cases that share an image file or its contents with a training case are refused",
          "[data][leakage]") {
  // The same scans listed under two ids (another dataset's id, no alias, no crosswalk).
  const Manifest cohort = load_manifest(fedglioma::testing::tiny_cohort());
  Manifest m;
  m.cases = {cohort.cases[0], cohort.cases[1]};
  m.cases[1].split = "external";
  REQUIRE_NOTHROW(check_patient_leakage(m));
  // The same file, reached through another path.
  m.cases[1].images[2] = m.cases[0].images[2].parent_path() / ".." / m.cases[0].images[2].parent_path().filename() /
                         m.cases[0].images[2].filename();
  REQUIRE_THROWS_WITH(check_patient_leakage(m), Contains("'" + m.cases[1].id + "' (external)") &&
                                                    Contains("'" + m.cases[0].id + "' (train)") &&
                                                    Contains("both use the file"));
  // A copy of the file: identical contents under another name.
  const fs::path dir = fedglioma::testing::temp_dir("leak-copy");
  fs::copy_file(cohort.cases[0].images[3], dir / "flair.nii.gz");
  m.cases[1].images = cohort.cases[1].images;
  m.cases[1].images[3] = dir / "flair.nii.gz";
  REQUIRE_THROWS_WITH(check_patient_leakage(m), Contains("identical contents") && Contains("same patient"));
  m.cases[1].split = "test";
  REQUIRE_THROWS_AS(check_patient_leakage(m), fedglioma::ConfigError);
  m.cases[1].split = "train";  // training twice is a duplicate, not a leak
  REQUIRE_NOTHROW(check_patient_leakage(m));
}

TEST_CASE("run refuses a manifest whose external case is a training patient", "[experiments][leakage]") {
  const fs::path dir = fedglioma::testing::temp_dir("leak");
  Manifest m = load_manifest(fedglioma::testing::tiny_cohort());
  for (auto& c : m.cases)
    if (c.split == "external") {
      c.aliases = {m.cases[0].id};
      break;
    }
  save_manifest(m, dir / "manifest.json");
  const auto options =
      fedglioma::testing::tiny_run_options(dir, {"data.manifest=" + (dir / "manifest.json").string()});
  std::ostringstream console;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(options, console), Contains("same patient"));
  REQUIRE_FALSE(fs::exists(dir / "run"));
  // Cheap checks come first: a thread count the machine cannot hold is named before the leakage
  // check, which may hash files, has run.
  auto threads = options;
  threads.overrides.push_back("runtime.workers=256");
  threads.overrides.push_back("runtime.threads_per_worker=256");
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(threads, console),
                      Contains("runtime.workers x runtime.threads_per_worker") && !Contains("same patient"));
}

TEST_CASE("files of one size are told apart by a sample of their blocks before any is hashed whole", "[data][leakage]") {
  const fs::path dir = fedglioma::testing::temp_dir("sample-hash");
  std::string a(300000, 'x'), b = a;
  b[150000] = 'y';  // the middle block differs
  fedglioma::write_file_atomic(dir / "a", a);
  fedglioma::write_file_atomic(dir / "b", b);
  fedglioma::write_file_atomic(dir / "c", a);
  REQUIRE(fedglioma::file_sample_hash(dir / "a") != fedglioma::file_sample_hash(dir / "b"));
  REQUIRE(fedglioma::file_sample_hash(dir / "a") == fedglioma::file_sample_hash(dir / "c"));
  fedglioma::write_file_atomic(dir / "short", "tiny");
  REQUIRE(fedglioma::file_sample_hash(dir / "short") != fedglioma::file_sample_hash(dir / "a"));
}

TEST_CASE("fedglioma manifest --merge writes the merged manifest and a report", "[experiments][merge]") {
  const fs::path dir = fedglioma::testing::temp_dir("merge-cli");
  Manifest a, b;
  a.cases = {record("UCSF-PDGM-0004", "ucsf", {"BraTS2021_00097"})};
  b.cases = {record("BraTS2021_00097", "brats"), record("BraTS2021_00002", "brats")};
  const std::string printed = merge_cli(dir, {a, b});
  REQUIRE(load_manifest(dir / "all.json").cases.size() == 2);
  const auto report = nlohmann::json::parse(fedglioma::read_file(dir / "all.merge-report.json"));
  REQUIRE(report["cases_in"] == 3);
  REQUIRE(report["cases_out"] == 2);
  REQUIRE(report["merged"][0]["kept"] == "UCSF-PDGM-0004");
  REQUIRE_THAT(printed, Contains("merged 3 records into 2 patients"));

  fedglioma::experiments::ManifestCliOptions options;
  options.merge = {dir / "input-0.json", dir / "input-1.json"};
  options.out = dir / "again.json";
  std::ostringstream console;
  options.layout.layout = "ucsf-pdgm";  // both a layout and --merge: refused
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_manifest(options, console), Contains("either --layout"));
}

TEST_CASE("merging keeps a mask only the dropped record has and reports a split the records disagree on",
          "[data][merge]") {
  Manifest ucsf, brats;
  ucsf.cases = {record("UCSF-PDGM-0004", "ucsf", {"BraTS2021_00097"})};  // no mask
  brats.cases = {record("BraTS2021_00097", "brats")};
  brats.cases[0].mask = "/d/BraTS2021_00097/seg.nii.gz";
  brats.cases[0].split = "external";
  MergeReport report;
  const Manifest merged = merge_manifests({ucsf, brats}, {}, &report);
  REQUIRE(merged.cases.size() == 1);
  REQUIRE(merged.cases[0].mask == fs::path("/d/BraTS2021_00097/seg.nii.gz"));
  REQUIRE(merged.cases[0].split == "train");
  REQUIRE(report.merged.at(0).conflicts ==
          std::vector<std::string>{"split: UCSF-PDGM-0004 is train, BraTS2021_00097 is external"});

  REQUIRE_THAT(merge_cli(fedglioma::testing::temp_dir("merge-conflict-cli"), {ucsf, brats}),
               Contains("conflict, kept UCSF-PDGM-0004's value: split"));
}
