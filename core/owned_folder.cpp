#include "core/owned_folder.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/remove_tree.h"

namespace fedglioma {
namespace fs = std::filesystem;

namespace {

constexpr const char* kLockFile = ".fedglioma-lock";

std::string marker_name(const OwnedFolder::Kind& kind) { return ".fedglioma-" + kind.name; }

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// The first of kind.outputs present in `dir`, or "".
std::string existing_output(const fs::path& dir, const OwnedFolder::Kind& kind) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    for (const std::string& output : kind.outputs) {
      const bool prefix = !output.empty() && output.back() == '*';
      if (prefix ? name.rfind(output.substr(0, output.size() - 1), 0) == 0 : name == output) return name;
    }
  }
  return "";
}

// Takes the lock on the open lock file `fd` of `dir`, or closes it and says who holds it.
void take_lock(int fd, const fs::path& dir) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return;
  char owner[32] = {0};
  const ssize_t n = ::pread(fd, owner, sizeof owner - 1, 0);
  ::close(fd);
  throw ConfigError(quoted(dir) + " is in use by another fedglioma process" +
                    (n > 0 ? " (pid " + std::string(owner, static_cast<std::size_t>(n)) + ")" : std::string()) +
                    "; wait for it to finish, or choose another folder");
}

// Takes the folder's lock, or says who holds it. Returns the open descriptor.
int lock(const fs::path& dir) {
  const fs::path file = dir / kLockFile;
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError("cannot open " + quoted(file) + ": " + std::strerror(errno));
  take_lock(fd, dir);
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    ::close(fd);
    throw IoError("cannot write " + quoted(file) + ": " + std::strerror(errno));
  }
  return fd;
}

void write_marker(const fs::path& dir, const OwnedFolder::Kind& kind) {
  write_file_atomic(dir / marker_name(kind),
                    std::string("{\"kind\": \"") + kind.name + "\", \"fedglioma\": \"" + FEDGLIOMA_VERSION + "\"}\n");
}

}  // namespace

OwnedFolder::OwnedFolder(fs::path dir, bool created, int lock_fd)
    : dir_(std::move(dir)), created_(created), lock_fd_(lock_fd) {}

OwnedFolder::OwnedFolder(OwnedFolder&& other) noexcept
    : dir_(std::move(other.dir_)),
      created_(other.created_),
      lock_fd_(std::exchange(other.lock_fd_, -1)),
      marked_(other.marked_) {}

OwnedFolder::~OwnedFolder() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing the descriptor releases the lock
}

void OwnedFolder::require_not_in_use(const fs::path& dir) {
  const int fd = ::open((dir / kLockFile).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;  // no lock file: nobody ever held the folder
  take_lock(fd, dir);
  ::close(fd);  // releases the lock just taken
}

void OwnedFolder::check(const fs::path& dir, const Kind& kind, bool force) {
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  if (existed && !fs::is_directory(dir, ec)) throw ConfigError(quoted(dir) + " exists and is not a folder");
  const bool ours = existed && fs::exists(dir / marker_name(kind), ec);
  if (existed && !ours && !fs::is_empty(dir, ec)) {
    if (!force && kind.force_option.empty())
      throw ConfigError(quoted(dir) + " exists and is not a fedglioma " + kind.name + " folder (it has no " +
                        marker_name(kind) + "); choose a new or empty folder: " + kind.name +
                        " writes only into a folder it made");
    if (!force)
      throw ConfigError(quoted(dir) + " exists and is not a fedglioma " + kind.name + " folder (it has no " +
                        marker_name(kind) + "); choose another folder, or pass " + kind.force_option +
                        " to write into it (nothing in it is ever overwritten)");
    const std::string clash = existing_output(dir, kind);
    if (!clash.empty())
      throw ConfigError(quoted(dir) + " already holds '" + clash + "', which fedglioma would overwrite; " +
                        kind.force_option + " never overwrites: choose another folder");
  }
}

OwnedFolder OwnedFolder::claim(const fs::path& dir, const Kind& kind, bool force) {
  check(dir, kind, force);
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  const bool ours = existed && fs::exists(dir / marker_name(kind), ec);
  if (!existed) {
    fs::create_directories(dir, ec);
    if (ec) throw IoError("cannot create " + quoted(dir) + ": " + ec.message());
  }
  try {
    OwnedFolder folder(dir, !existed, lock(dir));
    if (!ours) write_marker(dir, kind);
    folder.marked_ = !ours;
    return folder;
  } catch (...) {
    // A full disk (or a quota) after the folder was made: leave it as it was found, so that the
    // retry is not refused for a folder that is neither the user's nor marked as fedglioma's.
    if (!existed) {
      remove_tree(dir, ec);
    } else if (!ours) {
      fs::remove(dir / kLockFile, ec);
      fs::remove(dir / marker_name(kind), ec);
    }
    throw;
  }
}

void OwnedFolder::unmark(const Kind& kind) {
  if (!marked_) return;
  std::error_code ec;
  fs::remove(dir_ / marker_name(kind), ec);
  fs::remove(dir_ / kLockFile, ec);  // the descriptor keeps the lock until this object ends
  marked_ = false;
}

OwnedFolder OwnedFolder::reopen(const fs::path& dir, const Kind& kind, const std::vector<std::string>& required) {
  std::error_code ec;
  const bool ours = fs::exists(dir / marker_name(kind), ec);
  if (!ours)
    for (const std::string& file : required)
      if (!fs::exists(dir / file, ec))
        throw ConfigError(quoted(dir) + " is not a fedglioma " + kind.name + " folder: it has no " + file);
  OwnedFolder folder(dir, false, lock(dir));
  if (!ours) write_marker(dir, kind);
  return folder;
}

void OwnedFolder::publish(const std::filesystem::path& staging, const std::filesystem::path& dir, const Kind& kind) {
  const OwnedFolder folder = claim(dir, kind, false);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(staging)) {
    const std::filesystem::path target = dir / entry.path().filename();
    remove_tree(target, ec);
    std::filesystem::rename(entry.path(), target, ec);
    if (ec) throw IoError("cannot move '" + entry.path().string() + "' into '" + dir.string() + "': " + ec.message());
  }
  remove_tree(staging, ec);
}

}  // namespace fedglioma
