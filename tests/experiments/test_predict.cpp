#include <catch2/catch.hpp>

#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/metrics.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "experiments/cli_predict.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace fedglioma;

namespace {

// A model trained for one round on the tiny cohort: its run folder.
fs::path trained_run() {
  static const fs::path run = testing::tiny_run("predict-model", {"federation.rounds=1"});
  return run;
}

experiments::PredictOptions options_for(const std::array<fs::path, 4>& images, const fs::path& out) {
  experiments::PredictOptions o;
  o.model = trained_run() / "model.pt";
  o.images = images;
  o.out = out;
  return o;
}

void require_prediction(const fs::path& out, const fs::path& t1) {
  const data::MaskVolume mask = data::read_labels(out / "mask.nii.gz");
  const data::FloatVolume input = data::read_image(t1);
  REQUIRE(mask.geometry.same_grid(input.geometry, 1e-6));
  for (std::uint8_t v : mask.voxels) REQUIRE(v <= 1);
  const json markers = json::parse(read_file(out / "markers.json"));
  for (const char* m : data::kMarkers) {
    const double p = markers["probabilities"][m];
    REQUIRE((p >= 0.0 && p <= 1.0));
  }
  REQUIRE(markers["model"]["fingerprint"].get<std::string>().size() == 16);
  for (const auto& entry : fs::directory_iterator(out.parent_path()))
    REQUIRE(entry.path().filename().string().find(".partial") == std::string::npos);
}

// Copies the model archive `from` to `to`, record by record, through `edit`, which may change a
// record's bytes or drop it (returns false). The writer adds its own version record.
void rewrite_model(const fs::path& from, const fs::path& to,
                   const std::function<bool(const std::string&, std::string&)>& edit) {
  std::istringstream in(read_file(from));
  caffe2::serialize::PyTorchStreamReader reader(&in);
  std::string bytes;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, std::size_t size) {
      bytes.append(static_cast<const char*>(data), size);
      return size;
    });
    for (const std::string& name : reader.getAllRecords()) {
      if (name == "version" || name == ".data/version") continue;
      const auto [data, size] = reader.getRecord(name);
      std::string record(static_cast<const char*>(data.get()), size);
      if (edit(name, record)) writer.writeRecord(name, record.data(), record.size());
    }
    writer.writeEndOfFile();
  }
  write_file_atomic(to, bytes);
}

}  // namespace

TEST_CASE("predict writes a mask in the input's geometry and marker probabilities", "[experiments][predict]") {
  const data::Manifest cohort = data::load_manifest(testing::tiny_cohort());
  const fs::path out = testing::temp_dir("predict") / "patient";
  std::ostringstream console;
  experiments::run_predict(options_for(cohort.cases[0].images, out), console);
  require_prediction(out, cohort.cases[0].images[0]);
  REQUIRE_THAT(console.str(), Catch::Contains("IDH"));
}

TEST_CASE("predict maps the mask back onto a real scan's grid", "[experiments][predict][shared][may_skip]") {
  const fs::path root = testing::shared_data_dir();
  if (root.empty()) {
    fedglioma::testing::skip("../shared/data not present");
    return;
  }
  const fs::path dir = root / "brainlesion-tutorials/BraTS-Toolkit/data/OtherEXampleFromTCIA/OtherEXampleFromTCIA_brainles/raw_bet";
  if (!fs::exists(dir)) {
    fedglioma::testing::skip("the BraTS example case is not in ../shared/data");
    return;
  }
  const std::array<fs::path, 4> images = {dir / "OtherEXampleFromTCIA_t1_bet.nii.gz", dir / "OtherEXampleFromTCIA_t1c_bet.nii.gz",
                                          dir / "OtherEXampleFromTCIA_t2_bet.nii.gz", dir / "OtherEXampleFromTCIA_fla_bet.nii.gz"};
  const fs::path out = testing::temp_dir("predict-real") / "patient";
  std::ostringstream console;
  experiments::run_predict(options_for(images, out), console);
  require_prediction(out, images[0]);
}

