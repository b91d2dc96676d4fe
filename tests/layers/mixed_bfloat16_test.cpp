// tests/layers/mixed_bfloat16_test.cpp — Keras's dtype policies: names and errors, the global
// policy, per-layer policies; Dense and Conv2D under mixed_bfloat16 against float32 within the
// bfloat16 tolerance of TensorFlow's mixed-precision tests (assertAllCloseAccordingToType:
// rtol = atol = 1e-2 for bfloat16), bitwise float32 under the float32 policy.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <string>

#include "autograd/functions.h"
#include "layers/base/dtype_policy.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "ops/gemm_bf16.h"
#include "support/assertions.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using testing::random_tensor;

// Restores the float32 global policy when a test ends, whatever it set.
struct GlobalPolicyReset {
  ~GlobalPolicyReset() { set_global_policy("float32"); }
};

// numpy's allclose, element by element: |a - b| <= atol + rtol * |b|.
::testing::AssertionResult NumpyClose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return ::testing::AssertionFailure() << "shapes differ";
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double d = std::fabs(double(a[i]) - b[i]);
    if (!(d <= atol + rtol * std::fabs(double(b[i]))))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i];
  }
  return ::testing::AssertionSuccess();
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (std::memcmp(&a.data()[i], &b.data()[i], sizeof(float)) != 0) return false;
  return true;
}

bool all_bfloat16(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (ops::round_to_bfloat16(t[i]) != t[i]) return false;
  return true;
}

// Any of the values differs from its bfloat16 rounding (so float32 results are not bfloat16 by chance).
bool some_not_bfloat16(const Tensor& t) { return !all_bfloat16(t); }

TEST(DTypePolicyTest, NamesComputeAndVariableDtypes) {
  const DTypePolicy f32("float32"), mixed("mixed_bfloat16");
  EXPECT_EQ(f32.name(), "float32");
  EXPECT_EQ(f32.compute_dtype(), "float32");
  EXPECT_EQ(f32.variable_dtype(), "float32");
  EXPECT_FALSE(f32.computes_in_bfloat16());
  EXPECT_EQ(mixed.name(), "mixed_bfloat16");
  EXPECT_EQ(mixed.compute_dtype(), "bfloat16");
  EXPECT_EQ(mixed.variable_dtype(), "float32");
  EXPECT_TRUE(mixed.computes_in_bfloat16());
}

TEST(DTypePolicyTest, UnsupportedAndUnknownNamesRaiseValueError) {
  for (const char* name : {"mixed_float16", "float16", "bfloat16", "float64", "int32"})
    EXPECT_TRUE(testing::ThrowsQuietly<ValueError>([&] { DTypePolicy p(name); },
                                                   {std::string("'") + name + "'", "is not supported",
                                                    "'float32' and 'mixed_bfloat16'"}))
        << name;
  EXPECT_TRUE(testing::ThrowsQuietly<ValueError>(
      [] { DTypePolicy p("mixed_bfloat61"); },
      {"Cannot convert 'mixed_bfloat61' to a mixed precision DTypePolicy. Valid policies include 'mixed_float16', "
       "'mixed_bfloat16', and the name of any float dtype such as 'float32'."}));
  EXPECT_THROW(set_global_policy("mixed_float16"), ValueError);
  EXPECT_EQ(global_policy().name(), "float32");  // a rejected name leaves the policy alone
}

TEST(DTypePolicyTest, GlobalPolicyAppliesToLayersMadeAfterIt) {
  GlobalPolicyReset reset;
  EXPECT_EQ(global_policy().name(), "float32");
  auto before = Dense(3);
  set_global_policy("mixed_bfloat16");
  EXPECT_EQ(global_policy().name(), "mixed_bfloat16");
  EXPECT_EQ(DTypePolicy().name(), "mixed_bfloat16");
  auto after = Dense(3);
  auto kept = Dense(3, {.dtype = "float32"});
  EXPECT_EQ(before->dtype_policy().name(), "float32");
  EXPECT_EQ(after->dtype_policy().name(), "mixed_bfloat16");
  EXPECT_EQ(after->compute_dtype(), "bfloat16");
  EXPECT_EQ(after->variable_dtype(), "float32");
  EXPECT_EQ(after->dtype(), "float32");  // Keras's layer.dtype is the variable dtype
  EXPECT_EQ(kept->dtype_policy().name(), "float32");
  // Variables stay float32: a weight set to a value bfloat16 cannot hold keeps it.
  after->maybe_build({{kNone, 1}});
  const float v = 1.f + std::ldexp(1.f, -20);
  after->set_weights({Tensor::full({1, 3}, v), Tensor::zeros({3})});
  EXPECT_EQ(after->kernel().value()[0], v);
}

TEST(DTypePolicyTest, PerLayerPolicyAndItsError) {
  auto d = Dense(2, {.dtype = "mixed_bfloat16"});
  EXPECT_EQ(d->dtype_policy().name(), "mixed_bfloat16");
  EXPECT_TRUE(d->computes_in_bfloat16());
  EXPECT_TRUE(testing::ThrowsQuietly<ValueError>([] { Dense(2, {.dtype = "mixed_float16", .name = "fc"}); },
                                                 {"layer 'fc'", "'mixed_float16'", "is not supported"}));
}

