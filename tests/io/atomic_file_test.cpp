#include "io/atomic_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "io/hdf5.h"
#include "support/assertions.h"
#include "support/files.h"

using namespace minidl;
namespace fs = std::filesystem;
using namespace minidl::testing;

namespace {
size_t entries_in(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

// atomic_write with a writer that throws E, over a target holding "previous
// model": the call throws E, the target keeps its bytes and no temporary is left.
template <class E, class Writer>
void expect_failed_write_keeps_target(Writer writer) {
  const fs::path dir = fresh_dir();
  const fs::path target = dir / "model.h5";
  write_file(target, "previous model");
  EXPECT_THROW(atomic_write(target.string(), writer), E);
  EXPECT_EQ(read_file(target), "previous model");
  EXPECT_EQ(entries_in(dir), 1u);
}

// The names in `dir` that look like atomic_write temporaries (".NAME.tmp-...").
std::vector<std::string> temporaries_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.front() == '.' && name.find(".tmp-") != std::string::npos) names.push_back(name);
  }
  return names;
}

// The pid of a process that has exited and been reaped, so no process has it (until
// the system hands the number out again, which takes a full cycle of pids).
pid_t dead_pid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  EXPECT_GT(pid, 0) << "fork failed";
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return pid;
}

// `size` bytes that differ for every `version` (a splitmix64 stream seeded with it).
std::string version_bytes(uint64_t version, size_t size) {
  std::string bytes(size, '\0');
  uint64_t state = version;
  for (size_t i = 0; i < size; i += 8) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    for (size_t b = 0; b < 8 && i + b < size; ++b) bytes[i + b] = static_cast<char>(z >> (8 * b));
  }
  return bytes;
}

// Writes `bytes` to `path` with plain system calls, 64 KiB at a time (several calls,
// so a kill can land between them). Returns false on any failure.
bool write_in_chunks(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  constexpr size_t kChunk = 64 * 1024;
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, std::min(kChunk, bytes.size() - done));
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}
}  // namespace

TEST(AtomicWrite, ReplacesTheTargetWithWhatTheWriterWrote) {
  const fs::path dir = minidl::testing::fresh_dir();
  const fs::path target = dir / "out.bin";
  write_file(target, "old");
  atomic_write(target.string(), [&](const std::string& tmp) {
    EXPECT_EQ(fs::path(tmp).parent_path(), dir);
    EXPECT_NE(fs::path(tmp), target);
    write_file(tmp, "new contents");
  });
  EXPECT_EQ(read_file(target), "new contents");
  EXPECT_EQ(entries_in(dir), 1u);  // no temp file left behind
}

TEST(AtomicWrite, KeepsTheOldFileAndRemovesTheTempWhenTheWriterThrows) {
  expect_failed_write_keeps_target<std::runtime_error>([](const std::string& tmp) {
    write_file(tmp, "half written");
    throw std::runtime_error("disk on fire");
  });
}

TEST(AtomicWrite, KeepsTheOldFileWhenAnHdf5WriterFails) {
  expect_failed_write_keeps_target<IOError>([](const std::string& tmp) {
    h5::H5File f = h5::H5File::create(tmp);
    f.root().create_group("g");
    f.root().create_group("g");  // IOError: already exists
  });
}

TEST(AtomicWrite, WriterThatCreatesNothingIsAnIOError) {
  const fs::path target = minidl::testing::fresh_dir() / "x";
  EXPECT_THROW(atomic_write(target.string(), [](const std::string&) {}), IOError);
  EXPECT_FALSE(fs::exists(target));
}

TEST(AtomicWrite, CreatesTheTargetWhenItDidNotExist) {
  const fs::path target = minidl::testing::fresh_dir() / "fresh.h5";
  atomic_write(target.string(), [](const std::string& tmp) {
    h5::H5File f = h5::H5File::create(tmp);
    f.root().write_int_attr("x", 7);
    f.close();
  });
  EXPECT_EQ(h5::H5File::open_read(target.string()).root().read_int_attr("x"), 7);
}

