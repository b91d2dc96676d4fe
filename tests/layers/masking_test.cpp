// Tests for layers/core/masking: output values, the mask it produces (concrete and
// symbolic), gradients, config, and masks reaching layers without masking.

#include <nlohmann/json.hpp>

#include "layers/base/input_layer.h"
#include "layers/core/masking.h"
#include "layers/reshaping/reshaping.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// (2, 4, 3) with timesteps (0, 1) and (1, 3) entirely equal to `v`.
Tensor with_masked_steps(float v) {
  Tensor x = random_tensor({2, 4, 3}, 1);
  for (int64_t f = 0; f < 3; ++f) {
    x.at({0, 1, f}) = v;
    x.at({1, 3, f}) = v;
  }
  x.at({1, 0, 2}) = v;  // one matching feature alone does not mask a step
  return x;
}

TEST(Masking, ZeroesMaskedTimestepsAndKeepsTheRest) {
  const Tensor x = with_masked_steps(0.f);
  const Tensor y = Masking()(x);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < 4; ++t) {
      const bool masked = (n == 0 && t == 1) || (n == 1 && t == 3);
      for (int64_t f = 0; f < 3; ++f) EXPECT_EQ(y.at({n, t, f}), masked ? 0.f : x.at({n, t, f}));
    }
}

TEST(Masking, ProducesAnyNotEqualMaskOverLastAxis) {
  auto m = Masking({.mask_value = -1.0});
  const Tensor x = with_masked_steps(-1.f);
  std::vector<Tensor> masks;
  auto out = m->call_with_masks({Variable(x)}, {}, &masks);
  ASSERT_EQ(masks.size(), 1u);
  ASSERT_TRUE(masks[0].defined());
  EXPECT_EQ(masks[0].shape(), (Shape{2, 4}));
  EXPECT_EQ(masks[0].to_vector(), (std::vector<float>{1, 0, 1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(out[0].value().at({0, 1, 0}), 0.f);  // masked steps are zeroed, whatever mask_value is
}

TEST(Masking, SymbolicOutputCarriesATimestepMask) {
  auto m = Masking();
  KerasTensor y = m(Input({10, 8}));
  EXPECT_EQ(y.shape(), (Shape{kNone, 10, 8}));
  const auto mask = m->output_mask();
  ASSERT_TRUE(mask.has_value());
  EXPECT_EQ(mask->shape(), (Shape{kNone, 10}));
}

TEST(Masking, MaskReachingFlattenIsATypeError) {
  KerasTensor y = Masking()(Input({4, 2}));
  EXPECT_THROW(Flatten()(y), TypeError);
}

// Masking is a step function at the masked timesteps (moving one value there
// unmasks the step), so a finite-difference check only applies away from them;
// there the gradient must be zero, elsewhere it passes unchanged.
TEST(Masking, GradientIsTheMaskBroadcastOverFeatures) {
  Variable x(with_masked_steps(0.f), true);
  const Tensor seed = random_tensor({2, 4, 3}, 2);
  Masking()(x).backward(seed);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < 4; ++t) {
      const bool masked = (n == 0 && t == 1) || (n == 1 && t == 3);
      for (int64_t f = 0; f < 3; ++f) EXPECT_EQ(x.grad().at({n, t, f}), masked ? 0.f : seed.at({n, t, f}));
    }
}

TEST(Masking, GradcheckWhereNothingIsMasked) {
  auto m = Masking({.mask_value = 5.0});
  Variable x(random_tensor({2, 3, 2}, 3), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return m(v[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Masking, ConfigRoundTripsMaskValue) {
  auto m = Masking({.mask_value = -1.5});
  EXPECT_EQ(m->get_config()["mask_value"], -1.5);
  EXPECT_TRUE(RoundTrips(*m));
  EXPECT_EQ(Masking()->get_config()["mask_value"], 0.0);
}

TEST(Masking, RejectsScalarInput) { EXPECT_THROW(Masking()(Tensor::scalar(1.f)), ValueError); }

}  // namespace
}  // namespace minidl
