// tests/ops/conv2d_bf16_test.cpp — the mixed_bfloat16 convolution (ops/conv2d_bf16.h) against the
// double-precision reference: on the bfloat16-rounded operands within float32 accumulation's error
// (1e-5 of the sum of absolute products), and on the unrounded ones within the bfloat16 tolerance of
// TensorFlow's mixed-precision tests (assertAllCloseAccordingToType: rtol = atol = 1e-2); forward,
// dx, dkernel and dbias, with and without the fused relu, for both GEMMs; thread-count independence
// and the argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/conv2d_bf16.h"
#include "ops/gemm_bf16.h"
#include "support/conv_cases.h"

namespace minidl {
// A named namespace: the file-local names stay apart from those of the other files of a unity batch.
namespace conv2d_bf16_test {
namespace {

using testing::Config;
using testing::ConvData;
using testing::kNaN;

std::vector<float> rounded(const std::vector<float>& v) {
  std::vector<float> r(v.size());
  ops::round_to_bfloat16(v.data(), r.data(), static_cast<int64_t>(v.size()));
  return r;
}

std::vector<float> magnitudes(const std::vector<float>& v) {
  std::vector<float> r(v.size());
  std::transform(v.begin(), v.end(), r.begin(), [](float a) { return std::fabs(a); });
  return r;
}

// Whether this build and CPU run oneDNN's bfloat16 GEMM (emulated without AVX512_BF16).
bool onednn_runs() {
  const float one = 1.f;
  float c = 0.f;
  return ops::gemm_bf16_onednn(false, false, 1, 1, 1, 1.f, &one, 1, &one, 1, 0.f, &c, 1);
}

// |got - want| <= tol * scale element by element (scale: the sum of the absolute products).
::testing::AssertionResult WithinScale(const std::vector<float>& got, const std::vector<double>& want,
                                       const std::vector<double>& scale, double tol, const char* what) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << what << ": sizes differ";
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol * scale[i] + 1e-30))
      return ::testing::AssertionFailure() << what << "[" << i << "] = " << got[i] << ", reference " << want[i]
                                           << ", allowed " << tol * scale[i];
  return ::testing::AssertionSuccess();
}

// numpy's allclose with atol relative to the reference's largest magnitude.
::testing::AssertionResult CloseAsBfloat16(const std::vector<float>& got, const std::vector<double>& want,
                                           const char* what) {
  double top = 1.0;
  for (double v : want) top = std::max(top, std::fabs(v));
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= 1e-2 * top + 1e-2 * std::fabs(want[i])))
      return ::testing::AssertionFailure() << what << "[" << i << "] = " << got[i] << ", float32 reference "
                                           << want[i];
  return ::testing::AssertionSuccess();
}

double max_difference(const std::vector<float>& got, const std::vector<double>& want) {
  double d = 0;
  for (size_t i = 0; i < got.size(); ++i) d = std::max(d, std::fabs(got[i] - want[i]));
  return d;
}

struct Outputs {
  std::vector<float> y, dx, dk, db;
};

// Forward, then the backward of d.dy (masked by y when relu), each output starting as NaN.
Outputs run_bf16(const Config& c, const ConvData& d, bool relu, ops::Bf16Gemm mode) {
  const auto g = c.geometry();
  ops::Conv2DWorkspace ws = testing::workspace_for(c);
  Outputs o{std::vector<float>(d.dy.size(), kNaN), std::vector<float>(d.x.size(), kNaN),
            std::vector<float>(d.k.size(), kNaN), std::vector<float>(c.OC, kNaN)};
  ops::conv2d_forward_bf16(d.x.data(), d.k.data(), c.bias ? d.b.data() : nullptr, g, c.G, c.OC, o.y.data(), ws,
                           relu, mode);
  ops::conv2d_backward_bf16(d.x.data(), d.k.data(), d.dy.data(), g, c.G, c.OC, o.dx.data(), o.dk.data(),
                            o.db.data(), ws, relu ? o.y.data() : nullptr, mode);
  return o;
}

