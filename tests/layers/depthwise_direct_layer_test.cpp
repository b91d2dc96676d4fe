// tests/layers/depthwise_direct_layer_test.cpp — the layers that compute through the direct
// depthwise kernels (ops/depthwise_conv2d.h): DepthwiseConv2D on wide inputs (channel blocks
// and a remainder), SeparableConv2D's depthwise step, and Conv2D with groups == channels,
// against the double-precision reference and by finite-difference gradient checks.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/variable.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/conv/separable_conv2d.h"
#include "ops/conv2d_reference.h"
#include "support/assertions.h"
#include "support/conv_cases.h"

namespace minidl {
namespace {

using namespace testing;

Tensor random_tensor(const Shape& s, std::mt19937& rng) {
  Tensor t(s);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  for (float& v : t.span()) v = d(rng);
  return t;
}

std::vector<float> values(const Tensor& t) { return t.to_vector(); }

// 70 channels: one full block of 64 and a remainder; stride 2, "same",
// depth multiplier 2, the fused relu; a batch of 3 against the reference.
TEST(DepthwiseDirectLayer, WideDepthwiseMatchesReference) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(21);
  DepthwiseConv2D layer(3, {.strides = 2, .padding = "same", .depth_multiplier = 2, .activation = "relu",
                            .bias_initializer = "glorot_uniform"});
  const Tensor x = random_tensor({3, 9, 8, 70}, rng);
  const Tensor y = layer(x);
  ASSERT_EQ(y.shape(), (Shape{3, 5, 4, 140}));
  std::vector<double> want =
      ops::conv2d_reference({3, 9, 8, 70, 3, 3, 2, 2, 1, 1, true}, values(x), values(layer->depthwise_kernel().value()),
                            values(layer->bias().value()), 140, 70);
  for (double& v : want) v = std::max(v, 0.0);
  EXPECT_TRUE(close(values(y), want, 1e-5));
}

// A batch computes each image as it would alone.
TEST(DepthwiseDirectLayer, BatchEqualsImagesAlone) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(22);
  DepthwiseConv2D layer(3, {.padding = "same", .bias_initializer = "glorot_uniform"});
  const Tensor x = random_tensor({4, 7, 7, 96}, rng);
  const Tensor y = layer(x);
  for (int64_t n = 0; n < 4; ++n) {
    const Tensor alone = layer(x.slice_rows(n, n + 1).clone());
    EXPECT_TRUE(AllClose(alone, y.slice_rows(n, n + 1).clone(), 1e-6, 1e-6)) << "image " << n;
  }
}

// Conv2D with groups == channels and DepthwiseConv2D with the same weights
// compute the same convolution (the kernel [3, 3, 1, C] is the depthwise [3, 3, C, 1]).
TEST(DepthwiseDirectLayer, GroupedConv2DEqualsDepthwise) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(23);
  const Tensor x = random_tensor({2, 6, 5, 24}, rng);
  Conv2D grouped(24, 3, {.dilation_rate = 2, .groups = 24, .bias_initializer = "glorot_uniform"});
  DepthwiseConv2D depthwise(3, {.dilation_rate = 2});
  const Tensor yg = grouped(x);
  (void)depthwise(x);  // builds it
  depthwise->set_weights({grouped->kernel().value().reshape({3, 3, 24, 1}), grouped->bias().value()});
  EXPECT_TRUE(AllClose(depthwise(x), yg, 1e-6, 1e-6));
}

TEST(DepthwiseDirectLayer, GradcheckWideDepthwise) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(24);
  DepthwiseConv2D layer({3, 2}, {.strides = {1, 2}, .padding = "same", .depth_multiplier = 2,
                                 .bias_initializer = "glorot_uniform"});
  Variable x(random_tensor({2, 5, 6, 67}, rng), true);
  (void)layer(x.value());
  auto l = layer.ptr();
  const auto r = autograd::gradcheck([l](const std::vector<Variable>& v) { return (*l)(v[0]); },
                                     {x, layer->depthwise_kernel(), layer->bias()});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(DepthwiseDirectLayer, GradcheckSeparable) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(25);
  SeparableConv2D layer(5, 3, {.strides = 2, .padding = "same", .depth_multiplier = 2,
                               .bias_initializer = "glorot_uniform"});
  Variable x(random_tensor({2, 7, 6, 9}, rng), true);
  (void)layer(x.value());
  auto l = layer.ptr();
  const auto r = autograd::gradcheck([l](const std::vector<Variable>& v) { return (*l)(v[0]); },
                                     {x, layer->depthwise_kernel(), layer->pointwise_kernel(), layer->bias()});
  EXPECT_TRUE(r.ok) << r.message;
}

}  // namespace
}  // namespace minidl
