// Tests of ops/im2col: Keras/TF output sizes and padding, the unfolded layout,
// and col2im being the exact adjoint of im2col.
#include "ops/im2col.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/errors.h"
#include "support/tensors.h"

using namespace minidl;
using ops::Conv2DGeometry;
using ops::make_conv_geometry;
using minidl::testing::random_floats;

namespace {

Conv2DGeometry same2d(int64_t H, int64_t W, int64_t KH, int64_t KW, int64_t S, int64_t D = 1) {
  return make_conv_geometry(1, H, W, 1, KH, KW, S, S, D, D, true);
}

// The unfolding written out from its definition, one cell at a time.
std::vector<float> naive_im2col(const std::vector<float>& x, const Conv2DGeometry& g, int64_t c0, int64_t CG) {
  std::vector<float> col;
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow)
      for (int64_t kh = 0; kh < g.KH; ++kh)
        for (int64_t kw = 0; kw < g.KW; ++kw)
          for (int64_t c = 0; c < CG; ++c) {
            const int64_t ih = oh * g.SH - g.pad_top + kh * g.DH, iw = ow * g.SW - g.pad_left + kw * g.DW;
            const bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
            col.push_back(inside ? x[(ih * g.W + iw) * g.C + c0 + c] : 0.f);
          }
  return col;
}

struct Case {
  Conv2DGeometry g;
  int64_t c0, CG;
};

// A seeded spread of geometries: padding both ways, strides, dilations,
// non-square kernels, channel sub-ranges (as groups use them).
std::vector<Case> random_cases(int count) {
  std::mt19937 rng(1234);
  auto pick = [&](int lo, int hi) { return static_cast<int64_t>(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  std::vector<Case> cases;
  while (static_cast<int>(cases.size()) < count) {
    const int64_t C = pick(1, 5), KH = pick(1, 4), KW = pick(1, 4), S = pick(1, 3), D = S == 1 ? pick(1, 3) : 1;
    const bool same = pick(0, 1) == 1;
    int64_t H = pick(1, 8), W = pick(1, 8);
    if (!same) H = std::max(H, (KH - 1) * D + 1), W = std::max(W, (KW - 1) * D + 1);
    const int64_t CG = pick(1, static_cast<int>(C)), c0 = pick(0, static_cast<int>(C - CG));
    cases.push_back({make_conv_geometry(1, H, W, C, KH, KW, S, pick(1, 3), D, D, same), c0, CG});
  }
  return cases;
}

// The geometry pads `top` and `bottom` rows, `left` and `right` columns.
::testing::AssertionResult HasPads(const Conv2DGeometry& g, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  if (g.pad_top == top && g.pad_bottom == bottom && g.pad_left == left && g.pad_right == right)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "pads (top, bottom, left, right) are (" << g.pad_top << ", " << g.pad_bottom
                                       << ", " << g.pad_left << ", " << g.pad_right << "), expected (" << top << ", "
                                       << bottom << ", " << left << ", " << right << ")";
}

}  // namespace

TEST(ConvGeometry, SameStride2OddInputPadsOneEachSide) {
  const auto g = same2d(5, 5, 3, 3, 2);
  EXPECT_EQ(g.OH, 3);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_bottom, 1);
}

TEST(ConvGeometry, SamePaddingPutsExtraRowAtBottom) {
  const auto g = same2d(6, 6, 3, 3, 2);
  EXPECT_EQ(g.OH, 3);
  EXPECT_TRUE(HasPads(g, 0, 1, 0, 1));
}

TEST(ConvGeometry, SameStride1KeepsSizeAndPadsHalfKernel) {
  const auto g = make_conv_geometry(2, 7, 9, 3, 5, 2, 1, 1, 1, 1, true);
  EXPECT_EQ(g.OH, 7);
  EXPECT_EQ(g.OW, 9);
  // An even kernel width pads one column, on the right.
  EXPECT_TRUE(HasPads(g, 2, 2, 0, 1));
}

TEST(ConvGeometry, SameInputSmallerThanKernel) {
  const auto g = same2d(2, 2, 5, 4, 1);  // total pads 4 (rows) and 3 (cols)
  EXPECT_EQ(g.OH, 2);
  EXPECT_EQ(g.OW, 2);
  EXPECT_TRUE(HasPads(g, 2, 2, 1, 2));
}

