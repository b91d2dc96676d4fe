#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>

#include "core/errors.h"

namespace minidl {

namespace fs = std::filesystem;

namespace {

// Unique among threads (counter), processes (pid) and leftovers of crashed runs (random).
std::string temp_name_beside(const fs::path& target) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string name = fmt::format(".{}.tmp-{}-{}-{:08x}", target.filename().string(), getpid(), counter++,
                                       static_cast<uint32_t>(rng()));
  return (target.parent_path() / name).string();
}

// Without this a crash soon after the rename could leave an empty file on some filesystems.
void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void atomic_write(const std::string& path, const std::function<void(const std::string& tmp_path)>& writer) {
  const fs::path target(path);
  MINIDL_CHECK(!target.filename().empty(), IOError, "{}: not a file name", path);
  const std::string tmp = temp_name_beside(target);
  std::error_code ec;
  try {
    writer(tmp);
    MINIDL_CHECK(fs::is_regular_file(tmp, ec), IOError, "{}: the writer did not produce a file (expected {})", path,
                 tmp);
    sync_file(tmp);
    fs::rename(tmp, target, ec);
    MINIDL_CHECK(!ec, IOError, "{}: cannot replace it with {}: {}", path, tmp, ec.message());
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

}  // namespace minidl
