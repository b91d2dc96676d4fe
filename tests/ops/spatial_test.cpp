// tests/ops/spatial_test.cpp — ops/spatial.h against naive loops in double
// precision: padding, cropping, nearest and bilinear upsampling and their
// adjoints, concatenation and slicing; the image-parallel kernels give the
// same result on one thread and on several.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "ops/spatial.h"
#include "support/indices.h"
#include "support/tensors.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// x[b, h, w, c] of a [B, H, W, C] tensor, in double.
double at(const Tensor& x, int64_t b, int64_t h, int64_t w, int64_t c) {
  return x[((b * x.dim(1) + h) * x.dim(2) + w) * x.dim(3) + c];
}

// f(b, h, w, c) for every element of a [B, H, W, C] shape, in memory order.
template <class F>
std::vector<double> per_element(const Shape& s, F f) {
  std::vector<double> out;
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t h = 0; h < s[1]; ++h)
      for (int64_t w = 0; w < s[2]; ++w)
        for (int64_t c = 0; c < s[3]; ++c) out.push_back(f(b, h, w, c));
  return out;
}

// Max |a - want| over all elements; shapes must agree.
double max_diff(const Tensor& a, const std::vector<double>& want) {
  EXPECT_EQ(a.numel(), static_cast<int64_t>(want.size()));
  double m = 0;
  for (int64_t i = 0; i < a.numel() && i < static_cast<int64_t>(want.size()); ++i)
    m = std::max(m, std::abs(a[i] - want[static_cast<size_t>(i)]));
  return m;
}

// sum a * b over all elements, in double.
double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double{a[i]} * b[i];
  return s;
}

// TensorFlow's half-pixel bilinear source of output index o, in double.
struct Source {
  int64_t lower, upper;
  double lerp;
};
Source half_pixel(int64_t o, int64_t in, int64_t out) {
  const double src = (o + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5;
  const double fl = std::floor(src);
  return {std::max<int64_t>(static_cast<int64_t>(fl), 0), std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in - 1),
          src - fl};
}

// Restores the thread count a test changed.
struct ThreadCountGuard {
  int saved = num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

}  // namespace

TEST(OpsSpatial, ZeroPadPutsTheImageInsideZeros) {
  const Tensor x = random_tensor({2, 3, 4, 5}, 1);
  const Tensor y = ops::zero_pad2d(x, 1, 2, 3, 0);
  ASSERT_EQ(y.shape(), (Shape{2, 6, 7, 5}));
  const std::vector<double> want = per_element(y.shape(), [&](int64_t b, int64_t i, int64_t j, int64_t c) {
    const int64_t h = i - 1, w = j - 3;
    return h >= 0 && h < 3 && w >= 0 && w < 4 ? at(x, b, h, w, c) : 0.0;
  });
  EXPECT_EQ(max_diff(y, want), 0.0);
}

TEST(OpsSpatial, CropKeepsTheInnerBlock) {
  const Tensor x = random_tensor({2, 6, 7, 3}, 2);
  const Tensor y = ops::crop2d(x, 1, 2, 0, 3);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4, 3}));
  const std::vector<double> want = per_element(
      y.shape(), [&](int64_t b, int64_t i, int64_t j, int64_t c) { return at(x, b, i + 1, j, c); });
  EXPECT_EQ(max_diff(y, want), 0.0);
}

TEST(OpsSpatial, CropIsTheAdjointOfZeroPad) {
  const Tensor x = random_tensor({2, 3, 4, 2}, 3);
  const Tensor dy = random_tensor({2, 5, 9, 2}, 4);
  const double lhs = dot(ops::zero_pad2d(x, 0, 2, 4, 1), dy);
  const double rhs = dot(x, ops::crop2d(dy, 0, 2, 4, 1));
  EXPECT_NEAR(lhs, rhs, 1e-5 * (1 + std::abs(lhs)));
}

TEST(OpsSpatial, NearestUpsamplingRepeatsEachPixel) {
  const Tensor x = random_tensor({2, 3, 2, 4}, 5);
  const Tensor y = ops::upsample_nearest2d(x, 2, 3);
  ASSERT_EQ(y.shape(), (Shape{2, 6, 6, 4}));
  const std::vector<double> want = per_element(
      y.shape(), [&](int64_t b, int64_t i, int64_t j, int64_t c) { return at(x, b, i / 2, j / 3, c); });
  EXPECT_EQ(max_diff(y, want), 0.0);
}

TEST(OpsSpatial, NearestUpsamplingBackwardSumsEachBlock) {
  const Tensor dy = random_tensor({2, 6, 6, 3}, 6);
  const Tensor dx = ops::upsample_nearest2d_backward(dy, 3, 2);
  ASSERT_EQ(dx.shape(), (Shape{2, 2, 3, 3}));
  const std::vector<double> want = per_element(dx.shape(), [&](int64_t b, int64_t h, int64_t w, int64_t c) {
    double s = 0;
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 2; ++j) s += at(dy, b, h * 3 + i, w * 2 + j, c);
    return s;
  });
  EXPECT_LT(max_diff(dx, want), 1e-5);
}

