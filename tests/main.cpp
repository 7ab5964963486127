// The Catch2 runner of the single test binary; the test files mirror the source folders.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
