// Elementwise functions and the softmax family: values against std:: math in
// double, gradients by finite differences, kink conventions pinned down.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/errors.h"
#include "support/naive_math.h"

using namespace minidl;
namespace ag = minidl::autograd;
namespace naive = minidl::testing::naive;
using namespace minidl::testing;

namespace {

struct UnaryCase {
  std::string name;
  std::function<Variable(const Variable&)> fn;
  std::function<double(double)> ref;
  float lo, hi;
  std::vector<float> kinks;
};

const std::vector<Shape> kShapes = {{}, {5}, {2, 3}, {2, 1, 3}};

void check_unary(const UnaryCase& c) {
  uint64_t seed = 100;
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(c.name + " on " + shape_str(s));
    const Tensor x = naive::values(s, c.lo, c.hi, seed++, c.kinks);
    const Variable y = c.fn(Variable(x));
    EXPECT_EQ(y.shape(), s);
    naive::expect_near(y.value(), naive::unary(x, c.ref));
    auto fn = c.fn;
    naive::expect_gradcheck([fn](const std::vector<Variable>& v) { return fn(v[0]); }, {x});
  }
}

// d/dx f at the given points, through backward.
std::vector<float> grad_at(const std::function<Variable(const Variable&)>& f, std::vector<float> xs) {
  Variable x(Tensor::from_data({static_cast<int64_t>(xs.size())}, xs), true);
  ag::sum(f(x)).backward();
  return x.grad().to_vector();
}

}  // namespace

TEST(Exp, MatchesStdAndGradchecks) {
  check_unary({"exp", [](const Variable& x) { return ag::exp(x); }, [](double v) { return std::exp(v); }, -2, 2, {}});
}

TEST(Log, MatchesStdAndGradchecks) {
  check_unary({"log", [](const Variable& x) { return ag::log(x); }, [](double v) { return std::log(v); }, 0.5, 3, {}});
}

TEST(Sqrt, MatchesStdAndGradchecks) {
  check_unary(
      {"sqrt", [](const Variable& x) { return ag::sqrt(x); }, [](double v) { return std::sqrt(v); }, 0.5, 3, {}});
}

TEST(Square, MatchesStdAndGradchecks) {
  check_unary({"square", [](const Variable& x) { return ag::square(x); }, [](double v) { return v * v; }, -2, 2, {}});
}

TEST(Abs, MatchesStdAndGradchecksAwayFromZero) {
  check_unary(
      {"abs", [](const Variable& x) { return ag::abs(x); }, [](double v) { return std::fabs(v); }, -2, 2, {0.f}});
}

TEST(Abs, SubgradientAtZeroIsZero) {
  EXPECT_EQ(grad_at([](const Variable& x) { return ag::abs(x); }, {-1, 0, 2}), (std::vector<float>{-1, 0, 1}));
}

TEST(Clip, MatchesStdAndGradchecksAwayFromBounds) {
  check_unary({"clip", [](const Variable& x) { return ag::clip(x, -0.5f, 1.f); },
               [](double v) { return std::min(std::max(v, -0.5), 1.0); }, -2, 2, {-0.5f, 1.f}});
}

TEST(Clip, GradientPassesOnTheClosedInterval) {
  EXPECT_EQ(grad_at([](const Variable& x) { return ag::clip(x, -1.f, 1.f); }, {-2, -1, 0, 1, 2}),
            (std::vector<float>{0, 1, 1, 1, 0}));
}

TEST(Clip, LowAboveHighThrowsValueError) {
  EXPECT_THROW(ag::clip(Variable(Tensor::ones({2})), 1.f, 0.f), ValueError);
}

TEST(Relu, MatchesNaiveAndGradchecksAwayFromZero) {
  check_unary(
      {"relu", [](const Variable& x) { return ag::relu(x); }, [](double v) { return v > 0 ? v : 0.0; }, -2, 2, {0.f}});
}

TEST(Relu, DerivativeAtZeroIsZero) {
  EXPECT_EQ(grad_at([](const Variable& x) { return ag::relu(x); }, {-1, 0, 3}), (std::vector<float>{0, 0, 1}));
}

TEST(Sigmoid, MatchesStdAndGradchecks) {
  check_unary({"sigmoid", [](const Variable& x) { return ag::sigmoid(x); },
               [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, -4, 4, {}});
}

TEST(Sigmoid, SaturatesWithoutNaNForHugeInputs) {
  const Variable y = ag::sigmoid(Variable(Tensor::from_data({2}, {-1000, 1000})));
  EXPECT_EQ(y.value().to_vector(), (std::vector<float>{0, 1}));
}

TEST(Tanh, MatchesStdAndGradchecks) {
  check_unary({"tanh", [](const Variable& x) { return ag::tanh(x); }, [](double v) { return std::tanh(v); }, -3, 3, {}});
}

namespace {

// softmax along `axis` of x, in double.
std::vector<double> naive_softmax(const Tensor& x, int axis, bool log_form) {
  const Shape& s = x.shape();
  const int ax = axis < 0 ? axis + x.rank() : axis;
  std::vector<double> out(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto idx = unravel(i, s);
    double denom = 0;
    for (int64_t j = 0; j < s[ax]; ++j) {
      idx[ax] = j;
      denom += std::exp(double(x[ravel(idx, s)]));
    }
    out[i] = log_form ? double(x[i]) - std::log(denom) : std::exp(double(x[i])) / denom;
  }
  return out;
}

// `f` (ag::softmax or ag::log_softmax) against the naive double loop and its
// gradient check, on vectors, both axes of a matrix and the middle axis of a 3-D
// tensor; inputs drawn from seeds `seed`, `seed` + 1, ...
void expect_softmax_on_several_axes(Variable (*f)(const Variable&, int), bool log, uint64_t seed) {
  const std::vector<std::pair<Shape, int>> cases = {{{5}, -1}, {{2, 3}, -1}, {{2, 3}, 0}, {{2, 3, 4}, 1}};
  for (const auto& [s, axis] : cases) {
    SCOPED_TRACE(shape_str(s) + " axis " + std::to_string(axis));
    const Tensor x = naive::values(s, -2, 2, seed++);
    naive::expect_near(f(Variable(x), axis).value(), naive_softmax(x, axis, log));
    const int ax = axis;
    naive::expect_gradcheck([f, ax](const std::vector<Variable>& v) { return f(v[0], ax); }, {x});
  }
}

}  // namespace

TEST(Softmax, MatchesNaiveAndGradchecksOnSeveralAxes) { expect_softmax_on_several_axes(ag::softmax, false, 120); }

TEST(LogSoftmax, MatchesNaiveAndGradchecksOnSeveralAxes) { expect_softmax_on_several_axes(ag::log_softmax, true, 130); }

TEST(Softmax, RowsOfTheGradientOfASumAreZero) {
  // sum(softmax) is constant 1 per row, so its gradient vanishes.
  Variable x(naive::values({3, 4}, -2, 2, 140), true);
  ag::sum(ag::softmax(x)).backward();
  for (float g : x.grad().to_vector()) EXPECT_NEAR(g, 0.f, 1e-6);
}