TEST(ConvGeometry, SameLargeStrideNeedsNoPadding) {
  const auto g = same2d(5, 5, 1, 1, 3);  // outputs at 0 and 3
  EXPECT_EQ(g.OH, 2);
  EXPECT_EQ(g.pad_top + g.pad_bottom, 0);
}

TEST(ConvGeometry, ValidOutputIsCeilOfFittingPositionsOverStride) {
  const auto g = make_conv_geometry(1, 7, 28, 1, 3, 3, 2, 1, 1, 1, false);
  EXPECT_EQ(g.OH, 3);   // ceil((7 - 2) / 2)
  EXPECT_EQ(g.OW, 26);  // 28 - 2
  EXPECT_EQ(g.pad_top + g.pad_bottom + g.pad_left + g.pad_right, 0);
}

TEST(ConvGeometry, DilationWidensTheKernel) {
  const auto valid = make_conv_geometry(1, 10, 10, 1, 3, 3, 1, 1, 2, 3, false);
  EXPECT_EQ(valid.OH, 6);  // extent 5
  EXPECT_EQ(valid.OW, 4);  // extent 7
  const auto same = same2d(10, 10, 3, 3, 1, 2);
  EXPECT_EQ(same.OH, 10);
  EXPECT_EQ(same.pad_top, 2);
  EXPECT_EQ(same.pad_bottom, 2);
}

TEST(ConvGeometry, ValidInputSmallerThanDilatedKernelThrows) {
  EXPECT_THROW(make_conv_geometry(1, 4, 9, 1, 3, 3, 1, 1, 2, 1, false), ValueError);  // extent 5 > 4
  EXPECT_THROW(make_conv_geometry(1, 9, 2, 1, 3, 3, 1, 1, 1, 1, false), ValueError);
  EXPECT_NO_THROW(make_conv_geometry(1, 5, 5, 1, 3, 3, 1, 1, 2, 2, false));  // exactly fits
}

TEST(ConvGeometry, NonPositiveSizesThrow) {
  EXPECT_THROW(make_conv_geometry(1, 0, 5, 1, 3, 3, 1, 1, 1, 1, true), ValueError);
  EXPECT_THROW(make_conv_geometry(1, 5, 5, 0, 3, 3, 1, 1, 1, 1, true), ValueError);
  EXPECT_THROW(make_conv_geometry(-1, 5, 5, 1, 3, 3, 1, 1, 1, 1, true), ValueError);
  EXPECT_THROW(make_conv_geometry(1, 5, 5, 1, 0, 3, 1, 1, 1, 1, true), ValueError);
  EXPECT_THROW(make_conv_geometry(1, 5, 5, 1, 3, 3, 0, 1, 1, 1, true), ValueError);
  EXPECT_THROW(make_conv_geometry(1, 5, 5, 1, 3, 3, 1, 1, 1, 0, true), ValueError);
}

TEST(ConvGeometry, EmptyBatchIsAllowed) {
  EXPECT_EQ(make_conv_geometry(0, 5, 5, 1, 3, 3, 1, 1, 1, 1, false).OH, 3);
}

TEST(ConvOutputLength, MatchesKerasFormula) {
  EXPECT_EQ(ops::conv_output_length(28, 3, false, 1, 1), 26);
  EXPECT_EQ(ops::conv_output_length(28, 3, true, 2, 1), 14);
  EXPECT_EQ(ops::conv_output_length(29, 3, true, 2, 1), 15);
  EXPECT_EQ(ops::conv_output_length(10, 3, false, 3, 2), 2);  // ceil(6 / 3)
  EXPECT_EQ(ops::conv_output_length(kNone, 3, false, 1, 1), kNone);
  EXPECT_EQ(ops::conv_output_length(2, 5, false, 1, 1), 0);  // kernel does not fit
  EXPECT_THROW(ops::conv_output_length(5, 3, false, 0, 1), ValueError);
  EXPECT_THROW(ops::conv_output_length(-2, 3, false, 1, 1), ValueError);
}

TEST(Im2col, RowsAreReceptiveFieldsInKernelOrder) {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // 3x3, one channel
  const auto g = make_conv_geometry(1, 3, 3, 1, 2, 2, 1, 1, 1, 1, false);
  std::vector<float> col(4 * 4);
  ops::im2col(x.data(), g, 0, 1, col.data());
  EXPECT_EQ(col, (std::vector<float>{1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9}));
}

