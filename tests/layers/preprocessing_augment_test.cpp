// tests/layers/preprocessing_augment_test.cpp — RandomTranslation, RandomRotation, RandomZoom,
// RandomContrast and RandomBrightness: inference identity, ranges, exact degenerate draws, seeds,
// configs, Keras's argument errors and the refused gradient.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/errors.h"
#include "core/random.h"
#include "layers/preprocessing/random_affine.h"
#include "layers/preprocessing/random_color.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using testing::ThrowsWith;
using testing::training_args;

Tensor images(const Shape& shape, uint64_t seed, float high = 255.f) {
  Tensor t = testing::random_tensor(shape, seed);
  for (float& v : t.span()) v = (v + 1.f) * 0.5f * high;
  return t;
}

float at(const Tensor& t, int64_t b, int64_t y, int64_t x, int64_t c) {
  const Shape& s = t.shape();
  return t.data()[((b * s[1] + y) * s[2] + x) * s[3] + c];
}

Tensor train(Layer& layer, const Tensor& x) { return layer(Variable(x), training_args()).value(); }

bool within(const Tensor& t, float lo, float hi) {
  return std::all_of(t.span().begin(), t.span().end(), [&](float v) { return v >= lo && v <= hi; });
}

// The checks every random layer gets: identity at inference; training keeps
// the shape and the range; equal seeds repeat over several calls; other seeds differ.
void check_random_layer(const std::function<LayerPtr(int64_t seed)>& make, const Tensor& x, float lo, float hi) {
  LayerPtr a = make(1), b = make(1), c = make(2);
  EXPECT_TRUE(testing::AllClose((*a)(x), x, 0, 0)) << a->class_name() << " at inference";
  bool differs = false;
  for (int call = 0; call < 3; ++call) {
    const Tensor ya = train(*a, x);
    EXPECT_EQ(ya.shape(), x.shape());
    EXPECT_TRUE(within(ya, lo, hi)) << a->class_name();
    EXPECT_TRUE(testing::AllClose(ya, train(*b, x), 0, 0)) << a->class_name() << " call " << call;
    differs = differs || !testing::AllClose(ya, train(*c, x), 0, 0);
  }
  EXPECT_TRUE(differs) << a->class_name();
  EXPECT_TRUE(testing::RoundTrips(*a));
}

TEST(RandomAffineLayers, InferenceRangeSeedsAndConfigs) {
  const Tensor x = images({4, 6, 5, 2}, 1);
  for (const std::string mode : {"reflect", "wrap", "nearest", "constant"}) {
    check_random_layer([&](int64_t s) { return RandomTranslation(0.3, {-0.2, 0.4}, {.fill_mode = mode, .seed = s}).ptr(); },
                       x, 0, 255);
    check_random_layer([&](int64_t s) { return RandomRotation(0.5, {.fill_mode = mode, .seed = s}).ptr(); }, x, 0, 255);
    check_random_layer(
        [&](int64_t s) {
          return RandomZoom({-0.5, 0.5}, 0.3, {.fill_mode = mode, .interpolation = "nearest", .seed = s}).ptr();
        },
        x, 0, 255);
  }
}

TEST(RandomTranslation, WholeRowShiftMovesThePictureDown) {
  // height_factor (0.25, 0.25) on 4 rows: exactly one row down; the top row is brought in by fill_mode.
  const Tensor x = images({2, 4, 3, 1}, 2);
  auto layer = RandomTranslation({0.25, 0.25}, 0.0, {.fill_mode = "constant", .seed = 0, .fill_value = -1.0});
  const Tensor y = train(*layer, x);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 3; ++c) {
      EXPECT_EQ(at(y, b, 0, c, 0), -1.f);
      for (int64_t r = 1; r < 4; ++r) EXPECT_EQ(at(y, b, r, c, 0), at(x, b, r - 1, c, 0));
    }
}

