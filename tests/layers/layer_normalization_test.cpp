// Tests for layers/normalization/layer_normalization and layer_scale: weights (names, order,
// shapes), the forward for several axis settings and rms_scaling against a naive double
// loop, gradchecks of the input and every weight, config round trips (Keras 3 and
// tf.keras 2 forms), and Keras's errors.
#include "layers/normalization/layer_normalization.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "layers/base/input_layer.h"
#include "layers/base/registry.h"
#include "layers/normalization/layer_scale.h"
#include "support/assertions.h"
#include "support/indices.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// Keras's formula in double: each group (the entries sharing every index off `axes`)
// normalized by its mean and biased variance; gamma/beta indexed by the sorted axes.
Tensor naive_layer_norm(const Tensor& x, std::vector<int> axes, const Tensor* gamma, const Tensor* beta, double eps,
                        bool rms) {
  const Shape& s = x.shape();
  const int rank = static_cast<int>(s.size());
  for (int& a : axes)
    if (a < 0) a += rank;
  std::sort(axes.begin(), axes.end());
  Shape group_shape = s, param_shape;
  for (int a : axes) {
    group_shape[a] = 1;
    param_shape.push_back(s[a]);
  }
  auto group_of = [&](int64_t i) {
    auto idx = unravel(i, s);
    for (int a : axes) idx[a] = 0;
    return ravel(idx, group_shape);
  };
  auto feature_of = [&](int64_t i) {
    const auto idx = unravel(i, s);
    int64_t f = 0;
    for (size_t k = 0; k < axes.size(); ++k) f = f * param_shape[k] + idx[axes[k]];
    return f;
  };
  const int64_t groups = numel(group_shape);
  std::vector<double> sum(groups, 0.0), count(groups, 0.0), sq(groups, 0.0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    sum[group_of(i)] += x[i];
    count[group_of(i)] += 1;
  }
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t g = group_of(i);
    const double d = x[i] - sum[g] / count[g];
    sq[g] += d * d;
  }
  Tensor y(s);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t g = group_of(i), f = feature_of(i);
    const double mean = sum[g] / count[g], inv = 1.0 / std::sqrt(sq[g] / count[g] + eps);
    const double ga = gamma ? (*gamma)[f] : 1.0, be = beta ? (*beta)[f] : 0.0;
    y[i] = static_cast<float>(rms ? x[i] * inv * ga : (x[i] - mean) * inv * ga + be);
  }
  return y;
}

struct AxisCase {
  const char* name;
  Shape input;  // with the batch axis
  LayerNormAxis axis;
  Shape param;  // gamma's and beta's shape
  bool rms = false;
};

void PrintTo(const AxisCase& c, std::ostream* os) { *os << c.name; }

class LayerNormAxes : public ::testing::TestWithParam<AxisCase> {};

// A layer for the case, built on its input, with random gamma and beta.
LayerNormalization make_layer(const AxisCase& c, uint64_t seed) {
  auto ln = LayerNormalization({.axis = c.axis, .epsilon = 1e-3, .rms_scaling = c.rms});
  Shape no_batch(c.input.begin() + 1, c.input.end());
  ln(Input(no_batch));
  std::vector<Tensor> w;
  for (const auto& v : ln->weights()) w.push_back(random_tensor(v.shape(), seed++));
  ln->set_weights(w);
  return ln;
}

TEST_P(LayerNormAxes, WeightsAreGammaThenBetaOverTheSortedAxes) {
  const AxisCase c = GetParam();
  auto ln = make_layer(c, 1);
  const auto& w = ln->own_weights();
  ASSERT_EQ(w.size(), c.rms ? 1u : 2u);
  EXPECT_EQ(w[0].name, "gamma");
  EXPECT_EQ(w[0].variable.shape(), c.param);
  if (!c.rms) {
    EXPECT_EQ(w[1].name, "beta");
    EXPECT_EQ(w[1].variable.shape(), c.param);
  }
}

TEST_P(LayerNormAxes, ForwardMatchesNaiveDouble) {
  const AxisCase c = GetParam();
  auto ln = make_layer(c, 10);
  const Tensor x = random_tensor(c.input, 3);
  const auto w = ln->get_weights();
  const Tensor want = naive_layer_norm(x, c.axis.axes(), &w[0], c.rms ? nullptr : &w[1], 1e-3, c.rms);
  EXPECT_TRUE(AllClose(ln(x), want, 1e-5, 1e-5));
}

