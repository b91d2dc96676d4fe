// tests/layers/conv2d_bf16_layer_test.cpp — the convolution layers under mixed_bfloat16: Conv2D's
// output and gradients against the double reference on bfloat16 operands (dy rounded in the
// backward too); DepthwiseConv2D, SeparableConv2D and Conv2DTranspose within the bfloat16
// tolerance of TensorFlow's mixed-precision tests (rtol = atol = 1e-2) of float32; bitwise
// float32 under the float32 policy; a small model that trains with float32 variables, and the
// policy saved and loaded with it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/random.h"
#include "io/keras_model.h"
#include "layers/base/dtype_policy.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/conv2d_transpose.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/conv/separable_conv2d.h"
#include "layers/core/dense.h"
#include "layers/reshaping/reshaping.h"
#include "ops/conv2d_reference.h"
#include "ops/gemm_bf16.h"
#include "support/files.h"
#include "support/tensors.h"
#include "train/model.h"
#include "train/optimizers.h"

namespace minidl {
// A named namespace: the file-local names stay apart from those of the other files of a unity batch.
namespace conv2d_bf16_layer_test {
namespace {

using testing::random_tensor;

struct PolicyReset {
  ~PolicyReset() { set_global_policy("float32"); }
};

std::vector<float> rounded_values(const Tensor& t) {
  std::vector<float> v(t.data(), t.data() + t.numel());
  ops::round_to_bfloat16(v.data(), v.data(), t.numel());
  return v;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}

bool every_value_bfloat16(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (ops::round_to_bfloat16(t[i]) != t[i]) return false;
  return true;
}

// |a - b| <= 1e-2 * max(1, max|b|) + 1e-2 * |b| element by element.
::testing::AssertionResult WithinBfloat16Tolerance(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return ::testing::AssertionFailure() << "shapes differ";
  double top = 1.0;
  for (int64_t i = 0; i < b.numel(); ++i) top = std::max(top, std::fabs(double(b[i])));
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!(std::fabs(double(a[i]) - b[i]) <= 1e-2 * top + 1e-2 * std::fabs(double(b[i]))))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i];
  return ::testing::AssertionSuccess();
}

// Conv2D(6, 3, strides 2, "same", groups 2) under mixed_bfloat16: y = bf16(conv(bf16 x, bf16 k) + bf16 b)
// within one bfloat16 step of the reference rounded, and the kernel gradient of sum(y * c) is
// the product of the rounded input with the rounded c (not with c itself).
TEST(Conv2DBf16Layer, OutputAndKernelGradientAreBfloat16Products) {
  auto conv = Conv2D(6, 3, {.strides = 2, .padding = "same", .groups = 2, .bias_initializer = "glorot_uniform",
                            .dtype = "mixed_bfloat16"});
  const Shape in{2, 9, 9, 4};
  conv->maybe_build({in});
  const Tensor xv = random_tensor(in, 31);
  Variable x(xv, true);
  const Variable y = conv(x);
  const Tensor c = random_tensor(y.shape(), 32);
  autograd::sum(autograd::mul(y, Variable(c))).backward();

  const ops::ConvReferenceShape s{2, 9, 9, 4, 3, 3, 2, 2, 1, 1, true};
  const std::vector<float> rx = rounded_values(xv), rk = rounded_values(conv->kernel().value()),
                           rb = rounded_values(conv->bias().value()), rc = rounded_values(c);
  const std::vector<double> want = ops::conv2d_reference(s, rx, rk, rb, 6, 2);
  ASSERT_EQ(static_cast<int64_t>(want.size()), y.value().numel());
  for (int64_t i = 0; i < y.value().numel(); ++i) {
    const double r = ops::round_to_bfloat16(static_cast<float>(want[i]));
    EXPECT_LE(std::fabs(y.value()[i] - r), std::fabs(r) * 0x1p-7 + 1e-5) << i;
  }
  const auto grads = ops::conv2d_reference_backward(s, rx, rk, rc, 6, 2);
  const std::vector<float> c_values(c.data(), c.data() + c.numel());
  const auto unrounded = ops::conv2d_reference_backward(s, rx, rk, c_values, 6, 2);
  const Tensor& dk = conv->kernel().grad();
  ASSERT_TRUE(dk.defined());
  double scale = 0, off_unrounded = 0;
  for (double v : grads.dkernel) scale = std::max(scale, std::fabs(v));
  for (int64_t i = 0; i < dk.numel(); ++i) {
    EXPECT_NEAR(dk[i], grads.dkernel[i], 1e-5 * scale) << i;
    off_unrounded = std::max(off_unrounded, std::fabs(dk[i] - unrounded.dkernel[i]));
  }
  EXPECT_GT(off_unrounded, 1e-4 * scale);  // c was rounded before the product
  // dx: the rounded c times the rounded kernel, flowing back to the float32 input.
  ASSERT_TRUE(x.grad().defined());
  double dx_scale = 0;
  for (double v : grads.dx) dx_scale = std::max(dx_scale, std::fabs(v));
  for (int64_t i = 0; i < x.grad().numel(); ++i) EXPECT_NEAR(x.grad()[i], grads.dx[i], 1e-5 * dx_scale) << i;
}

// The same layer under float32 and mixed_bfloat16 with equal weights: outputs and
// every gradient within the bfloat16 tolerance, the mixed output bfloat16.
template <class Make>
void expect_mixed_close_to_float32(Make make, const Shape& in) {
  auto a = make("float32");
  auto b = make("mixed_bfloat16");
  a->maybe_build({in});
  b->maybe_build({in});
  b->set_weights(a->get_weights());
  const Tensor xv = random_tensor(in, 41);
  Variable xa(xv, true), xb(xv, true);
  const Variable ya = a(xa), yb = b(xb);
  EXPECT_TRUE(WithinBfloat16Tolerance(yb.value(), ya.value()));
  EXPECT_TRUE(every_value_bfloat16(yb.value()));
  EXPECT_FALSE(every_value_bfloat16(ya.value()));
  autograd::sum(autograd::mul(ya, ya)).backward();
  autograd::sum(autograd::mul(yb, yb)).backward();
  EXPECT_TRUE(WithinBfloat16Tolerance(xb.grad(), xa.grad()));
  const auto wa = a->trainable_weights(), wb = b->trainable_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) {
    EXPECT_TRUE(WithinBfloat16Tolerance(wb[i].grad(), wa[i].grad())) << "weight " << i;
    EXPECT_FALSE(same_bits(wb[i].grad(), wa[i].grad())) << "weight " << i;
  }
}