TEST(RandomRotation, QuarterTurnIsCounterClockwise) {
  // factor (0.25, 0.25): 90 degrees; the right column becomes the top row.
  const Tensor x = Tensor::from_data({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto layer = RandomRotation({0.25, 0.25}, {.fill_mode = "constant", .seed = 0});
  const Tensor y = train(*layer, x);
  EXPECT_TRUE(testing::AllClose(y, Tensor::from_data({1, 3, 3, 1}, {3, 6, 9, 2, 5, 8, 1, 4, 7}), 1e-4, 0));
  EXPECT_EQ(layer->get_config()["factor"], json::array({0.25, 0.25}));
  EXPECT_EQ(RandomRotation(0.2)->get_config()["factor"], json::array({-0.2, 0.2}));
}

TEST(RandomZoom, ZeroFactorIsTheIdentityAndZoomInMagnifiesTheCentre) {
  const Tensor x = images({1, 5, 5, 1}, 3);
  EXPECT_TRUE(testing::AllClose(train(*RandomZoom({0.0, 0.0}, std::nullopt, {.seed = 0}), x), x, 1e-4, 0));
  // height_factor -0.5 exactly: scale 0.5 on both axes about the centre (2, 2); output (x, y) reads 2 + (v - 2) / 2.
  const Tensor y = train(*RandomZoom({-0.5, -0.5}, std::nullopt, {.interpolation = "nearest", .seed = 0}), x);
  EXPECT_EQ(at(y, 0, 2, 2, 0), at(x, 0, 2, 2, 0));
  EXPECT_EQ(at(y, 0, 0, 0, 0), at(x, 0, 1, 1, 0));
  EXPECT_EQ(at(y, 0, 4, 4, 0), at(x, 0, 3, 3, 0));
}

TEST(RandomAffineLayers, BadArgumentsRaiseKerasMessages) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomTranslation(1.5, 0.1); },
                                     {"in the range [-1.0, 1.0]. Received: input_number=1.5"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomTranslation({0.1, 0.2, 0.3}, 0.1); },
                                     {"Received: height_factor=[0.1, 0.2, 0.3]"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomZoom(-1.0); }, {"in the range (-1.0, 1.0]", "input_number=-1"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomZoom(0.1, {0.1}); },
                                     {"Received: width_factor=[0.1]"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomRotation(2.0); },
                                     {"The `factor` argument should be a number (or a list of two numbers) in the range "
                                      "[-1, 1]. Received: factor=2"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomRotation(0.1, {.fill_mode = "mirror"}); },
                                     {"Unknown `fill_mode` mirror. Expected of one ('reflect', 'wrap', 'constant', "
                                      "'nearest')."}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomZoom(0.1, 0.1, {.interpolation = "bicubic"}); },
                                     {"Unknown `interpolation` bicubic. Expected of one ('nearest', 'bilinear')."}));
}

TEST(RandomAffineLayers, TrainingOutputRefusesAGradient) {
  Variable x(images({1, 4, 4, 1}, 4), true);
  auto layer = RandomRotation(0.1, {.seed = 1});
  Variable y = layer(x, training_args());
  EXPECT_TRUE(ThrowsWith<RuntimeError>([&] { autograd::sum(y).backward(); }, {"RandomRotation", "no gradient"}));
}

TEST(RandomAffineLayers, UnseededLayersFollowTheGlobalSeed) {
  const Tensor x = images({2, 5, 5, 1}, 10);
  set_random_seed(77);
  auto a = RandomRotation(0.3);
  const Tensor ya = train(*a, x);
  set_random_seed(77);
  auto b = RandomRotation(0.3);
  EXPECT_TRUE(testing::AllClose(ya, train(*b, x), 0, 0));
}

TEST(RandomAffineLayers, ChannelsFirstTransformsEachChannelAlike) {
  // Same seed, same draws: the channels_first output is the channels_last output transposed.
  const Tensor x = images({2, 4, 5, 3}, 11);
  Tensor xf({2, 3, 4, 5});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t c = 0; c < 5; ++c)
        for (int64_t k = 0; k < 3; ++k) xf.data()[((b * 3 + k) * 4 + y) * 5 + c] = at(x, b, y, c, k);
  const Tensor yl = train(*RandomZoom(0.4, 0.2, {.seed = 3}), x);
  const Tensor yf = train(*RandomZoom(0.4, 0.2, {.seed = 3, .data_format = "channels_first"}), xf);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t c = 0; c < 5; ++c)
        for (int64_t k = 0; k < 3; ++k) ASSERT_EQ(yf.data()[((b * 3 + k) * 4 + y) * 5 + c], at(yl, b, y, c, k));
}

