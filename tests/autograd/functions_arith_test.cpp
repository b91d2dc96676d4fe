// Broadcasting arithmetic: values against naive double loops, gradients by
// finite differences over same-shape, broadcast and scalar operand pairs.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "autograd/functions.h"
#include "core/errors.h"
#include "support/naive_math.h"

using namespace minidl;
namespace ag = minidl::autograd;
namespace naive = minidl::testing::naive;

namespace {

const std::vector<std::pair<Shape, Shape>> kPairs = {
    {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{4, 1, 3}, {2, 1}}, {{}, {2, 3}}, {{2, 3}, {}}, {{3, 1}, {1, 4}},
};

using BinaryFn = Variable (*)(const Variable&, const Variable&);

// Value against the naive loop, then gradcheck, for every shape pair.
void check_binary(BinaryFn fn, double (*ref)(double, double), float alo, float ahi, float blo, float bhi) {
  uint64_t seed = 1;
  for (const auto& [sa, sb] : kPairs) {
    SCOPED_TRACE(shape_str(sa) + " with " + shape_str(sb));
    const Tensor a = naive::values(sa, alo, ahi, seed++);
    const Tensor b = naive::values(sb, blo, bhi, seed++);
    Shape expected_shape;
    const auto expected = naive::binary(a, b, ref, &expected_shape);
    const Variable y = fn(Variable(a), Variable(b));
    EXPECT_EQ(y.shape(), expected_shape);
    naive::expect_near(y.value(), expected);
    naive::expect_gradcheck([fn](const std::vector<Variable>& v) { return fn(v[0], v[1]); }, {a, b});
  }
}

// The gradients of sum(fn(a, b)) with respect to a and to b.
std::pair<std::vector<float>, std::vector<float>> sum_gradients(BinaryFn fn, const Tensor& a, const Tensor& b) {
  Variable va(a, true), vb(b, true);
  ag::sum(fn(va, vb)).backward();
  return {va.grad().to_vector(), vb.grad().to_vector()};
}

}  // namespace

TEST(Add, MatchesNaiveAndGradchecksUnderBroadcasting) {
  check_binary(ag::add, [](double x, double y) { return x + y; }, -2, 2, -2, 2);
}

TEST(Sub, MatchesNaiveAndGradchecksUnderBroadcasting) {
  check_binary(ag::sub, [](double x, double y) { return x - y; }, -2, 2, -2, 2);
}

TEST(Mul, MatchesNaiveAndGradchecksUnderBroadcasting) {
  check_binary(ag::mul, [](double x, double y) { return x * y; }, -2, 2, -2, 2);
}

TEST(Div, MatchesNaiveAndGradchecksUnderBroadcasting) {
  check_binary(ag::div, [](double x, double y) { return x / y; }, -2, 2, 0.5, 2);
}

TEST(Pow, MatchesNaiveAndGradchecksUnderBroadcasting) {
  check_binary(ag::pow, [](double x, double y) { return std::pow(x, y); }, 0.5, 2, -1.5, 1.5);
}

TEST(Maximum, MatchesNaiveAndGradchecksAwayFromTies) {
  // a in [0, 1), b in [2, 3) and the reverse, so no pair is near a tie.
  check_binary(ag::maximum, [](double x, double y) { return std::max(x, y); }, 0, 1, 2, 3);
  check_binary(ag::maximum, [](double x, double y) { return std::max(x, y); }, 2, 3, 0, 1);
}

TEST(Minimum, MatchesNaiveAndGradchecksAwayFromTies) {
  check_binary(ag::minimum, [](double x, double y) { return std::min(x, y); }, 0, 1, 2, 3);
  check_binary(ag::minimum, [](double x, double y) { return std::min(x, y); }, 2, 3, 0, 1);
}

TEST(Maximum, TiesGiveTheWholeGradientToA) {
  const auto [da, db] =
      sum_gradients(ag::maximum, Tensor::from_data({3}, {1, 5, 2}), Tensor::from_data({3}, {1, 4, 3}));
  EXPECT_EQ(da, (std::vector<float>{1, 1, 0}));
  EXPECT_EQ(db, (std::vector<float>{0, 0, 1}));
}

