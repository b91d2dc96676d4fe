// tests/io/io_test_util.h — helpers shared by the io tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "core/errors.h"

namespace minidl::testing {

// This test's scratch directory (testing.h's temp_dir()), emptied first so reruns start clean.
inline std::filesystem::path fresh_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             (std::string("minidl_test_") + info->test_suite_name() + "_" + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs f and checks that it throws IOError whose message contains every needle, and that
// nothing was printed on stderr meanwhile (HDF5 must not dump its error stack).
inline ::testing::AssertionResult ThrowsIOErrorQuietly(const std::function<void()>& f,
                                                       const std::vector<std::string>& needles) {
  ::testing::internal::CaptureStderr();
  std::string message;
  bool thrown = false;
  try {
    f();
  } catch (const IOError& e) {
    thrown = true;
    message = e.what();
  } catch (const std::exception& e) {
    ::testing::internal::GetCapturedStderr();
    return ::testing::AssertionFailure() << "threw a non-IOError: " << e.what();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  if (!thrown) return ::testing::AssertionFailure() << "no IOError thrown";
  for (const auto& n : needles)
    if (message.find(n) == std::string::npos)
      return ::testing::AssertionFailure() << "message lacks \"" << n << "\": " << message;
  if (!err.empty()) return ::testing::AssertionFailure() << "stderr was not empty: " << err;
  return ::testing::AssertionSuccess() << message;
}

}  // namespace minidl::testing
