// tests/testing.h — helpers shared by the test executables.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "core/tensor.h"

namespace minidl::testing {

// ../shared beside the repository (golden Keras files and conformance cases).
// Tests that need it call MINIDL_REQUIRE_SHARED() and skip cleanly without it.
inline std::filesystem::path shared_dir() { return std::filesystem::path(MINIDL_SHARED_DIR); }
inline bool have_shared() { return std::filesystem::is_directory(shared_dir() / "keras-h5"); }

// A scratch directory unique to this test, emptied when first asked for in
// the test (so reruns start clean). It is left in place afterwards for inspection.
inline std::filesystem::path temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             (std::string("minidl_test_") + info->test_suite_name() + "_" + info->name());
  static thread_local std::string last;
  if (last != dir.string()) {
    std::filesystem::remove_all(dir);
    last = dir.string();
  }
  std::filesystem::create_directories(dir);
  return dir;
}

// Max |a - b| <= atol + rtol * max(1, max|b|) — the conformance tolerance form.
inline ::testing::AssertionResult AllClose(const Tensor& a, const Tensor& b, double atol = 1e-5, double rtol = 1e-4) {
  if (a.shape() != b.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(a.shape()) << " vs " << shape_str(b.shape());
  double maxb = 1, worst = 0;
  int64_t at = -1;
  for (int64_t i = 0; i < b.numel(); ++i) maxb = std::max(maxb, std::fabs(double(b[i])));
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= atol + rtol * maxb))
    return ::testing::AssertionFailure() << "max abs error " << worst << " at flat index " << at << " (" << a[at]
                                         << " vs " << b[at] << "), tolerance " << atol + rtol * maxb;
  return ::testing::AssertionSuccess();
}

}  // namespace minidl::testing

#define MINIDL_REQUIRE_SHARED()                                                                   \
  do {                                                                                            \
    if (!::minidl::testing::have_shared())                                                        \
      GTEST_SKIP() << "needs ../shared (golden Keras files) beside the repository; not present"; \
  } while (0)
