#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "core/errors.h"
#include "core/random.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "ops/pooling.h"
#include "support/assertions.h"
#include "support/tensors.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

struct Case {
  int64_t N, H, W, C, KH, KW, SH, SW;
  bool same;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {2, 4, 4, 3, 2, 2, 2, 2, false},  // the classic 2x2/2
      {1, 5, 5, 2, 2, 2, 2, 2, true},   // odd input, "same" pads bottom/right
      {2, 6, 5, 1, 3, 3, 1, 1, true},   // overlapping windows, pad on every side
      {1, 7, 4, 2, 3, 2, 2, 1, false},  // non-square window and strides
      {1, 5, 7, 3, 2, 3, 3, 2, true},   // stride larger than the window on one axis
      {1, 3, 3, 2, 3, 3, 1, 1, true},   // window as large as the image
      {3, 1, 9, 2, 1, 3, 1, 2, true},   // 1-D pooling as H = 1
  };
  return c;
}

// Padding computed from the TensorFlow rule, independently of ops/.
void tf_same_pad(int64_t in, int64_t k, int64_t s, int64_t& out, int64_t& before) {
  out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
  before = total / 2;
}

enum class Kind { kMax, kAvg };

// Naive pooling in double; for max also the routed gradient of dy (first max wins).
Tensor naive_pool(Kind kind, const Case& c, const Tensor& x, const Tensor* dy = nullptr, Tensor* dx = nullptr) {
  int64_t OH, OW, pt = 0, pl = 0;
  if (c.same) {
    tf_same_pad(c.H, c.KH, c.SH, OH, pt);
    tf_same_pad(c.W, c.KW, c.SW, OW, pl);
  } else {
    OH = (c.H - c.KH) / c.SH + 1;
    OW = (c.W - c.KW) / c.SW + 1;
  }
  std::vector<double> y(c.N * OH * OW * c.C), g(x.numel(), 0.0);
  auto xi = [&](int64_t n, int64_t h, int64_t w, int64_t ch) { return ((n * c.H + h) * c.W + w) * c.C + ch; };
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t ch = 0; ch < c.C; ++ch) {
          double acc = kind == Kind::kMax ? -INFINITY : 0.0;
          int64_t count = 0, best = -1;
          for (int64_t kh = 0; kh < c.KH; ++kh)
            for (int64_t kw = 0; kw < c.KW; ++kw) {
              const int64_t h = oh * c.SH - pt + kh, w = ow * c.SW - pl + kw;
              if (h < 0 || h >= c.H || w < 0 || w >= c.W) continue;
              const double v = x[xi(n, h, w, ch)];
              ++count;
              if (kind == Kind::kAvg) {
                acc += v;
              } else if (v > acc) {
                acc = v;
                best = xi(n, h, w, ch);
              }
            }
          const int64_t o = ((n * OH + oh) * OW + ow) * c.C + ch;
          y[o] = kind == Kind::kAvg ? acc / count : acc;
          if (dy && kind == Kind::kMax) g[best] += (*dy)[o];
          if (dy && kind == Kind::kAvg)
            for (int64_t kh = 0; kh < c.KH; ++kh)
              for (int64_t kw = 0; kw < c.KW; ++kw) {
                const int64_t h = oh * c.SH - pt + kh, w = ow * c.SW - pl + kw;
                if (h >= 0 && h < c.H && w >= 0 && w < c.W) g[xi(n, h, w, ch)] += (*dy)[o] / count;
              }
        }
  if (dx) *dx = to_tensor(x.shape(), g);
  return to_tensor({c.N, OH, OW, c.C}, y);
}

ops::Pool2DGeometry geometry(const Case& c) {
  return ops::make_pool_geometry(c.N, c.H, c.W, c.C, c.KH, c.KW, c.SH, c.SW, c.same);
}

// Distinct values in random order, so max pooling has no ties and finite differences are exact.
Tensor distinct_input(const Shape& shape) {
  Tensor t = Tensor::arange(shape);
  std::vector<float> v = t.to_vector();
  std::shuffle(v.begin(), v.end(), global_generator());
  for (auto& f : v) f *= 0.25f;
  return Tensor::from_data(shape, v);
}