TEST_CASE("predict with a missing input or another model config fails naming it and writes nothing",
          "[experiments][predict][bad-input]") {
  const data::Manifest cohort = data::load_manifest(testing::tiny_cohort());
  const fs::path dir = testing::temp_dir("predict-bad");
  std::ostringstream console;
  auto images = cohort.cases[0].images;
  images[2] = dir / "missing-t2.nii.gz";
  REQUIRE_THROWS_WITH(experiments::run_predict(options_for(images, dir / "a"), console),
                      Catch::Contains("missing-t2.nii.gz"));
  REQUIRE_FALSE(fs::exists(dir / "a"));

  // The run's config with another depth describes another network than the weights.
  json config = json::parse(read_file(trained_run() / "config.resolved.json"));
  config["model"]["depth"] = 1;
  write_file_atomic(dir / "other.json", config.dump());
  auto o = options_for(cohort.cases[0].images, dir / "b");
  o.config = dir / "other.json";
  REQUIRE_THROWS_WITH(experiments::run_predict(o, console),
                      Catch::Contains("model.pt") && Catch::Contains("model.depth: 2 -> 1"));
  REQUIRE_FALSE(fs::exists(dir / "b"));
  // Told to skip the identity check, the tensors' shapes still refuse it.
  o.skip_identity_check = true;
  REQUIRE_THROWS_WITH(experiments::run_predict(o, console), Catch::Contains("model config"));
  REQUIRE_FALSE(fs::exists(dir / "b"));
}

TEST_CASE("predict refuses a model trained with other preprocessing, or one damaged, non-finite or unrecorded",
          "[experiments][predict][bad-input]") {
  const data::Manifest cohort = data::load_manifest(testing::tiny_cohort());
  const fs::path dir = testing::temp_dir("predict-identity");
  std::ostringstream console;
  const std::string run_config = read_file(trained_run() / "config.resolved.json");

  // Other preprocessing, same tensor shapes: only the identity stored in model.pt tells.
  json config = json::parse(run_config);
  config["data"]["spacing"] = {3.0, 3.0, 3.0};
  write_file_atomic(dir / "other-spacing.json", config.dump());
  auto o = options_for(cohort.cases[0].images, dir / "a");
  o.config = dir / "other-spacing.json";
  REQUIRE_THROWS_WITH(experiments::run_predict(o, console), Catch::Contains("preprocessing.spacing"));
  REQUIRE_FALSE(fs::exists(dir / "a"));
  o.skip_identity_check = true;  // the user means it
  experiments::run_predict(o, console);
  REQUIRE(fs::exists(dir / "a" / "markers.json"));

  auto damaged = [&](const std::string& name, const std::function<bool(const std::string&, std::string&)>& edit) {
    fs::create_directories(dir / name);
    rewrite_model(trained_run() / "model.pt", dir / name / "model.pt", edit);
    write_file_atomic(dir / name / "config.resolved.json", run_config);
    auto options = options_for(cohort.cases[0].images, dir / name / "out");
    options.model = dir / name / "model.pt";
    return options;
  };
  // A model without its record (an older fedglioma's, or saved from Python): refused unless told.
  auto unrecorded = damaged("unrecorded", [](const std::string& name, std::string&) { return name != "fedglioma.json"; });
  REQUIRE_THROWS_WITH(experiments::run_predict(unrecorded, console),
                      Catch::Contains("records no model config") && Catch::Contains("--skip-identity-check"));
  unrecorded.skip_identity_check = true;
  experiments::run_predict(unrecorded, console);

  // A tensor's data shorter than its shape: reading it would run past the stored bytes.
  const auto truncated = damaged("truncated", [](const std::string& name, std::string& bytes) {
    if (name == "data/0") bytes.resize(bytes.size() / 2);
    return true;
  });
  REQUIRE_THROWS_WITH(experiments::run_predict(truncated, console),
                      Catch::Contains("truncated or damaged") && Catch::Contains("model.pt"));
  // NaN weights (a diverged run): no null probabilities, an error.
  const auto non_finite = damaged("nan", [](const std::string& name, std::string& bytes) {
    if (name == "data/0") bytes.assign(bytes.size(), '\xff');
    return true;
  });
  REQUIRE_THROWS_WITH(experiments::run_predict(non_finite, console), Catch::Contains("NaN or infinite"));
  // A string length of 0xFFFFFF01 in the pickle (found by tests/fuzz/fuzz_model_pt): LibTorch's
  // unpickler allocated 4 GB for it. Refused from the bytes, before LibTorch sees them.
  const auto huge_string = damaged("huge-string", [](const std::string& name, std::string& bytes) {
    if (name == "data.pkl") {
      const std::string key = "encoder.1.0.weight";
      const auto at = bytes.find(key);
      REQUIRE(at != std::string::npos);
      const auto next = bytes.find("X\x01\x00\x00\x00", at);  // the next one-character string
      REQUIRE(next != std::string::npos);
      bytes.replace(next, 5, std::string("X\x01\xff\xff\xff", 5));
    }
    return true;
  });
  REQUIRE_THROWS_WITH(experiments::run_predict(huge_string, console),
                      Catch::Contains("declares 4294967041 bytes beyond its end") && Catch::Contains("model.pt"));
  // A record that declares more bytes than the file holds: refused before the zip reader allocates.
  const auto cut = damaged("cut-archive", [](const std::string&, std::string&) { return true; });
  const std::string whole = read_file(cut.model);
  write_file_atomic(cut.model, whole.substr(0, whole.size() / 2) + whole.substr(whole.size() - 22));
  REQUIRE_THROWS_WITH(experiments::run_predict(cut, console), Catch::Contains("not a model file fedglioma can read"));
  for (const char* name : {"truncated", "nan", "huge-string", "cut-archive"}) REQUIRE_FALSE(fs::exists(dir / name / "out"));
}

