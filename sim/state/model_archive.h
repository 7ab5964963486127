#pragma once

#include <string>

namespace fedglioma::sim {

/// Checks the bytes of a model file (torch.save's zip layout) before LibTorch reads them:
/// LibTorch's zip reader allocates whatever size a record declares, and its unpickler whatever
/// length a string declares or whatever memo index a PUT names (a 28 KB model.pt with one length
/// changed to 0xFFFFFF01 made it allocate 4 GB; tests/fuzz/fuzz_model_pt found it). So:
/// - every zip entry must be stored (not compressed: torch never compresses), lie inside the file,
///   and not be a zip64 entry;
/// - the `data.pkl` record must be a pickle of protocol 2 to 4 whose every opcode is known, whose
///   length-prefixed arguments fit in it, whose memo indices follow the PUTs before them, and which
///   ends with STOP.
/// Throws IoError naming `path` and the fault. What passes is bounded by the file's size.
void check_model_archive(const std::string& bytes, const std::string& path);

}  // namespace fedglioma::sim
