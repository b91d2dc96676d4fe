// Tests for layers/conv/conv2d_transpose: Keras's output lengths, weights, the Keras
// config, values against a direct double-precision scatter loop, gradient checks
// and every error case.
#include "layers/conv/conv2d_transpose.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "support/conv_layer_cases.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using Case = testing::ConvLayerCase;

Conv2DTransposeOptions options_for(const Case& c, bool use_bias, const std::string& act) {
  Conv2DTransposeOptions o{.strides = IntPair{c.SH, c.SW},
                           .padding = c.same ? "same" : "valid",
                           .data_format = c.channels_first ? "channels_first" : "channels_last",
                           .dilation_rate = IntPair{c.DH, c.DW},
                           .activation = act,
                           .use_bias = use_bias};
  if (c.OPH >= 0) o.output_padding = IntPair{c.OPH, c.OPW};
  return o;
}

struct TransposePrepared {
  std::shared_ptr<Conv2DTransposeImpl> layer;
  Tensor x, kernel, bias;
};

TransposePrepared prepare_transpose(const Case& c, std::mt19937_64& rng, bool use_bias = true, const std::string& act = "linear") {
  TransposePrepared p;
  p.layer = std::make_shared<Conv2DTransposeImpl>(c.F, IntPair{c.KH, c.KW}, options_for(c, use_bias, act));
  p.layer->maybe_build({c.build_shape()});
  p.x = testing::random_tensor(c.input_shape(), rng);
  p.kernel = testing::random_tensor({c.KH, c.KW, c.F, c.C}, rng, -0.5f, 0.5f);
  if (use_bias) p.bias = testing::random_tensor({c.F}, rng, -0.5f, 0.5f);
  p.layer->set_weights(use_bias ? std::vector<Tensor>{p.kernel, p.bias} : std::vector<Tensor>{p.kernel});
  return p;
}

Tensor reference(const TransposePrepared& p, const Case& c) {
  return testing::conv2d_transpose_expected(c, p.x, p.kernel, p.bias);
}

std::string describe_transpose(const Case& c) {
  return fmt::format("H={} W={} C={} F={} k=({}, {}) s=({}, {}) d=({}, {}) {} op=({}, {}) {}", c.H, c.W, c.C, c.F,
                     c.KH, c.KW, c.SH, c.SW, c.DH, c.DW, c.same ? "same" : "valid", c.OPH, c.OPW,
                     c.channels_first ? "channels_first" : "channels_last");
}

// --- output lengths (Keras deconv_output_length, worked by hand) ----------------------

TEST(Conv2DTranspose, OutputLengthFollowsKerasDeconvOutputLength) {
  EXPECT_EQ(deconv_output_length(3, 3, false, std::nullopt, 2, 1), 7);  // 3*2 + max(3-2, 0)
  EXPECT_EQ(deconv_output_length(3, 1, false, std::nullopt, 2, 1), 6);  // 3*2 + max(1-2, 0)
  EXPECT_EQ(deconv_output_length(3, 3, true, std::nullopt, 2, 1), 6);   // 3*2
  EXPECT_EQ(deconv_output_length(3, 3, false, 1, 2, 1), 8);             // 2*2 + 3 - 0 + 1
  EXPECT_EQ(deconv_output_length(3, 3, true, 1, 2, 1), 6);              // 2*2 + 3 - 2 + 1
  EXPECT_EQ(deconv_output_length(3, 3, true, 0, 2, 1), 5);              // 2*2 + 3 - 2 + 0
  EXPECT_EQ(deconv_output_length(3, 3, false, std::nullopt, 1, 2), 7);  // k' = 5: 3 + 4
  EXPECT_EQ(deconv_output_length(kNone, 3, true, std::nullopt, 2, 1), kNone);
}

TEST(Conv2DTranspose, SymbolicCallGivesKerasOutputShapeAndTransposedKernelLayout) {
  auto up = Conv2DTranspose(6, 3, {.strides = 2, .padding = "same", .data_format = "channels_last"});
  EXPECT_EQ(up(Input({4, 5, 3})).shape(), (Shape{kNone, 8, 10, 6}));
  ASSERT_EQ(up->own_weights().size(), 2u);
  EXPECT_EQ(up->own_weights()[0].name, "kernel");
  EXPECT_EQ(up->kernel().shape(), (Shape{3, 3, 6, 3}));  // (kh, kw, filters, in_channels)
  EXPECT_EQ(up->bias().shape(), Shape{6});
  auto cf = Conv2DTranspose(2, {3, 2}, {.strides = {2, 3}, .output_padding = IntPair{1, 2},
                                        .data_format = "channels_first"});
  EXPECT_EQ(cf->compute_output_shape({{1, 4, 3, 5}})[0], (Shape{1, 2, 8, 16}));  // 2*2+3+1, 4*3+2+2
  auto unknown = Conv2DTranspose(2, 3, {.data_format = "channels_last"});
  EXPECT_EQ(unknown(Input({kNone, 4, 1})).shape(), (Shape{kNone, kNone, 6, 2}));
}

