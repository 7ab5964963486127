// The model.pt reader predict uses: the identity record, then the tensors into a small model
// (the tiny test config's: depth 2, base 4, head 8, so that the seeds' names and shapes match).
#include "models/multitask_unet3d.h"
#include "sim/model_state.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fedglioma::fuzz::input_file(data, size, "model.pt");
  return fedglioma::fuzz::expect_refusal_or_success([&] {
    fedglioma::models::MultiTaskUNet3D model(
        fedglioma::models::MultiTaskUNet3DOptions().depth(2).base_channels(4).head_hidden(8));
    fedglioma::sim::read_model_identity(path.string());
    fedglioma::sim::load_state_dict(*model, path.string());
  });
}
