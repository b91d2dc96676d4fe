// tests/layers/preprocessing_image_test.cpp — Resizing, CenterCrop, RandomCrop and RandomFlip: shapes,
// values against naive references, inference rules, seeds, configs and Keras's argument errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/errors.h"
#include "layers/base/input_layer.h"
#include "layers/preprocessing/random_crop.h"
#include "layers/preprocessing/random_flip.h"
#include "layers/preprocessing/resizing.h"
#include "layers/reshaping/spatial_utils.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using testing::ThrowsWith;
using testing::training_args;

// Pixel values in [0, 255).
Tensor images(const Shape& shape, uint64_t seed) {
  Tensor t = testing::random_tensor(shape, seed);
  for (float& v : t.span()) v = (v + 1.f) * 127.5f;
  return t;
}

float at(const Tensor& t, int64_t b, int64_t y, int64_t x, int64_t c) {
  const Shape& s = t.shape();
  return t.data()[((b * s[1] + y) * s[2] + x) * s[3] + c];
}

// [N, C, H, W] <-> [N, H, W, C].
Tensor to_channels_first(const Tensor& t) {
  const Shape& s = t.shape();
  Tensor o({s[0], s[3], s[1], s[2]});
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t y = 0; y < s[1]; ++y)
      for (int64_t x = 0; x < s[2]; ++x)
        for (int64_t c = 0; c < s[3]; ++c) o.data()[((b * s[3] + c) * s[1] + y) * s[2] + x] = at(t, b, y, x, c);
  return o;
}

// tf.image.resize bilinear (half-pixel centres, no antialias), written from its definition in double.
double ref_bilinear(const Tensor& t, int64_t b, int64_t c, int64_t OH, int64_t OW, int64_t oy, int64_t ox) {
  const Shape& s = t.shape();
  const double sy = std::clamp((oy + 0.5) * static_cast<double>(s[1]) / OH - 0.5, 0.0, static_cast<double>(s[1] - 1));
  const double sx = std::clamp((ox + 0.5) * static_cast<double>(s[2]) / OW - 0.5, 0.0, static_cast<double>(s[2] - 1));
  const auto y0 = static_cast<int64_t>(std::floor(sy)), x0 = static_cast<int64_t>(std::floor(sx));
  const int64_t y1 = std::min(y0 + 1, s[1] - 1), x1 = std::min(x0 + 1, s[2] - 1);
  const double ay = sy - y0, ax = sx - x0;
  return (1 - ay) * ((1 - ax) * at(t, b, y0, x0, c) + ax * at(t, b, y0, x1, c)) +
         ay * ((1 - ax) * at(t, b, y1, x0, c) + ax * at(t, b, y1, x1, c));
}

// --- Resizing -------------------------------------------------------------------------

TEST(Resizing, BilinearMatchesTheNaiveReference) {
  const Tensor x = images({2, 5, 7, 3}, 1);
  auto layer = Resizing(8, 4);
  const Tensor y = layer(x);
  ASSERT_EQ(y.shape(), (Shape{2, 8, 4, 3}));
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t oy = 0; oy < 8; ++oy)
      for (int64_t ox = 0; ox < 4; ++ox)
        for (int64_t c = 0; c < 3; ++c) ASSERT_NEAR(at(y, b, oy, ox, c), ref_bilinear(x, b, c, 8, 4, oy, ox), 1e-3);
}

TEST(Resizing, SymbolicShapeAndChannelsFirst) {
  auto layer = Resizing(6, 9);
  EXPECT_EQ(layer(Input({20, 30, 3})).shape(), (Shape{kNone, 6, 9, 3}));
  auto cf = Resizing(6, 9, {.data_format = "channels_first"});
  EXPECT_EQ(cf(Input({3, 20, 30})).shape(), (Shape{kNone, 3, 6, 9}));
  const Tensor x = images({2, 5, 7, 3}, 2);
  EXPECT_TRUE(testing::AllClose(cf(to_channels_first(x)), to_channels_first(Resizing(6, 9)(x)), 1e-6, 1e-6));
}

