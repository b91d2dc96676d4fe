// tests/support/assertions.h — gtest predicates shared by the tests: closeness
// of tensors and of results against double-precision references, and
// exceptions with the expected type and message.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"

namespace minidl::testing {

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

// Every |got - want| <= tol * (1 + |want|): element by element.
inline ::testing::AssertionResult close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol * (1 + std::fabs(want[i]))))
      return ::testing::AssertionFailure() << "at " << i << ": " << got[i] << " vs " << want[i];
  return ::testing::AssertionSuccess();
}

// The conformance cases' kind of tolerance: every |got - want| at most
// tol * max(1, max |want|), i.e. relative to the tensor's scale rather than to
// each element (a Winograd transform spreads rounding across a tile).
inline ::testing::AssertionResult close_to_scale(const std::vector<float>& got, const std::vector<double>& want,
                                                 double tol) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  double scale = 1;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol * scale))
      return ::testing::AssertionFailure() << "at " << i << ": " << got[i] << " vs " << want[i] << " (scale " << scale
                                           << ")";
  return ::testing::AssertionSuccess();
}

// Every one of `parts` occurs in `text`; a failure names each missing part and
// shows the text.
inline ::testing::AssertionResult ContainsAll(const std::string& text, const std::vector<std::string>& parts) {
  std::string missing;
  for (const auto& p : parts)
    if (text.find(p) == std::string::npos) missing += "  \"" + p + "\"\n";
  if (missing.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "missing:\n" << missing << "in:\n" << text;
}

// The closing lines of a model summary with these parameter counts, written as
// Keras writes them (thousands separated by commas).
inline ::testing::AssertionResult HasParamTotals(const std::string& summary, const std::string& total,
                                                 const std::string& trainable, const std::string& non_trainable) {
  return ContainsAll(summary, {"Total params: " + total + "\n", "Trainable params: " + trainable + "\n",
                               "Non-trainable params: " + non_trainable + "\n"});
}

// Not `detail`: test files bring minidl::testing into namespace minidl, and in a unity
// batch a second `detail` there makes minidl::detail ambiguous in the headers that follow.
namespace assertion_detail {

// Runs f and checks that it throws E whose message contains every one of
// `parts`; with `quiet`, also that nothing was printed on stderr meanwhile.
template <class E, class F>
::testing::AssertionResult throws(F&& f, const std::vector<std::string>& parts, bool quiet) {
  if (quiet) ::testing::internal::CaptureStderr();
  std::string message;
  bool thrown = false;
  try {
    f();
  } catch (const E& e) {
    thrown = true;
    message = e.what();
  } catch (const std::exception& e) {
    if (quiet) ::testing::internal::GetCapturedStderr();
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  }
  const std::string err = quiet ? ::testing::internal::GetCapturedStderr() : std::string();
  if (!thrown) return ::testing::AssertionFailure() << "did not throw";
  for (const auto& p : parts)
    if (message.find(p) == std::string::npos)
      return ::testing::AssertionFailure() << "message \"" << message << "\" lacks \"" << p << "\"";
  if (!err.empty()) return ::testing::AssertionFailure() << "stderr was not empty: " << err;
  return ::testing::AssertionSuccess() << message;
}

}  // namespace assertion_detail

// Runs f, expecting exception E whose message contains every one of `parts`.
template <class E, class F>
::testing::AssertionResult ThrowsWith(F&& f, const std::vector<std::string>& parts) {
  return assertion_detail::throws<E>(std::forward<F>(f), parts, /*quiet=*/false);
}

// As ThrowsWith, and nothing may be printed on stderr meanwhile (HDF5 must not
// dump its error stack).
template <class E, class F>
::testing::AssertionResult ThrowsQuietly(F&& f, const std::vector<std::string>& parts) {
  return assertion_detail::throws<E>(std::forward<F>(f), parts, /*quiet=*/true);
}

}  // namespace minidl::testing
