// Tests for layers/conv/depthwise_conv2d: shapes, weights, the Keras config, values
// against a direct double-precision depthwise convolution, gradient checks and
// every error case.
#include "layers/conv/depthwise_conv2d.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
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

std::shared_ptr<DepthwiseConv2DImpl> make_layer(const Case& c, bool use_bias = true,
                                                const std::string& activation = "linear") {
  auto layer = std::make_shared<DepthwiseConv2DImpl>(
      IntPair{c.KH, c.KW}, DepthwiseConv2DOptions{.strides = IntPair{c.SH, c.SW},
                                                  .padding = c.same ? "same" : "valid",
                                                  .depth_multiplier = c.DM,
                                                  .data_format = c.channels_first ? "channels_first" : "channels_last",
                                                  .dilation_rate = IntPair{c.DH, c.DW},
                                                  .activation = activation,
                                                  .use_bias = use_bias});
  layer->maybe_build({c.build_shape()});
  return layer;
}

struct Prepared {
  std::shared_ptr<DepthwiseConv2DImpl> layer;
  Tensor x, kernel, bias;
};

Prepared prepare(const Case& c, std::mt19937_64& rng, bool use_bias = true, const std::string& act = "linear") {
  Prepared p;
  p.layer = make_layer(c, use_bias, act);
  p.x = testing::random_tensor(c.input_shape(), rng);
  p.kernel = testing::random_tensor({c.KH, c.KW, c.C, c.DM}, rng, -0.5f, 0.5f);
  if (use_bias) p.bias = testing::random_tensor({c.C * c.DM}, rng, -0.5f, 0.5f);
  p.layer->set_weights(use_bias ? std::vector<Tensor>{p.kernel, p.bias} : std::vector<Tensor>{p.kernel});
  return p;
}

Tensor reference(const Prepared& p, const Case& c) {
  return testing::depthwise_conv2d_expected(c, p.x, p.kernel, p.bias);
}

// --- shapes, weights, config ----------------------------------------------------

TEST(DepthwiseConv2D, SymbolicCallGivesKerasOutputShapeAndWeights) {
  auto dw = DepthwiseConv2D(3, {.strides = 2, .padding = "same", .depth_multiplier = 2,
                                .data_format = "channels_last"});
  KerasTensor y = dw(Input({9, 8, 5}));
  EXPECT_EQ(y.shape(), (Shape{kNone, 5, 4, 10}));  // ceil(9/2), ceil(8/2), 5 * 2
  ASSERT_EQ(dw->own_weights().size(), 2u);
  EXPECT_EQ(dw->own_weights()[0].name, "depthwise_kernel");
  EXPECT_EQ(dw->depthwise_kernel().shape(), (Shape{3, 3, 5, 2}));
  EXPECT_EQ(dw->own_weights()[1].name, "bias");
  EXPECT_EQ(dw->bias().shape(), Shape{10});
  EXPECT_EQ(dw->count_params(), 3 * 3 * 5 * 2 + 10);
}

TEST(DepthwiseConv2D, OutputShapesForValidDilationAndChannelsFirst) {
  auto v = DepthwiseConv2D({3, 2}, {.data_format = "channels_last", .dilation_rate = 2});
  EXPECT_EQ(v->compute_output_shape({{2, 7, 6, 3}})[0], (Shape{2, 3, 4, 3}));  // 7-4, 6-2
  auto cf = DepthwiseConv2D(3, {.depth_multiplier = 3, .data_format = "channels_first"});
  EXPECT_EQ(cf(Input({2, 5, 6})).shape(), (Shape{kNone, 6, 3, 4}));
  EXPECT_EQ(cf->depthwise_kernel().shape(), (Shape{3, 3, 2, 3}));  // Keras layout whatever the data_format
  auto unknown = DepthwiseConv2D(3, {.data_format = "channels_last"});
  EXPECT_EQ(unknown(Input({kNone, kNone, 4})).shape(), (Shape{kNone, kNone, kNone, 4}));
}

// Keras 3's DepthwiseConv2D arguments (no groups: Keras 3 rejects it); tf.keras 2.x reads them too.
TEST(DepthwiseConv2D, DefaultConfigHasTheKeysKeras3Accepts) {
  reset_layer_names();
  auto dw = DepthwiseConv2D(3, {.data_format = "channels_last"});
  const json expected = json::parse(R"({
    "name": "depthwise_conv2d", "trainable": true, "dtype": "float32", "kernel_size": [3, 3],
    "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1],
    "activation": "linear", "use_bias": true,
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "bias_regularizer": null, "activity_regularizer": null, "bias_constraint": null, "depth_multiplier": 1,
    "depthwise_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
    "depthwise_regularizer": null, "depthwise_constraint": null})");
  EXPECT_EQ(dw->get_config(), expected) << dw->get_config().dump(1);
}