TEST(Im2col, SamePaddingZeroFillsBottomRight) {
  const std::vector<float> x = {1, 2, 3, 4};  // 2x2
  const auto g = same2d(2, 2, 2, 2, 1);       // pad 0 top/left, 1 bottom/right
  std::vector<float> col(4 * 4, -7.f);
  ops::im2col(x.data(), g, 0, 1, col.data());
  EXPECT_EQ(col, (std::vector<float>{1, 2, 3, 4, 2, 0, 4, 0, 3, 4, 0, 0, 4, 0, 0, 0}));
}

TEST(Im2col, ChannelSubrangeTakesOnlyThoseChannels) {
  const std::vector<float> x = {10, 11, 12, 20, 21, 22};  // 1x2, 3 channels
  const auto g = make_conv_geometry(1, 1, 2, 3, 1, 2, 1, 1, 1, 1, false);
  std::vector<float> col(4);
  ops::im2col(x.data(), g, 1, 2, col.data());
  EXPECT_EQ(col, (std::vector<float>{11, 12, 21, 22}));
}

TEST(Im2col, MatchesNaiveUnfoldingOnRandomGeometries) {
  std::mt19937 rng(7);
  for (const Case& c : random_cases(300)) {
    const auto x = random_floats(c.g.H * c.g.W * c.g.C, rng);
    const auto want = naive_im2col(x, c.g, c.c0, c.CG);
    std::vector<float> got(want.size(), NAN);
    ops::im2col(x.data(), c.g, c.c0, c.CG, got.data());
    ASSERT_EQ(got, want) << "H=" << c.g.H << " W=" << c.g.W << " C=" << c.g.C << " K=" << c.g.KH << "x" << c.g.KW
                         << " S=" << c.g.SH << "," << c.g.SW << " D=" << c.g.DH << " c0=" << c.c0 << " CG=" << c.CG;
  }
}

TEST(Im2col, RowRangeIsASliceOfTheFullMatrix) {
  std::mt19937 rng(8);
  const auto g = make_conv_geometry(1, 7, 6, 3, 3, 2, 2, 1, 1, 1, true);
  const auto x = random_floats(g.H * g.W * g.C, rng);
  const auto full = naive_im2col(x, g, 0, 3);
  const int64_t K = g.KH * g.KW * 3, p0 = 5, p1 = 17;
  std::vector<float> part((p1 - p0) * K);
  ops::im2col_rows(x.data(), g, 0, 3, p0, p1, part.data());
  EXPECT_EQ(part, std::vector<float>(full.begin() + p0 * K, full.begin() + p1 * K));
}

TEST(Col2im, IsTheAdjointOfIm2col) {
  std::mt19937 rng(9);
  for (const Case& c : random_cases(300)) {
    const int64_t K = c.g.KH * c.g.KW * c.CG, rows = c.g.OH * c.g.OW;
    const auto x = random_floats(c.g.H * c.g.W * c.g.C, rng);
    const auto y = random_floats(rows * K, rng);
    std::vector<float> col(rows * K), back(x.size(), 0.f);
    ops::im2col(x.data(), c.g, c.c0, c.CG, col.data());
    ops::col2im(y.data(), c.g, c.c0, c.CG, back.data());
    double lhs = 0, rhs = 0;  // <im2col(x), y> and <x, col2im(y)>
    for (size_t i = 0; i < col.size(); ++i) lhs += double(col[i]) * y[i];
    for (size_t i = 0; i < x.size(); ++i) rhs += double(x[i]) * back[i];
    ASSERT_NEAR(lhs, rhs, 1e-4 * (1 + std::fabs(lhs)));
  }
}

TEST(Col2im, AccumulatesAndLeavesOtherChannelsAlone) {
  const auto g = make_conv_geometry(1, 2, 2, 2, 2, 2, 1, 1, 1, 1, true);  // 4 rows of 4 taps, channel 1 only
  const std::vector<float> col(16, 1.f);
  std::vector<float> dx(8, 5.f);
  ops::col2im(col.data(), g, 1, 1, dx.data());
  // Pixel (0,0) is seen by 1 window, (0,1) and (1,0) by 2, (1,1) by all 4.
  EXPECT_EQ(dx, (std::vector<float>{5, 6, 5, 7, 5, 7, 5, 9}));
}
