// tests/ops/image_resize_test.cpp — ops/image_resize.h against naive double-precision
// formulas for each method and against reference values whose source is named
// beside them (hand-computed, and PyTorch's F.interpolate, whose bilinear with
// align_corners=False and "nearest-exact" sample at the same half-pixel centres
// as TensorFlow's resize with antialias off).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/errors.h"
#include "ops/image_resize.h"

using namespace minidl;
using minidl::ops::Interpolation;

namespace {

std::vector<float> resize(const std::vector<float>& src, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
                          Interpolation method) {
  std::vector<float> dst(static_cast<size_t>(OH * OW * C), -1.0f);
  ops::resize_image(src.data(), H, W, C, dst.data(), OH, OW, method);
  return dst;
}

// A deterministic H x W x C image with values in [0, 255).
std::vector<float> test_image(int64_t H, int64_t W, int64_t C) {
  std::vector<float> v(static_cast<size_t>(H * W * C));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37 + 11) % 255);
  return v;
}

// The 1-D weights of each method along one axis, in double, written from the
// definitions in ops/image_resize.h: w(o, i) = weight of source i in output o.
using AxisWeights = std::function<double(int64_t o, int64_t i, int64_t in, int64_t out)>;

double bilinear_weight(int64_t o, int64_t i, int64_t in, int64_t out) {
  double at = (o + 0.5) * in / out - 0.5;
  at = std::clamp(at, 0.0, static_cast<double>(in - 1));  // clamped, as both neighbours are
  return std::max(0.0, 1.0 - std::abs(at - static_cast<double>(i)));
}

double nearest_weight(int64_t o, int64_t i, int64_t in, int64_t out) {
  const auto pick = std::min<int64_t>(static_cast<int64_t>(std::floor((o + 0.5) * in / out)), in - 1);
  return pick == i ? 1.0 : 0.0;
}

double area_weight(int64_t o, int64_t i, int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / out;
  const double lo = o * scale, hi = (o + 1) * scale;
  return std::max(0.0, std::min<double>(i + 1, hi) - std::max<double>(i, lo)) / scale;
}

// Keys's cubic kernel with a = -0.5.
double keys(double x) {
  const double a = -0.5;
  x = std::abs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

// The four neighbours of the half-pixel coordinate, those outside the image
// dropped and the rest renormalized.
double bicubic_weight(int64_t o, int64_t i, int64_t in, int64_t out) {
  const double at = (o + 0.5) * in / out - 0.5;
  const auto base = static_cast<int64_t>(std::floor(at));
  double sum = 0, mine = 0;
  for (int64_t k = base - 1; k <= base + 2; ++k) {
    if (k < 0 || k >= in) continue;
    sum += keys(at - static_cast<double>(k));
    if (k == i) mine = keys(at - static_cast<double>(k));
  }
  return mine / sum;
}

std::vector<double> naive(const std::vector<float>& src, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
                          const AxisWeights& w) {
  std::vector<double> out;
  for (int64_t oy = 0; oy < OH; ++oy)
    for (int64_t ox = 0; ox < OW; ++ox)
      for (int64_t c = 0; c < C; ++c) {
        double v = 0;
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) v += w(oy, y, H, OH) * w(ox, x, W, OW) * src[(y * W + x) * C + c];
        out.push_back(v);
      }
  return out;
}

double max_diff(const std::vector<float>& got, const std::vector<double>& want) {
  EXPECT_EQ(got.size(), want.size());
  double m = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) m = std::max(m, std::abs(got[i] - want[i]));
  return m;
}

struct Case {
  int64_t H, W, C, OH, OW;
};
const Case kCases[] = {{3, 5, 1, 5, 8}, {8, 6, 3, 3, 4},  {7, 7, 2, 7, 3},  {1, 4, 3, 5, 2},
                       {5, 5, 4, 13, 11}, {28, 28, 1, 12, 12}, {9, 4, 3, 2, 10}};

void check_against_naive(Interpolation method, const AxisWeights& w, double tolerance) {
  for (const Case& k : kCases) {
    SCOPED_TRACE(::testing::Message() << ops::interpolation_name(method) << " " << k.H << "x" << k.W << "x" << k.C
                                      << " -> " << k.OH << "x" << k.OW);
    const auto src = test_image(k.H, k.W, k.C);
    EXPECT_LE(max_diff(resize(src, k.H, k.W, k.C, k.OH, k.OW, method), naive(src, k.H, k.W, k.C, k.OH, k.OW, w)),
              tolerance);
  }
}

TEST(ImageResize, BilinearMatchesNaiveFormula) {
  check_against_naive(Interpolation::Bilinear, bilinear_weight, 1e-3);
}

TEST(ImageResize, NearestMatchesNaiveFormula) { check_against_naive(Interpolation::Nearest, nearest_weight, 0.0); }

TEST(ImageResize, AreaMatchesNaiveFormula) { check_against_naive(Interpolation::Area, area_weight, 1e-3); }

TEST(ImageResize, BicubicMatchesNaiveFormula) {
  // TF reads the kernel from a table of 1024 steps: each weight is off by at
  // most about 0.5/1024 * max|k'| (~1.5), on values up to 255 and four taps.
  check_against_naive(Interpolation::Bicubic, bicubic_weight, 255 * 4 * 1.5 * 0.5 / 1024 * 2);
}

