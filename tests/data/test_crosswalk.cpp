// The BraTS mapping tables as crosswalks for `manifest --merge`, and published label tables read
// by the folder layout through a column mapping.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/layouts.h"
#include "data/patients.h"
#include "experiments/cli_manifest.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma::data;

namespace {

bool paired(const Crosswalk& c, const std::string& a, const std::string& b) {
  return std::any_of(c.pairs.begin(), c.pairs.end(), [&](const auto& p) {
    return (p.first == a && p.second == b) || (p.first == b && p.second == a);
  });
}

void touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  fedglioma::write_file_atomic(path, "");
}

Case touched_case(const fs::path& dir, const std::string& id, const std::string& site) {
  Case c;
  c.id = id;
  c.site = site;
  c.split = "train";
  for (std::size_t m = 0; m < 4; ++m) {
    c.images[m] = dir / id / (std::string(kModalities[m]) + ".nii.gz");
    touch(c.images[m]);
  }
  return c;
}

}  // namespace

TEST_CASE("the real BraTS21-17 mapping table reads as a crosswalk: no-break-space header, N/A, rows without a 2021 id",
          "[data][patients][crosswalk][shared][may_skip]") {
  const fs::path shared = fedglioma::testing::shared_data_dir();
  if (shared.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const Crosswalk c = read_crosswalk(shared / "datasets2026/files/brats-unet/BraTS21-17_Mapping.csv");
  REQUIRE(paired(c, "BraTS2021_00100", "BraTS20_Training_174"));
  REQUIRE(paired(c, "BraTS2021_00100", "Brats17_TCIA_231_1"));
  REQUIRE(paired(c, "BraTS2021_00100", "TCGA-02-0085"));  // "Local ID\u00a0": the header's no-break space ignored
  REQUIRE(paired(c, "BraTS20_Training_353", "W36"));      // dropped in 2021: no 2021 id, still one patient
  REQUIRE_FALSE(std::any_of(c.pairs.begin(), c.pairs.end(),
                            [](const auto& p) { return p.first == "N/A" || p.second == "N/A"; }));
  REQUIRE(c.sites.at("BraTS2021_00100") == "site-5");
  REQUIRE(c.sites.at("TCGA-02-0085") == "site-5");
  REQUIRE(c.sites.at("BraTS2021_01163") == "site-19");
  REQUIRE_FALSE(c.sites.count("N/A"));
}

TEST_CASE("manifest --merge joins BraTS 2023 and TCGA records through a mapping table and takes its sites",
          "[data][patients][crosswalk]") {
  const fs::path dir = fedglioma::testing::temp_dir("crosswalk-merge");
  // The 2023 table's CSV export: a BraTS2023 column beside the 2021 one.
  fedglioma::write_file_atomic(dir / "mapping.csv",
                               "BraTS2023,BraTS2021,BraTS2020,Cohort Name (if publicly available),"
                               "Site No (represents the originating institution),Local ID\xC2\xA0\n"
                               "BraTS-GLI-00100-000,BraTS2021_00100,N/A,TCGA-GBM,5,TCGA-02-0085\n"
                               "BraTS-GLI-00101-000,N/A,N/A,Private Collection,7,N/A\n");
  Manifest brats, tcga;
  brats.cases = {touched_case(dir / "brats", "BraTS-GLI-00100-000", "brats2023"),
                 touched_case(dir / "brats", "BraTS-GLI-00101-000", "brats2023")};
  tcga.cases = {touched_case(dir / "tcga", "TCGA-02-0085", "tcga")};
  tcga.cases[0].labels.idh = 0;
  save_manifest(brats, dir / "brats.json");
  save_manifest(tcga, dir / "tcga.json");

  fedglioma::experiments::ManifestCliOptions options;
  options.merge = {dir / "brats.json", dir / "tcga.json"};
  options.crosswalks = {dir / "mapping.csv"};
  options.crosswalk_sites = true;
  options.out = dir / "merged.json";
  std::ostringstream console;
  const Manifest merged = fedglioma::experiments::run_manifest(options, console);
  REQUIRE(merged.cases.size() == 2);
  REQUIRE(merged.cases[0].id == "BraTS-GLI-00100-000");
  REQUIRE(merged.cases[0].labels.idh == 0);  // TCGA's record met the 2023 case
  REQUIRE(merged.cases[0].site == "site-5");
  REQUIRE(merged.cases[1].site == "site-7");
  REQUIRE_THAT(console.str(), Contains("2 of 2 case(s) given their institution's site"));

  fedglioma::write_file_atomic(dir / "pairs.csv", "a,b\nBraTS-GLI-00100-000,TCGA-02-0085\n");
  options.crosswalks = {dir / "pairs.csv"};  // no site column
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_manifest(options, console), Contains("--crosswalk-sites"));
  fedglioma::write_file_atomic(dir / "bad.csv", "BraTS2021,Site No\nBraTS2021_00100,five\n");
  REQUIRE_THROWS_WITH(read_crosswalk(dir / "bad.csv"), Contains("bad.csv") && Contains("row 1") && Contains("five"));
}

