// Tests for layers/reshaping/upsampling2d: nearest and bilinear values against naive
// loops in both data formats, gradients, configs and errors.
#include "layers/reshaping/upsampling2d.h"


#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "layers/base/input_layer.h"
#include "layers/base/registry.h"
#include "support/assertions.h"
#include "support/indices.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// One axis of tf.image.resize(method="bilinear") (half-pixel centres) in double.
struct Tap {
  int64_t lo, hi;
  double t;
};
Tap tap(int64_t o, int64_t in, int64_t out) {
  const double src = (o + 0.5) * double(in) / double(out) - 0.5;
  const double fl = std::floor(src);
  return {std::max<int64_t>(int64_t(fl), 0), std::min<int64_t>(int64_t(std::ceil(src)), in - 1), src - fl};
}

Tensor naive_upsample(const Tensor& x, bool cf, int64_t SH, int64_t SW, bool bilinear) {
  const Shape& s = x.shape();
  const int64_t N = s[0], H = cf ? s[2] : s[1], W = cf ? s[3] : s[2], C = cf ? s[1] : s[3];
  const int64_t OH = H * SH, OW = W * SW;
  Tensor y(cf ? Shape{N, C, OH, OW} : Shape{N, OH, OW, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j)
        for (int64_t c = 0; c < C; ++c) {
          double v;
          if (!bilinear) {
            v = at4(x, cf, n, i / SH, j / SW, c);
          } else {
            const Tap a = tap(i, H, OH), b = tap(j, W, OW);
            const double top = at4(x, cf, n, a.lo, b.lo, c) * (1 - b.t) + at4(x, cf, n, a.lo, b.hi, c) * b.t;
            const double bot = at4(x, cf, n, a.hi, b.lo, c) * (1 - b.t) + at4(x, cf, n, a.hi, b.hi, c) * b.t;
            v = top * (1 - a.t) + bot * a.t;
          }
          if (cf)
            y[((n * C + c) * OH + i) * OW + j] = static_cast<float>(v);
          else
            y[((n * OH + i) * OW + j) * C + c] = static_cast<float>(v);
        }
  return y;
}

TEST(UpSampling2D, DefaultsAndSymbolicShapes) {
  auto up = UpSampling2D();
  EXPECT_EQ(up->size(), Size2D(2, 2));
  EXPECT_EQ(up->interpolation(), "nearest");
  EXPECT_EQ(up(Input({3, 4, 5})).shape(), (Shape{kNone, 6, 8, 5}));
  EXPECT_EQ(UpSampling2D({2, 3}, {.data_format = "channels_first"})(Input({5, 3, 4})).shape(),
            (Shape{kNone, 5, 6, 12}));
  EXPECT_EQ(UpSampling2D(2)(Input({kNone, 4, 1})).shape(), (Shape{kNone, kNone, 8, 1}));
}

TEST(UpSampling2D, NearestMatchesNaiveLoopInBothFormats) {
  for (bool cf : {false, true}) {
    const Tensor x = random_tensor({2, 3, 4, 5}, 1);
    const Tensor y = UpSampling2D({2, 3}, {.data_format = cf ? "channels_first" : "channels_last"})(x);
    EXPECT_TRUE(testing::AllClose(y, naive_upsample(x, cf, 2, 3, false), 0, 0)) << "channels_first=" << cf;
  }
}

TEST(UpSampling2D, BilinearMatchesTensorFlowHalfPixelRule) {
  const Tensor y = UpSampling2D({1, 2}, {.interpolation = "bilinear"})(Tensor::from_data({1, 1, 2, 1}, {0, 1}));
  EXPECT_TRUE(testing::AllClose(y, Tensor::from_data({1, 1, 4, 1}, {0, 0.25f, 0.75f, 1}), 1e-7, 0));
}

TEST(UpSampling2D, BilinearMatchesNaiveLoopInBothFormats) {
  for (bool cf : {false, true}) {
    const Tensor x = random_tensor({2, 3, 4, 5}, 2);
    const Tensor y = UpSampling2D({3, 2}, {.data_format = cf ? "channels_first" : "channels_last",
                                           .interpolation = "bilinear"})(x);
    EXPECT_TRUE(testing::AllClose(y, naive_upsample(x, cf, 3, 2, true), 1e-6, 1e-6)) << "channels_first=" << cf;
  }
}

TEST(UpSampling2D, GradcheckNearestAndBilinear) {
  for (const char* interp : {"nearest", "bilinear"})
    for (bool cf : {false, true}) {
      auto up = UpSampling2D({2, 3}, {.data_format = cf ? "channels_first" : "channels_last", .interpolation = interp});
      EXPECT_TRUE(GradOk(up, random_tensor({2, 2, 3, 2}, 3))) << interp << " channels_first=" << cf;
    }
}

TEST(UpSampling2D, ConfigHasKerasKeysAndRoundTrips) {
  reset_layer_names();
  auto up = UpSampling2D({2, 3}, {.interpolation = "Bilinear"});
  const json c = up->get_config();
  EXPECT_EQ(c["name"], "up_sampling2d");
  EXPECT_EQ(c["size"], json::array({2, 3}));
  EXPECT_EQ(c["interpolation"], "bilinear");
  EXPECT_EQ(c.size(), 6u);
  EXPECT_TRUE(RoundTrips(*up.ptr()));
  // Keras 2.0 configs have no interpolation key.
  auto old = UpSampling2DImpl::from_config(json::parse(R"({"size": [2, 2], "data_format": "channels_last"})"));
  EXPECT_EQ(old->interpolation(), "nearest");
}

TEST(UpSampling2D, RejectsBadArguments) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { UpSampling2D(2, {.interpolation = "bicubic", .name = "u1"}); },
                                     {"UpSampling2D 'u1'", "interpolation", "bicubic"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { UpSampling2D({0, 2}, {.name = "u2"}); }, {"'u2'", "size"}));
  auto up = UpSampling2D(2, {.name = "u3"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { up(Input({4, 4})); }, {"'u3'", "rank 4"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { UpSampling2DImpl::from_config(json::parse(R"({"size": [2, "2"]})")); },
                                     {"UpSampling2D", "size"}));
}

}  // namespace
}  // namespace minidl