TEST_P(LayerNormAxes, GradcheckOfInputGammaAndBeta) {
  const AxisCase c = GetParam();
  auto ln = make_layer(c, 20);
  std::vector<Variable> inputs{Variable(random_tensor(c.input, 4), true)};
  for (const auto& v : ln->weights()) inputs.push_back(v);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return ln(v[0]); }, inputs);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST_P(LayerNormAxes, ConfigRoundTripsBeforeAndAfterBuild) {
  const AxisCase c = GetParam();
  auto fresh = LayerNormalization({.axis = c.axis, .rms_scaling = c.rms});
  EXPECT_TRUE(RoundTrips(*fresh));
  EXPECT_TRUE(RoundTrips(*make_layer(c, 1)));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LayerNormAxes,
    ::testing::Values(AxisCase{"Last", {2, 3, 4}, -1, {4}},
                      AxisCase{"AllButBatch", {2, 3, 2, 4}, {1, 2, 3}, {3, 2, 4}},
                      AxisCase{"TrailingNegative", {2, 3, 2, 4}, {-2, -1}, {2, 4}},
                      AxisCase{"ApartUnsorted", {2, 3, 2, 4}, {3, 1}, {3, 4}},
                      AxisCase{"OneNotLast", {2, 3, 4}, 1, {3}},
                      AxisCase{"RmsLast", {2, 3, 4}, -1, {4}, true},
                      AxisCase{"RmsApart", {2, 3, 2, 4}, {1, 3}, {3, 4}, true}),
    [](const ::testing::TestParamInfo<AxisCase>& i) { return std::string(i.param.name); });

TEST(LayerNormalization, CenterAndScaleChooseTheWeights) {
  auto no_beta = LayerNormalization({.center = false});
  no_beta(Input({5}));
  ASSERT_EQ(no_beta->own_weights().size(), 1u);
  EXPECT_EQ(no_beta->own_weights()[0].name, "gamma");
  auto no_gamma = LayerNormalization({.scale = false});
  no_gamma(Input({5}));
  ASSERT_EQ(no_gamma->own_weights().size(), 1u);
  EXPECT_EQ(no_gamma->own_weights()[0].name, "beta");
  auto none = LayerNormalization({.center = false, .scale = false});
  none(Input({5}));
  EXPECT_TRUE(none->own_weights().empty());
  // rms_scaling keeps gamma even with scale = false and drops beta whatever center says.
  auto rms = LayerNormalization({.center = true, .scale = false, .rms_scaling = true});
  rms(Input({5}));
  ASSERT_EQ(rms->own_weights().size(), 1u);
  EXPECT_EQ(rms->own_weights()[0].name, "gamma");
}

TEST(LayerNormalization, WithoutWeightsIsThePlainNormalization) {
  auto ln = LayerNormalization({.epsilon = 0.5, .center = false, .scale = false});
  const Tensor x = random_tensor({3, 6}, 9);
  EXPECT_TRUE(AllClose(ln(x), naive_layer_norm(x, {-1}, nullptr, nullptr, 0.5, false), 1e-6, 1e-6));
  Variable xv(x.clone(), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return ln(v[0]); }, {xv});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(LayerNormalization, ConfigAfterBuildHoldsTheSortedNonNegativeAxes) {
  auto ln = LayerNormalization({.axis = {-1, -3}});
  EXPECT_EQ(ln->get_config()["axis"], json::array({-1, -3}));
  ln(Input({3, 2, 4}));
  EXPECT_EQ(ln->get_config()["axis"], json::array({1, 3}));  // tf.keras 2's form, read by Keras 3 too
  auto one = LayerNormalization();
  EXPECT_EQ(one->get_config()["axis"], json(-1));
  one(Input({4}));
  EXPECT_EQ(one->get_config()["axis"], json::array({1}));
  const json c = one->get_config();
  for (const char* k : {"epsilon", "center", "scale", "beta_initializer", "gamma_initializer", "beta_regularizer",
                        "gamma_regularizer", "beta_constraint", "gamma_constraint"})
    EXPECT_TRUE(c.contains(k)) << k;
  EXPECT_DOUBLE_EQ(c["epsilon"].get<double>(), 1e-3);
  // rms_scaling only when set: tf.keras 2 rejects the keyword.
  EXPECT_FALSE(c.contains("rms_scaling"));
  EXPECT_EQ(LayerNormalization({.rms_scaling = true})->get_config()["rms_scaling"], true);
}