TEST_CASE("predict with a 3-class grade model gives the probability of each WHO grade", "[experiments][predict]") {
  const fs::path run = testing::tiny_run("predict-grade3", {"federation.rounds=1", "model.grade_classes=3"});
  const data::Manifest cohort = data::load_manifest(testing::tiny_cohort());
  experiments::PredictOptions o = options_for(cohort.cases[1].images, testing::temp_dir("predict-grade3") / "patient");
  o.model = run / "model.pt";
  std::ostringstream console;
  experiments::run_predict(o, console);
  require_prediction(o.out, cohort.cases[1].images[0]);
  const json markers = json::parse(read_file(o.out / "markers.json"));
  const double p2 = markers["grade_who"]["2"], p3 = markers["grade_who"]["3"], p4 = markers["grade_who"]["4"];
  REQUIRE(p2 + p3 + p4 == Approx(1.0).epsilon(1e-9));
  REQUIRE(markers["probabilities"]["grade"].get<double>() == Approx(p4).epsilon(1e-6));
  // The binary-grade model's markers.json has no per-grade block.
  const fs::path binary = testing::temp_dir("predict-grade2") / "patient";
  experiments::run_predict(options_for(cohort.cases[1].images, binary), console);
  REQUIRE_FALSE(json::parse(read_file(binary / "markers.json")).contains("grade_who"));
}

