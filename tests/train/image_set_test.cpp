// tests/train/image_set_test.cpp — make_image_set: shapes, balanced labels, the same set for the same seed,
// values in [0, 1], and each class's pattern (stripes one colour along their direction and two across it;
// a disc or a checkerboard two colours along both directions), bad sizes.
#include "train/image_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/errors.h"
#include "support/assertions.h"

namespace minidl {
namespace {

using namespace testing;

// Pixel (r, c), channel ch of image n.
float px(const ImageSet& s, int64_t n, int64_t r, int64_t c, int64_t ch) {
  const int64_t H = s.x.dim(1), W = s.x.dim(2);
  return s.x[((n * H + r) * W + c) * 3 + ch];
}

// The largest spread of channel 0 along a row (rows = true) or a column of image n.
float spread_along(const ImageSet& s, int64_t n, bool rows) {
  const int64_t H = s.x.dim(1), W = s.x.dim(2);
  float worst = 0;
  for (int64_t a = 0; a < (rows ? H : W); ++a) {
    float lo = 2, hi = -1;
    for (int64_t b = 0; b < (rows ? W : H); ++b) {
      const float v = rows ? px(s, n, a, b, 0) : px(s, n, b, a, 0);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    worst = std::max(worst, hi - lo);
  }
  return worst;
}

TEST(ImageSet, ShapesLabelsAndRange) {
  const ImageSet s = make_image_set({.samples = 10, .height = 12, .width = 20, .seed = 3});
  EXPECT_EQ(s.x.shape(), Shape({10, 12, 20, 3}));
  EXPECT_EQ(s.y.shape(), Shape({10}));
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(s.y[i], static_cast<float>(i % 4));
  const auto [lo, hi] = std::minmax_element(s.x.span().begin(), s.x.span().end());
  EXPECT_GE(*lo, 0.0f);
  EXPECT_LE(*hi, 1.0f);
}

TEST(ImageSet, SameSeedSameSetOtherSeedOtherSet) {
  const ImageSetOptions o{.samples = 8, .height = 16, .width = 16, .seed = 7};
  EXPECT_EQ(make_image_set(o).x.to_vector(), make_image_set(o).x.to_vector());
  ImageSetOptions other = o;
  other.seed = 8;
  EXPECT_NE(make_image_set(o).x.to_vector(), make_image_set(other).x.to_vector());
}

TEST(ImageSet, EachClassDrawsItsPattern) {
  const ImageSet s = make_image_set({.samples = 40, .height = 32, .width = 24, .seed = 1});
  const float noise = 0.08f + 1e-6f;  // two pixels of one colour differ by the noise (+-0.04) at most
  for (int64_t n = 0; n < 40; ++n) {
    const int kind = static_cast<int>(s.y[n]);
    const float along_rows = spread_along(s, n, true), along_cols = spread_along(s, n, false);
    if (kind == 0) {  // horizontal stripes: each row one colour, the columns cross the stripes
      EXPECT_LE(along_rows, noise) << n;
      EXPECT_GT(along_cols, 0.2f) << n;
    } else if (kind == 1) {  // vertical stripes
      EXPECT_LE(along_cols, noise) << n;
      EXPECT_GT(along_rows, 0.2f) << n;
    } else {  // a disc or a checkerboard: neither direction is constant
      EXPECT_GT(along_rows, 0.2f) << n;
      EXPECT_GT(along_cols, 0.2f) << n;
    }
  }
}

TEST(ImageSet, BadSizesAreValueErrors) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { make_image_set({.samples = -1}); }, {"samples must be >= 0", "-1"}));
  EXPECT_TRUE(
      ThrowsWith<ValueError>([] { make_image_set({.height = 3}); }, {"height and width must be >= 4", "3 x 32"}));
}

}  // namespace
}  // namespace minidl