TEST(LayerNormalization, ReadsAKeras3Config) {
  auto wrapped = [](const char* module, const char* cls) {
    return json{{"module", module}, {"class_name", cls}, {"config", json::object()}, {"registered_name", nullptr}};
  };
  const json c = {{"name", "convnext_tiny_stage_0_block_0_layernorm"},
                  {"trainable", true},
                  {"dtype", json{{"module", "keras"},
                                 {"class_name", "DTypePolicy"},
                                 {"config", {{"name", "float32"}}},
                                 {"registered_name", nullptr}}},
                  {"axis", json::array({-1})},
                  {"epsilon", 1e-6},
                  {"center", true},
                  {"scale", true},
                  {"rms_scaling", false},
                  {"beta_initializer", wrapped("keras.initializers", "Zeros")},
                  {"gamma_initializer", wrapped("keras.initializers", "Ones")},
                  {"beta_regularizer", nullptr},
                  {"gamma_regularizer", nullptr},
                  {"beta_constraint", nullptr},
                  {"gamma_constraint", nullptr}};
  const LayerPtr l = layer_from_config({{"class_name", "LayerNormalization"}, {"config", c}});
  auto* ln = dynamic_cast<LayerNormalizationImpl*>(l.get());
  ASSERT_NE(ln, nullptr);
  EXPECT_EQ(ln->name(), "convnext_tiny_stage_0_block_0_layernorm");
  EXPECT_DOUBLE_EQ(ln->epsilon(), 1e-6);
  EXPECT_EQ(ln->axis(), std::vector<int>{-1});
  l->apply(Input({2, 2, 8}));
  EXPECT_EQ(ln->axis(), std::vector<int>{3});
  EXPECT_EQ(l->weights()[0].shape(), Shape({8}));
}

TEST(LayerNormalization, ReadsATfKeras2Config) {
  // tf.keras 2 writes the built axes as non-negative ints and has no rms_scaling.
  const json c = {{"name", "layer_normalization"},
                  {"trainable", true},
                  {"dtype", "float32"},
                  {"axis", json::array({1, 2})},
                  {"epsilon", 0.001},
                  {"center", true},
                  {"scale", false},
                  {"beta_initializer", {{"class_name", "Zeros"}, {"config", json::object()}}},
                  {"gamma_initializer", {{"class_name", "Ones"}, {"config", json::object()}}},
                  {"beta_regularizer", nullptr},
                  {"gamma_regularizer", nullptr},
                  {"beta_constraint", nullptr},
                  {"gamma_constraint", nullptr}};
  const LayerPtr l = layer_from_config({{"class_name", "LayerNormalization"}, {"config", c}});
  l->apply(Input({3, 5}));
  ASSERT_EQ(l->weights().size(), 1u);
  EXPECT_EQ(l->weights()[0].shape(), Shape({3, 5}));
  EXPECT_FALSE(l->get_config().contains("rms_scaling"));
  EXPECT_EQ(l->get_config()["axis"], json::array({1, 2}));
}

