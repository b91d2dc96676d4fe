// Tests for layers/regularization/dropout: identity at inference, inverted scaling, seeding
// and reproducibility, noise_shape, gradients, config and errors.
#include "layers/regularization/dropout.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <utility>
#include <vector>

#include "autograd/functions.h"
#include "core/threads.h"
#include "layers/base/input_layer.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// The outputs of two successive training calls of `d` on x, after
// set_random_seed(global_seed).
std::pair<std::vector<float>, std::vector<float>> two_training_calls(Dropout& d, const Variable& x,
                                                                     uint64_t global_seed) {
  set_random_seed(global_seed);
  std::vector<float> first = d(x, {.training = true}).value().to_vector();
  return {std::move(first), d(x, {.training = true}).value().to_vector()};
}

TEST(Dropout, InferenceReturnsTheInputItself) {
  auto d = Dropout(0.5);
  Variable x(random_tensor({4, 5}, 1));
  Variable y = d(x);
  EXPECT_TRUE(y.same_as(x));
}

TEST(Dropout, ZeroRateIsIdentityWhileTraining) {
  Variable x(random_tensor({4, 5}, 1));
  EXPECT_TRUE(Dropout(0.0)(x, {.training = true}).same_as(x));
}

TEST(Dropout, TrainingZeroesOrScalesEachElement) {
  const Tensor x = Tensor::full({50, 40}, 2.f);
  const Tensor y = Dropout(0.2)(Variable(x), {.training = true}).value();
  int64_t dropped = 0;
  for (float v : y.span()) {
    if (v == 0.f) {
      ++dropped;
    } else {
      EXPECT_FLOAT_EQ(v, 2.f / 0.8f);  // inverted dropout: 1 / (1 - rate)
    }
  }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, x.numel());
}

TEST(Dropout, DropsAboutRateOfTheElements) {
  // 200000 Bernoulli(0.3) draws: the standard deviation of the fraction is 0.001.
  const Tensor m = dropout_mask({200000}, 0.3, 12345);
  int64_t dropped = 0;
  for (float v : m.span()) dropped += v == 0.f;
  EXPECT_NEAR(double(dropped) / m.numel(), 0.3, 0.006);
}

TEST(Dropout, RateOneDropsEverything) {
  const Tensor y = Dropout(1.0)(Variable(Tensor::ones({3, 3})), {.training = true}).value();
  EXPECT_EQ(max_abs_diff(y, Tensor::zeros({3, 3})), 0.f);
}

TEST(Dropout, SameGlobalSeedGivesSameMasks) {
  auto d = Dropout(0.5);
  const Variable x(Tensor::ones({64}));
  const auto [a1, a2] = two_training_calls(d, x, 7);
  const auto [b1, b2] = two_training_calls(d, x, 7);
  EXPECT_EQ(a1, b1);
  EXPECT_EQ(a2, b2);
  EXPECT_NE(a1, a2);  // successive calls differ
  set_random_seed(8);
  EXPECT_NE(d(x, {.training = true}).value().to_vector(), a1);
}

TEST(Dropout, SeededLayerRepeatsItsSequenceWhateverTheGlobalSeed) {
  const Variable x(Tensor::ones({64}));
  auto a = Dropout(0.5, {.seed = 3});
  auto b = Dropout(0.5, {.seed = 3});
  const auto [a1, a2] = two_training_calls(a, x, 1);
  const auto [b1, b2] = two_training_calls(b, x, 2);
  EXPECT_EQ(a1, b1);
  EXPECT_EQ(a2, b2);
  EXPECT_NE(a1, a2);
}

TEST(Dropout, MaskDoesNotDependOnThreadCount) {
  const int before = num_threads();
  set_num_threads(1);
  const Tensor one = dropout_mask({100001}, 0.4, 99);
  set_num_threads(2);
  const Tensor two = dropout_mask({100001}, 0.4, 99);
  set_num_threads(before);
  EXPECT_EQ(one.to_vector(), two.to_vector());
}

TEST(Dropout, NoiseShapeSharesDecisionsAlongOneAxes) {
  // (None, 1, C): one decision per (sample, channel), shared by all timesteps.
  auto d = Dropout(0.5, {.noise_shape = Shape{kNone, 1, 8}});
  const Tensor y = d(Variable(Tensor::ones({3, 5, 8})), {.training = true}).value();
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t c = 0; c < 8; ++c)
      for (int64_t t = 1; t < 5; ++t) EXPECT_EQ(y.at({n, t, c}), y.at({n, 0, c}));
}

TEST(Dropout, GradientIsTheSameMask) {
  auto d = Dropout(0.25);
  Variable x(Tensor::full({6, 7}, 3.f), true);
  Variable y = d(x, {.training = true});
  autograd::sum(y).backward();
  for (int64_t i = 0; i < x.value().numel(); ++i) EXPECT_FLOAT_EQ(x.grad()[i], y.value()[i] / 3.f);
}

TEST(Dropout, GradcheckWithFixedMask) {
  auto d = Dropout(0.4, {.noise_shape = Shape{kNone, 1, 3}});
  Variable x(random_tensor({2, 2, 3}, 2), true);
  auto r = autograd::gradcheck(
      [&](const std::vector<Variable>& v) {
        set_random_seed(5);  // the same mask on every evaluation
        return d(v[0], {.training = true});
      },
      {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Dropout, ConfigHasKerasKeys) {
  reset_layer_names();
  auto d = Dropout(0.5, {.noise_shape = Shape{kNone, 1, 4}, .seed = 42});
  const json c = d->get_config();
  EXPECT_EQ(c["name"], "dropout");
  EXPECT_EQ(c["rate"], 0.5);
  EXPECT_EQ(c["noise_shape"], json::parse("[null, 1, 4]"));
  EXPECT_EQ(c["seed"], 42);
  EXPECT_TRUE(RoundTrips(*d));
  const json plain = Dropout(0.1)->get_config();
  EXPECT_EQ(plain["rate"], 0.1);
  EXPECT_TRUE(plain["noise_shape"].is_null());
  EXPECT_TRUE(plain["seed"].is_null());
}

TEST(Dropout, ReadsKeras1RateKey) {
  auto d =
      std::dynamic_pointer_cast<DropoutImpl>(layer_from_config({{"class_name", "Dropout"}, {"config", {{"p", 0.3}}}}));
  ASSERT_TRUE(d);
  EXPECT_DOUBLE_EQ(d->rate(), 0.3);
}

TEST(Dropout, KeepsShapeSymbolically) { EXPECT_EQ(Dropout(0.5)(Input({3, 4})).shape(), (Shape{kNone, 3, 4})); }

TEST(Dropout, RejectsRateOutsideZeroOne) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Dropout(1.5, {.name = "dr"}); }, {"dr", "1.5", "between 0 and 1"}));
  EXPECT_THROW(Dropout(-0.1), ValueError);
}

TEST(Dropout, RejectsNoiseShapeThatDoesNotFit) {
  auto d = Dropout(0.5, {.noise_shape = Shape{kNone, 3}, .name = "dn"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { d(Input({4})); }, {"dn", "(None, 3)", "(None, 4)"}));
  EXPECT_THROW(d(Input({2, 3})), ValueError);  // rank differs
}

}  // namespace
}  // namespace minidl
