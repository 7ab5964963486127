// The Catch2 runner of the single test binary; the test files mirror the source folders.
//
// `fedglioma_tests --write-ctest FILE BINARY WORKDIR` writes the CTest script that registers the
// suite (CMakeLists.txt runs it after each link): one ctest test per test source file for the
// cases that always run, another per file for its [slow] cases (label "slow"), and one per
// test case for each [may_skip] case, whose skip (fixtures.h: skip) exits 77 and shows in ctest as
// skipped, not passed. Grouping by file starts about one process per file instead of one per
// test case; each group prints every test case's time (--durations yes).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "core/numerics.h"
#include "tests/support/fixtures.h"

namespace {

namespace fs = std::filesystem;

bool has_tag(const Catch::TestCaseInfo& info, const std::string& tag) {
  return std::find(info.tags.begin(), info.tags.end(), tag) != info.tags.end();
}

// A CMake bracket argument: nothing inside it is interpreted.
std::string bracket(const std::string& text) { return "[==[" + text + "]==]"; }

// A Catch test spec that matches exactly the test case named `name`.
std::string name_spec(const std::string& name) {
  std::string spec;
  for (const char c : name) {
    if (c == ',' || c == '[' || c == ']' || c == '\\' || c == '*') spec += '\\';
    spec += c;
  }
  return spec;
}

// "sim/run/test_run" for tests/sim/run/test_run.cpp: the group's ctest name.
std::string group_of(const Catch::TestCaseInfo& info) {
  fs::path file(info.lineInfo.file);
  std::vector<std::string> parts;
  for (fs::path p = file.parent_path(); !p.empty() && p.filename() != "tests"; p = p.parent_path())
    parts.insert(parts.begin(), p.filename().string());
  std::string group;
  for (const std::string& part : parts) group += part + "/";
  return group + file.stem().string();
}

void add_test(std::ostream& out, const std::string& name, const std::string& binary, const std::string& spec,
              const std::string& workdir, const std::string& labels) {
  out << "add_test(" << bracket(name) << " " << bracket(binary) << " " << bracket(spec)
      << " [==[-#]==] --warn NoTests --durations yes)\n"
      << "set_tests_properties(" << bracket(name) << " PROPERTIES WORKING_DIRECTORY " << bracket(workdir)
      << " SKIP_RETURN_CODE 77 LABELS " << bracket(labels) << ")\n";
}

int write_ctest(const std::string& path, const std::string& binary, const std::string& workdir) {
  std::map<std::string, std::map<bool, int>> groups;  // group -> slow? -> number of test cases
  std::vector<const Catch::TestCase*> own;
  for (const Catch::TestCase& tc : Catch::getRegistryHub().getTestCaseRegistry().getAllTests()) {
    if (has_tag(tc, fedglioma::testing::kMaySkipTag)) own.push_back(&tc);
    else ++groups[group_of(tc)][has_tag(tc, "slow")];
  }
  std::ofstream out(path);
  for (const auto& [group, kinds] : groups)
    for (const auto& [slow, count] : kinds) {
      const std::string file_tag = "[#" + fs::path(group).filename().string() + "]";
      add_test(out, slow ? group + " (slow)" : group, binary,
               file_tag + (slow ? "[slow]" : "~[slow]") + "~[" + fedglioma::testing::kMaySkipTag + "]", workdir,
               slow ? "slow" : "fast");
    }
  for (const Catch::TestCase* tc : own)
    add_test(out, group_of(*tc) + ": " + tc->name, binary, name_spec(tc->name), workdir,
             std::string(has_tag(*tc, "slow") ? "slow" : "fast") + ";may_skip");
  out.close();
  if (!out) {
    std::cerr << "fedglioma_tests: cannot write '" << path << "'\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--write-ctest") return write_ctest(argv[2], argv[3], argv[4]);
  // As the fedglioma executable: portable CPU kernels and CUDA determinism before any torch call,
  // so in-process runs compute the same bits as the CLI.
  fedglioma::init_process_numerics();
  const int failed = Catch::Session().run(argc, argv);
  // ctest's SKIP_RETURN_CODE: a run whose test cases all passed but one skipped.
  return failed == 0 && fedglioma::testing::any_test_skipped() ? 77 : failed;
}
