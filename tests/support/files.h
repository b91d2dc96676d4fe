// tests/support/files.h — files and directories for tests: ../shared (golden
// Keras files and conformance cases), per-test scratch directories, whole-file
// reads and writes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace minidl::testing {

// ../shared beside the repository (golden Keras files and conformance cases).
// Tests that need it call MINIDL_REQUIRE_SHARED() and skip cleanly without it.
inline std::filesystem::path shared_dir() { return std::filesystem::path(MINIDL_SHARED_DIR); }
inline bool have_shared() { return std::filesystem::is_directory(shared_dir() / "keras-h5"); }
inline std::filesystem::path keras_h5_dir() { return shared_dir() / "keras-h5"; }

// This test's scratch directory, named after the suite and the test.
inline std::filesystem::path test_dir_path() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::filesystem::temp_directory_path() /
         (std::string("minidl_test_") + info->test_suite_name() + "_" + info->name());
}

// This test's scratch directory, emptied when first asked for in the test (so
// reruns start clean) and kept across later calls in the same test. It is left
// in place afterwards for inspection.
inline std::filesystem::path temp_dir() {
  const auto dir = test_dir_path();
  static thread_local std::string last;
  if (last != dir.string()) {
    std::filesystem::remove_all(dir);
    last = dir.string();
  }
  std::filesystem::create_directories(dir);
  return dir;
}

// This test's scratch directory, emptied on every call.
inline std::filesystem::path fresh_dir() {
  const auto dir = test_dir_path();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A file name in this test's scratch directory, which is emptied first (fresh_dir).
inline std::string fresh_path(const std::string& name) { return (fresh_dir() / name).string(); }

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The whole file as bytes; empty when it cannot be opened.
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// v as four bytes, most significant first (the IDX and Fashion-MNIST header fields).
inline std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// Everything written to a FILE* opened with std::tmpfile().
inline std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

}  // namespace minidl::testing

#define MINIDL_REQUIRE_SHARED()                                                                   \
  do {                                                                                            \
    if (!::minidl::testing::have_shared())                                                        \
      GTEST_SKIP() << "needs ../shared (golden Keras files) beside the repository; not present"; \
  } while (0)
