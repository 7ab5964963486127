#include "core/process_scratch.h"

#include <cerrno>
#include <csignal>
#include <system_error>

#include <unistd.h>

#include "core/error.h"
#include "core/remove_tree.h"

namespace fedglioma {
namespace {

namespace fs = std::filesystem;

// The pid at the end of `<family>...-<pid>`, or 0 when the name has none.
pid_t pid_in(const std::string& name) {
  const auto dash = name.rfind('-');
  if (dash == std::string::npos || dash + 1 == name.size()) return 0;
  pid_t pid = 0;
  for (std::size_t i = dash + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || pid > 100000000) return 0;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

// Removes the family's folders left by processes that are gone (kill(pid, 0) says ESRCH). A
// folder that cannot be removed is left: it is another user's, or in use.
void remove_orphans(const fs::path& parent, const std::string& family) {
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(family, 0) != 0) continue;
    const pid_t pid = pid_in(name);
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code ignored;
    remove_tree(it->path(), ignored);
  }
}

}  // namespace

ProcessScratch::ProcessScratch(const std::string& family, const std::string& tag) {
  std::error_code ec;
  const fs::path parent = fs::temp_directory_path(ec);
  if (ec) throw IoError("no temporary folder for " + family + tag + ": " + ec.message() + " (check TMPDIR)");
  remove_orphans(parent, family);
  path_ = parent / (family + tag + "-" + std::to_string(static_cast<long>(::getpid())));
  std::error_code ignored;
  remove_tree(path_, ignored);  // a folder of an earlier process that had this pid
  if (!fs::create_directories(path_, ec) && ec)
    throw IoError("cannot create the temporary folder '" + path_.string() + "': " + ec.message());
}

ProcessScratch::~ProcessScratch() {
  std::error_code ignored;
  remove_tree(path_, ignored);
}

}  // namespace fedglioma