// A MobileNet-style tf.keras 2.4 config, read and written back unchanged but for its
// groups: 1, which Keras 3 would reject.
TEST(DepthwiseConv2D, KerasConfigRoundTripsWithoutGroups) {
  const json keras = json::parse(R"({"name": "conv_dw_1", "trainable": true, "dtype": "float32",
    "batch_input_shape": [null, 8, 8, 4],
    "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "data_format": "channels_last",
    "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": false,
    "bias_initializer": {"class_name": "Zeros", "config": {}}, "bias_regularizer": null,
    "activity_regularizer": {"class_name": "L1", "config": {"l1": 0.009999999776482582}},
    "bias_constraint": null, "depth_multiplier": 2,
    "depthwise_initializer": {"class_name": "HeNormal", "config": {"seed": null}},
    "depthwise_regularizer": {"class_name": "L2", "config": {"l2": 0.0010000000474974513}},
    "depthwise_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2.0, "axis": [0, 1, 2]}}})");
  auto layer = DepthwiseConv2DImpl::from_config(keras);
  json expected = keras;
  expected.erase("groups");
  EXPECT_EQ(layer->get_config(), expected) << layer->get_config().dump(1);
  EXPECT_EQ(layer->depth_multiplier(), 2);
  EXPECT_TRUE(testing::RoundTrips(*layer));
}

TEST(DepthwiseConv2D, MissingKeysTakeKerasDefaults) {
  auto layer = DepthwiseConv2DImpl::from_config(json::parse(R"({"name": "dw", "kernel_size": 5})"));
  EXPECT_EQ(layer->kernel_size(), IntPair(5, 5));
  EXPECT_EQ(layer->strides(), IntPair(1, 1));
  EXPECT_EQ(layer->padding(), "valid");
  EXPECT_EQ(layer->depth_multiplier(), 1);
  EXPECT_TRUE(layer->use_bias());
  EXPECT_EQ(layer->get_config()["depthwise_initializer"]["class_name"], "GlorotUniform");
}

TEST(DepthwiseConv2D, RegistryBuildsItByClassName) {
  const LayerPtr l = layer_from_config(json::parse(
      R"({"class_name": "DepthwiseConv2D", "config": {"name": "d", "kernel_size": [2, 2], "depth_multiplier": 3}})"));
  EXPECT_EQ(l->class_name(), "DepthwiseConv2D");
  EXPECT_EQ(std::dynamic_pointer_cast<DepthwiseConv2DImpl>(l)->depth_multiplier(), 3);
}

// --- values ------------------------------------------------------------------------

// A 1x1 kernel makes the channel order visible: output c*DM + m is x[c] * k[c, m].
TEST(DepthwiseConv2D, OutputChannelOrderIsChannelMajor) {
  auto dw = DepthwiseConv2D(1, {.depth_multiplier = 2, .data_format = "channels_last", .use_bias = false});
  dw->maybe_build({{kNone, 1, 1, 2}});
  dw->set_weights({Tensor::from_data({1, 1, 2, 2}, {2.f, 3.f, 5.f, 7.f})});  // k[c=0] = (2, 3), k[c=1] = (5, 7)
  const Tensor y = dw(Tensor::from_data({1, 1, 1, 2}, {1.f, 10.f}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{2.f, 3.f, 50.f, 70.f}));
}

// TensorFlow's "same" with stride 2 on an even size puts the one padding row
// and column at the bottom/right: on a 4x4 image of ones with a 3x3 kernel of
// ones, the windows start at rows/cols 0 and 2, so they hold 3x3, 3x2, 2x3 and
// 2x2 image pixels (a top/left pad would give 4, 6, 6, 9 instead).
TEST(DepthwiseConv2D, SameStride2PutsTheExtraPaddingAtTheBottomRight) {
  auto dw = DepthwiseConv2D(3, {.strides = 2, .padding = "same", .data_format = "channels_last",
                                .use_bias = false});
  dw->maybe_build({{kNone, 4, 4, 1}});
  dw->set_weights({Tensor::ones({3, 3, 1, 1})});
  const Tensor y = dw(Tensor::ones({1, 4, 4, 1}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{9.f, 6.f, 6.f, 4.f}));
}

TEST(DepthwiseConv2D, SeededGridMatchesDirectLoop) {
  std::mt19937_64 rng(4242);
  const std::vector<Case> cases = {
      {.N = 2, .H = 5, .W = 6, .C = 3, .DM = 1, .KH = 3, .KW = 3},
      {.N = 2, .H = 6, .W = 7, .C = 3, .DM = 2, .KH = 3, .KW = 2, .SH = 2, .SW = 2, .same = true},
      {.N = 1, .H = 8, .W = 7, .C = 2, .DM = 2, .KH = 3, .KW = 3, .DH = 2, .DW = 3},
      {.N = 2, .H = 5, .W = 4, .C = 4, .DM = 3, .KH = 2, .KW = 3, .same = true, .channels_first = true},
      {.N = 1, .H = 6, .W = 6, .C = 3, .DM = 2, .KH = 3, .KW = 3, .SH = 2, .SW = 1, .same = true,
       .channels_first = true},
      {.N = 1, .H = 2, .W = 3, .C = 2, .DM = 1, .KH = 5, .KW = 5, .same = true},  // input smaller than kernel
  };
  for (const Case& c : cases) {
    const Prepared p = prepare(c, rng);
    EXPECT_TRUE(testing::AllClose((*p.layer)(p.x), reference(p, c), 1e-5, 1e-4))
        << "H=" << c.H << " W=" << c.W << " C=" << c.C << " DM=" << c.DM << " cf=" << c.channels_first;
  }
}

