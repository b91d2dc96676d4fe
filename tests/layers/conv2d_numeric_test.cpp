// Tests for layers/conv/conv2d: values against a direct double-precision convolution
// over a seeded grid of geometries, layouts and activations, and finite-difference
// gradient checks for the input, kernel and bias.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "layers/conv/conv2d.h"
#include "layers/parts/activations.h"
#include "ops/elementwise.h"
#include "support/assertions.h"
#include "support/conv_layer_cases.h"
#include "support/naive_activations.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;
using ConvCase = testing::ConvLayerCase;

const std::vector<std::string> kActivations = {
    "linear",      "relu",         "sigmoid", "tanh", "softmax", "elu",   "selu",       "softplus",    "softsign",
    "exponential", "hard_sigmoid", "swish",   "gelu", "relu6",   "mish",  "leaky_relu", "log_softmax", "hard_silu"};

std::string describe(const ConvCase& c) {
  return fmt::format(
      "N={} H={} W={} C={} F={} kernel=({}, {}) strides=({}, {}) dilation=({}, {}) groups={} padding={} {} bias={} "
      "activation={}",
      c.N, c.H, c.W, c.C, c.F, c.KH, c.KW, c.SH, c.SW, c.DH, c.DW, c.G, c.same ? "same" : "valid",
      c.channels_first ? "channels_first" : "channels_last", c.use_bias, c.activation);
}

int64_t pick(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// A random valid case: strides or dilation (never both > 1), any padding, and
// with "valid" an input at least as large as the dilated kernel.
ConvCase random_case(std::mt19937_64& rng, int64_t max_hw, int64_t max_per_group) {
  ConvCase c;
  c.G = pick(rng, 1, 3);
  c.C = c.G * pick(rng, 1, max_per_group);
  c.F = c.G * pick(rng, 1, max_per_group);
  c.N = pick(rng, 1, 3);
  c.KH = pick(rng, 1, 5), c.KW = pick(rng, 1, 5);
  switch (pick(rng, 0, 2)) {
    case 1: c.SH = pick(rng, 1, 3), c.SW = pick(rng, 1, 3); break;
    case 2: c.DH = pick(rng, 1, 3), c.DW = pick(rng, 1, 3); break;
    default: break;
  }
  c.same = pick(rng, 0, 1) == 1;
  const int64_t dkh = (c.KH - 1) * c.DH + 1, dkw = (c.KW - 1) * c.DW + 1;
  c.H = c.same ? pick(rng, 1, max_hw) : dkh + pick(rng, 0, 4);
  c.W = c.same ? pick(rng, 1, max_hw) : dkw + pick(rng, 0, 4);
  c.channels_first = pick(rng, 0, 1) == 1;
  c.use_bias = pick(rng, 0, 3) != 0;
  return c;
}

// The layer's expected output: the reference convolution, then the activation, in double.
Tensor expected_output(const ConvCase& c, const Tensor& x, const Tensor& kernel, const Tensor& bias) {
  const Shape shape = c.conv_output_shape(c.F);
  std::vector<double> y = testing::conv2d_expected(c, x, kernel, bias);
  testing::apply_activation(c.activation, shape, y);
  return testing::to_tensor(shape, y);
}

struct Prepared {
  std::shared_ptr<Conv2DImpl> layer;
  Tensor x, kernel, bias;
};

Prepared prepare(const ConvCase& c, std::mt19937_64& rng) {
  Prepared p;
  p.layer = testing::make_conv2d_layer(c);
  p.x = random_tensor(c.input_shape(), rng, -1.f, 1.f);
  p.kernel = random_tensor({c.KH, c.KW, c.C / c.G, c.F}, rng, -0.5f, 0.5f);
  if (c.use_bias) p.bias = random_tensor({c.F}, rng, -0.5f, 0.5f);
  p.layer->set_weights(c.use_bias ? std::vector<Tensor>{p.kernel, p.bias} : std::vector<Tensor>{p.kernel});
  return p;
}

TEST(Conv2DNumeric, RandomGridMatchesDirectConvolution) {
  std::mt19937_64 rng(20240611);
  std::set<std::string> seen;  // coverage bookkeeping, asserted below
  for (int i = 0; i < 360; ++i) {
    ConvCase c = random_case(rng, 9, 3);
    c.activation = kActivations[static_cast<size_t>(i) % kActivations.size()];
    const Prepared p = prepare(c, rng);
    const Tensor y = (*p.layer)(p.x);
    ASSERT_TRUE(AllClose(y, expected_output(c, p.x, p.kernel, p.bias), 1e-5, 1e-4)) << describe(c);
    if (c.same && (c.H < c.KH || c.W < c.KW)) seen.insert("same smaller than kernel");
    if (c.G > 1) seen.insert("groups");
    if (c.SH == 3 || c.SW == 3) seen.insert("stride 3");
    if (c.DH == 3 || c.DW == 3) seen.insert("dilation 3");
    if (c.KH != c.KW) seen.insert("non-square");
    if (!c.same) seen.insert("valid");
    if (c.channels_first) seen.insert("channels_first");
    if (!c.use_bias) seen.insert("no bias");
  }
  EXPECT_EQ(seen.size(), 8u) << "the grid no longer covers every feature";
}

TEST(Conv2DNumeric, InputSmallerThanKernelWithSamePaddingIsAllPadding) {
  // A 2x1 image under a 5x3 kernel: only the kernel's centre taps see data.
  std::mt19937_64 rng(7);
  ConvCase c{.N = 2, .H = 2, .W = 1, .C = 3, .F = 2, .KH = 5, .KW = 3, .same = true};
  const Prepared p = prepare(c, rng);
  const Tensor y = (*p.layer)(p.x);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 1, 2}));
  EXPECT_TRUE(AllClose(y, expected_output(c, p.x, p.kernel, p.bias), 1e-5, 1e-4));
}

