#include <catch2/catch.hpp>

#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/layouts.h"
#include "experiments/cli_manifest.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma::data;

namespace {

// Empty stand-ins: building a manifest checks that files exist, it does not read them.
void touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  fedglioma::write_file_atomic(path, "");
}

}  // namespace

TEST_CASE("brats2021 layout with RSNA MGMT labels and FeTS institutions as sites", "[data][layouts]") {
  const fs::path root = fedglioma::testing::temp_dir("brats2021");
  for (const char* id : {"BraTS2021_00000", "BraTS2021_01341", "BraTS2021_00003"})
    for (const char* s : {"t1", "t1ce", "t2", "flair", "seg"})
      touch(root / "data" / id / (std::string(id) + "_" + s + ".nii.gz"));
  fedglioma::write_file_atomic(root / "train_labels.csv", "BraTS21ID,MGMT_value\n00000,1\n00003,0\n");
  fedglioma::write_file_atomic(root / "partitioning_1.csv", "Partition_ID,Subject_ID\n1,FeTS2022_01341\n7,FeTS2022_00000\n");

  LayoutOptions o;
  o.layout = "brats2021";
  o.root = root / "data";
  o.labels = {root / "train_labels.csv", root / "partitioning_1.csv"};
  const Manifest m = build_manifest(o);

  REQUIRE(m.cases.size() == 3);
  REQUIRE(m.cases[0].id == "BraTS2021_00000");
  REQUIRE(m.cases[0].site == "inst-7");
  REQUIRE(m.cases[0].labels.mgmt == 1);
  REQUIRE(m.cases[1].site == "brats2021");  // not in the partition table
  REQUIRE(m.cases[1].labels.mgmt == 0);
  REQUIRE_FALSE(m.cases[1].labels.idh.has_value());
  REQUIRE(m.cases[2].site == "inst-1");
  REQUIRE(m.cases[2].images[1].filename() == "BraTS2021_01341_t1ce.nii.gz");
  REQUIRE(m.cases[2].mask->filename() == "BraTS2021_01341_seg.nii.gz");
}

TEST_CASE("ucsf-pdgm layout joins the 3-digit table ids to the 4-digit folders", "[data][layouts]") {
  const fs::path root = fedglioma::testing::temp_dir("ucsf");
  for (const char* s : {"T1", "T1c", "T2", "FLAIR", "tumor_segmentation"})
    touch(root / "UCSF-PDGM-0004_nifti" / (std::string("UCSF-PDGM-0004_") + s + ".nii.gz"));
  fedglioma::write_file_atomic(root / "meta.csv",
                               "ID,WHO CNS Grade,MGMT status,1p/19q,IDH\nUCSF-PDGM-004,2,positive,relative co-deletion,IDH1 p.R132H\n");
  LayoutOptions o;
  o.layout = "ucsf-pdgm";
  o.root = root;
  o.labels = {root / "meta.csv"};
  o.split = "external";
  const Manifest m = build_manifest(o);
  REQUIRE(m.cases.size() == 1);
  REQUIRE(m.cases[0].id == "UCSF-PDGM-0004");
  REQUIRE(m.cases[0].split == "external");
  REQUIRE(m.cases[0].labels.idh == 1);
  REQUIRE(m.cases[0].labels.codeletion_1p19q == 1);
  REQUIRE(m.cases[0].labels.mgmt == 1);
  REQUIRE(m.cases[0].labels.grade == 2);
  REQUIRE(m.cases[0].aliases.empty());  // this table has no BraTS21 ID crosswalk column

  fedglioma::write_file_atomic(root / "meta.csv",
                               "ID,WHO CNS Grade,MGMT status,1p/19q,IDH,BraTS21 ID\n"
                               "UCSF-PDGM-004,4,negative,,wildtype,BraTS2021_00097\n");
  REQUIRE(build_manifest(o).cases[0].aliases == std::vector<std::string>{"BraTS2021_00097"});
}

