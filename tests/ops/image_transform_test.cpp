// tests/ops/image_transform_test.cpp — ops::transform_image against a naive double-precision
// reference, exact cases (quarter turns, whole-pixel shifts, flips) and each fill mode on a small image.
#include "ops/image_transform.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/errors.h"

namespace minidl::ops {
namespace {

// The reference: the fill modes written from their definitions
// (reflect: the edge-including mirror of period 2n; wrap: period n), in double.
double ref_map(double v, int64_t n, FillMode mode) {
  const double len = static_cast<double>(n);
  switch (mode) {
    case FillMode::Constant: return v;
    case FillMode::Nearest: break;
    case FillMode::Reflect:
      if (v < 0 || v > len - 1) {
        double t = std::fmod(v, 2 * len);
        if (t < 0) t += 2 * len;
        if (t >= len) t = 2 * len - 1 - t;
        v = t;
      }
      break;
    case FillMode::Wrap:
      if (v < 0 || v > len - 1) {
        double t = std::fmod(v, len);
        if (t < 0) t += len;
        v = t;
      }
      break;
  }
  return std::min(std::max(v, 0.0), len - 1);
}

std::vector<double> ref_transform(const std::vector<float>& src, int64_t H, int64_t W, int64_t C,
                                  const ProjectiveTransform& t, Interpolation interp, FillMode mode, double fill) {
  std::vector<double> out(static_cast<size_t>(H * W * C));
  auto px = [&](int64_t y, int64_t x, int64_t c) -> double {
    if (y < 0 || y >= H || x < 0 || x >= W) return fill;
    return src[static_cast<size_t>((y * W + x) * C + c)];
  };
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      for (int64_t c = 0; c < C; ++c) {
        double& o = out[static_cast<size_t>((y * W + x) * C + c)];
        const double k = t[6] * x + t[7] * y + 1.0;
        if (k == 0) {
          o = fill;
          continue;
        }
        const double sx = ref_map((t[0] * x + t[1] * y + t[2]) / k, W, mode);
        const double sy = ref_map((t[3] * x + t[4] * y + t[5]) / k, H, mode);
        if (interp == Interpolation::Nearest) {
          o = px(static_cast<int64_t>(std::llround(sy)), static_cast<int64_t>(std::llround(sx)), c);
          continue;
        }
        const double fx = std::floor(sx), fy = std::floor(sy);
        const auto ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
        const double ax = sx - fx, ay = sy - fy;
        o = (1 - ay) * ((1 - ax) * px(iy, ix, c) + ax * px(iy, ix + 1, c)) +
            ay * ((1 - ax) * px(iy + 1, ix, c) + ax * px(iy + 1, ix + 1, c));
      }
  return out;
}

std::vector<float> ramp(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
  return v;
}

std::vector<float> run(const std::vector<float>& src, int64_t H, int64_t W, int64_t C, const ProjectiveTransform& t,
                       Interpolation interp, FillMode mode, float fill = 0.f) {
  std::vector<float> dst(src.size(), -12345.f);
  transform_image(src.data(), H, W, C, dst.data(), t, interp, mode, fill);
  return dst;
}

constexpr ProjectiveTransform kIdentity = {1, 0, 0, 0, 1, 0, 0, 0};

TEST(ImageTransform, IdentityCopiesTheImage) {
  const auto src = ramp(4 * 5 * 2);
  for (Interpolation i : {Interpolation::Nearest, Interpolation::Bilinear})
    EXPECT_EQ(run(src, 4, 5, 2, kIdentity, i, FillMode::Reflect), src);
}

TEST(ImageTransform, QuarterTurnIsExact) {
  // Square 3 x 3 image, turned 90 degrees about its centre (1, 1):
  // output (x, y) reads input (y, 2 - x), i.e. x' = y, y' = 2 - x.
  const auto src = ramp(9);
  const ProjectiveTransform t = {0, 1, 0, -1, 0, 2, 0, 0};
  const std::vector<float> want = {7, 4, 1, 8, 5, 2, 9, 6, 3};
  EXPECT_EQ(run(src, 3, 3, 1, t, Interpolation::Bilinear, FillMode::Constant), want);
  EXPECT_EQ(run(src, 3, 3, 1, t, Interpolation::Nearest, FillMode::Constant), want);
}

TEST(ImageTransform, WholePixelShiftIsExactInEachFillMode) {
  // 1 x 4 row [1 2 3 4] moved right by 2 pixels: output x reads input x - 2.
  const std::vector<float> src = {1, 2, 3, 4};
  const ProjectiveTransform t = {1, 0, -2, 0, 1, 0, 0, 0};
  EXPECT_EQ(run(src, 1, 4, 1, t, Interpolation::Bilinear, FillMode::Constant, 9.f), (std::vector<float>{9, 9, 1, 2}));
  EXPECT_EQ(run(src, 1, 4, 1, t, Interpolation::Bilinear, FillMode::Nearest), (std::vector<float>{1, 1, 1, 2}));
  EXPECT_EQ(run(src, 1, 4, 1, t, Interpolation::Bilinear, FillMode::Reflect), (std::vector<float>{2, 1, 1, 2}));
  EXPECT_EQ(run(src, 1, 4, 1, t, Interpolation::Bilinear, FillMode::Wrap), (std::vector<float>{3, 4, 1, 2}));
  // Moved left by 3: output x reads input x + 3.
  const ProjectiveTransform left = {1, 0, 3, 0, 1, 0, 0, 0};
  EXPECT_EQ(run(src, 1, 4, 1, left, Interpolation::Nearest, FillMode::Reflect), (std::vector<float>{4, 4, 3, 2}));
  EXPECT_EQ(run(src, 1, 4, 1, left, Interpolation::Nearest, FillMode::Wrap), (std::vector<float>{4, 1, 2, 3}));
  EXPECT_EQ(run(src, 1, 4, 1, left, Interpolation::Nearest, FillMode::Nearest), (std::vector<float>{4, 4, 4, 4}));
  EXPECT_EQ(run(src, 1, 4, 1, left, Interpolation::Nearest, FillMode::Constant, -1.f),
            (std::vector<float>{4, -1, -1, -1}));
}

TEST(ImageTransform, VerticalFlipIsExact) {
  // y' = (H - 1) - y.
  const auto src = ramp(3 * 2 * 2);
  const ProjectiveTransform t = {1, 0, 0, 0, -1, 2, 0, 0};
  const auto out = run(src, 3, 2, 2, t, Interpolation::Bilinear, FillMode::Reflect);
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(out[static_cast<size_t>(y * 4 + k)], src[static_cast<size_t>((2 - y) * 4 + k)]);
}

TEST(ImageTransform, MatchesTheNaiveReferenceInEachModeAndInterpolation) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int64_t H = 5, W = 6, C = 2;
  std::vector<float> src(static_cast<size_t>(H * W * C));
  for (float& v : src) v = u(rng);
  // A rotation with zoom and shift (coordinates well outside the image), and a projective one.
  const std::vector<ProjectiveTransform> transforms = {
      {0.8f, -0.45f, 1.3f, 0.45f, 0.8f, -2.2f, 0, 0},
      {1.7f, 0.2f, -4.1f, -0.3f, 1.9f, -3.3f, 0, 0},
      {0.9f, 0.1f, 0.5f, -0.05f, 1.1f, 0.25f, 0.02f, -0.03f},
  };
  for (const auto& t : transforms)
    for (FillMode m : {FillMode::Reflect, FillMode::Wrap, FillMode::Constant, FillMode::Nearest})
      for (Interpolation i : {Interpolation::Nearest, Interpolation::Bilinear}) {
        const auto got = run(src, H, W, C, t, i, m, 0.25f);
        const auto want = ref_transform(src, H, W, C, t, i, m, 0.25);
        for (size_t k = 0; k < got.size(); ++k)
          ASSERT_NEAR(got[k], want[k], 1e-4) << "mode " << static_cast<int>(m) << " interp " << static_cast<int>(i)
                                             << " element " << k;
      }
}

TEST(ImageTransform, FillModesMapCoordinatesAsDefined) {
  // n = 4: reflect  ... 1 0 | 0 1 2 3 | 3 2 ...; wrap ... 2 3 | 0 1 2 3 | 0 1 ...
  EXPECT_EQ(map_fill_coordinate(-1.f, 4, FillMode::Reflect), 0.f);
  EXPECT_EQ(map_fill_coordinate(-2.f, 4, FillMode::Reflect), 1.f);
  EXPECT_EQ(map_fill_coordinate(4.f, 4, FillMode::Reflect), 3.f);
  EXPECT_EQ(map_fill_coordinate(9.f, 4, FillMode::Reflect), 1.f);
  EXPECT_EQ(map_fill_coordinate(-1.f, 4, FillMode::Wrap), 3.f);
  EXPECT_EQ(map_fill_coordinate(-3.f, 4, FillMode::Wrap), 1.f);
  EXPECT_EQ(map_fill_coordinate(5.f, 4, FillMode::Wrap), 1.f);
  EXPECT_EQ(map_fill_coordinate(-7.f, 4, FillMode::Nearest), 0.f);
  EXPECT_EQ(map_fill_coordinate(7.f, 4, FillMode::Nearest), 3.f);
  EXPECT_EQ(map_fill_coordinate(-7.f, 4, FillMode::Constant), -7.f);
  // A one-pixel axis maps everything onto its pixel.
  EXPECT_EQ(map_fill_coordinate(-2.5f, 1, FillMode::Reflect), 0.f);
  EXPECT_EQ(map_fill_coordinate(3.5f, 1, FillMode::Wrap), 0.f);
}

TEST(ImageTransform, DegenerateProjectionGivesTheFillValue) {
  // k = 1 - x is 0 at column 1.
  const auto src = ramp(3);
  const ProjectiveTransform t = {1, 0, 0, 0, 1, 0, -1, 0};
  EXPECT_EQ(run(src, 1, 3, 1, t, Interpolation::Nearest, FillMode::Constant, 7.f)[1], 7.f);
}

TEST(ImageTransform, RefusesInterpolationsKerasDoesNotOffer) {
  const auto src = ramp(4);
  std::vector<float> dst(4);
  EXPECT_THROW(transform_image(src.data(), 2, 2, 1, dst.data(), kIdentity, Interpolation::Bicubic, FillMode::Reflect, 0),
               ValueError);
}

}  // namespace
}  // namespace minidl::ops
