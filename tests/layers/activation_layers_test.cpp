// Tests for layers/activations/activation_layers: Activation, ReLU, LeakyReLU and Softmax.
#include "layers/activations/activation_layers.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "layers/base/input_layer.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// Uniform values kept at least `gap` away from every point in `kinks`, where
// the functions below are not differentiable.
Tensor away_from(const Shape& shape, uint64_t seed, std::vector<float> kinks, float gap = 0.05f) {
  Tensor t = random_tensor(shape, seed);
  for (float& v : t.span()) {
    v *= 3.f;
    for (float k : kinks)
      if (std::fabs(v - k) < gap) v = k + 2 * gap;
  }
  return t;
}

// --- Activation ------------------------------------------------------------------

TEST(ActivationLayer, AppliesTheNamedFunction) {
  const Tensor x = random_tensor({3, 4}, 1);
  const Tensor y = ActivationLayer("tanh")(x);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(y[i], std::tanh(double(x[i])), 1e-6);
}

TEST(ActivationLayer, UsesKerasClassNameAndDefaultName) {
  reset_layer_names();
  auto a = ActivationLayer("relu");
  EXPECT_EQ(a->class_name(), "Activation");
  EXPECT_EQ(a->name(), "activation");
  EXPECT_EQ(a(Input({2, 3})).shape(), (Shape{kNone, 2, 3}));
}

TEST(ActivationLayer, ConfigRoundTrips) {
  auto a = ActivationLayer("softmax");
  EXPECT_EQ(a->get_config()["activation"], "softmax");
  EXPECT_TRUE(RoundTrips(*a));
}

