// Tests for layers/conv/separable_conv2d: shapes, weights, the Keras config, values
// against a direct double-precision depthwise-then-pointwise loop, gradient
// checks and every error case.
#include "layers/conv/separable_conv2d.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "layers/base/input_layer.h"
#include "support/conv_layer_cases.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using Case = testing::ConvLayerCase;

struct Prepared {
  std::shared_ptr<SeparableConv2DImpl> layer;
  Tensor x, dk, pk, bias;
};

Prepared prepare(const Case& c, std::mt19937_64& rng, bool use_bias = true, const std::string& act = "linear") {
  Prepared p;
  p.layer = std::make_shared<SeparableConv2DImpl>(
      c.F, IntPair{c.KH, c.KW},
      SeparableConv2DOptions{.strides = IntPair{c.SH, c.SW},
                             .padding = c.same ? "same" : "valid",
                             .data_format = c.channels_first ? "channels_first" : "channels_last",
                             .dilation_rate = IntPair{c.DH, c.DW},
                             .depth_multiplier = c.DM,
                             .activation = act,
                             .use_bias = use_bias});
  p.layer->maybe_build({c.build_shape()});
  p.x = testing::random_tensor(c.input_shape(), rng);
  p.dk = testing::random_tensor({c.KH, c.KW, c.C, c.DM}, rng, -0.5f, 0.5f);
  p.pk = testing::random_tensor({1, 1, c.C * c.DM, c.F}, rng, -0.5f, 0.5f);
  if (use_bias) p.bias = testing::random_tensor({c.F}, rng, -0.5f, 0.5f);
  p.layer->set_weights(use_bias ? std::vector<Tensor>{p.dk, p.pk, p.bias} : std::vector<Tensor>{p.dk, p.pk});
  return p;
}

Tensor reference(const Prepared& p, const Case& c) {
  return testing::separable_conv2d_expected(c, p.x, p.dk, p.pk, p.bias);
}

// --- shapes, weights, config ----------------------------------------------------

TEST(SeparableConv2D, SymbolicCallGivesKerasOutputShapeAndWeights) {
  auto sep = SeparableConv2D(7, 3, {.strides = 2, .padding = "same", .data_format = "channels_last",
                                    .depth_multiplier = 2});
  EXPECT_EQ(sep(Input({9, 8, 5})).shape(), (Shape{kNone, 5, 4, 7}));
  ASSERT_EQ(sep->own_weights().size(), 3u);
  EXPECT_EQ(sep->own_weights()[0].name, "depthwise_kernel");
  EXPECT_EQ(sep->own_weights()[1].name, "pointwise_kernel");
  EXPECT_EQ(sep->own_weights()[2].name, "bias");
  EXPECT_EQ(sep->depthwise_kernel().shape(), (Shape{3, 3, 5, 2}));
  EXPECT_EQ(sep->pointwise_kernel().shape(), (Shape{1, 1, 10, 7}));
  EXPECT_EQ(sep->bias().shape(), Shape{7});
  auto cf = SeparableConv2D(4, {2, 3}, {.data_format = "channels_first", .dilation_rate = 2});
  EXPECT_EQ(cf->compute_output_shape({{3, 2, 7, 9}})[0], (Shape{3, 4, 5, 5}));  // 7-2, 9-4
  auto nb = SeparableConv2D(4, 1, {.data_format = "channels_last", .use_bias = false});
  nb(Input({3, 3, 2}));
  EXPECT_EQ(nb->weights().size(), 2u);
  EXPECT_THROW(nb->bias(), RuntimeError);
}

// Keras 3's SeparableConv2D arguments (no groups or kernel_* parts: Keras 3 rejects them);
// tf.keras 2.x reads them too.
TEST(SeparableConv2D, DefaultConfigHasTheKeysKeras3Accepts) {
  reset_layer_names();
  auto sep = SeparableConv2D(8, 3, {.data_format = "channels_last"});
  const json glorot = json::parse(R"({"class_name": "GlorotUniform", "config": {"seed": null}})");
  const json expected = {{"name", "separable_conv2d"},
                         {"trainable", true},
                         {"dtype", "float32"},
                         {"filters", 8},
                         {"kernel_size", {3, 3}},
                         {"strides", {1, 1}},
                         {"padding", "valid"},
                         {"data_format", "channels_last"},
                         {"depth_multiplier", 1},
                         {"dilation_rate", {1, 1}},
                         {"activation", "linear"},
                         {"use_bias", true},
                         {"depthwise_initializer", glorot},
                         {"pointwise_initializer", glorot},
                         {"bias_initializer", json::parse(R"({"class_name": "Zeros", "config": {}})")},
                         {"depthwise_regularizer", nullptr},
                         {"pointwise_regularizer", nullptr},
                         {"bias_regularizer", nullptr},
                         {"activity_regularizer", nullptr},
                         {"depthwise_constraint", nullptr},
                         {"pointwise_constraint", nullptr},
                         {"bias_constraint", nullptr}};
  EXPECT_EQ(sep->get_config(), expected) << sep->get_config().dump(1);
}

