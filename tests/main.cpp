// The Catch2 runner of the single test binary; the test files mirror the source folders.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "core/numerics.h"

int main(int argc, char** argv) {
  // As the fedglioma executable: portable CPU kernels and CUDA determinism before any torch call,
  // so in-process runs compute the same bits as the CLI.
  fedglioma::init_process_numerics();
  return Catch::Session().run(argc, argv);
}
