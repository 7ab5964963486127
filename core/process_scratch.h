#pragma once

#include <filesystem>
#include <string>

namespace fedglioma {

/// A folder of this process's own under the system's temporary folder (TMPDIR), named
/// `<family><tag>-<pid>`, created on construction and removed with everything in it on
/// destruction, whether the process ends normally or through an exception. A process killed
/// outright (SIGKILL, or SIGTERM without a handler) cannot remove its folder: the next
/// ProcessScratch of the same family removes the folders whose process no longer exists.
class ProcessScratch {
 public:
  /// Throws IoError naming the folder when it cannot be created.
  ProcessScratch(const std::string& family, const std::string& tag);
  ~ProcessScratch();
  ProcessScratch(const ProcessScratch&) = delete;
  ProcessScratch& operator=(const ProcessScratch&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace fedglioma