TEST(Conv2DBf16Layer, DepthwiseConv2DWithinBfloat16ToleranceOfFloat32) {
  expect_mixed_close_to_float32(
      [](const std::string& p) {
        return DepthwiseConv2D(3, {.padding = "same", .depth_multiplier = 2, .activation = "relu",
                                   .bias_initializer = "glorot_uniform", .dtype = p});
      },
      {3, 8, 8, 5});
}

TEST(Conv2DBf16Layer, SeparableConv2DWithinBfloat16ToleranceOfFloat32) {
  expect_mixed_close_to_float32(
      [](const std::string& p) {
        return SeparableConv2D(7, 3, {.strides = 2, .bias_initializer = "glorot_uniform", .dtype = p});
      },
      {2, 9, 9, 4});
}

TEST(Conv2DBf16Layer, ChannelsFirstConv2DWithinBfloat16ToleranceOfFloat32) {
  expect_mixed_close_to_float32(
      [](const std::string& p) {
        return Conv2D(4, 3, {.data_format = "channels_first", .activation = "relu", .dtype = p});
      },
      {2, 3, 7, 7});
}

TEST(Conv2DBf16Layer, Conv2DTransposeWithinBfloat16ToleranceOfFloat32) {
  expect_mixed_close_to_float32(
      [](const std::string& p) {
        return Conv2DTranspose(5, 3, {.strides = 2, .padding = "same", .activation = "relu",
                                      .bias_initializer = "glorot_uniform", .dtype = p});
      },
      {2, 5, 5, 6});
}