// Central differences of sum(pool(x) * dy) with respect to x.
Tensor numeric_grad(Kind kind, const ops::Pool2DGeometry& g, Tensor x, const Tensor& dy) {
  Tensor grad(x.shape()), y(dy.shape());
  auto loss = [&](const Tensor& in) {
    if (kind == Kind::kMax)
      ops::max_pool2d(in.data(), g, y.data());
    else
      ops::avg_pool2d(in.data(), g, y.data());
    double s = 0;
    for (int64_t i = 0; i < y.numel(); ++i) s += double(y[i]) * dy[i];
    return s;
  };
  const float eps = 1e-2f;  // smaller than half the 0.25 gap between distinct inputs
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float keep = x[i];
    x[i] = keep + eps;
    const double up = loss(x);
    x[i] = keep - eps;
    const double down = loss(x);
    x[i] = keep;
    grad[i] = static_cast<float>((up - down) / (2.0 * eps));
  }
  return grad;
}

// The forward kernel, called as pool(x, geometry, y), against naive_pool on every case.
template <class Pool>
void expect_forward_matches_naive(Kind kind, Pool pool) {
  for (const Case& c : cases()) {
    const auto g = geometry(c);
    const Tensor x = Tensor::uniform({c.N, c.H, c.W, c.C}, -3, 3);
    Tensor y({c.N, g.OH, g.OW, c.C});
    pool(x.data(), g, y.data());
    EXPECT_TRUE(AllClose(y, naive_pool(kind, c, x))) << "H=" << c.H << " W=" << c.W << " same=" << c.same;
  }
}

}  // namespace

TEST(PoolGeometry, ValidOutputDropsIncompleteWindows) {
  EXPECT_EQ(ops::pool_output_length(5, 2, false, 2), 2);
  EXPECT_EQ(ops::pool_output_length(7, 3, false, 1), 5);
  EXPECT_EQ(ops::pool_output_length(-1, 2, false, 2), -1);
}

TEST(PoolGeometry, SamePaddingPutsExtraRowAtBottom) {
  const ops::Pool2DGeometry g = ops::make_pool_geometry(1, 5, 6, 1, 2, 3, 2, 2, true);
  EXPECT_EQ(g.OH, 3);  // ceil(5 / 2)
  EXPECT_EQ(g.OW, 3);
  EXPECT_EQ(g.pad_top, 0);  // total (3-1)*2 + 2 - 5 = 1
  EXPECT_EQ(g.pad_bottom, 1);
  EXPECT_EQ(g.pad_left, 0);  // total (3-1)*2 + 3 - 6 = 1
  EXPECT_EQ(g.pad_right, 1);
}

TEST(PoolGeometry, SamePaddingSplitsEvenTotalEqually) {
  const ops::Pool2DGeometry g = ops::make_pool_geometry(1, 4, 4, 1, 3, 3, 1, 1, true);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_bottom, 1);
  EXPECT_EQ(g.OH, 4);
}

TEST(PoolGeometry, RejectsWindowLargerThanValidInputAndBadSizes) {
  EXPECT_THROW(ops::make_pool_geometry(1, 2, 5, 1, 3, 3, 1, 1, false), ValueError);
  EXPECT_THROW(ops::make_pool_geometry(1, 4, 4, 1, 2, 2, 0, 2, false), ValueError);
  EXPECT_THROW(ops::make_pool_geometry(1, 4, 4, 1, 0, 2, 1, 1, true), ValueError);
  EXPECT_THROW(ops::make_pool_geometry(1, 0, 4, 1, 1, 1, 1, 1, true), ValueError);
  EXPECT_THROW(ops::pool_output_length(-2, 2, true, 1), ValueError);
}

TEST(MaxPool2D, MatchesNaiveOnManyGeometries) {
  expect_forward_matches_naive(Kind::kMax, [](const float* x, const auto& g, float* y) { ops::max_pool2d(x, g, y); });
}