TEST_CASE("upenn-gbm layout prefers manual masks and egd reads per-subject metadata", "[data][layouts]") {
  const fs::path root = fedglioma::testing::temp_dir("upenn");
  for (const char* id : {"UPENN-GBM-00001_11", "UPENN-GBM-00002_11"})
    for (const char* s : {"T1", "T1GD", "T2", "FLAIR"})
      touch(root / "images_structural" / id / (std::string(id) + "_" + s + ".nii.gz"));
  touch(root / "images_segm/UPENN-GBM-00001_11_segm.nii.gz");
  touch(root / "automated_segm/UPENN-GBM-00001_11_automated_approx_segm.nii.gz");
  touch(root / "automated_segm/UPENN-GBM-00002_11_automated_approx_segm.nii.gz");
  LayoutOptions o;
  o.layout = "upenn-gbm";
  o.root = root;
  const Manifest m = build_manifest(o);
  REQUIRE(m.cases.size() == 2);
  REQUIRE(m.cases[0].mask->parent_path().filename() == "images_segm");
  REQUIRE(m.cases[1].mask->parent_path().filename() == "automated_segm");
  REQUIRE(m.cases[0].labels.grade == 4);

  const fs::path egd = fedglioma::testing::temp_dir("egd");
  for (const char* s : {"T1", "T1GD", "T2", "FLAIR", "MASK"}) touch(egd / "SUBJECTS/EGD-0001" / (std::string(s) + ".nii.gz"));
  fedglioma::write_file_atomic(egd / "SUBJECTS/EGD-0001/metadata.json", R"({"IDH": 1, "1p19q": -1, "Grade": 3})");
  o.layout = "egd";
  o.root = egd;
  const Manifest e = build_manifest(o);
  REQUIRE(e.cases[0].labels.idh == 1);
  REQUIRE_FALSE(e.cases[0].labels.codeletion_1p19q.has_value());
  REQUIRE(e.cases[0].labels.grade == 3);
}

TEST_CASE("tcga layout prefers manually corrected GlistrBoost masks", "[data][layouts]") {
  const fs::path root = fedglioma::testing::temp_dir("tcga");
  const fs::path dir = root / "Pre-operative_TCGA_LGG_NIfTI_and_Segmentations/TCGA-DU-7294";
  for (const char* s : {"t1", "t1Gd", "t2", "flair", "GlistrBoost", "GlistrBoost_ManuallyCorrected"})
    touch(dir / (std::string("TCGA-DU-7294_1992.06.13_") + s + ".nii.gz"));
  fedglioma::write_file_atomic(root / "tcga.csv", "Grade,Case_ID,Primary_Diagnosis,IDH1\nLGG,TCGA-DU-7294,\"Oligodendroglioma, NOS\",MUTATED\n");
  LayoutOptions o;
  o.layout = "tcga";
  o.root = root;
  o.labels = {root / "tcga.csv"};
  const Manifest m = build_manifest(o);
  REQUIRE(m.cases.size() == 1);
  REQUIRE(m.cases[0].mask->filename() == "TCGA-DU-7294_1992.06.13_GlistrBoost_ManuallyCorrected.nii.gz");
  REQUIRE(m.cases[0].labels.idh == 1);
  REQUIRE(m.cases[0].labels.grade == 2);
}

TEST_CASE("layout errors name the case and the missing file", "[data][layouts]") {
  const fs::path root = fedglioma::testing::temp_dir("brats-missing");
  for (const char* s : {"t1", "t2", "flair"}) touch(root / "BraTS2021_00009" / (std::string("BraTS2021_00009_") + s + ".nii.gz"));
  LayoutOptions o;
  o.layout = "brats2021";
  o.root = root;
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("BraTS2021_00009") && Contains("BraTS2021_00009_t1ce.nii.gz"));
  o.layout = "bratz";
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("--layout 'bratz'"));
  o.layout = "ucsf-pdgm";
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("no ucsf-pdgm cases"));
}

TEST_CASE("fedglioma manifest writes the manifest and summarises its labels", "[experiments][layouts]") {
  const fs::path root = fedglioma::testing::temp_dir("manifest-cli");
  for (const char* s : {"T1", "T1c", "T2", "FLAIR"})
    touch(root / "UCSF-PDGM-0010_nifti" / (std::string("UCSF-PDGM-0010_") + s + ".nii.gz"));
  fedglioma::experiments::ManifestCliOptions options;
  options.layout.layout = "ucsf-pdgm";
  options.layout.root = root;
  options.out = root / "manifest.json";
  std::ostringstream console;
  fedglioma::experiments::run_manifest(options, console);
  const Manifest m = load_manifest(options.out);
  REQUIRE(m.cases.size() == 1);
  REQUIRE_FALSE(m.cases[0].mask.has_value());
  REQUIRE_THAT(console.str(), Contains("wrote 1 case(s)") && Contains("mask: 0 of 1"));
}

