#include <catch2/catch.hpp>

#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/csv_table.h"
#include "data/label_tables.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma::data;

namespace {

// Counts per value of one label over a table: key -1 stands for unknown.
std::map<int, std::size_t> counts(const LabelTable& table, std::optional<int> Labels::*field) {
  std::map<int, std::size_t> out;
  for (const auto& [id, labels] : table) ++out[(labels.*field).value_or(-1)];
  return out;
}

using Counts = std::map<int, std::size_t>;

}  // namespace

// Expected counts are those PROVENANCE.md reports for each table (checked there with Python's csv).
TEST_CASE("UCSF-PDGM metadata table maps every spelling", "[data][tables][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path file = root / "ucsf-pdgm-metadata/UCSF-PDGM-metadata_v2.csv";
  const LabelTable t = read_ucsf_pdgm_table(file);
  REQUIRE(t.size() == 501);
  REQUIRE(t.count("UCSF-PDGM-0004"));  // 3-digit ids in the table, 4 in the folders
  REQUIRE(counts(t, &Labels::grade) == Counts{{2, 56}, {3, 43}, {4, 402}});
  REQUIRE(counts(t, &Labels::idh) == Counts{{0, 398}, {1, 103}});
  REQUIRE(counts(t, &Labels::codeletion_1p19q) == Counts{{-1, 91}, {0, 395}, {1, 15}});
  REQUIRE(counts(t, &Labels::mgmt) == Counts{{-1, 85}, {0, 114}, {1, 302}});
  const auto crosswalk = read_ucsf_pdgm_brats21_ids(file);
  REQUIRE(crosswalk.size() == 298);
  REQUIRE(crosswalk.at("UCSF-PDGM-0004") == "BraTS2021_00097");
}

TEST_CASE("UPenn-GBM clinical table", "[data][tables][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const LabelTable t = read_upenn_gbm_table(root / "upenn-gbm-clinical/UPENN-GBM_clinical_info_v1.1.csv");
  REQUIRE(t.size() == 671);
  REQUIRE(counts(t, &Labels::idh) == Counts{{-1, 106}, {0, 546}, {1, 19}});
  REQUIRE(counts(t, &Labels::mgmt) == Counts{{-1, 380}, {0, 170}, {1, 121}});
  REQUIRE(counts(t, &Labels::grade) == Counts{{4, 671}});
  REQUIRE(counts(t, &Labels::codeletion_1p19q) == Counts{{-1, 671}});
  REQUIRE(t.count("UPENN-GBM-00001_11"));
}

TEST_CASE("RSNA-MICCAI MGMT labels and FeTS institution partitions", "[data][tables][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const LabelTable mgmt = read_rsna_mgmt_table(root / "rsna-miccai-mgmt-labels/train_labels_MGMT.csv");
  REQUIRE(mgmt.size() == 585);
  REQUIRE(counts(mgmt, &Labels::mgmt) == Counts{{0, 278}, {1, 307}});
  REQUIRE(mgmt.at("BraTS2021_00000").mgmt == 1);  // "00000" stays a 5-digit id

  const auto partitions = read_fets_partitions(root / "fets-challenge-partitions/partitioning_1.csv");
  REQUIRE(partitions.size() == 1251);
  std::map<std::string, std::size_t> per_institution;
  for (const auto& [subject, inst] : partitions) ++per_institution[inst];
  REQUIRE(per_institution.size() == 23);
  std::size_t largest = 0;
  for (const auto& [inst, n] : per_institution) largest = std::max(largest, n);
  REQUIRE(largest == 511);
  REQUIRE(partitions.at("BraTS2021_01341") == "inst-1");
}

TEST_CASE("TCGA molecular table with a BOM and CRLF line ends", "[data][tables][shared][may_skip]") {
  const fs::path root = fedglioma::testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path file = root / "tcga-gbm-lgg-mutations-uci/TCGA_GBM_LGG_Mutations_all.csv";
  REQUIRE(CsvTable::read(file).header().front() == "Grade");  // the BOM is not part of the name
  const LabelTable t = read_tcga_table(file);
  REQUIRE(t.size() == 862);
  REQUIRE(counts(t, &Labels::idh) == Counts{{0, 448}, {1, 414}});
  REQUIRE(counts(t, &Labels::grade) == Counts{{-1, 1}, {2, 294}, {3, 204}, {4, 363}});
  // PROVENANCE: TCGA-DU-7294 is an IDH-mutant "Oligodendroglioma, NOS" (grade II).
  REQUIRE(t.at("TCGA-DU-7294").idh == 1);
  REQUIRE(t.at("TCGA-DU-7294").grade == 2);
  REQUIRE(t.at("TCGA-FG-6692").grade == 3);  // "Oligodendroglioma, anaplastic"
  // The preprocessed UCI file has no patient ids: it cannot label images.
  REQUIRE_THROWS_WITH(read_tcga_table(root / "tcga-gbm-lgg-mutations-uci/TCGA_InfoWithGrade.csv"),
                      Contains("Case_ID"));
}

TEST_CASE("an unknown label spelling is an error naming the file and row and column", "[data][tables]") {
  const fs::path dir = fedglioma::testing::temp_dir("tables");
  fedglioma::write_file_atomic(dir / "ucsf.csv",
                               "ID,WHO CNS Grade,MGMT status,1p/19q,IDH\n"
                               "UCSF-PDGM-004,4,negative,,wildtype\n"
                               "UCSF-PDGM-005,4,\"negative\",intact,maybe\n");
  REQUIRE_THROWS_WITH(read_ucsf_pdgm_table(dir / "ucsf.csv"),
                      Contains("ucsf.csv") && Contains("row 2") && Contains("column 'IDH'") && Contains("maybe"));
  fedglioma::write_file_atomic(dir / "egd.csv", "Subject,IDH,1p19q,Grade\nEGD-0001,1,-1,2\nEGD-0002,0,0,5\n");
  REQUIRE_THROWS_WITH(read_egd_table(dir / "egd.csv"), Contains("row 2") && Contains("column 'Grade'"));
  fedglioma::write_file_atomic(dir / "short.csv", "ID,IDH\nUCSF-PDGM-004\n");
  REQUIRE_THROWS_WITH(read_ucsf_pdgm_table(dir / "short.csv"), Contains("row 1") && Contains("cells"));
  fedglioma::write_file_atomic(dir / "cols.csv", "ID,Grade\nUCSF-PDGM-004,4\n");
  REQUIRE_THROWS_WITH(read_ucsf_pdgm_table(dir / "cols.csv"), Contains("missing column 'IDH'"));
  fedglioma::write_file_atomic(dir / "twice.csv", "BraTS21ID,MGMT_value\n7,1\n00007,0\n");
  REQUIRE_THROWS_WITH(read_rsna_mgmt_table(dir / "twice.csv"), Contains("BraTS2021_00007") && Contains("twice"));
}

TEST_CASE("CSV cells keep quoted commas and doubled quotes", "[data][tables]") {
  const fs::path dir = fedglioma::testing::temp_dir("csv");
  fedglioma::write_file_atomic(dir / "q.csv", "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n1,2");
  const CsvTable t = CsvTable::read(dir / "q.csv");
  REQUIRE(t.rows().size() == 2);
  REQUIRE(t.rows()[0][0] == "x, y");
  REQUIRE(t.rows()[0][1] == "say \"hi\"");
  REQUIRE(t.rows()[1][1] == "2");
}