// Keras 3's Conv2DTranspose arguments (no groups: Keras 3 rejects it); tf.keras 2.x reads them too.
TEST(Conv2DTranspose, DefaultConfigHasTheKeysKeras3Accepts) {
  reset_layer_names();
  auto up = Conv2DTranspose(8, 3, {.data_format = "channels_last"});
  const json expected = json::parse(R"({
    "name": "conv2d_transpose", "trainable": true, "dtype": "float32", "filters": 8, "kernel_size": [3, 3],
    "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1],
    "activation": "linear", "use_bias": true,
    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
    "kernel_constraint": null, "bias_constraint": null, "output_padding": null})");
  EXPECT_EQ(up->get_config(), expected) << up->get_config().dump(1);
}

// A DCGAN-generator-style tf.keras 2.4 config, read and written back unchanged but for its
// groups: 1, which Keras 3 would reject.
TEST(Conv2DTranspose, KerasConfigRoundTripsWithoutGroups) {
  const json keras = json::parse(R"({"name": "conv2d_transpose_1", "trainable": true, "dtype": "float32",
    "filters": 64, "kernel_size": [5, 5], "strides": [2, 2], "padding": "same", "data_format": "channels_last",
    "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": false,
    "kernel_initializer": {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.02, "seed": null}},
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.0010000000474974513}}, "bias_regularizer": null,
    "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null, "output_padding": [1, 1]})");
  auto layer = Conv2DTransposeImpl::from_config(keras);
  json expected = keras;
  expected.erase("groups");
  EXPECT_EQ(layer->get_config(), expected) << layer->get_config().dump(1);
  EXPECT_EQ(layer->output_padding(), IntPair(1, 1));
  EXPECT_TRUE(testing::RoundTrips(*layer));
}

TEST(Conv2DTranspose, Keras1DeconvolutionAliasLoadsAndIgnoresOutputShape) {
  const LayerPtr l = layer_from_config(json::parse(R"({"class_name": "Deconvolution2D", "config": {"name": "d",
    "filters": 3, "kernel_size": [3, 3], "strides": [2, 2], "output_shape": [null, 9, 9, 3]}})"));
  auto up = std::dynamic_pointer_cast<Conv2DTransposeImpl>(l);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->filters(), 3);
  EXPECT_FALSE(up->output_padding().has_value());
  EXPECT_FALSE(up->get_config().contains("output_shape"));
}

// --- values ------------------------------------------------------------------------