TEST_CASE("folder layout finds cases by regex and reads a generic label table", "[data][layouts]") {
  const fs::path root = fedglioma::testing::temp_dir("folder");
  for (const char* id : {"p01", "p02"}) {
    for (const char* s : {"T1w", "T1CE", "T2w", "FLAIR"}) touch(root / "scans" / id / (std::string(s) + ".nii.gz"));
    touch(root / "labels" / (std::string(id) + "-seg.nii.gz"));
  }
  fedglioma::write_file_atomic(root / "labels.csv", "id,idh,grade,site,split\np01,1,2,hospital-x,\np02,,4,,external\n");
  LayoutOptions o;
  o.layout = "folder";
  o.root = root;
  o.site = "private";
  o.labels = {root / "labels.csv"};
  o.patterns = {R"(t1=scans/([^/]+)/T1w\.nii\.gz)", R"(t1c=scans/([^/]+)/T1CE\.nii\.gz)",
                R"(t2=scans/([^/]+)/T2w\.nii\.gz)", R"(flair=scans/([^/]+)/FLAIR\.nii\.gz)",
                R"(mask=labels/([^/]+)-seg\.nii\.gz)"};
  const Manifest m = build_manifest(o);
  REQUIRE(m.cases.size() == 2);
  REQUIRE(m.cases[0].site == "hospital-x");
  REQUIRE(m.cases[0].labels.idh == 1);
  REQUIRE(m.cases[0].images[1].filename() == "T1CE.nii.gz");
  REQUIRE(m.cases[0].mask->filename() == "p01-seg.nii.gz");
  REQUIRE(m.cases[1].site == "private");
  REQUIRE(m.cases[1].split == "external");
  REQUIRE_FALSE(m.cases[1].labels.idh.has_value());

  fedglioma::write_file_atomic(root / "labels.csv", "id,idh\np01,yes\n");
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("labels.csv") && Contains("row 1") && Contains("column 'idh'"));
  o.labels.clear();
  o.patterns.pop_back();
  o.patterns.pop_back();  // no FLAIR pattern
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("flair"));
}

TEST_CASE("label-table rows that match no case are reported, and a second table is not silently ignored",
          "[data][layouts][bad-input]") {
  const fs::path root = fedglioma::testing::temp_dir("tcga-unmatched");
  const fs::path dir = root / "TCGA-DU-7294";
  for (const char* s : {"t1", "t1Gd", "t2", "flair"}) touch(dir / (std::string("TCGA-DU-7294_1992.06.13_") + s + ".nii.gz"));
  fedglioma::write_file_atomic(root / "tcga.csv",
                               "Grade,Case_ID,Primary_Diagnosis,IDH1\n"
                               "LGG,TCGA-DU-7294,Astrocytoma,MUTATED\n"
                               "GBM,TCGA-DU-7295,Glioblastoma,NOT_MUTATED\n"   // no such folder
                               "GBM,TCGA-02-0001,Glioblastoma,NOT_MUTATED\n");  // a typo'd id, say
  LayoutOptions o;
  o.layout = "tcga";
  o.root = root;
  o.labels = {root / "tcga.csv"};
  std::vector<UnmatchedRows> unmatched;
  const Manifest m = build_manifest(o, &unmatched);
  REQUIRE(m.cases.size() == 1);
  REQUIRE(unmatched.size() == 1);
  REQUIRE(unmatched[0].table == root / "tcga.csv");
  REQUIRE(unmatched[0].ids == std::vector<std::string>{"TCGA-02-0001", "TCGA-DU-7295"});

  fedglioma::experiments::ManifestCliOptions cli;
  cli.layout = o;
  cli.out = root / "manifest.json";
  std::ostringstream console;
  fedglioma::experiments::run_manifest(cli, console);
  REQUIRE_THAT(console.str(), Contains("2 row(s) of '" + (root / "tcga.csv").string() + "' match no case") &&
                                  Contains("TCGA-02-0001, TCGA-DU-7295"));

  // Two tables where the layout reads one: the first's labels would be replaced by the second's.
  fedglioma::write_file_atomic(root / "more.csv", "Grade,Case_ID,Primary_Diagnosis,IDH1\nLGG,TCGA-DU-7294,Astrocytoma,NOT_MUTATED\n");
  o.labels = {root / "tcga.csv", root / "more.csv"};
  REQUIRE_THROWS_WITH(build_manifest(o), Contains("reads one label table") && Contains("more.csv"));
}