TEST(Resizing, CropToAspectRatioResizesTheCentredWindow) {
  // 4 x 8 to a square: the centred 4 x 4 window (columns 2..5), resized.
  const Tensor x = images({1, 4, 8, 2}, 3);
  Tensor window({1, 4, 4, 2});
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t c = 0; c < 4; ++c)
      for (int64_t k = 0; k < 2; ++k) window.data()[(y * 4 + c) * 2 + k] = at(x, 0, y, c + 2, k);
  const Tensor got = Resizing(2, 2, {.crop_to_aspect_ratio = true})(x);
  EXPECT_TRUE(testing::AllClose(got, Resizing(2, 2)(window), 1e-6, 1e-6));
}

TEST(Resizing, PadToAspectRatioPadsTheShortSideWithFillValue) {
  // 2 x 4 to 4 x 4: one row of fill_value above and below, then a resize of the same size.
  const Tensor x = images({1, 2, 4, 1}, 4);
  const Tensor y = Resizing(4, 4, {.interpolation = "nearest", .pad_to_aspect_ratio = true, .fill_value = -3.0})(x);
  for (int64_t c = 0; c < 4; ++c) {
    EXPECT_EQ(at(y, 0, 0, c, 0), -3.f);
    EXPECT_EQ(at(y, 0, 1, c, 0), at(x, 0, 0, c, 0));
    EXPECT_EQ(at(y, 0, 2, c, 0), at(x, 0, 1, c, 0));
    EXPECT_EQ(at(y, 0, 3, c, 0), -3.f);
  }
}

TEST(Resizing, ConfigRoundTripsWithKerasKeys) {
  auto layer = Resizing(10, 12, {.interpolation = "nearest", .crop_to_aspect_ratio = true, .name = "rs"});
  EXPECT_TRUE(testing::RoundTrips(*layer));
  const json c = layer->get_config();
  for (const char* k : {"height", "width", "interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode",
                        "fill_value", "antialias", "data_format"})
    EXPECT_TRUE(c.contains(k)) << k;
  EXPECT_EQ(c["data_format"], "channels_last");
}

TEST(Resizing, BadArgumentsRaiseKerasMessages) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Resizing(0, 4); }, {"`size` must have positive height and width"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Resizing(4, 4, {.interpolation = "cubic"}); },
                                     {"Invalid value for argument `interpolation`", "interpolation=cubic"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Resizing(4, 4, {.fill_mode = "reflect"}); },
                                     {"Only `'constant'` is supported. Received: fill_mode=reflect"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Resizing(4, 4, {.crop_to_aspect_ratio = true, .pad_to_aspect_ratio = true}); },
                                     {"Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`."}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Resizing(4, 4)(Tensor::zeros({4, 4})); },
                                     {"Expected image tensor to have rank 3", "(4, 4)"}));
}

// --- CenterCrop -------------------------------------------------------------------------

TEST(CenterCrop, CutsTheCentreAndPassesTheGradientBack) {
  const Tensor x = images({2, 6, 7, 2}, 5);
  auto layer = CenterCrop(3, 4);
  const Tensor y = layer(x);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4, 2}));
  // Offsets (6 - 3) / 2 = 1 and (7 - 4) / 2 = 1.
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t c = 0; c < 4; ++c)
        for (int64_t k = 0; k < 2; ++k) ASSERT_EQ(at(y, b, r, c, k), at(x, b, r + 1, c + 1, k));
  EXPECT_TRUE(testing::GradOk(layer, testing::random_tensor({1, 4, 5, 1}, 9)));
}