TEST(MaxPool2D, PaddingNeverWinsOverNegativeValues) {
  // "same" pads with nothing, not zeros: an all-negative image keeps negative maxima.
  const auto g = ops::make_pool_geometry(1, 3, 3, 1, 2, 2, 2, 2, true);
  const Tensor x = Tensor::full({1, 3, 3, 1}, -5.f);
  Tensor y({1, g.OH, g.OW, 1});
  ops::max_pool2d(x.data(), g, y.data());
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_EQ(y[i], -5.f);
}

TEST(MaxPool2D, ANaNInTheWindowGivesNaNWithAndWithoutArgmax) {
  // 20 channels: full vector lanes and a remainder; the NaN first, last and in the middle of a window.
  const auto g = ops::make_pool_geometry(1, 4, 4, 20, 2, 2, 2, 2, false);
  Tensor x({1, 4, 4, 20});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>((i * 7) % 13) - 6.f;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const int64_t at[] = {(0 * 4 + 0) * 20 + 3, (1 * 4 + 3) * 20 + 17, (2 * 4 + 1) * 20 + 9};  // (h, w, c)
  for (int64_t i : at) x[i] = nan;
  Tensor y({1, 2, 2, 20}), ya({1, 2, 2, 20});
  std::vector<int64_t> arg(ya.numel());
  ops::max_pool2d(x.data(), g, y.data());
  ops::max_pool2d(x.data(), g, ya.data(), arg.data());
  for (int64_t oh = 0; oh < 2; ++oh)
    for (int64_t ow = 0; ow < 2; ++ow)
      for (int64_t c = 0; c < 20; ++c) {
        bool has_nan = false;
        float want = -std::numeric_limits<float>::infinity();
        for (int64_t h = 2 * oh; h < 2 * oh + 2; ++h)
          for (int64_t w = 2 * ow; w < 2 * ow + 2; ++w) {
            const float v = x[(h * 4 + w) * 20 + c];
            has_nan = has_nan || std::isnan(v);
            want = std::max(want, v);
          }
        const int64_t o = (oh * 2 + ow) * 20 + c;
        if (has_nan) {
          EXPECT_TRUE(std::isnan(y[o])) << o;
          EXPECT_TRUE(std::isnan(ya[o])) << o;
        } else {
          EXPECT_EQ(y[o], want) << o;
          EXPECT_EQ(ya[o], want) << o;
        }
      }
}

TEST(MaxPool2D, ArgmaxPointsAtTheMaximumAndTiesPickFirst) {
  const Tensor x = Tensor::from_data({1, 2, 2, 1}, {7.f, 7.f, 1.f, 7.f});
  const auto g = ops::make_pool_geometry(1, 2, 2, 1, 2, 2, 2, 2, false);
  float y = 0;
  int64_t arg = -1;
  ops::max_pool2d(x.data(), g, &y, &arg);
  EXPECT_EQ(y, 7.f);
  EXPECT_EQ(arg, 0);
  for (const Case& c : cases()) {
    const auto gg = geometry(c);
    const Tensor xx = Tensor::uniform({c.N, c.H, c.W, c.C}, -3, 3);
    Tensor yy({c.N, gg.OH, gg.OW, c.C});
    std::vector<int64_t> idx(yy.numel());
    ops::max_pool2d(xx.data(), gg, yy.data(), idx.data());
    for (int64_t i = 0; i < yy.numel(); ++i) {
      ASSERT_EQ(xx[idx[i]], yy[i]) << "output " << i;
      ASSERT_EQ(idx[i] % c.C, i % c.C) << "argmax crossed channels at output " << i;
    }
  }
}

