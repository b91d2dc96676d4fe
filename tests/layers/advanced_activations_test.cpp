// Tests for layers/activations/advanced_activations: PReLU (alpha shapes with shared_axes,
// values and gradients against double loops, config), ELU and ThresholdedReLU.
#include "layers/activations/advanced_activations.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "layers/base/input_layer.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// Values bounded away from 0, so no kink sits inside gradcheck's step.
Tensor away_from_zero(const Shape& shape, std::mt19937_64& rng) {
  Tensor t = testing::random_tensor(shape, rng, 0.1f, 1.f);
  std::bernoulli_distribution sign(0.5);
  for (float& v : t.span()) v = sign(rng) ? v : -v;
  return t;
}

// --- PReLU -----------------------------------------------------------------------

TEST(PReLU, AlphaShapeDropsTheBatchAndSharesAxes) {
  auto all = PReLU();
  all(Input({4, 5, 3}));
  EXPECT_EQ(all->alpha().shape(), (Shape{4, 5, 3}));
  auto shared = PReLU({.shared_axes = {1, 2}});
  EXPECT_EQ(shared(Input({kNone, kNone, 3})).shape(), (Shape{kNone, kNone, kNone, 3}));
  EXPECT_EQ(shared->alpha().shape(), (Shape{1, 1, 3}));  // what Keras stores for a CNN PReLU
  ASSERT_EQ(shared->own_weights().size(), 1u);
  EXPECT_EQ(shared->own_weights()[0].name, "alpha");
  EXPECT_EQ(shared->alpha().value().to_vector(), (std::vector<float>{0.f, 0.f, 0.f}));  // zeros initializer
}

TEST(PReLU, ValuesMatchDoubleLoopWithSharedAxes) {
  std::mt19937_64 rng(1);
  auto p = PReLU({.shared_axes = {1, 3}});
  p->maybe_build({{kNone, 3, 4, 2}});
  ASSERT_EQ(p->alpha().shape(), (Shape{1, 4, 1}));
  const Tensor alpha = testing::random_tensor({1, 4, 1}, rng, 0.f, 0.5f);
  p->set_weights({alpha});
  const Tensor x = testing::random_tensor({2, 3, 4, 2}, rng);
  const Tensor y = p(x);
  Tensor expected(x.shape());
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j)
        for (int64_t k = 0; k < 2; ++k) {
          const int64_t at = ((n * 3 + i) * 4 + j) * 2 + k;
          const double v = x[at];
          expected[at] = static_cast<float>(v > 0 ? v : double(alpha[j]) * v);
        }
  EXPECT_TRUE(testing::AllClose(y, expected, 1e-6, 1e-6));
}

TEST(PReLU, GradcheckInputAndAlphaForSeveralSharings) {
  std::mt19937_64 rng(2);
  const std::vector<std::vector<int64_t>> sharings = {{}, {1, 2}, {2}, {3}};
  for (const auto& axes : sharings) {
    auto p = PReLU({.shared_axes = axes});
    p->maybe_build({{kNone, 2, 3, 2}});
    Tensor a = testing::random_tensor(p->alpha().shape(), rng, 0.1f, 0.6f);
    p->set_weights({a});
    const auto r = autograd::gradcheck([p](const std::vector<Variable>& v) { return p(v[0]); },
                                       {Variable(away_from_zero({2, 2, 3, 2}, rng), true), p->alpha()});
    EXPECT_TRUE(r.ok) << "shared_axes size " << axes.size() << ": " << r.message;
  }
}

TEST(PReLU, RankTwoInputAndGradientIsZeroAtZero) {
  auto p = PReLU({.alpha_initializer = "ones"});
  p->maybe_build({{kNone, 3}});
  Variable x(Tensor::from_data({1, 3}, {-2.f, 0.f, 3.f}), true);
  const Variable y = p(x);
  EXPECT_EQ(y.value().to_vector(), (std::vector<float>{-2.f, 0.f, 3.f}));
  autograd::sum(y).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1.f, 0.f, 1.f}));  // TF: relu(x) - a*relu(-x)
  EXPECT_EQ(p->alpha().grad().to_vector(), (std::vector<float>{-2.f, 0.f, 0.f}));
}

