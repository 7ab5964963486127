// NIfTI header validation: the checks that run before ITK sees a file (ITK aborts the process on
// a geometry it cannot take, and decompresses whatever size the header declares). The input is
// an uncompressed .nii file.
#include "data/nifti_header.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fedglioma::fuzz::input_file(data, size, "scan.nii");
  return fedglioma::fuzz::expect_refusal_or_success([&] {
    if (const auto header = fedglioma::data::read_nifti_header(path)) {
      fedglioma::data::check_header_extent(*header, path);
      fedglioma::data::check_header_geometry(*header, path);
    }
  });
}