TEST(CenterCrop, SmallerImageIsResizedFromItsAspectWindow) {
  // 4 x 6 to 8 x 8: the centred 4 x 4 window resized, as Keras's smart_resize.
  const Tensor x = images({1, 4, 6, 1}, 6);
  Tensor window({1, 4, 4, 1});
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t c = 0; c < 4; ++c) window.data()[r * 4 + c] = at(x, 0, r, c + 1, 0);
  EXPECT_TRUE(testing::AllClose(CenterCrop(8, 8)(x), Resizing(8, 8)(window), 1e-6, 1e-6));
}

TEST(CenterCrop, ConfigAndSymbolicShape) {
  auto layer = CenterCrop(5, 6, {.name = "cc"});
  EXPECT_TRUE(testing::RoundTrips(*layer));
  EXPECT_EQ(layer(Input({10, 10, 3})).shape(), (Shape{kNone, 5, 6, 3}));
}

// --- RandomCrop -------------------------------------------------------------------------

TEST(RandomCrop, InferenceIsTheIdentityAsInKeras3) {
  const Tensor x = images({2, 8, 9, 3}, 7);
  auto layer = RandomCrop(5, 5, {.seed = 1});
  EXPECT_TRUE(testing::AllClose(layer(x), x, 0, 0));
  EXPECT_EQ(layer(Input({8, 9, 3})).shape(), (Shape{kNone, 5, 5, 3}));
}

TEST(RandomCrop, TrainingCutsOneWindowForTheBatch) {
  const Tensor x = images({3, 8, 9, 2}, 8);
  auto layer = RandomCrop(5, 4, {.seed = 11});
  for (int call = 0; call < 4; ++call) {
    const Tensor y = layer(Variable(x), training_args()).value();
    ASSERT_EQ(y.shape(), (Shape{3, 5, 4, 2}));
    // Find the window of image 0 and check every image was cut there.
    bool found = false;
    for (int64_t top = 0; top <= 3 && !found; ++top)
      for (int64_t left = 0; left <= 5 && !found; ++left) {
        bool same = true;
        for (int64_t b = 0; b < 3 && same; ++b)
          for (int64_t r = 0; r < 5 && same; ++r)
            for (int64_t c = 0; c < 4 && same; ++c)
              for (int64_t k = 0; k < 2; ++k) same = same && at(y, b, r, c, k) == at(x, b, top + r, left + c, k);
        found = same;
      }
    EXPECT_TRUE(found) << "call " << call;
  }
}

TEST(RandomCrop, SeededRunsRepeatAndSeedsDiffer) {
  const Tensor x = images({1, 20, 20, 1}, 9);
  auto a = RandomCrop(4, 4, {.seed = 3}), b = RandomCrop(4, 4, {.seed = 3}), c = RandomCrop(4, 4, {.seed = 4});
  bool differs = false;
  for (int i = 0; i < 5; ++i) {
    const Tensor ya = a(Variable(x), training_args()).value();
    EXPECT_TRUE(testing::AllClose(ya, b(Variable(x), training_args()).value(), 0, 0));
    differs = differs || !testing::AllClose(ya, c(Variable(x), training_args()).value(), 0, 0);
  }
  EXPECT_TRUE(differs);
}

TEST(RandomCrop, SmallerImageIsCutThenResizedWhileTraining) {
  // 4 x 6 to 8 x 8: Keras starts at the square window's corner (row 0, column 1)
  // and slices up to 8 x 8 from there, i.e. rows 0..3 and columns 1..5, then resizes.
  const Tensor x = images({1, 4, 6, 1}, 10);
  const Tensor y = RandomCrop(8, 8, {.seed = 1})(Variable(x), training_args()).value();
  EXPECT_EQ(y.shape(), (Shape{1, 8, 8, 1}));
  Tensor cut({1, 4, 5, 1});
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t c = 0; c < 5; ++c) cut.data()[r * 5 + c] = at(x, 0, r, c + 1, 0);
  EXPECT_TRUE(testing::AllClose(y, Resizing(8, 8)(cut), 1e-6, 1e-6));
}