TEST(Minimum, TiesGiveTheWholeGradientToA) {
  const auto [da, db] =
      sum_gradients(ag::minimum, Tensor::from_data({3}, {1, 5, 2}), Tensor::from_data({3}, {1, 4, 3}));
  EXPECT_EQ(da, (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(db, (std::vector<float>{0, 1, 0}));
}

TEST(Maximum, BroadcastTieSumsIntoTheBroadcastOperand) {
  const auto [da, db] = sum_gradients(ag::maximum, Tensor::from_data({2, 2}, {1, 0, 3, 1}), Tensor::scalar(1));
  EXPECT_EQ(da, (std::vector<float>{1, 0, 1, 1}));
  EXPECT_EQ(db, std::vector<float>{1});  // only the 0 lost to b
}

TEST(Pow, GradientIsFiniteAtZeroBaseAndZeroExponent) {
  const auto [da, db] = sum_gradients(ag::pow, Tensor::from_data({2}, {0, 0}), Tensor::from_data({2}, {0, 2}));
  EXPECT_EQ(da, (std::vector<float>{0, 0}));
  EXPECT_EQ(db, (std::vector<float>{0, 0}));
}

TEST(Add, IncompatibleShapesThrowValueError) {
  EXPECT_THROW(ag::add(Variable(Tensor::ones({2, 3})), Variable(Tensor::ones({4}))), ValueError);
}

TEST(Neg, MatchesNaiveAndGradchecks) {
  const Tensor x = naive::values({2, 3}, -2, 2, 11);
  naive::expect_near(ag::neg(Variable(x)).value(), naive::unary(x, [](double v) { return -v; }));
  naive::expect_gradcheck([](const std::vector<Variable>& v) { return ag::neg(v[0]); }, {x});
}

TEST(AddScalar, MatchesNaiveAndGradchecks) {
  for (const Shape& s : {Shape{}, Shape{4}, Shape{2, 3}}) {
    const Tensor x = naive::values(s, -2, 2, 12);
    naive::expect_near(ag::add_scalar(Variable(x), 1.5f).value(), naive::unary(x, [](double v) { return v + 1.5; }));
    naive::expect_gradcheck([](const std::vector<Variable>& v) { return ag::add_scalar(v[0], 1.5f); }, {x});
  }
}

TEST(MulScalar, MatchesNaiveAndGradchecks) {
  for (const Shape& s : {Shape{}, Shape{4}, Shape{2, 3}}) {
    const Tensor x = naive::values(s, -2, 2, 13);
    naive::expect_near(ag::mul_scalar(Variable(x), -2.5f).value(),
                       naive::unary(x, [](double v) { return -2.5 * v; }));
    naive::expect_gradcheck([](const std::vector<Variable>& v) { return ag::mul_scalar(v[0], -2.5f); }, {x});
  }
}

TEST(PowScalar, MatchesNaiveAndGradchecks) {
  for (float p : {2.f, 3.f, 0.5f, -1.f}) {
    SCOPED_TRACE(p);
    const Tensor x = naive::values({2, 3}, 0.5, 2, 14);
    naive::expect_near(ag::pow_scalar(Variable(x), p).value(), naive::unary(x, [p](double v) { return std::pow(v, p); }));
    naive::expect_gradcheck([p](const std::vector<Variable>& v) { return ag::pow_scalar(v[0], p); }, {x});
  }
}

TEST(Operators, SugarMatchesTheNamedFunctions) {
  Variable a(Tensor::from_data({2}, {1, 2}));
  Variable b(Tensor::from_data({2}, {4, 8}));
  EXPECT_EQ((a + b).value().to_vector(), (std::vector<float>{5, 10}));
  EXPECT_EQ((a - b).value().to_vector(), (std::vector<float>{-3, -6}));
  EXPECT_EQ((a * b).value().to_vector(), (std::vector<float>{4, 16}));
  EXPECT_EQ((b / a).value().to_vector(), (std::vector<float>{4, 4}));
  EXPECT_EQ((-a).value().to_vector(), (std::vector<float>{-1, -2}));
  EXPECT_EQ((a + 1.f).value().to_vector(), (std::vector<float>{2, 3}));
  EXPECT_EQ((1.f + a).value().to_vector(), (std::vector<float>{2, 3}));
  EXPECT_EQ((a - 1.f).value().to_vector(), (std::vector<float>{0, 1}));
  EXPECT_EQ((1.f - a).value().to_vector(), (std::vector<float>{0, -1}));
  EXPECT_EQ((2.f * a).value().to_vector(), (std::vector<float>{2, 4}));
  EXPECT_EQ((b / 2.f).value().to_vector(), (std::vector<float>{2, 4}));
}
