// Tests for layers/regularization/spatial_dropout2d: whole channels dropped in training, the
// inverted-dropout scale, identity at inference, seeds, gradients, configs, errors.
#include "layers/regularization/spatial_dropout2d.h"


#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

// Checks every (image, channel) plane of y is either all 0 or exactly x * scale;
// returns the number of planes dropped.
int dropped_planes(const Tensor& x, const Tensor& y, bool cf, float scale) {
  const Shape& s = x.shape();
  const int64_t N = s[0], H = cf ? s[2] : s[1], W = cf ? s[3] : s[2], C = cf ? s[1] : s[3];
  int dropped = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const bool zero = at4(y, cf, n, 0, 0, c) == 0;
      dropped += zero;
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const double want = zero ? 0.0 : at4(x, cf, n, h, w, c) * double(scale);
          EXPECT_NEAR(at4(y, cf, n, h, w, c), want, 1e-6) << "plane n=" << n << " c=" << c;
        }
    }
  return dropped;
}

TEST(SpatialDropout2D, InferenceIsIdentity) {
  auto drop = SpatialDropout2D(0.5);
  const Tensor x = random_tensor({2, 3, 3, 4}, 1);
  Variable xv(x);
  EXPECT_TRUE(drop(xv).same_as(xv));
  EXPECT_EQ(drop(Input({3, 3, 4})).shape(), (Shape{kNone, 3, 3, 4}));
}

TEST(SpatialDropout2D, TrainingDropsWholeChannelsAndScalesTheRest) {
  for (bool cf : {false, true}) {
    set_random_seed(7);
    auto drop = SpatialDropout2D(0.5, {.data_format = cf ? "channels_first" : "channels_last"});
    Tensor x = random_tensor(cf ? Shape{8, 64, 2, 3} : Shape{8, 2, 3, 64}, 2);
    for (float& v : x.span()) v += 2.f;  // no zeros in x
    const Tensor y = drop(Variable(x), training_args()).value();
    const int dropped = dropped_planes(x, y, cf, 2.f);
    EXPECT_GT(dropped, 200) << "of 512 planes, channels_first=" << cf;  // ~256 expected; bounds ~5 sigma
    EXPECT_LT(dropped, 312) << "of 512 planes, channels_first=" << cf;
  }
}

TEST(SpatialDropout2D, RateOneDropsEverythingWithoutNaN) {
  const Tensor y = SpatialDropout2D(1.0)(Variable(Tensor::ones({2, 2, 2, 3})), training_args()).value();
  for (float v : y.span()) EXPECT_EQ(v, 0.f);
}

TEST(SpatialDropout2D, SameSeedGivesSameMasks) {
  const Tensor x = random_tensor({4, 2, 2, 16}, 3);
  auto a = SpatialDropout2D(0.3, {.seed = 42});
  auto b = SpatialDropout2D(0.3, {.seed = 42});
  EXPECT_EQ(a(Variable(x), training_args()).value().to_vector(), b(Variable(x), training_args()).value().to_vector());
}

TEST(SpatialDropout2D, GradientIsTheSameMaskAndScale) {
  auto drop = SpatialDropout2D(0.4);
  // A fixed global seed inside f gives every evaluation the same mask.
  Variable x(random_tensor({2, 3, 2, 5}, 4), true);
  auto r = autograd::gradcheck(
      [&](const std::vector<Variable>& v) {
        set_random_seed(11);
        return drop(v[0], training_args());
      },
      {x});
  EXPECT_TRUE(r.ok) << r.message;
  set_random_seed(11);
  Variable y = drop(x, training_args());
  y.backward(Tensor::ones(y.shape()));
  for (int64_t i = 0; i < x.value().numel(); ++i)
    EXPECT_FLOAT_EQ(x.grad()[i] * x.value()[i], y.value()[i]);  // dy/dx = mask * scale
}

TEST(SpatialDropout2D, ConfigHasKerasKeysAndRoundTrips) {
  reset_layer_names();
  auto drop = SpatialDropout2D(0.25, {.data_format = "channels_first", .seed = 3});
  const json c = drop->get_config();
  EXPECT_EQ(c["name"], "spatial_dropout2d");
  EXPECT_EQ(c["rate"], 0.25);
  EXPECT_TRUE(c["noise_shape"].is_null());
  EXPECT_EQ(c["seed"], 3);
  EXPECT_EQ(c["data_format"], "channels_first");
  EXPECT_TRUE(RoundTrips(*drop.ptr()));
  // tf.keras 2 writes Dropout's keys only.
  auto k2 = SpatialDropout2DImpl::from_config(json::parse(
      R"({"name": "sd", "trainable": true, "dtype": "float32", "rate": 0.1, "noise_shape": null, "seed": null})"));
  EXPECT_EQ(k2->rate(), 0.1);
  EXPECT_FALSE(k2->seed().has_value());
  EXPECT_EQ(k2->data_format(), image_data_format());
}

TEST(SpatialDropout2D, RejectsBadRateWrongRankAndBadConfigs) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { SpatialDropout2D(1.5, {.name = "sd1"}); },
                                     {"SpatialDropout2D 'sd1'", "rate", "1.5"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { SpatialDropout2D(-0.1); }, {"rate"}));
  auto drop = SpatialDropout2D(0.5, {.name = "sd2"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { drop(Input({4, 4})); }, {"'sd2'", "rank 4"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { SpatialDropout2DImpl::from_config(json::parse(R"({"seed": 1})")); },
                                     {"SpatialDropout2D", "rate"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { SpatialDropout2DImpl::from_config(json::parse(R"({"rate": 0.5, "seed": -2})")); }, {"seed"}));
}

}  // namespace
}  // namespace minidl
