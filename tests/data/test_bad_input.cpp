// The bad-input catalogue: each broken input gives a clear error naming the file, case or field,
// exit status 1 from the CLI, and no output file.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <limits>

#include "core/atomic_file.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma::data;

namespace {

// A minimal uncompressed NIfTI-1 file of float32 voxels with dimensions `dims` (3 or 4 of them).
void write_raw_nifti(const fs::path& path, const std::vector<short>& dims) {
  std::string header(352, '\0');
  auto put = [&](std::size_t offset, const auto& value) { std::memcpy(&header[offset], &value, sizeof value); };
  put(0, 348);
  short dim[8] = {static_cast<short>(dims.size()), 1, 1, 1, 1, 1, 1, 1};
  std::size_t voxels = 1;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    dim[i + 1] = dims[i];
    voxels *= static_cast<std::size_t>(dims[i]);
  }
  std::memcpy(&header[40], dim, sizeof dim);
  put(70, static_cast<short>(16));  // float32
  put(72, static_cast<short>(32));
  const float pixdim[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  std::memcpy(&header[76], pixdim, sizeof pixdim);
  put(108, 352.0f);
  put(112, 1.0f);  // scl_slope
  std::memcpy(&header[344], "n+1", 4);
  std::vector<float> data(voxels, 1.0f);
  fedglioma::write_file_atomic(path, header + std::string(reinterpret_cast<const char*>(data.data()), voxels * 4));
}

// A copy of `source` as an uncompressed .nii at `target` with header bytes overwritten: each
// (offset, float) pair, and the qform and sform codes set to `qform` / `sform` (-1: kept).
void patch_header(const fs::path& source, const fs::path& target, const std::vector<std::pair<std::size_t, float>>& floats,
                  short qform = -1, short sform = -1) {
  write_image(target, read_image(source));
  std::string bytes = fedglioma::read_file(target);
  for (const auto& [offset, value] : floats) std::memcpy(&bytes[offset], &value, sizeof value);
  if (qform >= 0) std::memcpy(&bytes[252], &qform, sizeof qform);
  if (sform >= 0) std::memcpy(&bytes[254], &sform, sizeof sform);
  fedglioma::write_file_atomic(target, bytes);
}

// Runs `fedglioma preprocess --export` over `manifest`; returns the exit status and output.
int preprocess(const fs::path& dir, const Manifest& manifest, std::string* output) {
  save_manifest(manifest, dir / "manifest.json");
  fedglioma::write_file_atomic(dir / "c.json", R"({"data": {"size": 16, "spacing": 12, "cache_dir": ""}})");
  auto quoted = [](const fs::path& p) { return "'" + p.string() + "'"; };
  return fedglioma::testing::run_command(std::string(FEDGLIOMA_BINARY) + " preprocess --config " +
                                             quoted(dir / "c.json") + " --set " +
                                             quoted("data.manifest=" + (dir / "manifest.json").string()) +
                                             " --export " + quoted(dir / "out"),
                                         output);
}

}  // namespace