// Layers given the float32 policy under a mixed global one compute exactly as layers made before it.
TEST(Conv2DBf16Layer, Float32PolicyIsBitwiseFloat32) {
  PolicyReset reset;
  auto conv = Conv2D(8, 3, {.padding = "same", .activation = "relu"});
  auto depthwise = DepthwiseConv2D(3, {.depth_multiplier = 2});
  auto separable = SeparableConv2D(6, 3, {.padding = "same"});
  set_global_policy("mixed_bfloat16");
  auto conv32 = Conv2D(8, 3, {.padding = "same", .activation = "relu", .dtype = "float32"});
  auto depthwise32 = DepthwiseConv2D(3, {.depth_multiplier = 2, .dtype = "float32"});
  auto separable32 = SeparableConv2D(6, 3, {.padding = "same", .dtype = "float32"});
  const Shape in{2, 8, 8, 8};
  const Tensor x = random_tensor(in, 7);
  const std::vector<std::pair<LayerPtr, LayerPtr>> pairs = {
      {conv.ptr(), conv32.ptr()}, {depthwise.ptr(), depthwise32.ptr()}, {separable.ptr(), separable32.ptr()}};
  for (const auto& [plain, f32] : pairs) {
    plain->maybe_build({in});
    f32->maybe_build({in});
    f32->set_weights(plain->get_weights());
    EXPECT_FALSE(f32->computes_in_bfloat16());
    EXPECT_TRUE(same_bits((*f32)(x), (*plain)(x))) << plain->class_name();
  }
}

// Input(8x8x1) -> Conv2D(4, 3, relu) -> Flatten -> Dense(3, softmax), all mixed_bfloat16.
Sequential small_mixed_model() {
  PolicyReset reset;
  set_global_policy("mixed_bfloat16");
  return Sequential({Conv2D(4, 3, {.activation = "relu", .input_shape = Shape{8, 8, 1}, .name = "conv"}), Flatten(),
                     Dense(3, {.activation = "softmax"})});
}

TEST(Conv2DBf16Layer, MixedModelTrainsWithFloat32Variables) {
  set_random_seed(3);
  Sequential model = small_mixed_model();
  EXPECT_EQ(model->get_layer("conv")->dtype_policy().name(), "mixed_bfloat16");
  model->compile(std::make_shared<Adam>(1e-2), "sparse_categorical_crossentropy");
  std::mt19937_64 rng(11);
  const Tensor x = random_tensor({12, 8, 8, 1}, rng, 0.f, 1.f);
  Tensor y({12});
  for (int64_t i = 0; i < 12; ++i) y.data()[i] = static_cast<float>(i % 3);
  const double first = model->train_on_batch(x, y).at("loss");
  double last = first;
  for (int step = 0; step < 30; ++step) last = model->train_on_batch(x, y).at("loss");
  ASSERT_TRUE(std::isfinite(first) && std::isfinite(last));
  EXPECT_LT(last, 0.7 * first);
  // The optimizer's updates reach float32 variables: the kernel is not all bfloat16 values.
  auto* conv = dynamic_cast<Conv2DImpl*>(model->get_layer("conv").get());
  ASSERT_NE(conv, nullptr);
  EXPECT_FALSE(every_value_bfloat16(conv->kernel().value()));
}

TEST(Conv2DBf16Layer, SavedModelKeepsTheConvPolicy) {
  set_random_seed(4);
  Sequential model = small_mixed_model();
  const Tensor x = random_tensor({3, 8, 8, 1}, 5);
  const Tensor before = model->predict(x);
  for (const char* file : {"mixed_conv.keras", "mixed_conv.h5"}) {
    SCOPED_TRACE(file);
    const std::string path = (testing::temp_dir() / file).string();
    model->save(path);
    auto back = load_model(path);
    EXPECT_EQ(back->get_layer("conv")->dtype_policy().name(), "mixed_bfloat16");
    EXPECT_TRUE(same_bits(back->predict(x), before));
  }
}

}  // namespace
}  // namespace conv2d_bf16_layer_test
}  // namespace minidl