// Strides, padding, dilation, groups, a single image (one chunk), tiles smaller
// than a chunk, the 1x1 matrix path, depthwise ones (the direct kernels), and
// a batch of several image chunks (partial kernel gradients added at the end).
const std::vector<Config> kCases = {
    //  N   H   W  C KH KW SH SW DH DW G OC  same   bias   cap
    {2, 7, 6, 3, 3, 3, 1, 1, 1, 1, 1, 5, true, true, 0},
    {2, 10, 9, 8, 3, 3, 1, 1, 1, 1, 1, 8, true, true, 2048},
    {3, 9, 8, 4, 3, 3, 2, 2, 1, 1, 2, 6, false, true, 0},
    {1, 8, 8, 2, 3, 2, 1, 1, 2, 2, 1, 3, true, false, 0},
    {3, 5, 5, 6, 1, 1, 1, 1, 1, 1, 3, 6, false, true, 0},
    {2, 6, 6, 4, 3, 3, 1, 1, 1, 1, 4, 8, true, true, 0},
    {2, 7, 7, 4, 3, 3, 2, 2, 1, 1, 4, 4, false, true, 0},
    {300, 8, 8, 3, 3, 3, 1, 1, 1, 1, 1, 4, false, true, 0},
};

void check_against_references(ops::Bf16Gemm mode) {
  std::mt19937 rng(2024);
  for (const Config& c : kCases)
    for (bool relu : {false, true}) {
      SCOPED_TRACE(c.str() + (relu ? " relu" : ""));
      const ConvData d = testing::random_conv_data(c, rng);
      const Outputs o = run_bf16(c, d, relu, mode);
      const std::vector<float> b = c.bias ? d.b : std::vector<float>();
      const std::vector<float> rx = rounded(d.x), rk = rounded(d.k), rb = rounded(b);
      // The relu's gradient mask is taken from the output computed here.
      std::vector<float> dym = d.dy;
      if (relu)
        for (size_t i = 0; i < dym.size(); ++i) dym[i] = o.y[i] > 0.f ? dym[i] : 0.f;
      const std::vector<float> rdy = rounded(dym);

      std::vector<double> y = testing::reference_forward(c, rx, rk, rb);
      std::vector<double> y_scale = testing::reference_forward(c, magnitudes(rx), magnitudes(rk), magnitudes(rb));
      std::vector<double> y32 = testing::reference_forward(c, d.x, d.k, b);
      if (relu)
        for (size_t i = 0; i < y.size(); ++i) y[i] = std::max(y[i], 0.0), y32[i] = std::max(y32[i], 0.0);
      EXPECT_TRUE(WithinScale(o.y, y, y_scale, 1e-5, "y"));
      EXPECT_TRUE(CloseAsBfloat16(o.y, y32, "y"));
      // The products are of rounded operands, not float32 ones.
      EXPECT_GT(max_difference(o.y, y32), 1e-4);

      const auto grads = testing::reference_backward(c, rx, rk, rdy);
      const auto scale = testing::reference_backward(c, magnitudes(rx), magnitudes(rk), magnitudes(rdy));
      const auto grads32 = testing::reference_backward(c, d.x, d.k, dym);
      EXPECT_TRUE(WithinScale(o.dx, grads.dx, scale.dx, 1e-5, "dx"));
      EXPECT_TRUE(WithinScale(o.dk, grads.dkernel, scale.dkernel, 1e-5, "dkernel"));
      EXPECT_TRUE(CloseAsBfloat16(o.dx, grads32.dx, "dx"));
      EXPECT_TRUE(CloseAsBfloat16(o.dk, grads32.dkernel, "dkernel"));
      EXPECT_GT(max_difference(o.dk, grads32.dkernel), 1e-4);
      // dbias sums dy itself (unrounded), as Dense's bias gradient does.
      const auto bias_scale = testing::reference_backward(c, rx, rk, magnitudes(dym));
      EXPECT_TRUE(WithinScale(o.db, grads32.dbias, bias_scale.dbias, 1e-6, "dbias"));
    }
}