TEST_CASE("any failure reaches the user as one line and exit status 1, never a LibTorch trace",
          "[experiments][predict][bad-input][cli]") {
  const fs::path dir = testing::temp_dir("predict-damaged");
  const std::string bytes = read_file(trained_run() / "model.pt");
  write_file_atomic(dir / "model.pt", bytes.substr(0, bytes.size() / 3));  // a damaged archive
  write_file_atomic(dir / "config.resolved.json", read_file(trained_run() / "config.resolved.json"));
  const auto cohort = data::load_manifest(testing::tiny_cohort());
  const auto& images = cohort.cases[0].images;
  std::string output;
  const int rc = testing::run_command(std::string(FEDGLIOMA_BINARY) + " predict --model " + (dir / "model.pt").string() +
                                          " --t1 " + images[0].string() + " --t1c " + images[1].string() + " --t2 " +
                                          images[2].string() + " --flair " + images[3].string() + " --out " +
                                          (dir / "out").string(),
                                      &output);
  INFO(output);
  REQUIRE(rc == 1);
  REQUIRE(std::count(output.begin(), output.end(), '\n') == 1);
  REQUIRE_THAT(output, Catch::StartsWith("fedglioma: error: "));
  REQUIRE_THAT(output, !Catch::Contains("frame #") && !Catch::Contains("Exception raised from"));
  REQUIRE_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("predict never writes over a patient's own files", "[experiments][predict][owned_folder]") {
  const auto cohort = data::load_manifest(testing::tiny_cohort());
  const fs::path patient = testing::temp_dir("predict-patient-folder");
  write_file_atomic(patient / "mask.nii.gz", "the ground truth");
  std::ostringstream console;
  auto options = options_for(cohort.cases[0].images, patient);
  REQUIRE_THROWS_WITH(experiments::run_predict(options, console), Catch::Contains("--force"));
  options.force = true;
  REQUIRE_THROWS_WITH(experiments::run_predict(options, console),
                      Catch::Contains("mask.nii.gz") && Catch::Contains("never overwrites"));
  REQUIRE(read_file(patient / "mask.nii.gz") == "the ground truth");
  // Its own output folder it may write again.
  const fs::path out = testing::temp_dir("predict-again") / "patient";
  experiments::run_predict(options_for(cohort.cases[0].images, out), console);
  experiments::run_predict(options_for(cohort.cases[1].images, out), console);
  REQUIRE(fs::exists(out / ".fedglioma-predict"));
}

TEST_CASE("predict --set reads scans another way with the identity checks on, and refuses what the model was trained on",
          "[experiments][predict]") {
  const data::Manifest cohort = data::load_manifest(testing::tiny_cohort());
  const fs::path dir = testing::temp_dir("predict-set");
  auto images = cohort.cases[0].images;
  // The T2 on a coarser grid in the same world: co-registered, as a native series can be.
  const data::FloatVolume t2 = data::read_image(images[2]);
  data::Geometry coarse = t2.geometry;
  for (std::size_t d = 0; d < 3; ++d) {
    coarse.spacing[d] *= 2.0;
    coarse.size[d] /= 2;
  }
  images[2] = dir / "t2-coarse.nii.gz";
  data::write_image(images[2], data::resample(t2, coarse, data::Interpolation::kLinear));
  std::ostringstream console;
  auto o = options_for(images, dir / "a");
  REQUIRE_THROWS_WITH(experiments::run_predict(o, console), Catch::Contains("data.on_geometry_mismatch"));
  o.overrides = {"data.on_geometry_mismatch=resample"};
  experiments::run_predict(o, console);  // the model's identity still checked, against the run's config
  require_prediction(dir / "a", images[0]);
  o.out = dir / "b";
  o.overrides = {"data.spacing=3"};
  REQUIRE_THROWS_WITH(experiments::run_predict(o, console),
                      Catch::Contains("--set 'data.spacing=3'") && Catch::Contains("trained on"));
  REQUIRE_FALSE(fs::exists(dir / "b"));
}

namespace {

std::vector<std::vector<std::string>> csv_rows(const fs::path& file) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream cells_in(line);
    for (std::string cell; std::getline(cells_in, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace

TEST_CASE("predict --cases writes every case's mask and probability map and predictions.csv with volumes and Dice",
          "[experiments][predict][cohort]") {
  const data::Manifest cohort = data::load_manifest(testing::tiny_cohort());
  const fs::path out = testing::temp_dir("predict-cohort") / "all";
  experiments::PredictOptions o;
  o.model = trained_run() / "model.pt";
  o.cases = testing::tiny_cohort();
  o.out = out;
  std::ostringstream console;
  experiments::run_predict(o, console);
  REQUIRE_THAT(console.str(), Catch::Contains("predict: " + std::to_string(cohort.cases.size()) + "/" +
                                              std::to_string(cohort.cases.size()) + " cases"));
  const auto rows = csv_rows(out / "predictions.csv");
  REQUIRE(rows.size() == cohort.cases.size() + 1);
  REQUIRE(rows[0] == std::vector<std::string>{"id", "site", "split", "status", "p_idh", "p_1p19q", "p_mgmt", "p_grade",
                                              "volume_ml", "dice"});
  for (std::size_t i = 0; i < cohort.cases.size(); ++i) {
    const data::Case& c = cohort.cases[i];
    const auto& r = rows[i + 1];
    INFO(c.id);
    REQUIRE(r[0] == c.id);
    REQUIRE(r[3] == "ok");
    const data::MaskVolume mask = data::read_labels(out / c.id / "mask.nii.gz");
    const data::FloatVolume prob = data::read_image(out / c.id / "prob.nii.gz");
    const data::FloatVolume t1 = data::read_image(c.images[0]);
    REQUIRE(mask.geometry.same_grid(t1.geometry, 1e-6));
    REQUIRE(prob.geometry.same_grid(t1.geometry, 1e-6));
    for (const float p : prob.voxels) REQUIRE((p >= 0.0f && p <= 1.0f));
    const auto& s = t1.geometry.spacing;
    const double voxels = static_cast<double>(std::count(mask.voxels.begin(), mask.voxels.end(), 1));
    REQUIRE(std::stod(r[8]) == Approx(voxels * s[0] * s[1] * s[2] / 1000.0).epsilon(1e-5));
    REQUIRE(r[9].empty() == !c.mask.has_value());
    if (c.mask) REQUIRE(std::stod(r[9]) == Approx(dice(mask.voxels.data(), data::read_labels(*c.mask).voxels.data(),
                                                       mask.voxels.size())).epsilon(1e-5));
  }

  // Bad input: both forms at once; a case whose file is missing (named; nothing written).
  o.images[0] = cohort.cases[0].images[0];
  REQUIRE_THROWS_WITH(experiments::run_predict(o, console), Catch::Contains("not both"));
  o.images[0].clear();
  data::Manifest broken = cohort;
  broken.cases[1].images[2] = out.parent_path() / "gone-t2.nii.gz";
  data::save_manifest(broken, out.parent_path() / "broken.json");
  o.cases = out.parent_path() / "broken.json";
  o.out = out.parent_path() / "broken-out";
  REQUIRE_THROWS_WITH(experiments::run_predict(o, console), Catch::Contains("gone-t2.nii.gz"));
  REQUIRE_FALSE(fs::exists(o.out));
}

TEST_CASE("predict --cases on the real oblique native scan: every output in the T1's affine and shape (nibabel)",
          "[experiments][predict][cohort][shared][may_skip]") {
  const fs::path root = testing::shared_data_dir();
  std::string probe;
  if (root.empty() || testing::run_command("/usr/bin/python3 -c 'import nibabel'", &probe) != 0) {
    fedglioma::testing::skip("../shared/data or Debian's python3-nibabel not present");
    return;
  }
  const fs::path t1 = root / "brainlesion-tutorials/BraTS-Toolkit/data/OtherEXampleFromTCIA/"
                             "T1_AX_OtherEXampleTCIA_TCGA-FG-6692_Si_TCGA-FG-6692_T1_AX_SE_10_se2d1_t1.nii.gz";
  const fs::path dir = testing::temp_dir("predict-oblique");
  data::Manifest m;
  data::Case c;
  c.id = "TCGA-FG-6692";
  c.site = "tcga";
  c.split = "external";
  c.images = {t1, t1, t1, t1};  // one oblique grid (the other native series are not co-registered with it)
  m.cases = {c};
  data::save_manifest(m, dir / "manifest.json");
  experiments::PredictOptions o;
  o.model = trained_run() / "model.pt";
  o.cases = dir / "manifest.json";
  o.out = dir / "out";
  std::ostringstream console;
  experiments::run_predict(o, console);
  std::string output;
  const std::string check =
      "import nibabel as nib, numpy as np, sys\n"
      "ref = nib.load(sys.argv[1])\n"
      "for f in sys.argv[2:]:\n"
      "    img = nib.load(f)\n"
      "    assert img.shape == ref.shape, (f, img.shape, ref.shape)\n"
      "    assert np.allclose(img.affine, ref.affine, atol=1e-4), (f, img.affine, ref.affine)\n"
      "print('affines and shapes match')\n";
  write_file_atomic(dir / "check.py", check);
  const int rc = testing::run_command("/usr/bin/python3 '" + (dir / "check.py").string() + "' '" + t1.string() + "' '" +
                                          (o.out / c.id / "mask.nii.gz").string() + "' '" +
                                          (o.out / c.id / "prob.nii.gz").string() + "'",
                                      &output);
  INFO(output);
  REQUIRE(rc == 0);
  REQUIRE_THAT(output, Catch::Contains("affines and shapes match"));
}
