#include "core/atomic_file.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>

#include <unistd.h>

#include "core/error.h"

namespace fedglioma {

void write_file_atomic(const std::filesystem::path& path, const std::string& contents) {
  // Unique per writer, process and thread alike: two writers of one path (threads caching the
  // same entry, processes sharing a cache) each rename a whole file of their own, and the last
  // rename wins; a name shared by threads let one writer rename or remove the other's file.
  static std::atomic<std::uint64_t> writes{0};
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(static_cast<long>(::getpid())) + "." +
                                    std::to_string(writes.fetch_add(1));
  {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw IoError("cannot write '" + tmp.string() + "': check the folder exists and is writable");
    const bool ok = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size() &&
                    std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    std::fclose(f);
    if (!ok) {
      std::filesystem::remove(tmp);
      throw IoError("failed while writing '" + path.string() + "' (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw IoError("cannot replace '" + path.string() + "': " + ec.message());
  }
}

void append_line(const std::filesystem::path& path, const std::string& line) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  if (!out) throw IoError("cannot append to '" + path.string() + "'");
  // One write call for the whole line keeps lines whole even if the process dies afterwards.
  const std::string whole = line + "\n";
  out.write(whole.data(), static_cast<std::streamsize>(whole.size()));
  out.flush();
  if (!out) throw IoError("failed while appending to '" + path.string() + "' (disk full?)");
}

std::string read_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    throw IoError("cannot read '" + path.string() + "': no such file or not readable");
  if (!std::filesystem::is_regular_file(status))
    throw IoError("'" + path.string() + "' is not a regular file (a folder, device or pipe); give a file");
  const auto size = std::filesystem::file_size(path, ec);
  auto too_long = [&] {
    return IoError("'" + path.string() + "' is larger than the " + std::to_string(max_bytes >> 20) +
                   " MiB fedglioma reads from such a file; is it the right file?");
  };
  if (!ec && size > max_bytes) throw too_long();
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw IoError("cannot read '" + path.string() + "': no such file or not readable");
  // One allocation and large reads: cache entries are tens of megabytes.
  std::string out;
  if (!ec) out.reserve(static_cast<std::size_t>(size));
  char buffer[1 << 16];
  std::size_t n;
  while (out.size() <= max_bytes && (n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw IoError("failed while reading '" + path.string() + "'");
  if (out.size() > max_bytes) throw too_long();  // it grew while being read
  return out;
}

}  // namespace fedglioma