TEST(CastToBfloat16Test, RoundsValuesAndPassesTheGradientThrough) {
  const Tensor xv = random_tensor({5, 7}, 11);
  Variable x(xv, true);
  Variable y = cast_to_bfloat16(x);
  for (int64_t i = 0; i < xv.numel(); ++i) EXPECT_EQ(y.value()[i], ops::round_to_bfloat16(xv[i]));
  autograd::sum(autograd::mul(y, Variable(xv))).backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(bitwise_equal(x.grad(), xv));  // d/dx sum(cast(x) * c) = c
}

// The same layer twice, one under `policy`: identical weights, the same input.
template <class MakeLayer>
void run_pair(MakeLayer make, const Shape& in_shape, Tensor* y32, Tensor* ymixed, std::vector<Tensor>* g32,
              std::vector<Tensor>* gmixed) {
  auto a = make("float32");
  auto b = make("mixed_bfloat16");
  a->maybe_build({in_shape});
  b->maybe_build({in_shape});
  b->set_weights(a->get_weights());
  Shape concrete = in_shape;
  concrete[0] = 6;
  const Tensor x = random_tensor(concrete, 21);
  Variable xa(x, true), xb(x, true);
  const Variable ya = a(xa), yb = b(xb);
  *y32 = ya.value();
  *ymixed = yb.value();
  autograd::sum(autograd::mul(ya, ya)).backward();
  autograd::sum(autograd::mul(yb, yb)).backward();
  g32->clear();
  gmixed->clear();
  g32->push_back(xa.grad());
  gmixed->push_back(xb.grad());
  for (const auto& w : a->trainable_weights()) g32->push_back(w.grad());
  for (const auto& w : b->trainable_weights()) gmixed->push_back(w.grad());
}

// Gradients are sums over the batch of products of bfloat16 values: within the
// bfloat16 tolerance relative to each gradient's scale.
void expect_gradients_close(const std::vector<Tensor>& g32, const std::vector<Tensor>& gmix) {
  ASSERT_EQ(g32.size(), gmix.size());
  for (size_t i = 0; i < g32.size(); ++i) {
    ASSERT_TRUE(gmix[i].defined()) << "gradient " << i;
    double scale = 0;
    for (int64_t k = 0; k < g32[i].numel(); ++k) scale = std::max(scale, std::fabs(double(g32[i][k])));
    EXPECT_TRUE(NumpyClose(gmix[i], g32[i], 1e-2, 1e-2 * std::max(1.0, scale))) << "gradient " << i;
  }
}

TEST(MixedBfloat16LayerTest, DenseWithinBfloat16ToleranceOfFloat32) {
  Tensor y32, ymix;
  std::vector<Tensor> g32, gmix;
  run_pair([](const std::string& p) { return Dense(16, {.activation = "relu", .bias_initializer = "ones", .dtype = p}); },
           {kNone, 40}, &y32, &ymix, &g32, &gmix);
  EXPECT_TRUE(NumpyClose(ymix, y32, 1e-2, 1e-2));
  EXPECT_TRUE(all_bfloat16(ymix));  // the layer's output is bfloat16
  EXPECT_TRUE(some_not_bfloat16(y32));
  EXPECT_FALSE(bitwise_equal(ymix, y32));
  expect_gradients_close(g32, gmix);
}

TEST(MixedBfloat16LayerTest, Conv2DWithinBfloat16ToleranceOfFloat32) {
  Tensor y32, ymix;
  std::vector<Tensor> g32, gmix;
  run_pair([](const std::string& p) { return Conv2D(8, 3, {.activation = "relu", .dtype = p}); }, {kNone, 9, 9, 3},
           &y32, &ymix, &g32, &gmix);
  EXPECT_TRUE(NumpyClose(ymix, y32, 1e-2, 1e-2));
  EXPECT_TRUE(all_bfloat16(ymix));
  EXPECT_TRUE(some_not_bfloat16(y32));
  expect_gradients_close(g32, gmix);
}

// A layer given the float32 policy computes exactly as one made before any policy was set.
TEST(MixedBfloat16LayerTest, Float32PolicyIsBitwiseFloat32) {
  GlobalPolicyReset reset;
  auto plain_dense = Dense(5, {.activation = "tanh"});
  auto plain_conv = Conv2D(4, 3);
  set_global_policy("mixed_bfloat16");
  auto f32_dense = Dense(5, {.activation = "tanh", .dtype = "float32"});
  auto f32_conv = Conv2D(4, 3, {.dtype = "float32"});
  plain_dense->maybe_build({{kNone, 7}});
  f32_dense->maybe_build({{kNone, 7}});
  f32_dense->set_weights(plain_dense->get_weights());
  plain_conv->maybe_build({{kNone, 6, 6, 2}});
  f32_conv->maybe_build({{kNone, 6, 6, 2}});
  f32_conv->set_weights(plain_conv->get_weights());
  const Tensor xd = random_tensor({3, 7}, 5), xc = random_tensor({2, 6, 6, 2}, 6);
  EXPECT_TRUE(bitwise_equal((*f32_dense)(xd), (*plain_dense)(xd)));
  EXPECT_TRUE(bitwise_equal((*f32_conv)(xc), (*plain_conv)(xc)));
}

TEST(MixedBfloat16LayerTest, ConfigWritesThePolicyAsTfKerasDoes) {
  auto mixed = Dense(2, {.dtype = "mixed_bfloat16"});
  const json c = mixed->get_config();
  EXPECT_EQ(c.at("dtype"), json({{"class_name", "Policy"}, {"config", {{"name", "mixed_bfloat16"}}}}));
  EXPECT_EQ(Dense(2)->get_config().at("dtype"), "float32");
}

}  // namespace
}  // namespace minidl