TEST(MaxPool2D, BackwardRoutesGradientLikeNaiveAndFiniteDifferences) {
  for (const Case& c : cases()) {
    const auto g = geometry(c);
    const Tensor x = distinct_input({c.N, c.H, c.W, c.C});
    const Tensor dy = Tensor::uniform({c.N, g.OH, g.OW, c.C}, -1, 1);
    Tensor y(dy.shape()), dx(x.shape()), dx2(x.shape()), ref;
    dx.fill(NAN);  // must be fully overwritten
    std::vector<int64_t> arg(y.numel());
    ops::max_pool2d(x.data(), g, y.data(), arg.data());
    ops::max_pool2d_backward(dy.data(), arg.data(), g, dx.data());
    naive_pool(Kind::kMax, c, x, &dy, &ref);
    EXPECT_TRUE(AllClose(dx, ref)) << "H=" << c.H << " W=" << c.W;
    EXPECT_TRUE(AllClose(dx, numeric_grad(Kind::kMax, g, x, dy), 1e-3, 1e-3));
    ops::max_pool2d_backward_from_input(x.data(), dy.data(), g, dx2.data());
    EXPECT_EQ(dx2.to_vector(), dx.to_vector());
  }
}

TEST(MaxPool2D, BackwardRejectsArgmaxOutsideItsImage) {
  const auto g = ops::make_pool_geometry(2, 2, 2, 1, 2, 2, 2, 2, false);
  const float dy[2] = {1.f, 1.f};
  const int64_t arg[2] = {0, 1};  // the second image's index points into the first image
  float dx[8];
  EXPECT_THROW(ops::max_pool2d_backward(dy, arg, g, dx), ValueError);
}

TEST(MaxPool2D, RejectsInconsistentGeometry) {
  auto g = ops::make_pool_geometry(1, 4, 4, 1, 2, 2, 2, 2, false);
  g.OH = 3;
  std::vector<float> x(16), y(16);
  EXPECT_THROW(ops::max_pool2d(x.data(), g, y.data()), ValueError);
  g = ops::make_pool_geometry(1, 4, 4, 1, 2, 2, 2, 2, false);
  EXPECT_THROW(ops::max_pool2d(nullptr, g, y.data()), ValueError);
}

TEST(AvgPool2D, MatchesNaiveOnManyGeometries) {
  expect_forward_matches_naive(Kind::kAvg, [](const float* x, const auto& g, float* y) { ops::avg_pool2d(x, g, y); });
}