TEST(PReLU, ConfigMatchesKerasAndRoundTrips) {
  reset_layer_names();
  auto p = PReLU({.shared_axes = {1, 2}});
  const json expected = json::parse(R"({"name": "p_re_lu", "trainable": true, "dtype": "float32",
    "alpha_initializer": {"class_name": "Zeros", "config": {}}, "alpha_regularizer": null,
    "alpha_constraint": null, "shared_axes": [1, 2]})");
  EXPECT_EQ(p->get_config(), expected) << p->get_config().dump();
  EXPECT_TRUE(RoundTrips(*p));
  EXPECT_EQ(PReLU()->get_config()["shared_axes"], nullptr);
  auto single = PReLUImpl::from_config(json::parse(R"({"name": "q", "shared_axes": 2,
    "alpha_constraint": {"class_name": "NonNeg", "config": {}}})"));
  EXPECT_EQ(single->shared_axes(), (std::vector<int64_t>{2}));
  EXPECT_EQ(single->get_config()["alpha_constraint"]["class_name"], "NonNeg");
}

TEST(PReLU, ErrorsNameTheLayer) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { PReLU({.shared_axes = {0}, .name = "p0"}); }, {"PReLU 'p0'", "batch"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { PReLU({.shared_axes = {1, 1}, .name = "p1"}); }, {"'p1'", "repeats axis 1"}));
  auto p = PReLU({.shared_axes = {3}, .name = "p2"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { p(Input({4, 4})); }, {"'p2'", "out of range", "(None, 4, 4)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { p(Input({kNone, 4, 2})); }, {"'p2'", "None"}));
  p(Input({5, 4, 2}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { p(Tensor::zeros({1, 5, 3, 7})); }, {"'p2'", "value 4", "(1, 5, 3, 7)"}));
  EXPECT_EQ(p(Tensor::zeros({1, 5, 4, 7})).shape(), (Shape{1, 5, 4, 7}));  // the shared axis may change
  auto flat = PReLU({.name = "p3"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { flat(Tensor::zeros({4})); }, {"'p3'", "rank >= 2"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { PReLUImpl::from_config(json::parse(R"({"name": "p4", "alpha": 1})")); },
                             {"PReLU 'p4'", "'alpha'"}));
}

// --- ELU -------------------------------------------------------------------------

TEST(ELU, ValuesAndGradientMatchTheFormula) {
  std::mt19937_64 rng(3);
  auto e = ELU({.alpha = 0.5});
  const Tensor x = away_from_zero({3, 4}, rng);
  const Tensor y = e(x);
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_NEAR(y[i], x[i] > 0 ? x[i] : 0.5 * std::expm1(double(x[i])), 1e-6) << i;
  const auto r = autograd::gradcheck([e](const std::vector<Variable>& v) { return e(v[0]); },
                                     {Variable(x.clone(), true)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ELU, ConfigIsFloat32AlphaAndRoundTrips) {
  reset_layer_names();
  auto e = ELU({.alpha = 0.3});
  EXPECT_EQ(e->name(), "elu");
  EXPECT_EQ(e->get_config()["alpha"], 0.30000001192092896);
  EXPECT_TRUE(RoundTrips(*e));
  EXPECT_EQ(ELUImpl::from_config(json::parse(R"({"name": "x"})"))->alpha(), 1.f);
  EXPECT_TRUE(ThrowsWith<ValueError>([] { ELUImpl::from_config(json::parse(R"({"name": "x", "alpha": null})")); },
                             {"cannot be None"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { ELU({.alpha = INFINITY, .name = "e1"}); }, {"ELU 'e1'", "finite"}));
  EXPECT_EQ(e(Input({2, 3})).shape(), (Shape{kNone, 2, 3}));
}

// --- ThresholdedReLU ------------------------------------------------------------------

TEST(ThresholdedReLU, ValuesAndGradientKeepOnlyValuesAboveTheta) {
  auto t = ThresholdedReLU({.theta = 0.5});
  Variable x(Tensor::from_data({1, 5}, {-1.f, 0.25f, 0.5f, 0.75f, 2.f}), true);
  const Variable y = t(x);
  EXPECT_EQ(y.value().to_vector(), (std::vector<float>{0.f, 0.f, 0.f, 0.75f, 2.f}));  // strictly greater
  autograd::sum(y).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.f, 0.f, 0.f, 1.f, 1.f}));
}

TEST(ThresholdedReLU, ConfigAndErrors) {
  reset_layer_names();
  auto t = ThresholdedReLU();
  EXPECT_EQ(t->name(), "thresholded_re_lu");
  EXPECT_EQ(t->get_config()["theta"], 1.0);
  EXPECT_TRUE(RoundTrips(*t));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { ThresholdedReLU({.theta = -1, .name = "t1"}); },
                             {"ThresholdedReLU 't1'", "should be >=0"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { ThresholdedReLUImpl::from_config(json::parse(R"({"name": "x", "theta": null})")); }, {"cannot be None"}));
  EXPECT_TRUE(layer_from_config(json::parse(R"({"class_name": "ThresholdedReLU", "config": {"theta": 2.0}})")));
}

}  // namespace
}  // namespace minidl