// An Xception-style tf.keras 2.4 config, read and written back unchanged but for the
// groups and kernel_* keys of tf.keras's Conv base, which Keras 3 would reject.
TEST(SeparableConv2D, KerasConfigRoundTripsWithoutTheConvBaseKeys) {
  const json keras = json::parse(R"({"name": "block2_sepconv1", "trainable": true, "dtype": "float32",
    "filters": 128, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last",
    "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": false,
    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer":
    {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null,
    "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null, "depth_multiplier": 2,
    "depthwise_initializer": {"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_in",
    "distribution": "truncated_normal", "seed": null}},
    "pointwise_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
    "depthwise_regularizer": {"class_name": "L2", "config": {"l2": 0.009999999776482582}},
    "pointwise_regularizer": null,
    "depthwise_constraint": null, "pointwise_constraint": {"class_name": "NonNeg", "config": {}}})");
  auto layer = SeparableConv2DImpl::from_config(keras);
  json expected = keras;
  for (const char* k : {"groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"}) expected.erase(k);
  EXPECT_EQ(layer->get_config(), expected) << layer->get_config().dump(1);
  EXPECT_TRUE(testing::RoundTrips(*layer));
}

TEST(SeparableConv2D, Keras1AliasAndMissingKeysTakeDefaults) {
  const LayerPtr l = layer_from_config(json::parse(
      R"({"class_name": "SeparableConvolution2D", "config": {"name": "s", "filters": 3, "kernel_size": [3, 3]}})"));
  auto sep = std::dynamic_pointer_cast<SeparableConv2DImpl>(l);
  ASSERT_TRUE(sep);
  EXPECT_EQ(sep->class_name(), "SeparableConv2D");
  EXPECT_EQ(sep->filters(), 3);
  EXPECT_EQ(sep->depth_multiplier(), 1);
  EXPECT_EQ(sep->padding(), "valid");
}

// --- values ------------------------------------------------------------------------

TEST(SeparableConv2D, SeededGridMatchesDirectLoop) {
  std::mt19937_64 rng(31337);
  const std::vector<Case> cases = {
      {.N = 2, .H = 5, .W = 6, .C = 3, .DM = 1, .F = 4, .KH = 3, .KW = 3},
      {.N = 2, .H = 6, .W = 7, .C = 2, .DM = 2, .F = 3, .KH = 3, .KW = 3, .SH = 2, .SW = 2, .same = true},
      {.N = 1, .H = 8, .W = 7, .C = 2, .DM = 3, .F = 2, .KH = 2, .KW = 3, .DH = 2, .DW = 2},
      {.N = 2, .H = 5, .W = 4, .C = 3, .DM = 2, .F = 5, .KH = 3, .KW = 2, .same = true, .channels_first = true},
      {.N = 1, .H = 6, .W = 5, .C = 2, .DM = 1, .F = 3, .KH = 3, .KW = 3, .SH = 2, .SW = 2, .same = true,
       .channels_first = true},
  };
  for (const Case& c : cases) {
    const Prepared p = prepare(c, rng);
    EXPECT_TRUE(testing::AllClose((*p.layer)(p.x), reference(p, c), 1e-5, 1e-4))
        << "H=" << c.H << " W=" << c.W << " C=" << c.C << " DM=" << c.DM << " cf=" << c.channels_first;
  }
}

TEST(SeparableConv2D, FusedReluMatchesReferenceForBothLayouts) {
  std::mt19937_64 rng(12);
  for (bool cf : {false, true}) {
    const Case c{.N = 1, .H = 4, .W = 5, .C = 2, .DM = 2, .F = 3, .KH = 3, .KW = 3, .same = true,
                 .channels_first = cf};
    const Prepared p = prepare(c, rng, true, "relu");
    Tensor expected = reference(p, c);
    for (float& v : expected.span()) v = std::max(v, 0.f);
    EXPECT_TRUE(testing::AllClose((*p.layer)(p.x), expected, 1e-5, 1e-4)) << "channels_first=" << cf;
  }
}

