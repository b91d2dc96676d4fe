// tests/ops/depthwise_conv2d_test.cpp — the direct depthwise kernels (ops/depthwise_conv2d.h) against
// the double-precision grouped-convolution reference (groups = C), alone and through ops::conv2d.
#include "ops/depthwise_conv2d.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/conv2d.h"
#include "support/conv_cases.h"

namespace minidl {
namespace {

using namespace testing;

// Depthwise cases: groups = C, OC = C*M. Odd sizes, both paddings, strides,
// dilation, kernels from 1x1 to 5x5 and non-square, channel counts that
// exercise every block width (1 .. 64 and a remainder past 64).
std::vector<Config> depthwise_cases() {
  std::vector<Config> out;
  // {N, H, W, C, KH, KW, SH, SW, DH, DW, G, OC, same, bias, cap}
  for (int64_t M : {1, 2})
    for (bool same : {false, true}) {
      out.push_back({2, 7, 9, 3, 3, 3, 1, 1, 1, 1, 3, 3 * M, same, true, 0});
      out.push_back({1, 9, 8, 16, 3, 3, 2, 2, 1, 1, 16, 16 * M, same, true, 0});
      out.push_back({3, 6, 5, 5, 3, 3, 1, 1, 2, 2, 5, 5 * M, same, false, 0});
      out.push_back({1, 11, 10, 70, 3, 3, 2, 2, 1, 1, 70, 70 * M, same, true, 0});
      out.push_back({2, 8, 7, 8, 5, 5, 1, 1, 1, 1, 8, 8 * M, same, true, 0});
      out.push_back({1, 7, 8, 4, 3, 2, 1, 2, 1, 1, 4, 4 * M, same, false, 0});
      out.push_back({2, 5, 5, 33, 1, 1, 2, 2, 1, 1, 33, 33 * M, same, true, 0});
      out.push_back({1, 6, 5, 6, 5, 5, 2, 1, 1, 1, 6, 6 * M, same, true, 0});  // kernel nearly the input size
    }
  out.push_back({1, 9, 9, 7, 3, 3, 1, 1, 1, 1, 7, 21, true, true, 0});  // M = 3
  return out;
}

struct DepthwiseRun {
  std::vector<float> y, dx, dk, db;
};

// ops::depthwise_conv2d_forward then _backward of d.dy, every output NaN-filled first.
DepthwiseRun run_depthwise(const Config& c, const ConvData& d, bool relu) {
  const auto g = c.geometry();
  DepthwiseRun o{std::vector<float>(d.dy.size(), kNaN), std::vector<float>(d.x.size(), kNaN),
                 std::vector<float>(d.k.size(), kNaN), std::vector<float>(c.OC, kNaN)};
  ops::Conv2DWorkspace ws;
  const int64_t M = c.OC / c.C;
  ops::depthwise_conv2d_forward(d.x.data(), d.k.data(), c.bias ? d.b.data() : nullptr, g, M, o.y.data(), ws, relu);
  ops::depthwise_conv2d_backward(d.x.data(), d.k.data(), d.dy.data(), g, M, o.dx.data(), o.dk.data(), o.db.data(),
                                 ws, relu ? o.y.data() : nullptr);
  return o;
}

TEST(DepthwiseConv2DOp, ForwardAndGradientsMatchGroupedReference) {
  std::mt19937 rng(7);
  for (const Config& c : depthwise_cases()) {
    ASSERT_TRUE(ops::depthwise_applicable(c.geometry(), c.G, c.OC)) << c.str();
    const ConvData d = random_conv_data(c, rng);
    const DepthwiseRun o = run_depthwise(c, d, /*relu=*/false);
    EXPECT_TRUE(close(o.y, reference_forward(c, d.x, d.k, c.bias_of(d.b)), 1e-5)) << c.str();
    const auto want = reference_backward(c, d.x, d.k, d.dy);
    EXPECT_TRUE(close(o.dx, want.dx, 1e-5)) << "dx " << c.str();
    EXPECT_TRUE(close(o.dk, want.dkernel, 1e-5)) << "dkernel " << c.str();
    EXPECT_TRUE(close(o.db, want.dbias, 1e-5)) << "dbias " << c.str();
  }
}

TEST(DepthwiseConv2DOp, FusedReluMatchesReferenceThenRelu) {
  std::mt19937 rng(8);
  for (const Config& c : depthwise_cases()) {
    const ConvData d = random_conv_data(c, rng);
    const DepthwiseRun o = run_depthwise(c, d, /*relu=*/true);
    const ReluReference r = with_relu(reference_forward(c, d.x, d.k, c.bias_of(d.b)), d.dy);
    ASSERT_GT(r.positive, 0) << c.str();
    EXPECT_TRUE(close(o.y, r.y, 1e-5)) << c.str();
    const auto want = reference_backward(c, d.x, d.k, r.masked_dy);
    EXPECT_TRUE(close(o.dx, want.dx, 1e-5)) << "dx " << c.str();
    EXPECT_TRUE(close(o.dk, want.dkernel, 1e-5)) << "dkernel " << c.str();
    EXPECT_TRUE(close(o.db, want.dbias, 1e-5)) << "dbias " << c.str();
  }
}

// Rows wide enough for the forward's multi-pixel interior blocks at every
// channel piece (120 = 64 + 32 + 16 + 8, 7 = 4 + 2 + 1) with remainders and
// edge pixels on both sides; 3-wide and other kernel widths, strides, dilation,
// and a kernel taller than the row pointers kept on the stack.
TEST(DepthwiseConv2DOp, WideRowsMatchReferenceWithAndWithoutRelu) {
  std::mt19937 rng(11);
  std::vector<Config> cases;
  // {N, H, W, C, KH, KW, SH, SW, DH, DW, G, OC, same, bias, cap}
  for (int64_t C : {120, 7})
    for (bool same : {false, true}) {
      cases.push_back({2, 4, 29, C, 3, 3, 1, 1, 1, 1, C, C, same, true, 0});
      cases.push_back({1, 5, 37, C, 3, 3, 2, 2, 1, 1, C, C, same, true, 0});
      cases.push_back({1, 6, 31, C, 3, 5, 1, 1, 1, 2, C, C, same, false, 0});
      cases.push_back({1, 3, 26, C, 1, 3, 1, 3, 1, 1, C, 2 * C, same, true, 0});
    }
  cases.push_back({1, 20, 21, 3, 17, 3, 1, 1, 1, 1, 3, 3, true, true, 0});
  for (const Config& c : cases)
    for (bool relu : {false, true}) {
      const ConvData d = random_conv_data(c, rng);
      const DepthwiseRun o = run_depthwise(c, d, relu);
      std::vector<double> want = reference_forward(c, d.x, d.k, c.bias_of(d.b));
      if (relu) want = with_relu(want, d.dy).y;
      EXPECT_TRUE(close(o.y, want, 1e-5)) << c.str() << (relu ? " relu" : "");
    }
}

// ops::conv2d_forward/backward under "auto" take the depthwise kernels for
// groups == C; each gradient asked for alone equals the reference too.
TEST(DepthwiseConv2DOp, Conv2DAutoDispatchMatchesReference) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(9);
  for (const Config& c : depthwise_cases()) {
    ops::Conv2DWorkspace ws;
    const auto both = gradients_together_and_alone(c, rng, ws);
    EXPECT_TRUE(close(both.alone.dx, std::vector<double>(both.together.dx.begin(), both.together.dx.end()), 1e-6))
        << c.str();
    EXPECT_TRUE(close(both.alone.dk, std::vector<double>(both.together.dk.begin(), both.together.dk.end()), 1e-6))
        << c.str();
    EXPECT_TRUE(close(both.alone.db, std::vector<double>(both.together.db.begin(), both.together.db.end()), 1e-6))
        << c.str();
    const ConvData d = random_conv_data(c, rng);
    const ConvOutputs o = run_conv2d(c, d, ws);
    EXPECT_TRUE(close(o.y, reference_forward(c, d.x, d.k, c.bias_of(d.b)), 1e-5)) << c.str();
    EXPECT_TRUE(gradients_match(o, reference_backward(c, d.x, d.k, d.dy), 1e-5, false, c.str()));
  }
}

// Central differences of sum(y * r) through ops::conv2d ("auto": the depthwise path).
TEST(DepthwiseConv2DOp, GradientsMatchFiniteDifferences) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(10);
  const std::vector<Config> cases = {{1, 5, 6, 3, 3, 3, 2, 2, 1, 1, 3, 6, true, true, 0},
                                     {2, 6, 5, 4, 3, 3, 1, 1, 2, 2, 4, 4, false, true, 0}};
  for (const Config& c : cases) {
    ops::Conv2DWorkspace ws;
    check_gradients_by_finite_differences(c, ws, rng, 2e-3);
  }
}

