#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace fedglioma {

/// An output folder this process may write into, held for the object's lifetime. A folder is
/// fedglioma's when fedglioma created it: it then carries a marker file (`.fedglioma-<kind>`);
/// any other folder is the user's and is refused, unless it is empty, or the user passes the
/// force option and none of the names the subcommand writes exist in it (nothing the user owns
/// is ever overwritten). One process owns a folder at a time: an exclusive OS file lock
/// (flock) on `.fedglioma-lock` refuses a second process, which is told the owner's pid.
class OwnedFolder {
 public:
  /// What a subcommand writes, for its messages and for the check that nothing is overwritten.
  struct Kind {
    std::string name;                  ///< "run": the marker is .fedglioma-run
    std::string force_option;          ///< the option that allows a non-empty user folder ("--force")
    std::vector<std::string> outputs;  ///< names it writes; a trailing '*' matches a prefix
  };

  /// Claims `dir` for writing: creates it (with its parents) when missing; accepts it when it
  /// carries the marker of `kind`, is empty, or (`force`) holds none of kind.outputs. Throws
  /// ConfigError naming the folder and the option to use, or IoError.
  static OwnedFolder claim(const std::filesystem::path& dir, const Kind& kind, bool force);

  /// The refusals of claim() without creating, marking or locking anything: for a subcommand that
  /// checks its output folder before a long computation and claims it afterwards.
  static void check(const std::filesystem::path& dir, const Kind& kind, bool force);

  /// Throws ConfigError naming `dir` and the holder's pid when another process holds its lock
  /// (a run still writing there); for a caller about to remove or reuse a folder it does not own.
  static void require_not_in_use(const std::filesystem::path& dir);

  /// Reopens a folder that fedglioma wrote before (resume): it must carry the marker, or (a
  /// folder from a version without markers) `required`, which then gets the marker.
  static OwnedFolder reopen(const std::filesystem::path& dir, const Kind& kind,
                            const std::vector<std::string>& required);

  /// Publishes a staged output: claims `dir` (as claim(), without force), moves each entry of
  /// `staging` into it, replacing an entry of the same name from an earlier output, then removes
  /// `staging`. For subcommands that write everything aside first so that nothing partial appears.
  static void publish(const std::filesystem::path& staging, const std::filesystem::path& dir, const Kind& kind);

  OwnedFolder(OwnedFolder&& other) noexcept;
  OwnedFolder& operator=(OwnedFolder&&) = delete;
  OwnedFolder(const OwnedFolder&) = delete;
  ~OwnedFolder();

  /// Whether this process created the folder (a failed first attempt may remove it whole).
  bool created() const { return created_; }
  /// Removes what claim() added to a folder it did not create (the marker and the lock file),
  /// leaving the folder as the user had it; for a failed first attempt.
  void unmark(const Kind& kind);
  const std::filesystem::path& path() const { return dir_; }

 private:
  OwnedFolder(std::filesystem::path dir, bool created, int lock_fd);

  std::filesystem::path dir_;
  bool created_ = false;
  int lock_fd_ = -1;
  bool marked_ = false;  // this claim wrote the marker
};

}  // namespace fedglioma
