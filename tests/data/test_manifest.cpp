#include <catch2/catch.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/manifest.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using namespace fedglioma::data;

namespace {

fs::path write_manifest(const std::string& name, const std::string& cases) {
  const fs::path path = fedglioma::testing::temp_dir(name) / "manifest.json";
  fedglioma::write_file_atomic(path, R"({"version": 1, "cases": [)" + cases + "]}");
  return path;
}

const char* kRecord = R"({"id": "%ID%", "site": "s", "split": "train",
  "images": {"t1": "a/t1.nii.gz", "t1c": "a/t1c.nii.gz", "t2": "a/t2.nii.gz", "flair": "a/flair.nii.gz"},
  "mask": "a/mask.nii.gz", "labels": {"idh": 1, "codeletion_1p19q": null, "mgmt": 0, "grade": %GRADE%}})";

std::string record(const std::string& id, const std::string& grade = "2") {
  std::string r = kRecord;
  r.replace(r.find("%ID%"), 4, id);
  r.replace(r.find("%GRADE%"), 7, grade);
  return r;
}

}  // namespace

TEST_CASE("manifest round-trips through save and load with paths relative to it", "[data][manifest]") {
  const fs::path path = write_manifest("manifest-ok", record("p1") + "," + record("p2", "null"));
  const Manifest m = load_manifest(path);
  REQUIRE(m.cases.size() == 2);
  REQUIRE(m.cases[0].images[3] == path.parent_path() / "a/flair.nii.gz");
  REQUIRE(m.cases[0].labels.idh == 1);
  REQUIRE_FALSE(m.cases[0].labels.codeletion_1p19q.has_value());
  REQUIRE_FALSE(m.cases[1].labels.grade.has_value());
  REQUIRE(m.cases[0].labels.binary(3) == 0);  // grade 2 is low grade

  const fs::path copy = path.parent_path() / "copy.json";
  save_manifest(m, copy);
  const Manifest again = load_manifest(copy);
  REQUIRE(again.cases[1].images[0] == m.cases[1].images[0]);
  REQUIRE(fedglioma::read_file(copy).find("\"a/t1.nii.gz\"") != std::string::npos);
}

TEST_CASE("manifest errors name the file and the case and the field", "[data][manifest]") {
  using Catch::Contains;
  REQUIRE_THROWS_WITH(load_manifest(write_manifest("dup", record("p1") + "," + record("p1"))),
                      Contains("case 'p1'") && Contains("duplicate"));
  REQUIRE_THROWS_WITH(load_manifest(write_manifest("grade", record("p7", "5"))),
                      Contains("case 'p7'") && Contains("labels.grade") && Contains("5"));
  REQUIRE_THROWS_WITH(load_manifest(write_manifest("grade-text", record("p8", "\"IV\""))),
                      Contains("labels.grade"));
  std::string no_flair = record("p9");
  const std::string flair = ", \"flair\": \"a/flair.nii.gz\"";
  no_flair.replace(no_flair.find(flair), flair.size(), "");
  REQUIRE_THROWS_WITH(load_manifest(write_manifest("flair", no_flair)), Contains("p9") && Contains("images.flair"));
  REQUIRE_THROWS_WITH(load_manifest(fs::path("/nonexistent/manifest.json")), Contains("/nonexistent/manifest.json"));
  REQUIRE_THROWS_AS(load_manifest(write_manifest("broken", "{")), fedglioma::DataError);
}

TEST_CASE("case ids and site names that could leave their folder are refused at load, naming the case",
          "[data][manifest][bad-input]") {
  // JSON escapes: the file holds a backslash-u sequence, the loaded string the control character.
  for (const std::string id : {"../escape", "a/b", "..", "x\\u0000y", "tab\\there", "back\\\\slash"}) {
    const fs::path path = write_manifest("manifest-bad-id", record(id));
    REQUIRE_THROWS_WITH(load_manifest(path), Catch::Contains("case #0") && Catch::Contains("id \""));
  }
  std::string site = record("case-1");
  site.replace(site.find("\"site\": \"s\""), 11, "\"site\": \"../up\"");
  REQUIRE_THROWS_WITH(load_manifest(write_manifest("manifest-bad-site", site)),
                      Catch::Contains("case 'case-1'") && Catch::Contains("site \"../up\"") &&
                          Catch::Contains("path separator"));
  // A name too long for the files made from it (model-<site>.pt) is refused here, before round 1.
  std::string long_site = record("case-2");
  long_site.replace(long_site.find("\"site\": \"s\""), 11, "\"site\": \"" + std::string(300, 's') + "\"");
  REQUIRE_THROWS_WITH(load_manifest(write_manifest("manifest-long-site", long_site)),
                      Catch::Contains("case 'case-2'") && Catch::Contains("is 300 bytes long, more than 200"));
  REQUIRE(load_manifest(write_manifest("manifest-long-id", record(std::string(200, 'i')))).cases.size() == 1);
  // Dots and dashes inside a name are fine.
  REQUIRE(load_manifest(write_manifest("manifest-good-id", record("TCGA-02.0001_v2"))).cases.size() == 1);
}

TEST_CASE("a manifest key the format does not define is refused, not dropped", "[data][manifest][bad-input]") {
  using Catch::Contains;
  std::string misspelt = record("p3");
  misspelt.replace(misspelt.find("\"mask\""), 6, "\"masks\"");  // the mask would be dropped
  REQUIRE_THROWS_WITH(load_manifest(write_manifest("unknown-field", misspelt)),
                      Contains("case 'p3'") && Contains("unknown field \"masks\""));
  std::string extra_image = record("p4");
  extra_image.replace(extra_image.find("\"t1c\""), 5, "\"t1ce\"");
  REQUIRE_THROWS_WITH(load_manifest(write_manifest("unknown-image", extra_image)),
                      Contains("case 'p4'") && Contains("unknown image \"t1ce\""));
  const fs::path top = fedglioma::testing::temp_dir("unknown-top") / "manifest.json";
  fedglioma::write_file_atomic(top, R"({"version": 1, "case": []})");
  REQUIRE_THROWS_WITH(load_manifest(top), Contains("unknown key \"case\""));
}