TEST_CASE("bad input catalogue: each case fails with exit 1 naming the culprit and writes nothing",
          "[data][bad-input][cli]") {
  const Manifest good = load_manifest(fedglioma::testing::tiny_cohort());
  const fs::path base = fedglioma::testing::temp_dir("catalogue");
  struct Broken {
    const char* name;
    std::function<void(Manifest&, const fs::path&)> breaks;
    std::vector<std::string> mentions;
  };
  const std::vector<Broken> catalogue = {
      {"missing file",
       [](Manifest& m, const fs::path& d) { m.cases[1].images[2] = d / "gone.nii.gz"; },
       {"gone.nii.gz", "does not exist"}},
      {"truncated gzip",
       [](Manifest& m, const fs::path& d) {
         const std::string bytes = fedglioma::read_file(m.cases[1].images[0]);
         fedglioma::write_file_atomic(d / "cut.nii.gz", bytes.substr(0, bytes.size() / 2));
         m.cases[1].images[0] = d / "cut.nii.gz";
       },
       {"cut.nii.gz"}},
      {"4D image",
       [](Manifest& m, const fs::path& d) {
         write_raw_nifti(d / "series.nii", {16, 16, 16, 3});
         m.cases[1].images[3] = d / "series.nii";
       },
       {"series.nii", "expected a 3D image", "4 dimensions"}},
      {"modalities on different grids",
       [](Manifest& m, const fs::path& d) {
         FloatVolume v = read_image(m.cases[1].images[1]);
         v.geometry.origin[0] += 30.0;
         write_image(d / "moved.nii.gz", v);
         m.cases[1].images[1] = d / "moved.nii.gz";
       },
       {good.cases[1].id, "moved.nii.gz", "not on the grid"}},
      {"mask on another grid",
       [](Manifest& m, const fs::path& d) {
         MaskVolume v = read_labels(*m.cases[1].mask);
         v.geometry.spacing = {11, 12, 12};
         write_labels(d / "mask.nii.gz", v);
         m.cases[1].mask = d / "mask.nii.gz";
       },
       {"mask.nii.gz", "not on the grid"}},
      {"constant image",
       [](Manifest& m, const fs::path& d) {
         FloatVolume v = read_image(m.cases[1].images[2]);
         for (float& x : v.voxels) x = x != 0.0f ? 3.0f : 0.0f;
         write_image(d / "flat.nii.gz", v);
         m.cases[1].images[2] = d / "flat.nii.gz";
       },
       {good.cases[1].id, "t2", "constant"}},
      {"NaN voxel",
       [](Manifest& m, const fs::path& d) {
         FloatVolume v = read_image(m.cases[1].images[0]);
         v.voxels[1234] = std::numeric_limits<float>::quiet_NaN();
         write_image(d / "nan.nii.gz", v);
         m.cases[1].images[0] = d / "nan.nii.gz";
       },
       {"nan.nii.gz", "voxel 1234 is NaN or infinite"}},
      {"infinite voxel in an uncompressed file",
       [](Manifest& m, const fs::path& d) {
         FloatVolume v = read_image(m.cases[1].images[3]);
         v.voxels[77] = -std::numeric_limits<float>::infinity();
         write_image(d / "inf.nii", v);
         m.cases[1].images[3] = d / "inf.nii";
       },
       {"inf.nii", "voxel 77 is NaN or infinite"}},
      // ITK (VNL) aborts the process on these geometries: the header is checked before ITK reads it.
      {"NaN voxel spacing",
       [](Manifest& m, const fs::path& d) {
         patch_header(m.cases[1].images[0], d / "nanpix.nii", {{84, std::numeric_limits<float>::quiet_NaN()}});
         m.cases[1].images[0] = d / "nanpix.nii";
       },
       {"nanpix.nii", "pixdim[2] is NaN"}},
      {"zero voxel spacing",
       [](Manifest& m, const fs::path& d) {
         patch_header(m.cases[1].images[1], d / "zeropix.nii", {{80, 0.0f}});
         m.cases[1].images[1] = d / "zeropix.nii";
       },
       {"zeropix.nii", "pixdim[1] is 0"}},
      {"infinite sform offset",
       [](Manifest& m, const fs::path& d) {
         patch_header(m.cases[1].images[2], d / "infsform.nii", {{308, std::numeric_limits<float>::infinity()}}, 0, 1);
         m.cases[1].images[2] = d / "infsform.nii";
       },
       {"infsform.nii", "srow_y[3] is infinity"}},
      {"singular sform",
       [](Manifest& m, const fs::path& d) {
         patch_header(m.cases[1].images[2], d / "flatsform.nii", {{280, 0.0f}, {284, 0.0f}, {288, 0.0f}}, 0, 1);
         m.cases[1].images[2] = d / "flatsform.nii";
       },
       {"flatsform.nii", "singular"}},
      {"NaN qform rotation",
       [](Manifest& m, const fs::path& d) {
         patch_header(m.cases[1].images[3], d / "nanq.nii", {{260, std::numeric_limits<float>::quiet_NaN()}}, 1, 0);
         m.cases[1].images[3] = d / "nanq.nii";
       },
       {"nanq.nii", "quatern_c is NaN"}},
      {"infinite qform offset",
       [](Manifest& m, const fs::path& d) {
         patch_header(m.cases[1].images[3], d / "infq.nii", {{268, -std::numeric_limits<float>::infinity()}}, 1, 0);
         m.cases[1].images[3] = d / "infq.nii";
       },
       {"infq.nii", "qoffset_x is -infinity"}},
      {"a 1 MB gzip declaring 1024^3 voxels",
       [](Manifest& m, const fs::path& d) {
         write_raw_nifti(d / "bomb.nii", {64, 64, 64});
         std::string bytes = fedglioma::read_file(d / "bomb.nii");
         const short dim[4] = {3, 1024, 1024, 1024};
         std::memcpy(&bytes[40], dim, sizeof dim);
         bytes.resize(bytes.size() + (1 << 20) * 4, '\0');
         fedglioma::write_file_atomic(d / "bomb.nii", bytes);
         std::string ignored;
         REQUIRE(fedglioma::testing::run_command("gzip -f '" + (d / "bomb.nii").string() + "'", &ignored) == 0);
         m.cases[1].images[0] = d / "bomb.nii.gz";
       },
       {"bomb.nii.gz", "1024 x 1024 x 1024", "more than the"}},
      {"an unknown voxel type (niftilib would print its own error line)",
       [](Manifest& m, const fs::path& d) {
         write_raw_nifti(d / "type.nii", {16, 16, 16});
         std::string bytes = fedglioma::read_file(d / "type.nii");
         const short type = 9999;
         std::memcpy(&bytes[70], &type, sizeof type);
         fedglioma::write_file_atomic(d / "type.nii", bytes);
         m.cases[1].images[1] = d / "type.nii";
       },
       {"type.nii", "datatype is 9999"}},
      {"a folder where a scan should be",
       [](Manifest& m, const fs::path& d) {
         fs::create_directories(d / "t2.nii.gz");
         m.cases[1].images[2] = d / "t2.nii.gz";
       },
       {"t2.nii.gz", "not a regular file"}},
      {"a device where a scan should be",
       [](Manifest& m, const fs::path&) { m.cases[1].images[2] = "/dev/zero"; },
       {"/dev/zero", "not a regular file"}},
      {"NaN voxel spacing in a mask",
       [](Manifest& m, const fs::path& d) {
         const MaskVolume v = read_labels(*m.cases[1].mask);
         write_labels(d / "mask.nii", v);
         std::string bytes = fedglioma::read_file(d / "mask.nii");
         const float nan = std::numeric_limits<float>::quiet_NaN();
         std::memcpy(&bytes[88], &nan, sizeof nan);
         fedglioma::write_file_atomic(d / "mask.nii", bytes);
         m.cases[1].mask = d / "mask.nii";
       },
       {"mask.nii", "pixdim[3] is NaN"}},
  };
  for (const Broken& broken : catalogue) {
    DYNAMIC_SECTION(broken.name) {
      const fs::path dir = base / broken.name;
      fs::create_directories(dir);
      Manifest m = good;
      broken.breaks(m, dir);
      std::string output;
      REQUIRE(preprocess(dir, m, &output) == 1);
      for (const auto& text : broken.mentions) REQUIRE_THAT(output, Contains(text));
      REQUIRE_THAT(output, !Contains("terminate called") && !Contains("** ERROR") && !Contains("WARNING"));
      REQUIRE_FALSE(fs::exists(dir / "out"));
    }
  }
}