// The kernel-gradient chunks are fixed by the problem, so the thread count
// changes no bit of any result.
TEST(DepthwiseConv2DOp, ResultsDoNotDependOnThreadCount) {
  std::mt19937 rng(11);
  const Config c{4, 40, 36, 96, 3, 3, 1, 1, 1, 1, 96, 96, true, true, 0};
  const ConvData d = random_conv_data(c, rng);
  set_num_threads(1);
  const DepthwiseRun one = run_depthwise(c, d, false);
  set_num_threads(2);
  const DepthwiseRun two = run_depthwise(c, d, false);
  EXPECT_EQ(one.y, two.y);
  EXPECT_EQ(one.dx, two.dx);
  EXPECT_EQ(one.dk, two.dk);
  EXPECT_EQ(one.db, two.db);
  EXPECT_TRUE(close(two.dk, reference_backward(c, d.x, d.k, d.dy).dkernel, 1e-4));
}

TEST(DepthwiseConv2DOp, EmptyBatchGivesZeroKernelAndBiasGradients) {
  const Config c{0, 5, 5, 4, 3, 3, 1, 1, 1, 1, 4, 8, true, true, 0};
  std::vector<float> dk(3 * 3 * 4 * 2, kNaN), db(8, kNaN);
  ops::Conv2DWorkspace ws;
  ops::depthwise_conv2d_backward(nullptr, nullptr, nullptr, c.geometry(), 2, nullptr, dk.data(), db.data(), ws);
  for (float v : dk) EXPECT_EQ(v, 0.f);
  for (float v : db) EXPECT_EQ(v, 0.f);
}

