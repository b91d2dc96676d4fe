// tests/ops/conv2d_test.cpp — ops/conv2d against the double-precision reference
// (ops/conv2d_reference.h), forward and gradients, and its gradients against
// finite differences (every algorithm with a backward of its own). The grid's
// channel counts are below the Winograd threshold, so these cases test the
// im2col path; winograd_test.cpp tests the other.
#include "ops/conv2d.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/conv2d_direct.h"
#include "support/conv_cases.h"

using namespace minidl;
using ops::Conv2DGeometry;
using namespace minidl::testing;

namespace {

// The seeded grid: valid/same, strides 1-3 or dilations 1-3 (with stride 1),
// kernels 1-5 (non-square too), groups 1/2/4, bias on/off, odd sizes, inputs
// smaller than the kernel (same), and a third of the cases with a workspace cap
// of a few rows so the batch is tiled, often mid-image.
std::vector<Config> grid() {
  std::mt19937 rng(2024);
  auto pick = [&](int lo, int hi) { return static_cast<int64_t>(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  const int64_t groups[] = {1, 2, 4};
  std::vector<Config> out;
  for (int i = 0; i < 240; ++i) {
    Config c{};
    c.N = pick(1, 3), c.G = groups[i % 3], c.C = c.G * pick(1, 3), c.OC = c.G * pick(1, 3);
    c.KH = pick(1, 5), c.KW = pick(1, 5);
    c.SH = c.SW = c.DH = c.DW = 1;
    if (i % 2 == 0) c.SH = pick(1, 3), c.SW = pick(1, 3);
    else c.DH = pick(1, 3), c.DW = pick(1, 3);
    c.same = pick(0, 1) == 1;
    c.H = pick(1, 9), c.W = pick(1, 9);
    if (!c.same) c.H = std::max(c.H, (c.KH - 1) * c.DH + 1), c.W = std::max(c.W, (c.KW - 1) * c.DW + 1);
    c.bias = pick(0, 1) == 1;
    c.cap_bytes = i % 3 == 0 ? pick(1, 3) * c.KH * c.KW * c.C * 4 + pick(0, 3) : 0;
    out.push_back(c);
  }
  // Named corners the random draw may miss.
  out.push_back({2, 5, 7, 4, 1, 1, 1, 1, 1, 1, 2, 6, false, true, 0});  // pointwise, grouped
  out.push_back({3, 4, 4, 2, 1, 1, 2, 2, 1, 1, 1, 3, true, false, 8});  // 1x1 strided: needs im2col
  out.push_back({2, 2, 3, 3, 5, 4, 1, 1, 1, 1, 1, 2, true, true, 0});   // input smaller than kernel
  out.push_back({1, 7, 7, 4, 3, 3, 1, 1, 3, 3, 4, 4, true, true, 20});  // depthwise-like, dilated, tiled
  return out;
}

}  // namespace

TEST(Conv2D, ForwardMatchesDirectConvolutionOnGrid) {
  set_num_threads(2);
  std::mt19937 rng(1);
  // kAuto takes the direct loop for one-group convs with few taps, im2col otherwise.
  for (const auto algorithm : {ops::ConvAlgorithm::kIm2col, ops::ConvAlgorithm::kAuto})
    for (const Config& c : grid()) {
      const auto g = c.geometry();
      const auto x = random_floats(g.N * g.H * g.W * g.C, rng);
      const auto k = random_floats(g.KH * g.KW * (g.C / c.G) * c.OC, rng);
      const auto b = random_floats(c.OC, rng);
      std::vector<float> y(g.N * g.OH * g.OW * c.OC, kNaN);  // must be overwritten
      auto ws = workspace_for(c);
      ws.set_algorithm(algorithm);
      ops::conv2d_forward(x.data(), k.data(), c.bias ? b.data() : nullptr, g, c.G, c.OC, y.data(), ws);
      ASSERT_TRUE(close(y, reference_forward(c, x, k, c.bias_of(b)), 1e-5)) << c.str();
    }
}

// The direct forward loop (ops/conv2d_direct.h), forced, on every grid case it
// applies to, with and without the fused relu, and on a first layer with more
// than 16 filters (37: the generic width), and at the widths compiled in (8, 16, 32, 64).
TEST(Conv2D, DirectForwardMatchesReference) {
  std::mt19937 rng(15);
  std::vector<Config> cases;
  for (const Config& c : grid())
    if (ops::direct_applicable(c.geometry(), c.G)) cases.push_back(c);
  cases.push_back({3, 28, 28, 1, 3, 3, 1, 1, 1, 1, 1, 37, false, true, 0});
  cases.push_back({2, 9, 8, 3, 3, 3, 2, 2, 1, 1, 1, 16, true, true, 0});
  cases.push_back({2, 11, 11, 3, 3, 3, 2, 2, 1, 1, 1, 8, true, true, 0});     // MobileNet's first layer at alpha 0.25
  cases.push_back({2, 12, 11, 1, 3, 3, 1, 1, 1, 1, 1, 32, true, true, 0});   // the compiled-in widths 16/32/64
  cases.push_back({2, 10, 10, 3, 3, 3, 2, 2, 1, 1, 1, 64, false, false, 0});
  cases.push_back({1, 9, 9, 2, 3, 3, 1, 1, 2, 2, 1, 32, true, true, 0});     // dilated, same
  ASSERT_GT(cases.size(), 40u);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Config& c = cases[i];
    const bool relu = i % 2 == 1;
    set_num_threads(static_cast<int>(i % 3) + 1);
    const auto g = c.geometry();
    const auto x = random_floats(g.N * g.H * g.W * g.C, rng);
    const auto k = random_floats(g.KH * g.KW * g.C * c.OC, rng);
    const auto b = random_floats(c.OC, rng);
    std::vector<float> y(g.N * g.OH * g.OW * c.OC, kNaN);
    ops::Conv2DWorkspace ws;
    ws.set_algorithm(ops::ConvAlgorithm::kDirect);
    ops::conv2d_forward(x.data(), k.data(), c.bias ? b.data() : nullptr, g, 1, c.OC, y.data(), ws, relu);
    std::vector<double> want = reference_forward(c, x, k, c.bias_of(b));
    if (relu)
      for (double& v : want) v = std::max(v, 0.0);
    ASSERT_TRUE(close(y, want, 1e-5)) << c.str() << (relu ? " relu" : "");
  }
  set_num_threads(2);
}

TEST(Conv2D, DirectForcedOnAWideConvolutionThrows) {
  const auto g = ops::make_conv_geometry(1, 6, 6, 8, 3, 3, 1, 1, 1, 1, true);  // 72 taps
  std::vector<float> x(6 * 6 * 8), k(3 * 3 * 8 * 4), y(6 * 6 * 4);
  ops::Conv2DWorkspace ws;
  ws.set_algorithm(ops::ConvAlgorithm::kDirect);
  EXPECT_THROW(ops::conv2d_forward(x.data(), k.data(), nullptr, g, 1, 4, y.data(), ws), ValueError);
  const auto g2 = ops::make_conv_geometry(1, 6, 6, 2, 3, 3, 1, 1, 1, 1, true);  // grouped
  EXPECT_THROW(ops::conv2d_forward(x.data(), k.data(), nullptr, g2, 2, 4, y.data(), ws), ValueError);
}

TEST(Conv2D, BackwardMatchesNaiveGradientsOnGrid) {
  set_num_threads(2);
  std::mt19937 rng(2);
  for (const Config& c : grid()) {
    const auto g = c.geometry();
    const auto x = random_floats(g.N * g.H * g.W * g.C, rng);
    const auto k = random_floats(g.KH * g.KW * (g.C / c.G) * c.OC, rng);
    const auto dy = random_floats(g.N * g.OH * g.OW * c.OC, rng);
    std::vector<float> dx(x.size(), kNaN), dk(k.size(), kNaN), db(c.OC, kNaN);  // must be overwritten
    auto ws = workspace_for(c);
    ops::conv2d_backward(x.data(), k.data(), dy.data(), g, c.G, c.OC, dx.data(), dk.data(), db.data(), ws);
    const auto want = reference_backward(c, x, k, dy);
    ASSERT_TRUE(close(dx, want.dx, 1e-5)) << "dx " << c.str();
    ASSERT_TRUE(close(dk, want.dkernel, 1e-5)) << "dkernel " << c.str();
    ASSERT_TRUE(close(db, want.dbias, 1e-5)) << "dbias " << c.str();
  }
}

// Each gradient requested alone equals the one computed with the others, on
// every algorithm with a backward of its own: the same bits, except Winograd's
// bias gradient, which is taken in the kernel gradient's pass when both are
// wanted and by im2col's plain sum alone.
TEST(Conv2D, BackwardComputesEachGradientAlone) {
  std::mt19937 rng(3);
  struct Case {
    Config c;
    ops::ConvAlgorithm algorithm;
  };
  const Case cases[] = {{{2, 6, 5, 4, 3, 2, 2, 1, 1, 1, 2, 4, true, true, 64}, ops::ConvAlgorithm::kIm2col},
                        {{2, 10, 9, 32, 3, 3, 1, 1, 1, 1, 2, 32, true, true, 0}, ops::ConvAlgorithm::kWinograd},
                        {{2, 6, 5, 4, 3, 2, 2, 1, 1, 1, 2, 4, true, true, 0}, ops::ConvAlgorithm::kReference}};
  for (const Case& t : cases) {
    auto ws = workspace_for(t.c, t.algorithm);
    const auto [together, alone] = gradients_together_and_alone(t.c, rng, ws);
    const std::string what(ops::conv_algorithm_name(t.algorithm));
    EXPECT_EQ(alone.dx, together.dx) << what;
    EXPECT_EQ(alone.dk, together.dk) << what;
    if (t.algorithm == ops::ConvAlgorithm::kWinograd)
      EXPECT_TRUE(close_to_scale(alone.db, std::vector<double>(together.db.begin(), together.db.end()), 1e-6));
    else
      EXPECT_EQ(alone.db, together.db) << what;
  }
}

// Finite differences (see check_gradients_by_finite_differences) on the
// workspace's default path, forced Winograd (its transforms round more: a
// looser tolerance) and the reference loops.
TEST(Conv2D, GradientsMatchFiniteDifferences) {
  struct Case {
    Config c;
    ops::ConvAlgorithm algorithm;
    double tol;
  };
  const Case cases[] = {
      {{2, 5, 4, 2, 3, 2, 2, 1, 1, 1, 1, 3, true, true, 0}, ops::ConvAlgorithm::kAuto, 1e-3},
      {{1, 6, 6, 4, 2, 3, 1, 1, 2, 1, 2, 2, false, true, 40}, ops::ConvAlgorithm::kAuto, 1e-3},
      {{1, 6, 5, 8, 3, 3, 1, 1, 1, 1, 1, 8, true, true, 0}, ops::ConvAlgorithm::kWinograd, 2e-3},
      {{1, 7, 7, 16, 3, 3, 1, 1, 2, 1, 2, 16, false, true, 0}, ops::ConvAlgorithm::kWinograd, 2e-3},
      {{2, 5, 4, 2, 3, 2, 2, 1, 1, 1, 1, 3, true, true, 0}, ops::ConvAlgorithm::kReference, 1e-3},
      {{1, 6, 6, 4, 2, 3, 1, 1, 2, 1, 2, 2, false, true, 0}, ops::ConvAlgorithm::kReference, 1e-3}};
  std::mt19937 rng(4);
  for (const Case& t : cases) {
    auto ws = workspace_for(t.c, t.algorithm);
    SCOPED_TRACE(std::string(ops::conv_algorithm_name(t.algorithm)));
    check_gradients_by_finite_differences(t.c, ws, rng, t.tol);
  }
}

// Capacity checks run on one thread: each extra thread has its own column block.
// Blocks are rounded up to whole 64-byte lines (16 floats).
::testing::AssertionResult one_block_of(int64_t capacity, int64_t floats) {
  if (capacity >= floats && capacity < floats + 16) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "capacity " << capacity << " for a block of " << floats << " floats";
}

TEST(Conv2D, TinyCapKeepsColumnBufferBounded) {
  set_num_threads(1);
  std::mt19937 rng(5);
  const Config c{4, 9, 9, 3, 3, 3, 1, 1, 1, 1, 1, 2, true, false, 0};
  const auto g = c.geometry();
  const int64_t row_floats = 3 * 3 * 3;
  ops::Conv2DWorkspace ws(5 * row_floats * 4, 1);  // five output pixels per tile
  ws.set_algorithm(ops::ConvAlgorithm::kIm2col);  // the column buffer is im2col's
  const auto x = random_floats(g.N * g.H * g.W * g.C, rng), k = random_floats(row_floats * 2, rng);
  std::vector<float> y(g.N * g.OH * g.OW * 2), dy(y.size(), 1.f), dx(x.size()), dk(k.size());
  ops::conv2d_forward(x.data(), k.data(), nullptr, g, 1, 2, y.data(), ws);
  ops::conv2d_backward(x.data(), k.data(), dy.data(), g, 1, 2, dx.data(), dk.data(), nullptr, ws);
  // The four images are one chunk of the kernel gradient's sum (up to 32 per
  // chunk, ops/batch_sum.h): no partial dkernel beside the column block.
  EXPECT_TRUE(one_block_of(ws.capacity(), 5 * row_floats));
  EXPECT_TRUE(close(y, reference_forward(c, x, k, {}), 1e-5));
}

TEST(Conv2D, WorkspaceDoesNotGrowOnRepeatedCalls) {
  std::mt19937 rng(6);
  const Config c{2, 8, 8, 2, 3, 3, 1, 1, 1, 1, 1, 2, true, true, 0};
  const auto g = c.geometry();
  const auto x = random_floats(g.N * g.H * g.W * g.C, rng), k = random_floats(3 * 3 * 2 * 2, rng), b = k;
  std::vector<float> y(g.N * g.OH * g.OW * 2);
  ops::Conv2DWorkspace ws;
  ws.set_algorithm(ops::ConvAlgorithm::kIm2col);  // the column buffer is im2col's
  ops::conv2d_forward(x.data(), k.data(), b.data(), g, 1, 2, y.data(), ws);
  const int64_t cap = ws.capacity();
  EXPECT_GT(cap, 0);
  ops::conv2d_forward(x.data(), k.data(), b.data(), g, 1, 2, y.data(), ws);
  EXPECT_EQ(ws.capacity(), cap);
}

TEST(Conv2D, EmptyBatchZeroesParameterGradients) {
  const auto g = ops::make_conv_geometry(0, 4, 4, 2, 3, 3, 1, 1, 1, 1, true);
  std::vector<float> k(3 * 3 * 2 * 3, 1.f), dk(k.size(), kNaN), db(3, kNaN);
  ops::Conv2DWorkspace ws;
  ops::conv2d_forward(nullptr, k.data(), nullptr, g, 1, 3, nullptr, ws);  // nothing to do
  ops::conv2d_backward(nullptr, k.data(), nullptr, g, 1, 3, nullptr, dk.data(), db.data(), ws);
  EXPECT_EQ(dk, std::vector<float>(dk.size(), 0.f));
  EXPECT_EQ(db, std::vector<float>(3, 0.f));
}

TEST(Conv2D, GroupsMustDivideChannelsAndFilters) {
  const auto g = ops::make_conv_geometry(1, 4, 4, 6, 3, 3, 1, 1, 1, 1, true);
  std::vector<float> x(4 * 4 * 6), k(3 * 3 * 6 * 8), y(4 * 4 * 8);
  ops::Conv2DWorkspace ws;
  EXPECT_THROW(ops::conv2d_forward(x.data(), k.data(), nullptr, g, 4, 8, y.data(), ws), ValueError);  // 6 % 4
  EXPECT_THROW(ops::conv2d_forward(x.data(), k.data(), nullptr, g, 3, 8, y.data(), ws), ValueError);  // 8 % 3
  EXPECT_THROW(ops::conv2d_forward(x.data(), k.data(), nullptr, g, 0, 8, y.data(), ws), ValueError);
  EXPECT_THROW(ops::conv2d_forward(x.data(), k.data(), nullptr, g, 1, 0, y.data(), ws), ValueError);
  EXPECT_NO_THROW(ops::conv2d_forward(x.data(), k.data(), nullptr, g, 2, 8, y.data(), ws));
}

TEST(Conv2D, InconsistentGeometryThrows) {
  auto g = ops::make_conv_geometry(1, 4, 4, 1, 3, 3, 1, 1, 1, 1, false);
  g.OH = 3;  // a 3x3 kernel fits only twice in 4 unpadded rows
  std::vector<float> x(16), k(9), y(16);
  ops::Conv2DWorkspace ws;
  EXPECT_THROW(ops::conv2d_forward(x.data(), k.data(), nullptr, g, 1, 1, y.data(), ws), ValueError);
  EXPECT_THROW(ops::conv2d_backward(x.data(), k.data(), y.data(), g, 1, 1, x.data(), nullptr, nullptr, ws),
               ValueError);
}

TEST(Conv2D, NullRequiredPointerThrows) {
  const auto g = ops::make_conv_geometry(1, 4, 4, 1, 3, 3, 1, 1, 1, 1, true);
  std::vector<float> x(16), k(9), y(16), dx(16);
  ops::Conv2DWorkspace ws;
  EXPECT_THROW(ops::conv2d_forward(nullptr, k.data(), nullptr, g, 1, 1, y.data(), ws), ValueError);
  EXPECT_THROW(ops::conv2d_backward(x.data(), nullptr, y.data(), g, 1, 1, dx.data(), nullptr, nullptr, ws),
               ValueError);
  EXPECT_THROW(ops::conv2d_backward(nullptr, k.data(), y.data(), g, 1, 1, nullptr, dx.data(), nullptr, ws),
               ValueError);
}

TEST(Conv2DWorkspace, RejectsNonPositiveSettings) {
  EXPECT_THROW(ops::Conv2DWorkspace(0), ValueError);
  EXPECT_THROW(ops::Conv2DWorkspace(1024, 0), ValueError);
  ops::Conv2DWorkspace ws;
  EXPECT_THROW(ws.set_max_col_bytes(-1), ValueError);
  EXPECT_THROW(ws.set_min_tile_rows(0), ValueError);
  EXPECT_EQ(ws.max_col_bytes(), ops::Conv2DWorkspace::kDefaultMaxColBytes);
  EXPECT_EQ(ws.min_tile_rows(), ops::Conv2DWorkspace::kDefaultMinTileRows);
}

TEST(Conv2DWorkspace, MinTileRowsOverridesATinyCap) {
  set_num_threads(1);
  std::mt19937 rng(10);
  const auto g = ops::make_conv_geometry(2, 6, 6, 2, 3, 3, 1, 1, 1, 1, true);
  const auto x = random_floats(2 * 6 * 6 * 2, rng), k = random_floats(3 * 3 * 2 * 3, rng);
  std::vector<float> y(2 * 6 * 6 * 3);
  ops::Conv2DWorkspace ws(1, 7);
  ws.set_algorithm(ops::ConvAlgorithm::kIm2col);  // the column buffer is im2col's
  ops::conv2d_forward(x.data(), k.data(), nullptr, g, 1, 3, y.data(), ws);
  EXPECT_TRUE(one_block_of(ws.capacity(), 7 * 3 * 3 * 2));
  EXPECT_TRUE(close(y, ops::conv2d_reference({2, 6, 6, 2, 3, 3, 1, 1, 1, 1, true}, x, k, {}, 3), 1e-5));
}

TEST(Conv2DWorkspace, CapCountsTheColumnsOfAllGroups) {
  set_num_threads(1);
  std::mt19937 rng(11);
  const auto g = ops::make_conv_geometry(1, 8, 8, 4, 3, 3, 1, 1, 1, 1, true);
  const auto x = random_floats(8 * 8 * 4, rng), k = random_floats(3 * 3 * 1 * 8, rng);
  std::vector<float> y(8 * 8 * 8);
  ops::Conv2DWorkspace ws(10 * 3 * 3 * 4 * 4, 1);  // ten rows of all four groups' columns
  ws.set_algorithm(ops::ConvAlgorithm::kIm2col);  // the column buffer is im2col's
  ops::conv2d_forward(x.data(), k.data(), nullptr, g, 4, 8, y.data(), ws);
  EXPECT_TRUE(one_block_of(ws.capacity(), 10 * 3 * 3 * 1));  // one group's share at a time
  EXPECT_TRUE(close(y, ops::conv2d_reference({1, 8, 8, 4, 3, 3, 1, 1, 1, 1, true}, x, k, {}, 8, 4), 1e-5));
}

TEST(Conv2D, MacsCountsMultiplyAdds) {
  const auto g = ops::make_conv_geometry(2, 8, 8, 4, 3, 3, 1, 1, 1, 1, true);
  EXPECT_EQ(ops::conv2d_macs(g, 2, 6), 2 * 8 * 8 * 6 * 3 * 3 * 2);
}

// The threaded paths: threads take runs of the batch's image chunks (more
// threads than chunks leaves the extra ones out), and each result must still
// equal the double-precision reference.
TEST(Conv2D, EveryThreadCountMatchesTheReference) {
  std::mt19937 rng(12);
  const Config cases[] = {{5, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 6, true, true, 0},     // whole images per thread
                          {3, 9, 9, 2, 3, 2, 2, 1, 1, 1, 2, 4, false, true, 100},  // tiles split images
                          {4, 5, 5, 6, 1, 1, 1, 1, 1, 1, 3, 6, false, true, 48},   // pointwise, grouped, tiled
                          {1, 8, 8, 3, 3, 3, 1, 1, 2, 2, 1, 5, true, true, 0}};    // one image: GEMM split
  for (const Config& c : cases)
    for (int threads : {1, 2, 3, 7}) {
      set_num_threads(threads);
      const ConvData d = random_conv_data(c, rng);
      auto ws = workspace_for(c);
      const ConvOutputs o = run_conv2d(c, d, ws);
      const std::string what = std::to_string(threads) + " threads, " + c.str();
      ASSERT_TRUE(close(o.y, reference_forward(c, d.x, d.k, c.bias_of(d.b)), 1e-5)) << what;
      ASSERT_TRUE(gradients_match(o, reference_backward(c, d.x, d.k, d.dy), 1e-5, false, what));
    }
  set_num_threads(2);
}

// Reproducible to the bit from call to call (per-chunk partial sums are added
// in chunk order; thread_count_test.cpp checks other thread counts).
TEST(Conv2D, BackwardIsBitwiseRepeatable) {
  set_num_threads(2);
  std::mt19937 rng(13);
  const Config c{6, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 8, true, true, 0};
  const auto g = c.geometry();
  const auto x = random_floats(g.N * g.H * g.W * g.C, rng), k = random_floats(3 * 3 * 4 * 8, rng);
  const auto dy = random_floats(g.N * g.OH * g.OW * 8, rng);
  std::vector<float> dk1(k.size()), db1(8), dk2(k.size()), db2(8);
  ops::Conv2DWorkspace ws;
  ops::conv2d_backward(x.data(), k.data(), dy.data(), g, 1, 8, nullptr, dk1.data(), db1.data(), ws);
  ops::conv2d_backward(x.data(), k.data(), dy.data(), g, 1, 8, nullptr, dk2.data(), db2.data(), ws);
  EXPECT_EQ(dk1, dk2);
  EXPECT_EQ(db1, db2);
}

// The fused relu: forward clamps at zero, backward passes dy only where the
// output was positive; both against the reference with the relu applied by hand.
TEST(Conv2D, FusedReluMatchesReferenceWithRelu) {
  std::mt19937 rng(14);
  const Config cases[] = {{3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 2, 4, true, true, 0},
                          {2, 7, 7, 3, 2, 2, 2, 2, 1, 1, 1, 5, false, true, 40}};
  for (const Config& c : cases)
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      const ConvData d = random_conv_data(c, rng);
      auto ws = workspace_for(c);
      const ConvOutputs o = run_conv2d(c, d, ws, /*relu=*/true);
      const ReluReference want = with_relu(reference_forward(c, d.x, d.k, c.bias_of(d.b)), d.dy);
      ASSERT_GT(want.positive, 0);
      ASSERT_LT(want.positive, static_cast<int>(want.y.size()));  // the mask matters
      ASSERT_TRUE(close(o.y, want.y, 1e-5)) << c.str();
      ASSERT_TRUE(gradients_match(o, reference_backward(c, d.x, d.k, want.masked_dy), 1e-5, false, c.str()));
    }
  set_num_threads(2);
}