TEST(AtomicWrite, RemovesTemporariesOfTheTargetLeftByDeadProcessesOnly) {
  const fs::path dir = minidl::testing::fresh_dir();
  const fs::path target = dir / "model.h5";
  const std::string dead = std::to_string(dead_pid()), live = std::to_string(getpid()),
                    parent = std::to_string(getppid());
  const std::vector<std::string> removed = {".model.h5.tmp-" + dead + "-0-0123abcd",
                                            ".model.h5.tmp-" + dead + "-17-ffffffff"};
  const std::vector<std::string> kept = {
      ".model.h5.tmp-" + live + "-0-0123abcd",     // this process is running
      ".model.h5.tmp-" + parent + "-0-0123abcd",   // so is its parent
      ".other.h5.tmp-" + dead + "-0-0123abcd",     // another target
      ".model.h5.tmp-" + dead + "-0-0123abc",      // 7 hex digits: not the exact shape
      ".model.h5.tmp-" + dead + "-0-0123ABCD",     // upper-case hex
      ".model.h5.tmp-" + dead + "-0-0123abcd.bak", // something after the shape
      ".model.h5.tmp-" + dead + "-x-0123abcd",     // counter not a number
      ".model.h5.tmp-0-0-0123abcd",                // pid 0 is no process
      "model.h5.tmp-" + dead + "-0-0123abcd",      // no leading dot
      ".model.h5.tmp-" + dead + "-0-0123abcd-1",   // more after the random part
      "notes.txt"};
  for (const auto& name : removed) write_file(dir / name, "left by a killed save");
  for (const auto& name : kept) write_file(dir / name, "not ours to remove");
  fs::create_directory(dir / (".model.h5.tmp-" + dead + "-1-00000000"));  // a folder, not a temporary

  atomic_write(target.string(), [](const std::string& tmp) { write_file(tmp, "saved"); });

  EXPECT_EQ(read_file(target), "saved");
  for (const auto& name : removed) EXPECT_FALSE(fs::exists(dir / name)) << name;
  for (const auto& name : kept) EXPECT_EQ(read_file(dir / name), "not ours to remove") << name;
  EXPECT_TRUE(fs::is_directory(dir / (".model.h5.tmp-" + dead + "-1-00000000")));
  EXPECT_EQ(entries_in(dir), 1u + kept.size() + 1u);
}

TEST(AtomicWrite, AFailedSaveRemovesNoLeftovers) {
  const fs::path dir = minidl::testing::fresh_dir();
  const fs::path target = dir / "model.h5";
  const std::string leftover = ".model.h5.tmp-" + std::to_string(dead_pid()) + "-0-0123abcd";
  write_file(dir / leftover, "left by a killed save");
  EXPECT_THROW(atomic_write(target.string(), [](const std::string&) { throw std::runtime_error("no"); }),
               std::runtime_error);
  EXPECT_TRUE(fs::exists(dir / leftover));
}

// A save killed at a random moment (seeded) leaves the target as the old or the complete
// new version, never a mix; the temporary it may leave is removed by the next save.
TEST(AtomicWrite, KilledSavesLeaveTheOldOrNewVersionAndNoDebrisAfterTheNextSave) {
  const fs::path dir = minidl::testing::fresh_dir();
  const fs::path target = dir / "weights.bin";
  constexpr size_t kSize = 4 << 20;  // several write calls, so kills land mid-write
  constexpr int kRounds = 30;
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> delay_us(0, 15000);  // a save here takes about 10-20 ms
  int killed = 0, left_temporaries = 0;

  // Round r: a child saves version 2r+1 and is killed; then the parent saves version 2r+2.
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const uint64_t old_version = 2 * round, child_version = old_version + 1, parent_version = old_version + 2;
    // Built before fork: the child only calls atomic_write and plain system calls, then _exit.
    const std::string child_bytes = version_bytes(child_version, kSize);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) {
      bool ok = false;
      try {
        atomic_write(target.string(), [&](const std::string& tmp) {
          if (!write_in_chunks(tmp, child_bytes)) throw std::runtime_error("write failed");
        });
        ok = true;
      } catch (...) {
      }
      _exit(ok ? 0 : 1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    // Killed, or finished its save before the signal; never failed.
    const bool was_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    ASSERT_TRUE(was_killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) << "status " << status;
    killed += was_killed;
    left_temporaries += static_cast<int>(temporaries_in(dir).size());

    if (round == 0 && !fs::exists(target)) {
      // Nothing was ever saved: absent is the old version.
    } else {
      const std::string now = read_file(target);
      ASSERT_EQ(now.size(), kSize);
      EXPECT_TRUE(now == version_bytes(old_version, kSize) || now == child_bytes)
          << "the target is neither the previous save nor the killed child's complete one";
    }

    const std::string parent_bytes = version_bytes(parent_version, kSize);
    atomic_write(target.string(), [&](const std::string& tmp) { write_file(tmp, parent_bytes); });
    ASSERT_TRUE(read_file(target) == parent_bytes);
    EXPECT_EQ(temporaries_in(dir), std::vector<std::string>{});
  }
  EXPECT_EQ(entries_in(dir), 1u);
  EXPECT_TRUE(read_file(target) == version_bytes(2 * kRounds, kSize));
  RecordProperty("killed", killed);
  RecordProperty("temporaries_left_by_kills", left_temporaries);
}