TEST(DepthwiseConv2D, FusedReluAndOtherActivationsApplyAfterTheBias) {
  std::mt19937_64 rng(8);
  const Case c{.N = 1, .H = 4, .W = 4, .C = 2, .DM = 2, .KH = 2, .KW = 2};
  for (const std::string act : {"relu", "tanh"}) {
    const Prepared p = prepare(c, rng, true, act);
    Tensor expected = reference(p, c);
    for (float& v : expected.span()) v = act == "relu" ? std::max(v, 0.f) : std::tanh(v);
    EXPECT_TRUE(testing::AllClose((*p.layer)(p.x), expected, 1e-5, 1e-4)) << act;
  }
}

// --- gradients ------------------------------------------------------------------

TEST(DepthwiseConv2D, GradcheckInputKernelAndBias) {
  std::mt19937_64 rng(77);
  const std::vector<Case> cases = {
      {.N = 2, .H = 4, .W = 5, .C = 2, .DM = 2, .KH = 3, .KW = 2, .SH = 2, .SW = 2, .same = true},
      {.N = 1, .H = 6, .W = 5, .C = 3, .DM = 1, .KH = 2, .KW = 2, .DH = 2, .DW = 2, .channels_first = true},
  };
  for (const Case& c : cases) {
    const Prepared p = prepare(c, rng, true, "tanh");
    auto layer = p.layer;
    const auto r = autograd::gradcheck([layer](const std::vector<Variable>& v) { return (*layer)(v[0]); },
                                       {Variable(p.x.clone(), true), layer->depthwise_kernel(), layer->bias()});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(DepthwiseConv2D, FrozenLayerGivesOnlyTheInputGradient) {
  std::mt19937_64 rng(5);
  const Case c{.N = 1, .H = 4, .W = 4, .C = 2, .DM = 1, .KH = 3, .KW = 3};
  const Prepared p = prepare(c, rng);
  p.layer->set_trainable(false);
  Variable x(p.x, true);
  autograd::sum((*p.layer)(x)).backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(p.layer->depthwise_kernel().grad().defined());
}

// --- errors --------------------------------------------------------------------------

TEST(DepthwiseConv2D, ConstructionErrorsNameTheLayer) {
  using testing::ThrowsWith;
  EXPECT_TRUE(ThrowsWith<ValueError>([] { DepthwiseConv2D(0, {.name = "d0"}); }, {"DepthwiseConv2D 'd0'", "kernel_size"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { DepthwiseConv2D(3, {.depth_multiplier = 0, .name = "d1"}); },
                             {"DepthwiseConv2D 'd1'", "depth_multiplier=0"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { DepthwiseConv2D(3, {.strides = 2, .dilation_rate = 2, .name = "d2"}); },
                             {"DepthwiseConv2D 'd2'", "dilation_rate"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { DepthwiseConv2D(3, {.padding = "causal", .name = "d3"}); }, {"'d3'", "causal"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { DepthwiseConv2D(3, {.data_format = "nhwc", .name = "d4"}); }, {"'d4'", "nhwc"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { DepthwiseConv2D(3, {.activation = "nope", .name = "d5"}); }, {"'d5'", "nope"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { DepthwiseConv2D(3, {.depthwise_initializer = "nope", .name = "d6"}); },
                             {"'d6'", "nope"}));
}

TEST(DepthwiseConv2D, InputErrorsNameTheLayerAndEchoTheShape) {
  using testing::ThrowsWith;
  auto dw = DepthwiseConv2D(3, {.data_format = "channels_last", .name = "dw"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { dw(Variable(Tensor::zeros({28, 28}))); }, {"'dw'", "rank 4", "(28, 28)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { dw(Input({5, 5, kNone})); }, {"'dw'", "None"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { dw(Input({2, 5, 3})); }, {"'dw'", "valid", "(None, 2, 5, 3)"}));
  dw(Input({5, 5, 3}));  // builds for 3 channels
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { dw(Tensor::zeros({1, 5, 5, 4})); }, {"'dw'", "value 3", "(1, 5, 5, 4)"}));
}

TEST(DepthwiseConv2D, ConfigErrorsNameTheLayer) {
  using testing::ThrowsWith;
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { DepthwiseConv2DImpl::from_config(json::parse(R"({"name": "q", "kernel_size": 3, "filters": 4})")); },
      {"DepthwiseConv2D 'q'", "filters"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { DepthwiseConv2DImpl::from_config(json::parse(R"({"name": "q", "kernel_size": "3"})")); },
      {"DepthwiseConv2D 'q'", "kernel_size"}));
}

}  // namespace
}  // namespace minidl
