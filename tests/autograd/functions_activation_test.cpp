// Keras activations: values against the keras.activations formulas in double,
// gradients by finite differences, kink conventions and overflow behaviour.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "support/naive_math.h"

using namespace minidl;
namespace ag = minidl::autograd;
namespace naive = minidl::testing::naive;

namespace {

using UnaryFn = std::function<Variable(const Variable&)>;

void check_activation(const std::string& name, const UnaryFn& fn, const std::function<double(double)>& ref,
                      std::vector<float> kinks = {}) {
  uint64_t seed = 200;
  for (const Shape& s : {Shape{}, Shape{7}, Shape{2, 3}, Shape{2, 1, 4}}) {
    SCOPED_TRACE(name + " on " + shape_str(s));
    const Tensor x = naive::values(s, -3, 3, seed++, kinks);
    const Variable y = fn(Variable(x));
    EXPECT_EQ(y.shape(), s);
    naive::expect_near(y.value(), naive::unary(x, ref));
    naive::expect_gradcheck([fn](const std::vector<Variable>& v) { return fn(v[0]); }, {x});
  }
}

std::vector<float> grad_at(const UnaryFn& f, std::vector<float> xs) {
  Variable x(Tensor::from_data({static_cast<int64_t>(xs.size())}, xs), true);
  ag::sum(f(x)).backward();
  return x.grad().to_vector();
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

}  // namespace

TEST(Elu, MatchesKerasFormulaAndGradchecks) {
  for (float alpha : {1.f, 0.5f}) {
    check_activation(
        "elu", [alpha](const Variable& x) { return ag::elu(x, alpha); },
        [alpha](double v) { return v > 0 ? v : alpha * (std::exp(v) - 1); }, {0.f});
  }
}

TEST(Selu, MatchesKerasFormulaAndGradchecks) {
  check_activation(
      "selu", [](const Variable& x) { return ag::selu(x); },
      [](double v) { return kSeluScale * (v > 0 ? v : kSeluAlpha * (std::exp(v) - 1)); }, {0.f});
}

TEST(Softplus, MatchesKerasFormulaAndGradchecks) {
  check_activation("softplus", [](const Variable& x) { return ag::softplus(x); },
                   [](double v) { return std::log1p(std::exp(v)); });
}

TEST(Softplus, LargeInputsDoNotOverflow) {
  const Variable y = ag::softplus(Variable(Tensor::from_data({2}, {100, -100})));
  EXPECT_FLOAT_EQ(y.value()[0], 100.f);
  EXPECT_GE(y.value()[1], 0.f);
  EXPECT_LT(y.value()[1], 1e-30f);
}

TEST(Softsign, MatchesKerasFormulaAndGradchecks) {
  check_activation(
      "softsign", [](const Variable& x) { return ag::softsign(x); }, [](double v) { return v / (1 + std::fabs(v)); },
      {0.f});
}

TEST(Exponential, IsExp) {
  check_activation("exponential", [](const Variable& x) { return ag::exponential(x); },
                   [](double v) { return std::exp(v); });
}

TEST(HardSigmoid, MatchesKeras2FormulaAndGradchecks) {
  check_activation(
      "hard_sigmoid", [](const Variable& x) { return ag::hard_sigmoid(x); },
      [](double v) { return std::min(std::max(0.2 * v + 0.5, 0.0), 1.0); }, {-2.5f, 2.5f});
}

TEST(HardSigmoid, GradientIsPointTwoOnTheClosedIntervalAndZeroOutside) {
  const auto g = grad_at([](const Variable& x) { return ag::hard_sigmoid(x); }, {-3, -2.5f, 0, 2.5f, 3});
  const std::vector<float> expected = {0, 0.2f, 0.2f, 0.2f, 0};
  for (size_t i = 0; i < g.size(); ++i) EXPECT_FLOAT_EQ(g[i], expected[i]) << i;
}

TEST(Swish, MatchesKerasFormulaAndGradchecks) {
  check_activation("swish", [](const Variable& x) { return ag::swish(x); }, [](double v) { return v * sigmoid(v); });
}

TEST(Silu, IsSwish) {
  const Tensor x = naive::values({6}, -3, 3, 210);
  EXPECT_EQ(ag::silu(Variable(x)).value().to_vector(), ag::swish(Variable(x)).value().to_vector());
}

TEST(Gelu, ExactFormMatchesErfFormulaAndGradchecks) {
  check_activation("gelu", [](const Variable& x) { return ag::gelu(x); },
                   [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
}

TEST(Gelu, ApproximateFormMatchesTanhFormulaAndGradchecks) {
  check_activation(
      "gelu_tanh", [](const Variable& x) { return ag::gelu(x, /*approximate=*/true); },
      [](double v) {
        return 0.5 * v * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
      });
}

TEST(LeakyRelu, MatchesFormulaAndGradchecks) {
  for (float alpha : {0.2f, 0.3f}) {
    check_activation(
        "leaky_relu", [alpha](const Variable& x) { return ag::leaky_relu(x, alpha); },
        [alpha](double v) { return v > 0 ? v : alpha * v; }, {0.f});
  }
}

TEST(LeakyRelu, DerivativeAtZeroIsAlpha) {
  const auto g = grad_at([](const Variable& x) { return ag::leaky_relu(x, 0.3f); }, {-1, 0, 1});
  EXPECT_FLOAT_EQ(g[0], 0.3f);
  EXPECT_FLOAT_EQ(g[1], 0.3f);
  EXPECT_FLOAT_EQ(g[2], 1.f);
}
