// tests/ops/winograd_test.cpp — the Winograd F(4x4, 3x3) path (ops/winograd.h) against the
// direct convolution in double precision (ops/conv2d_reference.h): forward with bias and
// relu, the input gradient with and without the relu mask, dilation, padding,
// groups, odd sizes, several blocks of tiles, and 1-3 threads. Tolerance:
// 1e-5 of the tensor's largest value (F(4x4, 3x3)'s transforms multiply by up
// to 8 and 1/24, so rounding is spread across a tile; the conformance cases
// allow 1e-4 of it). Its finite-difference and each-gradient-alone checks
// are in conv2d_test.cpp, with the other algorithms'.
#include "ops/winograd.h"

#include <gtest/gtest.h>

#include <random>
#include <tuple>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/conv2d.h"
#include "support/conv_cases.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// 3x3 stride-1 cases with at least 8 channels and filters per group.
std::vector<Config> winograd_grid() {
  std::mt19937 rng(77);
  auto pick = [&](int lo, int hi) { return static_cast<int64_t>(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  std::vector<Config> out;
  for (int i = 0; i < 36; ++i) {
    Config c{};
    c.G = i % 3 == 2 ? 2 : 1;
    c.N = pick(1, 3), c.C = c.G * pick(8, 12), c.OC = c.G * pick(8, 11);
    c.KH = c.KW = 3, c.SH = c.SW = 1;
    c.DH = pick(1, 3), c.DW = pick(1, 3);
    c.same = i % 2 == 0;
    c.H = pick(1, 11), c.W = pick(1, 11);
    if (!c.same) c.H = std::max(c.H, 2 * c.DH + 1), c.W = std::max(c.W, 2 * c.DW + 1);
    c.bias = pick(0, 1) == 1;
    out.push_back(c);
  }
  // More tiles than one block (32 tiles at 64+64 channels): blocks and thread ranges split images.
  out.push_back({2, 20, 19, 64, 3, 3, 1, 1, 1, 1, 1, 64, true, true, 0});
  // The kernel gradient summed over many tiles (256), where rounding accumulates most.
  out.push_back({4, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 64, true, true, 0});
  out.push_back({3, 13, 13, 32, 3, 3, 1, 1, 2, 2, 4, 32, false, true, 0});  // grouped, dilated, valid
  // Small groups (16 or 32 filters per group) take the direct product loops:
  // 8-row blocks plus leftover rows and channels (CG = 20, 12), odd tile counts.
  out.push_back({2, 9, 11, 40, 3, 3, 1, 1, 1, 1, 2, 32, true, true, 0});
  out.push_back({1, 7, 9, 36, 3, 3, 1, 1, 1, 2, 3, 96, true, false, 0});
  out.push_back({3, 16, 16, 64, 3, 3, 1, 1, 1, 1, 4, 64, true, true, 0});  // shape H, smaller
  return out;
}

// One forward and backward run with a fresh workspace forced to `algorithm`.
ConvOutputs run(const Config& c, const ConvData& d, bool relu, ops::ConvAlgorithm algorithm) {
  ops::Conv2DWorkspace ws = workspace_for(c, algorithm);
  return run_conv2d(c, d, ws, relu);
}

}  // namespace

TEST(Winograd, ApplicableOnlyTo3x3Stride1WithEnoughChannels) {
  auto geo = [](int64_t C, int64_t K, int64_t S, int64_t D) {
    return ops::make_conv_geometry(2, 9, 9, C, K, K, S, S, D, D, true);
  };
  EXPECT_TRUE(ops::winograd_applicable(geo(8, 3, 1, 1), 1, 8));
  EXPECT_TRUE(ops::winograd_applicable(geo(64, 3, 1, 2), 4, 64));   // dilated, 16 per group
  EXPECT_FALSE(ops::winograd_applicable(geo(64, 3, 2, 1), 1, 64));  // strided
  EXPECT_FALSE(ops::winograd_applicable(geo(64, 5, 1, 1), 1, 64));  // 5x5
  EXPECT_FALSE(ops::winograd_applicable(geo(7, 3, 1, 1), 1, 64));   // too few input channels
  EXPECT_FALSE(ops::winograd_applicable(geo(64, 3, 1, 1), 1, 4));   // too few filters
  EXPECT_FALSE(ops::winograd_applicable(geo(64, 3, 1, 1), 16, 64)); // 4 per group
  EXPECT_FALSE(ops::winograd_applicable(geo(64, 3, 1, 1), 3, 64));  // groups do not divide
}

TEST(Winograd, ForcedOnAnotherConvolutionThrows) {
  const auto g = ops::make_conv_geometry(1, 6, 6, 8, 3, 3, 2, 2, 1, 1, true);
  std::vector<float> x(6 * 6 * 8), k(3 * 3 * 8 * 8), y(3 * 3 * 8), dy(3 * 3 * 8), dx(x.size());
  ops::Conv2DWorkspace ws;
  ws.set_algorithm(ops::ConvAlgorithm::kWinograd);
  EXPECT_THROW(ops::conv2d_forward(x.data(), k.data(), nullptr, g, 1, 8, y.data(), ws), ValueError);
  EXPECT_THROW(ops::conv2d_backward(x.data(), k.data(), dy.data(), g, 1, 8, dx.data(), nullptr, nullptr, ws),
               ValueError);
}

TEST(Winograd, ForwardAndInputGradientMatchTheReference) {
  std::mt19937 rng(78);
  const std::vector<Config> cases = winograd_grid();
  for (size_t i = 0; i < cases.size(); ++i) {
    const Config& c = cases[i];
    const auto g = c.geometry();
    ASSERT_TRUE(ops::winograd_applicable(g, c.G, c.OC)) << c.str();
    set_num_threads(static_cast<int>(i % 3) + 1);
    const ConvData d = random_conv_data(c, rng);
    const ConvOutputs r = run(c, d, /*relu=*/false, ops::ConvAlgorithm::kWinograd);
    ASSERT_TRUE(close_to_scale(r.y, reference_forward(c, d.x, d.k, c.bias_of(d.b)), 1e-5)) << c.str();
    ASSERT_TRUE(gradients_match(r, reference_backward(c, d.x, d.k, d.dy), 1e-5, true, c.str()));
  }
  set_num_threads(2);
}

// The fused relu on the Winograd path: the output is clamped, and the input
// gradient sees dy only where the output was positive.
TEST(Winograd, FusedReluMatchesReferenceWithRelu) {
  std::mt19937 rng(79);
  const Config cases[] = {{2, 9, 8, 16, 3, 3, 1, 1, 1, 1, 1, 12, true, true, 0},
                          {2, 11, 10, 16, 3, 3, 1, 1, 2, 1, 2, 16, false, true, 0}};
  for (const Config& c : cases) {
    const ConvData d = random_conv_data(c, rng);
    const ConvOutputs r = run(c, d, /*relu=*/true, ops::ConvAlgorithm::kWinograd);
    const ReluReference want = with_relu(reference_forward(c, d.x, d.k, c.bias_of(d.b)), d.dy);
    ASSERT_GT(want.positive, 0);
    ASSERT_LT(want.positive, static_cast<int>(want.y.size()));  // the mask matters
    ASSERT_TRUE(close_to_scale(r.y, want.y, 1e-5)) << c.str();
    ASSERT_TRUE(gradients_match(r, reference_backward(c, d.x, d.k, want.masked_dy), 1e-5, true, c.str()));
  }
}

// kAuto takes the Winograd path on an applicable convolution (same bits as
// forcing it), and both paths agree with the reference and with each other.
TEST(Winograd, AutoPicksWinogradAndAgreesWithIm2col) {
  std::mt19937 rng(80);
  const Config c{2, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 16, true, true, 0};
  const ConvData d = random_conv_data(c, rng);
  const ConvOutputs autop = run(c, d, true, ops::ConvAlgorithm::kAuto);
  const ConvOutputs wino = run(c, d, true, ops::ConvAlgorithm::kWinograd);
  const ConvOutputs im2col = run(c, d, true, ops::ConvAlgorithm::kIm2col);
  EXPECT_EQ(autop.y, wino.y);
  EXPECT_EQ(autop.dx, wino.dx);
  std::vector<double> y_im2col(im2col.y.begin(), im2col.y.end()), dx_im2col(im2col.dx.begin(), im2col.dx.end());
  EXPECT_TRUE(close_to_scale(wino.y, y_im2col, 1e-5));
  EXPECT_TRUE(close_to_scale(wino.dx, dx_im2col, 1e-5));
  std::vector<double> dk_im2col(im2col.dk.begin(), im2col.dk.end());
  EXPECT_TRUE(close_to_scale(wino.dk, dk_im2col, 1e-5));
  EXPECT_EQ(autop.dk, wino.dk);
  std::vector<double> db_im2col(im2col.db.begin(), im2col.db.end());
  EXPECT_TRUE(close_to_scale(wino.db, db_im2col, 1e-6));
}