TEST(DepthwiseConv2DOp, BadArgumentsAreValueErrors) {
  const Config c{1, 5, 5, 4, 3, 3, 1, 1, 1, 1, 4, 4, true, true, 0};
  const auto g = c.geometry();
  std::vector<float> x(5 * 5 * 4), k(3 * 3 * 4), y(5 * 5 * 4);
  ops::Conv2DWorkspace ws;
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { ops::depthwise_conv2d_forward(x.data(), k.data(), nullptr, g, 0, y.data(), ws); },
      {"depthwise_conv2d_forward", "depth multiplier >= 1", "received 0"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { ops::depthwise_conv2d_forward(nullptr, k.data(), nullptr, g, 1, y.data(), ws); },
      {"depthwise_conv2d_forward", "must not be null"}));
  auto bad = g;
  bad.OH = 9;  // more output rows than the padded input holds
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { ops::depthwise_conv2d_forward(x.data(), k.data(), nullptr, bad, 1, y.data(), ws); },
      {"depthwise_conv2d_forward", "inconsistent geometry", "output (9, 5)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { ops::depthwise_conv2d_backward(nullptr, k.data(), y.data(), g, 1, nullptr, k.data(), nullptr, ws); },
      {"depthwise_conv2d_backward", "x is needed for dkernel"}));
}

}  // namespace
}  // namespace minidl