TEST(LayerNormalization, BadAxisIsKerasValueErrorNamingTheLayer) {
  auto ln = LayerNormalization({.axis = 3, .name = "ln"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { ln(Input({4, 5})); },
                                     {"LayerNormalization 'ln'", "Axis 3 is out of bounds for input shape (None, 4, 5)",
                                      "Received: axis=3"}));
  auto neg = LayerNormalization({.axis = {-1, -4}, .name = "ln2"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { neg(Input({4, 5})); },
                                     {"LayerNormalization 'ln2'", "Axis -4 is out of bounds", "axis=[-1, -4]"}));
  auto dup = LayerNormalization({.axis = {2, -1}, .name = "ln3"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { dup(Input({4, 5})); },
                                     {"LayerNormalization 'ln3'", "Duplicate axes are not allowed", "axis=[2, -1]"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { LayerNormalization({.axis = std::vector<int>{}}); }, {"`axis`"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { LayerNormalization({.epsilon = -1}); }, {"`epsilon`"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { layer_from_config({{"class_name", "LayerNormalization"}, {"config", {{"axis", "x"}}}}); }, {"axis"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { layer_from_config({{"class_name", "LayerNormalization"}, {"config", {{"momentum", 0.9}}}}); },
      {"momentum"}));
}

TEST(LayerNormalization, RejectsAnInputOfOtherSizesOnceBuilt) {
  auto ln = LayerNormalization({.name = "ln"});
  ln(Input({4}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { ln(Variable(Tensor::ones({2, 5}))); }, {"LayerNormalization 'ln'", "5"}));
}

// --- LayerScale -------------------------------------------------------------------------

TEST(LayerScale, GammaIsInitValuesOverProjectionDim) {
  auto ls = LayerScale(1e-6, 4);
  ls(Input({3, 3, 4}));
  ASSERT_EQ(ls->own_weights().size(), 1u);
  EXPECT_EQ(ls->own_weights()[0].name, "gamma");
  EXPECT_TRUE(ls->own_weights()[0].trainable);
  EXPECT_TRUE(AllClose(ls->get_weights()[0], Tensor::full({4}, 1e-6f), 0, 0));
}

TEST(LayerScale, ScalesTheLastAxisAndItsGradientsCheck) {
  auto ls = LayerScale(0.5, 3);
  ls(Input({2, 3}));
  ls->set_weights({Tensor::from_data({3}, {0.5f, -2.f, 3.f})});
  const Tensor x = random_tensor({2, 2, 3}, 8);
  Tensor want(x.shape());
  const float g[3] = {0.5f, -2.f, 3.f};
  for (int64_t i = 0; i < x.numel(); ++i) want[i] = static_cast<float>(double(x[i]) * g[i % 3]);
  EXPECT_TRUE(AllClose(ls(x), want, 1e-7, 0));
  Variable xv(x.clone(), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return ls(v[0]); }, {xv, ls->weights()[0]});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(LayerScale, ConfigIsKerasAndRoundTrips) {
  auto ls = LayerScale(1e-6, 96, {.name = "convnext_tiny_stage_0_block_0_layer_scale"});
  const json c = ls->get_config();
  EXPECT_DOUBLE_EQ(c["init_values"].get<double>(), 1e-6);
  EXPECT_EQ(c["projection_dim"], 96);
  EXPECT_TRUE(RoundTrips(*ls));
  ls(Input({7, 7, 96}));
  EXPECT_TRUE(RoundTrips(*ls));
  // The form Keras 3 writes inside a .keras config.
  const json k3 = {{"name", "ls"},
                   {"trainable", true},
                   {"dtype", json{{"module", "keras"},
                                  {"class_name", "DTypePolicy"},
                                  {"config", {{"name", "float32"}}},
                                  {"registered_name", nullptr}}},
                   {"init_values", 1e-6},
                   {"projection_dim", 8}};
  const LayerPtr l = layer_from_config({{"class_name", "LayerScale"}, {"config", k3}});
  EXPECT_EQ(l->class_name(), "LayerScale");
  l->apply(Input({8}));
  EXPECT_EQ(l->weights()[0].shape(), Shape({8}));
}

TEST(LayerScale, BadInputsAreValueErrorsNamingTheLayer) {
  auto ls = LayerScale(0.1, 4, {.name = "ls"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { ls(Input({3, 5})); }, {"LayerScale 'ls'", "(None, 3, 5)", "(4,)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { LayerScale(0.1, 0); }, {"projection_dim", "0"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { layer_from_config({{"class_name", "LayerScale"}, {"config", {{"projection_dim", 4}}}}); },
      {"init_values"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        layer_from_config(
            {{"class_name", "LayerScale"}, {"config", {{"init_values", 0.1}, {"projection_dim", 4}, {"scale", 2}}}});
      },
      {"scale"}));
}

}  // namespace
}  // namespace minidl
