// io/atomic_file.cpp — writing through a temporary file renamed into place (io/atomic_file.h).
#include "io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

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

// The pid in `name` when it is exactly ".FILENAME.tmp-PID-COUNTER-RANDOM" (decimal
// PID and COUNTER, 8 lowercase hex digits), the shape temp_name_beside gives the
// temporaries of the target named `filename`; else 0.
pid_t temp_owner(const std::string& name, const std::string& filename) {
  const std::string prefix = "." + filename + ".tmp-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  const std::string_view rest = std::string_view(name).substr(prefix.size());
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto is_hex = [&](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); };
  const size_t dash1 = rest.find('-');
  const size_t dash2 = dash1 == std::string_view::npos ? dash1 : rest.find('-', dash1 + 1);
  if (dash2 == std::string_view::npos) return 0;
  const std::string_view pid = rest.substr(0, dash1), counter = rest.substr(dash1 + 1, dash2 - dash1 - 1),
                         random = rest.substr(dash2 + 1);
  if (pid.empty() || counter.empty() || random.size() != 8 || !std::all_of(pid.begin(), pid.end(), is_digit) ||
      !std::all_of(counter.begin(), counter.end(), is_digit) || !std::all_of(random.begin(), random.end(), is_hex))
    return 0;
  pid_t value = 0;
  const auto [end, ec] = std::from_chars(pid.data(), pid.data() + pid.size(), value);
  if (ec != std::errc() || end != pid.data() + pid.size() || value <= 0) return 0;
  return value;
}

// Removes the temporaries of `target` whose writer process no longer exists: what a
// kill -9 or a crash during a save leaves. A process is gone when kill(pid, 0) fails
// with ESRCH; any other answer (alive, EPERM for another user's process) keeps the
// file. Best effort: the save has already succeeded, so nothing here throws.
void remove_dead_temporaries(const fs::path& target) {
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string filename = target.filename().string();
  std::error_code ec;
  std::vector<fs::path> dead;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t owner = temp_owner(it->path().filename().string(), filename);
    if (owner == 0 || owner == getpid()) continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || it->is_symlink(type_ec)) continue;
    if (::kill(owner, 0) != 0 && errno == ESRCH) dead.push_back(it->path());
  }
  for (const fs::path& p : dead) fs::remove(p, ec);
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
  remove_dead_temporaries(target);
}

}  // namespace minidl