TEST(RandomCrop, ConfigAlwaysCarriesASeed) {
  auto layer = RandomCrop(3, 3, {.name = "rc"});
  EXPECT_TRUE(layer->get_config()["seed"].is_number_integer());
  EXPECT_TRUE(testing::RoundTrips(*layer));
}

// --- RandomFlip -------------------------------------------------------------------------

TEST(RandomFlip, InferenceIsTheIdentity) {
  const Tensor x = images({2, 3, 4, 2}, 12);
  EXPECT_TRUE(testing::AllClose(RandomFlip("horizontal", {.seed = 1})(x), x, 0, 0));
}

TEST(RandomFlip, EachImageIsItselfOrItsMirror) {
  const Tensor x = images({16, 3, 4, 2}, 13);
  for (const std::string mode : {"horizontal", "vertical", "horizontal_and_vertical"}) {
    auto layer = RandomFlip(mode, {.seed = 5});
    const Tensor y = layer(Variable(x), training_args()).value();
    int flipped = 0;
    for (int64_t b = 0; b < 16; ++b) {
      bool same = true, mirror = true;
      for (int64_t r = 0; r < 3; ++r)
        for (int64_t c = 0; c < 4; ++c)
          for (int64_t k = 0; k < 2; ++k) {
            const int64_t sr = mode != "horizontal" ? 2 - r : r, sc = mode != "vertical" ? 3 - c : c;
            same = same && at(y, b, r, c, k) == at(x, b, r, c, k);
            mirror = mirror && at(y, b, r, c, k) == at(x, b, sr, sc, k);
          }
      EXPECT_TRUE(same || mirror) << mode << " image " << b;
      flipped += mirror && !same;
    }
    // 16 fair draws: all equal has probability 2^-15.
    EXPECT_GT(flipped, 0) << mode;
    EXPECT_LT(flipped, 16) << mode;
  }
}

TEST(RandomFlip, SeededRunsRepeatSeedsDifferAndTheGradientFlipsBack) {
  const Tensor x = images({8, 2, 3, 1}, 14);
  auto a = RandomFlip("horizontal", {.seed = 21}), b = RandomFlip("horizontal", {.seed = 21});
  auto c = RandomFlip("horizontal", {.seed = 22});
  bool differs = false;
  for (int i = 0; i < 3; ++i) {
    const Tensor ya = a(Variable(x), training_args()).value();
    EXPECT_TRUE(testing::AllClose(ya, b(Variable(x), training_args()).value(), 0, 0));
    differs = differs || !testing::AllClose(ya, c(Variable(x), training_args()).value(), 0, 0);
  }
  EXPECT_TRUE(differs);
  // Each training call draws again, so the gradient check uses a layer whose draws it replays.
  Variable xv(x.clone(), true);
  auto d = RandomFlip("horizontal", {.seed = 2});
  Variable y = d(xv, training_args());
  autograd::sum(autograd::mul(y, Variable(testing::random_tensor(y.shape(), 3)))).backward();
  // d sum(w * flip(x)) / dx = flip(w): the gradient is the weights flipped with the same draws.
  auto replay = RandomFlip("horizontal", {.seed = 2});
  const Tensor want = replay(Variable(testing::random_tensor(y.shape(), 3)), training_args()).value();
  EXPECT_TRUE(testing::AllClose(xv.grad(), want, 0, 0));
}

TEST(RandomFlip, ConfigAndBadMode) {
  auto layer = RandomFlip("vertical", {.seed = 4, .name = "rf"});
  EXPECT_TRUE(testing::RoundTrips(*layer));
  EXPECT_EQ(layer->get_config()["mode"], "vertical");
  EXPECT_EQ(layer->get_config()["seed"], 4);
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomFlip("diagonal"); }, {"unknown mode argument diagonal"}));
}

}  // namespace
}  // namespace minidl