TEST(AvgPool2D, SamePaddingDividesByValidCellsOnly) {
  // 3x3 image, 2x2 window, stride 2, "same": the bottom-right window holds only x[2,2].
  const Tensor x = Tensor::from_data({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const auto g = ops::make_pool_geometry(1, 3, 3, 1, 2, 2, 2, 2, true);
  std::vector<float> y(4);
  ops::avg_pool2d(x.data(), g, y.data());
  EXPECT_EQ(y, (std::vector<float>{3.f, 4.5f, 7.5f, 9.f}));  // (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9/1
}

TEST(AvgPool2D, BackwardMatchesNaiveAndFiniteDifferences) {
  for (const Case& c : cases()) {
    const auto g = geometry(c);
    const Tensor x = distinct_input({c.N, c.H, c.W, c.C});
    const Tensor dy = Tensor::uniform({c.N, g.OH, g.OW, c.C}, -1, 1);
    Tensor dx(x.shape()), ref;
    dx.fill(NAN);
    ops::avg_pool2d_backward(dy.data(), g, dx.data());
    naive_pool(Kind::kAvg, c, x, &dy, &ref);
    EXPECT_TRUE(AllClose(dx, ref)) << "H=" << c.H << " W=" << c.W;
    EXPECT_TRUE(AllClose(dx, numeric_grad(Kind::kAvg, g, x, dy), 1e-3, 1e-3));
  }
}

TEST(Pool2D, ThreadedBatchMatchesSingleThread) {
  const Case c{16, 12, 12, 8, 3, 3, 2, 2, true};
  const auto g = geometry(c);
  const Tensor x = Tensor::uniform({c.N, c.H, c.W, c.C}, -1, 1);
  Tensor y1({c.N, g.OH, g.OW, c.C}), y2(y1.shape()), a1(y1.shape()), a2(y1.shape());
  const int saved = num_threads();
  set_num_threads(1);
  ops::max_pool2d(x.data(), g, y1.data());
  ops::avg_pool2d(x.data(), g, a1.data());
  set_num_threads(2);
  ops::max_pool2d(x.data(), g, y2.data());
  ops::avg_pool2d(x.data(), g, a2.data());
  set_num_threads(saved);
  EXPECT_EQ(y1.to_vector(), y2.to_vector());
  EXPECT_EQ(a1.to_vector(), a2.to_vector());
  EXPECT_TRUE(AllClose(y2, naive_pool(Kind::kMax, c, x)));
}

// C = 300 and 512 cross the kernels' 256-channel stack blocks.
TEST(GlobalPool2D, AverageAndMaxMatchNaive) {
  for (int64_t C : {6, 300, 512}) {
    const int64_t N = 3, H = 4, W = 5;
    const Tensor x = Tensor::uniform({N, H, W, C}, -2, 2);
    std::vector<double> avg(N * C, 0.0), mx(N * C, -INFINITY);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t p = 0; p < H * W; ++p)
        for (int64_t c = 0; c < C; ++c) {
          avg[n * C + c] += x[(n * H * W + p) * C + c] / double(H * W);
          mx[n * C + c] = std::max<double>(mx[n * C + c], x[(n * H * W + p) * C + c]);
        }
    Tensor ya({N, C}), ym({N, C});
    std::vector<int64_t> arg(N * C);
    ops::global_avg_pool2d(x.data(), N, H, W, C, ya.data());
    ops::global_max_pool2d(x.data(), N, H, W, C, ym.data(), arg.data());
    EXPECT_TRUE(AllClose(ya, to_tensor({N, C}, avg))) << "C=" << C;
    EXPECT_TRUE(AllClose(ym, to_tensor({N, C}, mx))) << "C=" << C;
    for (int64_t i = 0; i < N * C; ++i) {
      EXPECT_EQ(x[arg[i]], ym[i]) << "C=" << C << " i=" << i;
      EXPECT_EQ(arg[i] % C, i % C) << "the argmax is a cell of its own channel";
    }
  }
}

TEST(GlobalPool2D, BackwardsMatchFiniteDifferences) {
  const int64_t N = 2, H = 3, W = 2, C = 3;
  Tensor x = distinct_input({N, H, W, C});
  const Tensor dy = Tensor::uniform({N, C}, -1, 1);
  Tensor dxa({N, H, W, C}), dxm({N, H, W, C}), y({N, C});
  std::vector<int64_t> arg(N * C);
  ops::global_max_pool2d(x.data(), N, H, W, C, y.data(), arg.data());
  ops::global_max_pool2d_backward(dy.data(), arg.data(), N, H, W, C, dxm.data());
  ops::global_avg_pool2d_backward(dy.data(), N, H, W, C, dxa.data());
  for (bool is_max : {false, true}) {
    auto loss = [&] {
      if (is_max)
        ops::global_max_pool2d(x.data(), N, H, W, C, y.data());
      else
        ops::global_avg_pool2d(x.data(), N, H, W, C, y.data());
      double s = 0;
      for (int64_t i = 0; i < y.numel(); ++i) s += double(y[i]) * dy[i];
      return s;
    };
    const Tensor& analytic = is_max ? dxm : dxa;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float keep = x[i];
      x[i] = keep + 1e-2f;
      const double up = loss();
      x[i] = keep - 1e-2f;
      const double down = loss();
      x[i] = keep;
      EXPECT_NEAR(analytic[i], (up - down) / 2e-2, 1e-3) << (is_max ? "max" : "avg") << " at " << i;
    }
  }
}

TEST(GlobalPool2D, RejectsEmptySpatialDimsAndForeignArgmax) {
  float y[1];
  EXPECT_THROW(ops::global_avg_pool2d(y, 1, 0, 3, 1, y), ValueError);
  EXPECT_THROW(ops::global_max_pool2d(y, 1, 2, 0, 1, y), ValueError);
  const float dy[2] = {1.f, 1.f};
  const int64_t arg[2] = {1, 1};  // channel 1's index points at channel 1 but is used for channel 0
  float dx[4];
  EXPECT_THROW(ops::global_max_pool2d_backward(dy, arg, 1, 2, 1, 2, dx), ValueError);
}