TEST(ImageResize, BilinearHandComputedUpsampling) {
  // [[0, 1], [2, 3]] to 4x4: the half-pixel coordinates are -0.25, 0.25, 0.75,
  // 1.25 on each axis, clamped at the borders, so rows blend 0/0.25/0.75/1.
  const std::vector<float> src = {0, 1, 2, 3};
  const std::vector<double> want = {0,   0.25, 0.75, 1,   0.5, 0.75, 1.25, 1.5,
                                    1.5, 1.75, 2.25, 2.5, 2,   2.25, 2.75, 3};
  EXPECT_LE(max_diff(resize(src, 2, 2, 1, 4, 4, Interpolation::Bilinear), want), 1e-6);
}

// A 3x5 image and its resizes by PyTorch 1.13's F.interpolate in float64
// (bilinear, align_corners=False; nearest-exact).
const std::vector<float> kTorchSrc = {0, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0, 7, 3, 10};

TEST(ImageResize, BilinearMatchesPyTorchHalfPixel) {
  const std::vector<double> up = {0.0,    3.0625, 6.75,   4.25,   5.1875, 9.5625, 7.75,  6.0,  0.8,    3.8625,
                                  7.55,   5.05,   4.6125, 6.2375, 6.625,  6.8,    2.0,   5.0625, 8.75, 6.25,
                                  3.75,   1.25,   4.9375, 8.0,    3.2,    3.375,  3.7625, 5.3875, 4.95, 2.45,
                                  6.1375, 9.2,    4.0,    2.25,   0.4375, 4.8125, 5.75,  3.25, 6.9375, 10.0};
  EXPECT_LE(max_diff(resize(kTorchSrc, 3, 5, 1, 5, 8, Interpolation::Bilinear), up), 1e-5);
  const std::vector<double> down = {2.8333333333, 3.5, 6.9166666667, 3.0833333333, 6.5, 7.1666666667};
  EXPECT_LE(max_diff(resize(kTorchSrc, 3, 5, 1, 2, 3, Interpolation::Bilinear), down), 1e-5);
}

TEST(ImageResize, NearestMatchesPyTorchNearestExact) {
  const std::vector<double> up = {0, 0, 7, 3, 3, 10, 6, 6, 0, 0, 7, 3, 3, 10, 6, 6,  2, 2, 9, 5,
                                  5, 1, 8, 8, 4, 4, 0, 7, 7, 3, 10, 10, 4, 4, 0, 7, 7, 3, 10, 10};
  EXPECT_EQ(max_diff(resize(kTorchSrc, 3, 5, 1, 5, 8, Interpolation::Nearest), up), 0.0);
  const std::vector<double> down = {0, 3, 6, 4, 7, 10};
  EXPECT_EQ(max_diff(resize(kTorchSrc, 3, 5, 1, 2, 3, Interpolation::Nearest), down), 0.0);
}

TEST(ImageResize, AreaOfAnIntegerFactorIsTheBlockMean) {
  // 4x4 to 2x2: each output is the mean of a 2x2 block.
  const std::vector<float> src = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const std::vector<double> want = {3.5, 5.5, 11.5, 13.5};
  EXPECT_LE(max_diff(resize(src, 4, 4, 1, 2, 2, Interpolation::Area), want), 1e-6);
}

TEST(ImageResize, SameSizeIsACopyForEveryMethod) {
  const auto src = test_image(5, 6, 3);
  for (auto m : {Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic, Interpolation::Area})
    EXPECT_EQ(resize(src, 5, 6, 3, 5, 6, m), src) << ops::interpolation_name(m);
}

TEST(ImageResize, ConstantImageStaysConstant) {
  const std::vector<float> src(6 * 7 * 2, 42.0f);
  for (auto m : {Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic, Interpolation::Area})
    for (float v : resize(src, 6, 7, 2, 4, 11, m)) EXPECT_NEAR(v, 42.0f, 1e-3) << ops::interpolation_name(m);
}

TEST(ImageResize, ParsesKerasNamesAndRejectsOthers) {
  EXPECT_EQ(ops::parse_interpolation("bilinear"), Interpolation::Bilinear);
  EXPECT_EQ(ops::parse_interpolation("nearest"), Interpolation::Nearest);
  EXPECT_EQ(ops::parse_interpolation("bicubic"), Interpolation::Bicubic);
  EXPECT_EQ(ops::parse_interpolation("area"), Interpolation::Area);
  for (auto m : {Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic, Interpolation::Area})
    EXPECT_EQ(ops::parse_interpolation(ops::interpolation_name(m)), m);
  try {
    ops::parse_interpolation("lanczos3");
    FAIL() << "lanczos3 accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("interpolation=lanczos3"), std::string::npos) << e.what();
  }
}

TEST(ImageResize, RejectsEmptySizes) {
  const std::vector<float> src(4, 1.0f);
  std::vector<float> dst(4);
  EXPECT_THROW(ops::resize_image(src.data(), 2, 2, 1, dst.data(), 0, 2, Interpolation::Bilinear), ValueError);
}

}  // namespace