TEST(Conv2DNumeric, SoftmaxIsOverTheLastAxisEvenForChannelsFirst) {
  std::mt19937_64 rng(11);
  ConvCase c{.N = 1, .H = 3, .W = 4, .C = 2, .F = 3, .KH = 2, .KW = 2, .same = true, .channels_first = true,
             .activation = "softmax"};
  const Prepared p = prepare(c, rng);
  const Tensor y = (*p.layer)(p.x);  // (1, 3, 3, 4): rows of 4 columns sum to 1
  for (int64_t r = 0; r < y.numel() / 4; ++r) {
    double s = 0;
    for (int64_t i = 0; i < 4; ++i) s += y[r * 4 + i];
    EXPECT_NEAR(s, 1.0, 1e-5);
  }
}

TEST(Conv2DNumeric, EmptyBatchGivesEmptyOutput) {
  std::mt19937_64 rng(3);
  ConvCase c{.N = 1, .H = 4, .W = 4, .C = 2, .F = 3, .KH = 3, .KW = 3};
  const Prepared p = prepare(c, rng);
  const Tensor y = (*p.layer)(Tensor::zeros({0, 4, 4, 2}));
  EXPECT_EQ(y.shape(), (Shape{0, 2, 2, 3}));
}

// Sum of <r, layer(x)> for a fixed r, checked by central differences on x, kernel and bias.
TEST(Conv2DNumeric, GradcheckInputKernelAndBias) {
  std::mt19937_64 rng(99);
  const std::vector<std::string> smooth = {"linear", "tanh", "sigmoid", "softmax", "softplus", "swish"};
  for (int i = 0; i < 14; ++i) {
    ConvCase c = random_case(rng, 5, 2);
    c.N = std::min<int64_t>(c.N, 2);
    c.activation = smooth[static_cast<size_t>(i) % smooth.size()];
    const Prepared p = prepare(c, rng);
    std::vector<Variable> inputs{Variable(p.x.clone(), true), p.layer->kernel()};
    if (c.use_bias) inputs.push_back(p.layer->bias());
    auto layer = p.layer;
    const auto r = autograd::gradcheck([layer](const std::vector<Variable>& v) { return (*layer)(v[0]); }, inputs);
    EXPECT_TRUE(r.ok) << describe(c) << ": " << r.message;
  }
}