// Stride 2, kernel 2x2 of ones, "valid": every input pixel becomes a 2x2 block.
TEST(Conv2DTranspose, Stride2KernelOfOnesRepeatsEachPixelIntoABlock) {
  auto up = Conv2DTranspose(1, 2, {.strides = 2, .data_format = "channels_last", .use_bias = false});
  up->maybe_build({{kNone, 2, 2, 1}});
  up->set_weights({Tensor::ones({2, 2, 1, 1})});
  const Tensor y = up(Tensor::from_data({1, 2, 2, 1}, {1.f, 2.f, 3.f, 4.f}));
  EXPECT_EQ(y.shape(), (Shape{1, 4, 4, 1}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(Conv2DTranspose, SeededGridMatchesDirectScatterLoop) {
  std::mt19937_64 rng(2718);
  const std::vector<Case> cases = {
      {.N = 2, .H = 3, .W = 4, .C = 2, .F = 3, .KH = 3, .KW = 3, .SH = 2, .SW = 2},                 // valid s2
      {.N = 2, .H = 3, .W = 4, .C = 2, .F = 3, .KH = 3, .KW = 3, .SH = 2, .SW = 2, .same = true},   // same s2
      {.N = 1, .H = 4, .W = 3, .C = 3, .F = 2, .KH = 4, .KW = 2, .SH = 2, .SW = 2, .same = true},   // even k
      {.N = 1, .H = 3, .W = 3, .C = 2, .F = 2, .KH = 3, .KW = 3, .SH = 2, .SW = 3, .OPH = 1, .OPW = 2},
      {.N = 2, .H = 3, .W = 2, .C = 2, .F = 2, .KH = 3, .KW = 3, .SH = 2, .SW = 2, .same = true, .OPH = 1,
       .OPW = 0},
      {.N = 1, .H = 3, .W = 4, .C = 2, .F = 3, .KH = 1, .KW = 1, .SH = 3, .SW = 2},  // k < s leaves gaps
      {.N = 1, .H = 4, .W = 3, .C = 2, .F = 2, .KH = 3, .KW = 2, .DH = 2, .DW = 3},  // dilation
      {.N = 1, .H = 4, .W = 4, .C = 2, .F = 2, .KH = 3, .KW = 3, .DH = 2, .DW = 2, .same = true},
      {.N = 2, .H = 3, .W = 4, .C = 3, .F = 2, .KH = 3, .KW = 2, .SH = 2, .SW = 2, .same = true,
       .channels_first = true},
      {.N = 1, .H = 2, .W = 3, .C = 2, .F = 3, .KH = 2, .KW = 3, .SH = 2, .SW = 2, .channels_first = true,
       .OPH = 1, .OPW = 1},
  };
  for (const Case& c : cases) {
    const TransposePrepared p = prepare_transpose(c, rng);
    EXPECT_TRUE(testing::AllClose((*p.layer)(p.x), reference(p, c), 1e-5, 1e-4)) << describe_transpose(c);
  }
}

// Conv2DTranspose is the adjoint of Conv2D: <conv(u, K), x> == <conv_transpose(x, K), u>.
TEST(Conv2DTranspose, IsTheAdjointOfConv2DWithTheSameKernel) {
  std::mt19937_64 rng(6);
  const Tensor k = testing::random_tensor({3, 3, 2, 4}, rng);  // conv: 2 -> 4 channels; transpose: 4 -> 2
  auto conv = Conv2D(4, 3, {.strides = 2, .padding = "same", .data_format = "channels_last", .use_bias = false});
  auto up = Conv2DTranspose(2, 3, {.strides = 2, .padding = "same", .data_format = "channels_last",
                                   .use_bias = false});
  conv->maybe_build({{kNone, 6, 6, 2}});
  up->maybe_build({{kNone, 3, 3, 4}});
  conv->set_weights({k});
  up->set_weights({k});
  const Tensor u = testing::random_tensor({2, 6, 6, 2}, rng), x = testing::random_tensor({2, 3, 3, 4}, rng);
  const Tensor cu = conv(u), tx = up(x);
  double a = 0, b = 0;
  for (int64_t i = 0; i < x.numel(); ++i) a += double(cu[i]) * x[i];
  for (int64_t i = 0; i < u.numel(); ++i) b += double(tx[i]) * u[i];
  EXPECT_NEAR(a, b, 1e-4 * std::max(1.0, std::abs(a)));
}

TEST(Conv2DTranspose, FusedReluAndEmptyBatch) {
  std::mt19937_64 rng(13);
  const Case c{.N = 1, .H = 3, .W = 3, .C = 2, .F = 2, .KH = 3, .KW = 3, .SH = 2, .SW = 2, .same = true};
  const TransposePrepared p = prepare_transpose(c, rng, true, "relu");
  Tensor expected = reference(p, c);
  for (float& v : expected.span()) v = std::max(v, 0.f);
  EXPECT_TRUE(testing::AllClose((*p.layer)(p.x), expected, 1e-5, 1e-4));
  EXPECT_EQ((*p.layer)(Tensor::zeros({0, 3, 3, 2})).shape(), (Shape{0, 6, 6, 2}));
}

// --- gradients ------------------------------------------------------------------

TEST(Conv2DTranspose, GradcheckInputKernelAndBias) {
  std::mt19937_64 rng(55);
  const std::vector<Case> cases = {
      {.N = 2, .H = 2, .W = 3, .C = 2, .F = 2, .KH = 3, .KW = 3, .SH = 2, .SW = 2},
      {.N = 1, .H = 3, .W = 2, .C = 2, .F = 3, .KH = 3, .KW = 2, .SH = 2, .SW = 2, .same = true, .OPH = 1,
       .OPW = 1},
      {.N = 1, .H = 3, .W = 3, .C = 2, .F = 2, .KH = 2, .KW = 2, .DH = 2, .DW = 2, .channels_first = true},
  };
  for (const Case& c : cases) {
    const TransposePrepared p = prepare_transpose(c, rng, true, "tanh");
    auto layer = p.layer;
    const auto r = autograd::gradcheck([layer](const std::vector<Variable>& v) { return (*layer)(v[0]); },
                                       {Variable(p.x.clone(), true), layer->kernel(), layer->bias()});
    EXPECT_TRUE(r.ok) << describe_transpose(c) << ": " << r.message;
  }
}

// relu is fused into the output pass (finite differences straddle its kink too
// often to check it directly): its gradients must equal the unfused chain's.
TEST(Conv2DTranspose, FusedReluGradientMatchesUnfusedChain) {
  std::mt19937_64 rng(9);
  for (bool cf : {false, true}) {
    const Case c{.N = 2, .H = 3, .W = 2, .C = 2, .F = 3, .KH = 3, .KW = 2, .SH = 2, .SW = 2, .same = true,
                 .channels_first = cf, .OPH = 1, .OPW = 1};
    const TransposePrepared fused = prepare_transpose(c, rng, true, "relu");
    auto plain = std::make_shared<Conv2DTransposeImpl>(c.F, IntPair{c.KH, c.KW}, options_for(c, true, "linear"));
    plain->maybe_build({c.build_shape()});
    plain->set_weights({fused.kernel, fused.bias});
    const Tensor seed = testing::random_tensor((*plain)(fused.x).shape(), rng);
    Variable x1(fused.x.clone(), true), x2(fused.x.clone(), true);
    const auto g1 = grad((*fused.layer)(x1), {x1, fused.layer->kernel(), fused.layer->bias()}, seed);
    const auto g2 = grad(autograd::relu((*plain)(x2)), {x2, plain->kernel(), plain->bias()}, seed);
    for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(testing::AllClose(g1[i], g2[i], 1e-6, 1e-5)) << "gradient " << i;
  }
}

TEST(Conv2DTranspose, OnlyTheRequestedGradientsAreComputed) {
  std::mt19937_64 rng(3);
  const Case c{.N = 1, .H = 3, .W = 3, .C = 2, .F = 2, .KH = 3, .KW = 3, .SH = 2, .SW = 2};
  const TransposePrepared p = prepare_transpose(c, rng);
  Variable x(p.x, /*requires_grad=*/false);
  autograd::sum((*p.layer)(x)).backward();
  EXPECT_FALSE(x.grad().defined());
  ASSERT_TRUE(p.layer->bias().grad().defined());
  // d sum / d bias = number of output pixels per filter: 7 * 7.
  EXPECT_EQ(p.layer->bias().grad().to_vector(), (std::vector<float>{49.f, 49.f}));
}

// --- errors --------------------------------------------------------------------------

TEST(Conv2DTranspose, ConstructionErrorsNameTheLayer) {
  using testing::ThrowsWith;
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Conv2DTranspose(0, 3, {.name = "t0"}); }, {"Conv2DTranspose 't0'", "filters=0"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Conv2DTranspose(2, 3, {.strides = 2, .output_padding = 2, .name = "t1"}); },
                             {"'t1'", "Stride (2, 2) must be greater than output padding (2, 2)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Conv2DTranspose(2, 3, {.output_padding = 1, .name = "t2"}); },
                             {"'t2'", "output padding (1, 1)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Conv2DTranspose(2, 3, {.strides = 2, .output_padding = -1, .name = "t3"}); },
                             {"'t3'", "non-negative"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Conv2DTranspose(2, 3, {.strides = 2, .dilation_rate = 2, .name = "t4"}); },
                             {"'t4'", "dilation_rate"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Conv2DTranspose(2, {3, 0}, {.name = "t5"}); }, {"'t5'", "kernel_size=(3, 0)"}));
}

TEST(Conv2DTranspose, InputErrorsNameTheLayerAndEchoTheShape) {
  using testing::ThrowsWith;
  auto up = Conv2DTranspose(2, 3, {.data_format = "channels_last", .name = "up"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { up(Variable(Tensor::zeros({3, 3, 3}))); }, {"'up'", "rank 4", "(3, 3, 3)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { up(Input({3, 3, kNone})); }, {"'up'", "None"}));
  up(Input({3, 3, 4}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { up(Tensor::zeros({1, 3, 3, 5})); }, {"'up'", "value 4", "(1, 3, 3, 5)"}));
  // "same", stride 2, even kernel, explicit output_padding 0: (3-1)*2 + 2 - 2 = 4 rows, which a
  // "same" conv maps back to 2, not 3.
  auto even = Conv2DTranspose(1, 2, {.strides = 2, .padding = "same", .output_padding = 0,
                                     .data_format = "channels_last", .name = "even"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { even(Input({3, 3, 1})); }, {"'even'", "4 x 4", "3 x 3"}));
}

TEST(Conv2DTranspose, ConfigErrorsNameTheLayer) {
  using testing::ThrowsWith;
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] {
        Conv2DTransposeImpl::from_config(json::parse(R"({"name": "q", "filters": 2, "kernel_size": 3, "groups": 2})"));
      },
      {"Conv2DTranspose 'q'", "groups=2"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] {
        Conv2DTransposeImpl::from_config(
            json::parse(R"({"name": "q", "filters": 2, "kernel_size": 3, "output_padding": [1, 2, 3]})"));
      },
      {"q", "output_padding"}));
}

}  // namespace
}  // namespace minidl