// --- colour -------------------------------------------------------------------------------

TEST(RandomColorLayers, InferenceRangeSeedsAndConfigs) {
  const Tensor x = images({4, 3, 4, 3}, 5);
  check_random_layer([](int64_t s) { return RandomContrast(0.8, {.seed = s}).ptr(); }, x, 0, 255);
  check_random_layer([](int64_t s) { return RandomBrightness({-0.5, 0.5}, {.seed = s}).ptr(); }, x, 0, 255);
  const Tensor unit = images({4, 3, 4, 3}, 6, 1.f);
  check_random_layer([](int64_t s) { return RandomBrightness(0.9, {.value_range = {1.0, 0.0}, .seed = s}).ptr(); }, unit,
                     0, 1);
}

TEST(RandomContrast, ScalesEachChannelAboutItsMean) {
  // A wide value range: nothing is clipped, so (y - mean) / (x - mean) is one factor per image in [1, 1.5].
  const Tensor x = images({3, 4, 5, 2}, 7);
  auto layer = RandomContrast(0.5, {.value_range = {-1e6, 1e6}, .seed = 9});
  const Tensor y = train(*layer, x);
  for (int64_t b = 0; b < 3; ++b) {
    double factor = 0;
    for (int64_t k = 0; k < 2; ++k) {
      double mean = 0;
      for (int64_t r = 0; r < 4; ++r)
        for (int64_t c = 0; c < 5; ++c) mean += at(x, b, r, c, k);
      mean /= 20;
      if (k == 0) factor = (at(y, b, 0, 0, 0) - mean) / (at(x, b, 0, 0, 0) - mean);
      for (int64_t r = 0; r < 4; ++r)
        for (int64_t c = 0; c < 5; ++c)
          ASSERT_NEAR(at(y, b, r, c, k), (at(x, b, r, c, k) - mean) * factor + mean, 1e-2);
    }
    EXPECT_GE(factor, 1.0 - 1e-4);
    EXPECT_LE(factor, 1.5 + 1e-4);
  }
  EXPECT_EQ(layer->get_config()["factor"], json::array({0.0, 0.5}));
}

TEST(RandomBrightness, AddsOneDeltaPerImage) {
  const Tensor x = images({3, 2, 2, 3}, 8, 100.f);
  auto layer = RandomBrightness({0.1, 0.2}, {.value_range = {0.0, 1000.0}, .seed = 3});
  const Tensor y = train(*layer, x);
  for (int64_t b = 0; b < 3; ++b) {
    const float d = at(y, b, 0, 0, 0) - at(x, b, 0, 0, 0);
    EXPECT_GE(d, 100.f - 1e-3f);
    EXPECT_LE(d, 200.f + 1e-3f);
    for (int64_t k = 0; k < 12; ++k)
      ASSERT_NEAR(y.data()[b * 12 + k] - x.data()[b * 12 + k], d, 1e-3);
  }
}

TEST(RandomColorLayers, BadArgumentsRaiseKerasMessages) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomContrast(1.5); }, {"in the range [0, 1]. Received: factor=1.5"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomBrightness({0.1, 0.2, 0.3}); }, {"Received: factor=[0.1, 0.2, 0.3]"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomBrightness(0.1, {.value_range = {0.0}}); },
                                     {"The `value_range` argument should be a list of two numbers. Received: "
                                      "value_range=[0]"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { RandomContrast(0.1)(Tensor::zeros({2, 3})); },
                                     {"Expected image tensor to have rank 3"}));
  EXPECT_EQ(RandomBrightness(0.1, {.value_range = {255.0, 0.0}})->get_config()["value_range"], json::array({0.0, 255.0}));
}

}  // namespace
}  // namespace minidl