TEST(ActivationLayer, GradcheckThroughSigmoid) {
  auto a = ActivationLayer("sigmoid");
  Variable x(random_tensor({2, 3}, 2), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return a(v[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ActivationLayer, RejectsUnknownName) { EXPECT_THROW(ActivationLayer("nope"), ValueError); }

// --- ReLU ------------------------------------------------------------------------

double naive_relu(double x, double max_value, double slope, double threshold) {
  if (x > threshold) return std::min(x, max_value);
  return slope * (x - threshold);
}

TEST(ReLU, DefaultIsMaxOfZero) {
  const Tensor y = ReLU()(Tensor::from_data({4}, {-3.f, -1.f, 0.f, 2.f}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0.f, 0.f, 0.f, 2.f}));
}

TEST(ReLU, MatchesKerasFormulaWithAllArguments) {
  auto layer = ReLU({.max_value = 1.5, .negative_slope = 0.1, .threshold = 0.5});
  Tensor x = random_tensor({5, 7}, 3);
  for (float& v : x.span()) v *= 3.f;  // [-3, 3): every branch
  const Tensor y = layer(x);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(y[i], naive_relu(x[i], 1.5, 0.1, 0.5), 1e-6);
}

// The clamp form (max_value only, as relu6) on many elements (the vectorised loop and its tail),
// against the formula; NaN stays NaN and -0 stays -0 as in the general form.
TEST(ReLU, MaxValueAloneMatchesKerasFormula) {
  auto layer = ReLU({.max_value = 6.0});
  Tensor x = random_tensor({3, 37}, 5);
  for (float& v : x.span()) v *= 9.f;  // below 0, between, above 6
  x[0] = std::numeric_limits<float>::quiet_NaN();
  x[1] = -0.f;
  const Tensor y = layer(x);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 0.f);
  EXPECT_TRUE(std::signbit(y[1]));
  for (int64_t i = 2; i < x.numel(); ++i) EXPECT_NEAR(y[i], naive_relu(x[i], 6.0, 0.0, 0.0), 1e-6);
}

TEST(ReLU, KerasDocExamples) {
  const Tensor x = Tensor::from_data({4}, {-3.f, -1.f, 0.f, 2.f});
  EXPECT_EQ(ReLU({.max_value = 1.0})(x).to_vector(), (std::vector<float>{0.f, 0.f, 0.f, 1.f}));
  EXPECT_EQ(ReLU({.negative_slope = 1.0})(x).to_vector(), (std::vector<float>{-3.f, -1.f, 0.f, 2.f}));
  const Tensor x2 = Tensor::from_data({4}, {-3.f, -1.f, 1.f, 2.f});
  EXPECT_EQ(ReLU({.threshold = 1.5})(x2).to_vector(), (std::vector<float>{0.f, 0.f, 0.f, 2.f}));
}

TEST(ReLU, GradcheckAwayFromKinks) {
  auto layer = ReLU({.max_value = 2.0, .negative_slope = 0.2, .threshold = 0.5});
  Variable x(away_from({4, 6}, 4, {0.5f, 2.f}), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return layer(v[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ReLU, ConfigWritesFloat32ValuesAsKeras) {
  reset_layer_names();
  auto layer = ReLU({.max_value = 6.0, .negative_slope = 0.1});
  const json c = layer->get_config();
  EXPECT_EQ(c["name"], "re_lu");
  EXPECT_EQ(c["max_value"], 6.0);
  EXPECT_EQ(c["negative_slope"], double(0.1f));
  EXPECT_EQ(c["threshold"], 0.0);
  EXPECT_TRUE(ReLU()->get_config()["max_value"].is_null());
  EXPECT_TRUE(RoundTrips(*layer));
}

TEST(ReLU, RejectsNegativeArguments) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { ReLU({.max_value = -1.0, .name = "r"}); }, {"r", "max_value", "-1"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { ReLU({.negative_slope = -0.5}); }, {"negative_slope"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { ReLU({.threshold = -2.0}); }, {"threshold"}));
}

TEST(ReLU, RejectsNullSlopeInConfig) {
  EXPECT_THROW(layer_from_config({{"class_name", "ReLU"}, {"config", {{"negative_slope", nullptr}}}}), ValueError);
}

// --- LeakyReLU ----------------------------------------------------------------

TEST(LeakyReLU, KerasDocExamples) {
  const Tensor x = Tensor::from_data({4}, {-3.f, -1.f, 0.f, 2.f});
  const Tensor y = LeakyReLU()(x);
  EXPECT_TRUE(testing::AllClose(y, Tensor::from_data({4}, {-0.9f, -0.3f, 0.f, 2.f})));
  EXPECT_TRUE(testing::AllClose(LeakyReLU({.alpha = 0.1})(x), Tensor::from_data({4}, {-0.3f, -0.1f, 0.f, 2.f})));
}

TEST(LeakyReLU, GradcheckAwayFromZero) {
  auto layer = LeakyReLU({.alpha = 0.2});
  Variable x(away_from({3, 5}, 5, {0.f}), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return layer(v[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(LeakyReLU, ConfigWritesAlphaAsFloat32) {
  reset_layer_names();
  auto layer = LeakyReLU();
  EXPECT_EQ(layer->name(), "leaky_re_lu");
  EXPECT_EQ(layer->get_config()["alpha"], 0.30000001192092896);
  EXPECT_TRUE(RoundTrips(*layer));
}

TEST(LeakyReLU, ReadsKeras3NegativeSlope) {
  auto layer = std::dynamic_pointer_cast<LeakyReLUImpl>(
      layer_from_config({{"class_name", "LeakyReLU"}, {"config", {{"negative_slope", 0.25}}}}));
  ASSERT_TRUE(layer);
  EXPECT_FLOAT_EQ(layer->alpha(), 0.25f);
}

TEST(LeakyReLU, RejectsNullAlpha) {
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] {
        layer_from_config({{"class_name", "LeakyReLU"}, {"config", {{"alpha", nullptr}}}});
      },
      {"cannot be None"}));
}

// --- Softmax -------------------------------------------------------------------

TEST(Softmax, MatchesNaiveOnAMiddleAxis) {
  const Shape s{2, 4, 3};
  const Tensor x = random_tensor(s, 6);
  const Tensor y = Softmax({.axis = 1})(x);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 3; ++k) {
      double z = 0;
      for (int64_t j = 0; j < 4; ++j) z += std::exp(double(x.at({n, j, k})));
      for (int64_t j = 0; j < 4; ++j) EXPECT_NEAR(y.at({n, j, k}), std::exp(double(x.at({n, j, k}))) / z, 1e-6);
    }
}

TEST(Softmax, Gradcheck) {
  auto layer = Softmax();
  Variable x(random_tensor({3, 4}, 7), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return layer(v[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Softmax, MaskedPositionsGetNoProbability) {
  auto layer = Softmax();
  const Tensor x = Tensor::from_data({1, 4}, {1.f, 5.f, 2.f, 3.f});
  const Tensor mask = Tensor::from_data({1, 4}, {1.f, 0.f, 1.f, 1.f});
  const Tensor y = layer(Variable(x), {.masks = {mask}}).value();
  EXPECT_NEAR(y[1], 0.0, 1e-7);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(y[0], std::exp(1.0) / z, 1e-6);
  EXPECT_NEAR(y[3], std::exp(3.0) / z, 1e-6);
}

TEST(Softmax, ConfigRoundTripsAxisAndAcceptsAOneAxisList) {
  auto layer = Softmax({.axis = 1});
  EXPECT_EQ(layer->get_config()["axis"], 1);
  EXPECT_TRUE(RoundTrips(*layer));
  auto from_list = std::dynamic_pointer_cast<SoftmaxImpl>(
      layer_from_config({{"class_name", "Softmax"}, {"config", {{"axis", {2}}}}}));
  ASSERT_TRUE(from_list);
  EXPECT_EQ(from_list->axis(), 2);
}

TEST(Softmax, RejectsAxisOutOfRange) {
  auto layer = Softmax({.axis = 2, .name = "sm"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { layer(Input({4})); }, {"sm", "axis 2", "(None, 4)"}));
}

}  // namespace
}  // namespace minidl