TEST_CASE("folder layout reads a published table through --id-column, --column and --value, and refuses unknown columns",
          "[data][layouts][label-table][shared][may_skip]") {
  const fs::path shared = fedglioma::testing::shared_data_dir();
  if (shared.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path root = fedglioma::testing::temp_dir("folder-public-table");
  for (const char* id : {"TCGA-FG-6692", "TCGA-DU-8164"})
    for (const char* m : {"t1", "t1c", "t2", "flair"}) touch(root / id / (std::string(m) + ".nii.gz"));
  LayoutOptions o;
  o.layout = "folder";
  o.root = root;
  for (const char* m : {"t1", "t1c", "t2", "flair"}) o.patterns.push_back(std::string(m) + "=([^/]+)/" + m + "\\.nii\\.gz");
  o.labels = {shared / "tcga-gbm-lgg-mutations-uci/TCGA_GBM_LGG_Mutations_all.csv"};
  o.id_column = "Case_ID";
  o.columns = {"idh=IDH1", "grade=Grade"};
  o.values = {"idh:MUTATED=1", "idh:not_mutated=0", "grade:GBM=4", "grade:LGG="};  // LGG is grade 2 or 3: unknown
  const Manifest m = build_manifest(o);
  REQUIRE(m.cases.size() == 2);
  REQUIRE(m.cases[0].id == "TCGA-DU-8164");
  REQUIRE(m.cases[0].labels.idh == 1);
  REQUIRE(m.cases[1].labels.idh == 0);  // TCGA-FG-6692: NOT_MUTATED
  REQUIRE_FALSE(m.cases[1].labels.grade.has_value());

  o.values = {"grade:GBM=4", "grade:LGG="};  // MUTATED has no value now
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("TCGA_GBM_LGG_Mutations_all.csv") && Contains("IDH1") &&
                                             Contains("MUTATED") && Contains("--value idh:"));
  o.columns = {"idh=IDH_1"};  // a mapped column the table lacks
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("IDH_1"));
  o.columns = {"idh_status=IDH1"};
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("'idh_status' is not a field"));

  // fedglioma's own column names: a typo is refused, not left unread; an alias column is read.
  fedglioma::write_file_atomic(root / "labels.csv", "id,grad\nTCGA-FG-6692,3\n");
  LayoutOptions own = o;
  own.labels = {root / "labels.csv"};
  own.id_column.clear();
  own.columns.clear();
  own.values.clear();
  REQUIRE_THROWS_WITH(build_manifest(own), Contains("labels.csv") && Contains("column 'grad'"));
  fedglioma::write_file_atomic(root / "labels.csv", "id,grade,alias\nTCGA-FG-6692,3,BraTS2021_01234\nTCGA-DU-8164,,N/A\n");
  const Manifest aliased = build_manifest(own);
  REQUIRE(aliased.cases[1].aliases == std::vector<std::string>{"BraTS2021_01234"});
  REQUIRE(aliased.cases[1].labels.grade == 3);
  REQUIRE(aliased.cases[0].aliases.empty());
}
