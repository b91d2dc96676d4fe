#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "ops/elementwise.h"
#include "support/assertions.h"
#include "support/indices.h"
#include "support/tensors.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

double apply(ops::BinaryOp op, double a, double b) {
  switch (op) {
    case ops::BinaryOp::kAdd: return a + b;
    case ops::BinaryOp::kSub: return a - b;
    case ops::BinaryOp::kMul: return a * b;
    case ops::BinaryOp::kDiv: return a / b;
    case ops::BinaryOp::kMax: return a > b ? a : b;
    case ops::BinaryOp::kMin: return a < b ? a : b;
    case ops::BinaryOp::kPow: return std::pow(a, b);
  }
  return 0;
}

Tensor naive_binary(ops::BinaryOp op, const Tensor& a, const Tensor& b, const Shape& out) {
  std::vector<double> v(numel(out));
  for (int64_t i = 0; i < numel(out); ++i) {
    const auto idx = unravel(i, out);
    v[i] = apply(op, a[broadcast_source(idx, a.shape())], b[broadcast_source(idx, b.shape())]);
  }
  return to_tensor(out, v);
}

struct BroadcastCase {
  Shape a, b, out;
};

const std::vector<BroadcastCase>& broadcast_cases() {
  static const std::vector<BroadcastCase> cases = {
      {{2, 3}, {2, 3}, {2, 3}},                    // same shape
      {{4, 5}, {}, {4, 5}},                        // scalar right
      {{}, {4, 5}, {4, 5}},                        // scalar left
      {{3, 1}, {1}, {3, 1}},                       // one-element operand with rank
      {{6, 4}, {4}, {6, 4}},                       // bias over the last axis
      {{2, 3, 4}, {3, 4}, {2, 3, 4}},              // rank difference, trailing block
      {{5}, {3, 1}, {3, 5}},                       // both sides broadcast (outer product)
      {{2, 1, 4}, {1, 3, 1}, {2, 3, 4}},           // alternating size-1 axes
      {{2, 3, 1, 5}, {3, 4, 1}, {2, 3, 4, 5}},     // rank difference + size-1 both ways
      {{4, 1}, {4, 6}, {4, 6}},                    // per-row scale
      {{1, 1, 1}, {2, 2}, {1, 2, 2}},              // all-ones operand of higher rank
  };
  return cases;
}

}  // namespace

TEST(Binary, MatchesNaiveBroadcastForEveryOpAndShape) {
  const ops::BinaryOp ops_list[] = {ops::BinaryOp::kAdd, ops::BinaryOp::kSub, ops::BinaryOp::kMul,
                                    ops::BinaryOp::kDiv, ops::BinaryOp::kMax, ops::BinaryOp::kMin,
                                    ops::BinaryOp::kPow};
  for (const auto& c : broadcast_cases()) {
    // Positive operands keep pow and div well defined.
    const Tensor a = Tensor::uniform(c.a, 0.5f, 2.f), b = Tensor::uniform(c.b, 0.5f, 2.f);
    for (auto op : ops_list) {
      const Tensor got = ops::binary(op, a, b);
      EXPECT_TRUE(AllClose(got, naive_binary(op, a, b, c.out)))
          << "op " << static_cast<int>(op) << " a " << shape_str(c.a) << " b " << shape_str(c.b);
    }
  }
}

TEST(Binary, LargeBroadcastMatchesNaiveWithThreads) {
  // pow counts as compute-bound, so these sizes are split across threads on every path.
  const int saved = num_threads();
  set_num_threads(2);
  const auto P = ops::BinaryOp::kPow;
  const Tensor a = Tensor::uniform({300, 513}, 0.5f, 2.f), bias = Tensor::uniform({513}, 0.5f, 2.f);
  const Tensor col = Tensor::uniform({300, 1}, 0.5f, 2.f), same = Tensor::uniform({300, 513}, 0.5f, 2.f);
  EXPECT_TRUE(AllClose(ops::pow(a, bias), naive_binary(P, a, bias, {300, 513})));
  EXPECT_TRUE(AllClose(ops::pow(a, col), naive_binary(P, a, col, {300, 513})));
  EXPECT_TRUE(AllClose(ops::pow(a, same), naive_binary(P, a, same, {300, 513})));
  const Tensor c3 = Tensor::uniform({300, 1, 513}, 0.5f, 2.f), r3 = Tensor::uniform({7, 1}, 0.5f, 2.f);
  EXPECT_TRUE(AllClose(ops::pow(c3, r3), naive_binary(P, c3, r3, {300, 7, 513})));
  set_num_threads(saved);
}

TEST(Binary, NamedWrappersPickTheirOp) {
  const Tensor a = Tensor::from_data({2}, {6.f, 2.f}), b = Tensor::from_data({2}, {3.f, 4.f});
  EXPECT_EQ(ops::add(a, b).to_vector(), (std::vector<float>{9, 6}));
  EXPECT_EQ(ops::sub(a, b).to_vector(), (std::vector<float>{3, -2}));
  EXPECT_EQ(ops::mul(a, b).to_vector(), (std::vector<float>{18, 8}));
  EXPECT_EQ(ops::div(a, b).to_vector(), (std::vector<float>{2, 0.5f}));
  EXPECT_EQ(ops::maximum(a, b).to_vector(), (std::vector<float>{6, 4}));
  EXPECT_EQ(ops::minimum(a, b).to_vector(), (std::vector<float>{3, 2}));
  EXPECT_EQ(ops::pow(a, b).to_vector(), (std::vector<float>{216, 16}));
}

TEST(Binary, MaximumAndMinimumPropagateNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor a = Tensor::from_data({2}, {nan, 1.f}), b = Tensor::from_data({2}, {1.f, nan});
  for (const Tensor& t : {ops::maximum(a, b), ops::minimum(a, b)}) {
    EXPECT_TRUE(std::isnan(t[0]));
    EXPECT_TRUE(std::isnan(t[1]));
  }
}

TEST(Binary, EmptyBroadcastGivesEmptyResult) {
  const Tensor out = ops::add(Tensor::zeros({0, 3}), Tensor::zeros({3}));
  EXPECT_EQ(out.shape(), (Shape{0, 3}));
}

TEST(Binary, RejectsIncompatibleShapes) {
  EXPECT_THROW(ops::add(Tensor::zeros({2, 3}), Tensor::zeros({2})), ValueError);
  EXPECT_THROW(ops::mul(Tensor::zeros({4, 3}), Tensor::zeros({2, 3})), ValueError);
  EXPECT_THROW(ops::add(Tensor(), Tensor::zeros({2})), ValueError);
}

TEST(ReduceToShape, SumsLeadingAndSizeOneAxes) {
  const Tensor t = Tensor::uniform({2, 3, 4, 5}, -1, 1);
  for (const Shape& target : {Shape{3, 1, 5}, Shape{5}, Shape{}, Shape{1, 4, 1}, Shape{2, 1, 4, 1}, Shape{1}}) {
    std::vector<double> acc(numel(target), 0.0);
    for (int64_t i = 0; i < t.numel(); ++i) acc[broadcast_source(unravel(i, t.shape()), target)] += t[i];
    EXPECT_TRUE(AllClose(ops::reduce_to_shape(t, target), to_tensor(target, acc))) << shape_str(target);
  }
}

TEST(ReduceToShape, SameShapeReturnsIndependentCopy) {
  Tensor t = Tensor::uniform({3, 2});
  Tensor r = ops::reduce_to_shape(t, {3, 2});
  EXPECT_EQ(r.to_vector(), t.to_vector());
  EXPECT_FALSE(r.shares_storage(t));
}

TEST(ReduceToShape, RejectsShapeThatDoesNotBroadcast) {
  const Tensor t = Tensor::zeros({2, 3});
  EXPECT_THROW(ops::reduce_to_shape(t, {4}), ValueError);
  EXPECT_THROW(ops::reduce_to_shape(t, {1, 2, 3}), ValueError);
  EXPECT_THROW(ops::reduce_to_shape(t, {2, 2}), ValueError);
}

TEST(Unary, EachMapMatchesItsFormula) {
  const Tensor x = Tensor::uniform({5, 7}, 0.1f, 3.f);
  const std::vector<std::pair<Tensor, std::function<double(double)>>> cases = {
      {ops::neg(x), [](double v) { return -v; }},
      {ops::exp(x), [](double v) { return std::exp(v); }},
      {ops::log(x), [](double v) { return std::log(v); }},
      {ops::sqrt(x), [](double v) { return std::sqrt(v); }},
      {ops::square(x), [](double v) { return v * v; }},
      {ops::scale(x, -2.5f), [](double v) { return -2.5 * v; }},
      {ops::add_scalar(x, 0.75f), [](double v) { return v + 0.75; }},
      {ops::pow_scalar(x, 1.5f), [](double v) { return std::pow(v, 1.5); }},
      {ops::pow_scalar(x, 2.f), [](double v) { return v * v; }},
      {ops::pow_scalar(x, 1.f), [](double v) { return v; }},
      {ops::map(x, [](float v) { return v * 3 + 1; }), [](double v) { return v * 3 + 1; }},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    std::vector<double> ref(x.numel());
    for (int64_t i = 0; i < x.numel(); ++i) ref[i] = cases[k].second(x[i]);
    EXPECT_TRUE(AllClose(cases[k].first, to_tensor(x.shape(), ref))) << "case " << k;
  }
}

TEST(Unary, AbsAndSignHandleNegativesZeroAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_data({4}, {-2.f, 0.f, 3.f, nan});
  const Tensor a = ops::abs(x), s = ops::sign(x);
  EXPECT_EQ(a[0], 2.f);
  EXPECT_EQ(a[2], 3.f);
  EXPECT_EQ(s[0], -1.f);
  EXPECT_EQ(s[1], 0.f);
  EXPECT_EQ(s[2], 1.f);
  EXPECT_TRUE(std::isnan(s[3]));
}

TEST(Unary, ClipBoundsValuesAndRaisesInvertedUpperBound) {
  const Tensor x = Tensor::from_data({4}, {-5.f, 0.5f, 2.f, 9.f});
  EXPECT_EQ(ops::clip(x, 0.f, 3.f).to_vector(), (std::vector<float>{0, 0.5f, 2, 3}));
  // Keras: max_value < min_value is raised to min_value.
  EXPECT_EQ(ops::clip(x, 1.f, -1.f).to_vector(), (std::vector<float>{1, 1, 1, 1}));
}

TEST(Unary, LargeMapIsCorrectWhenThreaded) {
  const int saved = num_threads();
  set_num_threads(2);
  const Tensor x = Tensor::uniform({1 << 20}, -1, 1);  // several memory-bound chunks
  const Tensor y = ops::scale(x, 3.f);
  set_num_threads(saved);
  for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(y[i], 3.f * x[i]) << "at " << i;
}

TEST(Axpy, AddsScaledInPlace) {
  const Tensor x = Tensor::from_data({3}, {1.f, 2.f, 3.f});
  Tensor y = Tensor::from_data({3, 1}, {10.f, 20.f, 30.f});
  ops::axpy(-2.f, x, y);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{8, 16, 24}));
}

TEST(Axpy, RejectsSizeMismatch) {
  Tensor y = Tensor::zeros({2});
  EXPECT_THROW(ops::axpy(1.f, Tensor::zeros({3}), y), ValueError);
}