TEST(Conv2DBf16, Float32GemmMatchesReferences) { check_against_references(ops::Bf16Gemm::kFloat32); }

TEST(Conv2DBf16, OneDnnGemmMatchesReferences) {
  if (!onednn_runs()) GTEST_SKIP() << "oneDNN's bfloat16 GEMM is not built in or does not run on this CPU";
  check_against_references(ops::Bf16Gemm::kOneDnn);
}

TEST(Conv2DBf16, AutoGemmMatchesReferences) { check_against_references(ops::Bf16Gemm::kAuto); }

TEST(Conv2DBf16, SameBitsOnOneAndTwoThreads) {
  const int threads = num_threads();
  std::mt19937 rng(5);
  for (const Config& c : {kCases[1], kCases[2], kCases[5], kCases[7]}) {
    SCOPED_TRACE(c.str());
    const ConvData d = testing::random_conv_data(c, rng);
    set_num_threads(1);
    const Outputs one = run_bf16(c, d, true, ops::Bf16Gemm::kFloat32);
    set_num_threads(2);
    const Outputs two = run_bf16(c, d, true, ops::Bf16Gemm::kFloat32);
    for (const auto& [a, b] : {std::pair(&one.y, &two.y), std::pair(&one.dx, &two.dx),
                               std::pair(&one.dk, &two.dk), std::pair(&one.db, &two.db)})
      EXPECT_EQ(std::memcmp(a->data(), b->data(), a->size() * sizeof(float)), 0);
  }
  set_num_threads(threads);
}

TEST(Conv2DBf16, EmptyBatchGivesZeroKernelAndBiasGradients) {
  const Config c{0, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, 3, true, true, 0};
  const auto g = c.geometry();
  ops::Conv2DWorkspace ws;
  const std::vector<float> k(3 * 3 * 2 * 3, 0.5f);
  std::vector<float> dk(k.size(), kNaN), db(3, kNaN);
  ops::conv2d_backward_bf16(nullptr, k.data(), nullptr, g, 1, 3, nullptr, dk.data(), db.data(), ws);
  for (float v : dk) EXPECT_EQ(v, 0.f);
  for (float v : db) EXPECT_EQ(v, 0.f);
}

TEST(Conv2DBf16, BadArgumentsRaiseValueError) {
  const auto g = ops::make_conv_geometry(1, 5, 5, 4, 3, 3, 1, 1, 1, 1, true);
  ops::Conv2DWorkspace ws;
  std::vector<float> x(100, 1.f), k(3 * 3 * 4 * 6, 1.f), y(5 * 5 * 6);
  EXPECT_TRUE(testing::ThrowsQuietly<ValueError>(
      [&] { ops::conv2d_forward_bf16(x.data(), k.data(), nullptr, g, 3, 6, y.data(), ws); },
      {"conv2d_forward_bf16", "groups=3", "4 input channels", "6 filters"}));
  EXPECT_TRUE(testing::ThrowsQuietly<ValueError>(
      [&] { ops::conv2d_forward_bf16(x.data(), nullptr, nullptr, g, 1, 6, y.data(), ws); },
      {"conv2d_forward_bf16", "must not be null"}));
  EXPECT_TRUE(testing::ThrowsQuietly<ValueError>(
      [&] { ops::conv2d_backward_bf16(x.data(), k.data(), nullptr, g, 1, 6, x.data(), nullptr, nullptr, ws); },
      {"conv2d_backward_bf16", "dy must not be null"}));
  ops::Conv2DGeometry bad = g;
  bad.OH = 9;  // does not fit the padded input
  EXPECT_TRUE(testing::ThrowsQuietly<ValueError>(
      [&] { ops::conv2d_forward_bf16(x.data(), k.data(), nullptr, bad, 1, 6, y.data(), ws); },
      {"conv2d_forward_bf16", "inconsistent geometry", "output (9, 5)"}));
}

}  // namespace
}  // namespace conv2d_bf16_test
}  // namespace minidl