TEST(OpsSpatial, BilinearResizeMatchesHalfPixelInterpolation) {
  for (const auto& [H, W, OH, OW] : std::vector<std::array<int64_t, 4>>{{3, 4, 6, 8}, {5, 3, 7, 9}, {4, 4, 2, 3}}) {
    const Tensor x = random_tensor({2, H, W, 3}, 7);
    const Tensor y = ops::resize_bilinear2d(x, OH, OW);
    ASSERT_EQ(y.shape(), (Shape{2, OH, OW, 3}));
    const std::vector<double> want = per_element(y.shape(), [&](int64_t b, int64_t i, int64_t j, int64_t c) {
      const Source r = half_pixel(i, H, OH), s = half_pixel(j, W, OW);
      const double top = at(x, b, r.lower, s.lower, c) * (1 - s.lerp) + at(x, b, r.lower, s.upper, c) * s.lerp;
      const double bot = at(x, b, r.upper, s.lower, c) * (1 - s.lerp) + at(x, b, r.upper, s.upper, c) * s.lerp;
      return top * (1 - r.lerp) + bot * r.lerp;
    });
    EXPECT_LT(max_diff(y, want), 1e-5) << H << "x" << W << " -> " << OH << "x" << OW;
  }
}

TEST(OpsSpatial, BilinearBackwardIsTheAdjoint) {
  const Tensor x = random_tensor({2, 3, 5, 4}, 8);
  const Tensor dy = random_tensor({2, 7, 4, 4}, 9);
  const double lhs = dot(ops::resize_bilinear2d(x, 7, 4), dy);
  const double rhs = dot(x, ops::resize_bilinear2d_backward(dy, 3, 5));
  EXPECT_NEAR(lhs, rhs, 1e-5 * (1 + std::abs(lhs)));
}

TEST(OpsSpatial, ImageKernelsGiveTheSameBitsOnAnyThreadCount) {
  ThreadCountGuard guard;
  const Tensor x = random_tensor({64, 12, 10, 8}, 10);  // enough images for several chunks
  std::vector<std::vector<Tensor>> runs;
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    const Tensor up = ops::upsample_nearest2d(x, 2, 2);
    const Tensor lin = ops::resize_bilinear2d(x, 17, 23);
    runs.push_back({ops::zero_pad2d(x, 1, 1, 2, 2), ops::crop2d(x, 2, 1, 0, 3), up,
                    ops::upsample_nearest2d_backward(up, 2, 2), lin, ops::resize_bilinear2d_backward(lin, 12, 10)});
  }
  for (size_t k = 0; k < runs[0].size(); ++k) {
    ASSERT_EQ(runs[0][k].shape(), runs[1][k].shape()) << k;
    for (int64_t i = 0; i < runs[0][k].numel(); ++i) ASSERT_EQ(runs[0][k][i], runs[1][k][i]) << k << " at " << i;
  }
}

TEST(OpsSpatial, ConcatJoinsAlongAnyAxis) {
  const Tensor a = random_tensor({2, 3, 4}, 11), b = random_tensor({2, 3, 4}, 12);
  for (int axis : {0, 1, 2, -1, -3}) {
    const int ax = axis < 0 ? axis + 3 : axis;
    Shape sb = b.shape();
    sb[ax] = 1 + ax;  // a different size on the axis
    const Tensor bb = random_tensor(sb, 13);
    const Tensor y = ops::concat(std::vector<Tensor>{a, bb}, axis);
    Shape want_shape = a.shape();
    want_shape[ax] += sb[ax];
    ASSERT_EQ(y.shape(), want_shape) << axis;
    std::vector<double> want;
    for (int64_t i = 0; i < y.numel(); ++i) {
      std::vector<int64_t> idx = unravel(i, want_shape);
      if (idx[ax] < a.dim(ax)) {
        want.push_back(a[ravel(idx, a.shape())]);
      } else {
        idx[ax] -= a.dim(ax);
        want.push_back(bb[ravel(idx, sb)]);
      }
    }
    EXPECT_EQ(max_diff(y, want), 0.0) << axis;
  }
}

TEST(OpsSpatial, SliceAxisRecoversEachConcatenatedPart) {
  const Tensor a = random_tensor({3, 2, 5}, 14), b = random_tensor({3, 4, 5}, 15), c = random_tensor({3, 0, 5}, 16);
  const Tensor y = ops::concat(std::vector<Tensor>{a, c, b}, 1);
  ASSERT_EQ(y.shape(), (Shape{3, 6, 5}));
  const Tensor sa = ops::slice_axis(y, 1, 0, 2), sc = ops::slice_axis(y, -2, 2, 0), sb = ops::slice_axis(y, 1, 2, 4);
  ASSERT_EQ(sa.shape(), a.shape());
  ASSERT_EQ(sb.shape(), b.shape());
  ASSERT_EQ(sc.shape(), c.shape());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(sa[i], a[i]);
  for (int64_t i = 0; i < b.numel(); ++i) EXPECT_EQ(sb[i], b[i]);
}

TEST(OpsSpatial, ConcatAndSliceRejectBadArguments) {
  EXPECT_THROW(ops::concat(std::vector<Tensor>{}, 0), ValueError);
  EXPECT_THROW(ops::concat(std::vector<Tensor>{Tensor::ones({2, 3}), Tensor::ones({3, 3})}, 1), ValueError);
  EXPECT_THROW(ops::concat(std::vector<Tensor>{Tensor::ones({2, 3}), Tensor::ones({2})}, 0), ValueError);
  EXPECT_THROW(ops::concat(std::vector<Tensor>{Tensor::ones({2})}, 1), ValueError);
  EXPECT_THROW(ops::slice_axis(Tensor::ones({2, 3}), 1, 2, 2), ValueError);
  EXPECT_THROW(ops::slice_axis(Tensor::ones({2, 3}), 2, 0, 1), ValueError);
  EXPECT_THROW(ops::slice_axis(Tensor::ones({2, 3}), 0, -1, 1), ValueError);
}