// --- gradients ------------------------------------------------------------------

TEST(SeparableConv2D, GradcheckInputBothKernelsAndBias) {
  std::mt19937_64 rng(91);
  const std::vector<Case> cases = {
      {.N = 2, .H = 4, .W = 4, .C = 2, .DM = 2, .F = 2, .KH = 3, .KW = 2, .SH = 2, .SW = 2, .same = true},
      {.N = 1, .H = 5, .W = 5, .C = 2, .DM = 1, .F = 3, .KH = 2, .KW = 2, .DH = 2, .DW = 2, .channels_first = true},
  };
  for (const Case& c : cases) {
    const Prepared p = prepare(c, rng, true, "tanh");
    auto layer = p.layer;
    const auto r = autograd::gradcheck(
        [layer](const std::vector<Variable>& v) { return (*layer)(v[0]); },
        {Variable(p.x.clone(), true), layer->depthwise_kernel(), layer->pointwise_kernel(), layer->bias()});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(SeparableConv2D, RegularizersGiveOneLossPerWeight) {
  auto sep = SeparableConv2D(2, 1, {.data_format = "channels_last", .depthwise_regularizer = L2(0.5),
                                    .pointwise_regularizer = L1(0.25), .bias_regularizer = L2(1.0)});
  sep->maybe_build({{kNone, 1, 1, 1}});
  sep->set_weights({Tensor::from_data({1, 1, 1, 1}, {2.f}), Tensor::from_data({1, 1, 1, 2}, {1.f, -3.f}),
                    Tensor::from_data({2}, {0.5f, 0.f})});
  const auto losses = sep->losses();
  ASSERT_EQ(losses.size(), 3u);
  EXPECT_NEAR(losses[0].value().item(), 0.5 * 4, 1e-6);    // depthwise: 0.5 * 2^2
  EXPECT_NEAR(losses[1].value().item(), 0.25 * 4, 1e-6);   // pointwise: 0.25 * (1 + 3)
  EXPECT_NEAR(losses[2].value().item(), 1.0 * 0.25, 1e-6);  // bias: 0.5^2
}

// --- errors --------------------------------------------------------------------------

TEST(SeparableConv2D, ConstructionAndInputErrorsNameTheLayer) {
  using testing::ThrowsWith;
  EXPECT_TRUE(ThrowsWith<ValueError>([] { SeparableConv2D(0, 3, {.name = "s0"}); }, {"SeparableConv2D 's0'", "filters=0"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { SeparableConv2D(2, 3, {.depth_multiplier = -1, .name = "s1"}); },
                             {"'s1'", "depth_multiplier=-1"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { SeparableConv2D(2, 3, {.strides = 2, .dilation_rate = 2, .name = "s2"}); },
                             {"'s2'", "dilation_rate"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { SeparableConv2D(2, 3, {.pointwise_regularizer = "l3", .name = "s3"}); },
                             {"'s3'", "l3"}));
  auto sep = SeparableConv2D(2, 3, {.data_format = "channels_last", .name = "sep"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { sep(Variable(Tensor::zeros({4, 4, 4}))); }, {"'sep'", "rank 4", "(4, 4, 4)"}));
  sep(Input({5, 5, 2}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { sep(Tensor::zeros({1, 5, 5, 3})); }, {"'sep'", "value 2", "(1, 5, 5, 3)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { sep(Tensor::zeros({1, 2, 5, 2})); }, {"'sep'", "valid"}));
}

TEST(SeparableConv2D, ConfigErrorsNameTheLayer) {
  using testing::ThrowsWith;
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] {
        SeparableConv2DImpl::from_config(json::parse(R"({"name": "q", "filters": 2, "kernel_size": 3, "groups": 2})"));
      },
      {"SeparableConv2D 'q'", "groups=2"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] {
        SeparableConv2DImpl::from_config(
            json::parse(R"({"name": "q", "filters": 2, "kernel_size": 3, "kernel_initializer": "nope"})"));
      },
      {"SeparableConv2D 'q'", "nope"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { SeparableConv2DImpl::from_config(json::parse(R"({"name": "q", "filters": 2, "kernel_size": 3, "x": 1})")); },
      {"SeparableConv2D 'q'", "'x'"}));
}

}  // namespace
}  // namespace minidl