// relu is fused into the output pass; its gradient must equal the unfused chain
// (linear conv, then autograd relu). Inputs are random, so no output sits at 0.
TEST(Conv2DNumeric, FusedReluGradientMatchesUnfusedChain) {
  std::mt19937_64 rng(5);
  for (bool cf : {false, true}) {
    ConvCase c{.N = 2, .H = 6, .W = 5, .C = 4, .F = 6, .KH = 3, .KW = 2, .SH = 2, .G = 2, .same = true,
               .channels_first = cf, .activation = "relu"};
    const Prepared fused = prepare(c, rng);
    c.activation = "linear";
    auto plain = testing::make_conv2d_layer(c);
    plain->set_weights({fused.kernel, fused.bias});

    const Tensor seed = random_tensor(c.conv_output_shape(c.F), rng, -1.f, 1.f);
    Variable x1(fused.x.clone(), true), x2(fused.x.clone(), true);
    const auto g1 = grad((*fused.layer)(x1), {x1, fused.layer->kernel(), fused.layer->bias()}, seed);
    const auto g2 = grad(autograd::relu((*plain)(x2)), {x2, plain->kernel(), plain->bias()}, seed);
    for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(AllClose(g1[i], g2[i], 1e-6, 1e-5)) << "gradient " << i;
  }
}

// The layer's workspace is scratch only: two calls of different sizes, then both
// backwards, give the gradients each call gives alone.
TEST(Conv2DNumeric, TwoCallsBeforeBackwardKeepTheirOwnContext) {
  std::mt19937_64 rng(17);
  ConvCase c{.N = 2, .H = 7, .W = 6, .C = 3, .F = 4, .KH = 3, .KW = 3, .same = true, .activation = "tanh"};
  const Prepared p = prepare(c, rng);
  const Tensor xa = random_tensor({2, 7, 6, 3}, rng, -1.f, 1.f), xb = random_tensor({3, 12, 9, 3}, rng, -1.f, 1.f);
  auto alone = [&](const Tensor& x) {
    Variable v(x.clone(), true);
    return grad(autograd::sum((*p.layer)(v)), {v, p.layer->kernel(), p.layer->bias()});
  };
  const auto ga = alone(xa), gb = alone(xb);

  Variable va(xa.clone(), true), vb(xb.clone(), true);
  const Variable ya = (*p.layer)(va);
  const Variable yb = (*p.layer)(vb);  // grows the shared workspace
  const auto g = grad(autograd::sum(ya) + autograd::sum(yb), {va, vb, p.layer->kernel(), p.layer->bias()});
  EXPECT_TRUE(AllClose(g[0], ga[0], 1e-6, 1e-5));
  EXPECT_TRUE(AllClose(g[1], gb[0], 1e-6, 1e-5));
  EXPECT_TRUE(AllClose(g[2], ops::add(ga[1], gb[1]), 1e-5, 1e-5));
  EXPECT_TRUE(AllClose(g[3], ops::add(ga[2], gb[2]), 1e-5, 1e-5));
}

TEST(Conv2DNumeric, FrozenInputGetsNoGradientButWeightsDo) {
  std::mt19937_64 rng(23);
  ConvCase c{.N = 1, .H = 4, .W = 4, .C = 2, .F = 2, .KH = 2, .KW = 2};
  const Prepared p = prepare(c, rng);
  Variable x(p.x, /*requires_grad=*/false);
  const Variable y = (*p.layer)(x);
  ASSERT_TRUE(y.requires_grad());
  autograd::sum(y).backward();
  EXPECT_FALSE(x.grad().defined());
  EXPECT_TRUE(p.layer->kernel().grad().defined());
  EXPECT_TRUE(p.layer->bias().grad().defined());
}

}  // namespace
}  // namespace minidl