TEST_CASE("a config, manifest or sweep file that is a device, a folder or too large is refused before it is read",
          "[data][bad-input][cli]") {
  const fs::path dir = fedglioma::testing::temp_dir("not-regular");
  fedglioma::write_file_atomic(dir / "c.json", fedglioma::testing::tiny_config_json());
  fedglioma::write_file_atomic(dir / "huge.json", "{}");
  fs::resize_file(dir / "huge.json", fedglioma::kMaxTextInputBytes + 1);  // sparse: no disk used
  const std::string bin = FEDGLIOMA_BINARY;
  const std::vector<std::pair<std::string, std::vector<std::string>>> commands = {
      {bin + " run /dev/zero --out '" + (dir / "a").string() + "'", {"/dev/zero", "not a regular file"}},
      {bin + " run '" + dir.string() + "' --out '" + (dir / "b").string() + "'", {"not a regular file"}},
      {bin + " run '" + (dir / "huge.json").string() + "' --out '" + (dir / "c").string() + "'",
       {"huge.json", "larger than the 64 MiB"}},
      {bin + " run '" + (dir / "c.json").string() + "' --out '" + (dir / "d").string() +
           "' --set data.manifest=/dev/urandom",
       {"/dev/urandom", "not a regular file"}},
      {bin + " sweep /dev/zero --out '" + (dir / "e").string() + "'", {"/dev/zero", "not a regular file"}},
  };
  for (const auto& [command, mentions] : commands) {
    std::string output;
    INFO(command);
    REQUIRE(fedglioma::testing::run_command("timeout 60 " + command, &output) == 1);
    for (const auto& text : mentions) REQUIRE_THAT(output, Contains(text));
  }
  for (const char* out : {"a", "b", "c", "d", "e"}) REQUIRE_FALSE(fs::exists(dir / out));
}
