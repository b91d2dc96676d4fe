// matmul, sum/mean, reshape, permute, transpose and concat: values against
// naive index loops, gradients by finite differences.
#include <gtest/gtest.h>

#include <vector>

#include "autograd/functions.h"
#include "core/errors.h"
#include "support/naive_math.h"

using namespace minidl;
namespace ag = minidl::autograd;
namespace naive = minidl::testing::naive;
using namespace minidl::testing;

TEST(Matmul, MatchesNaiveAndGradchecks) {
  const std::vector<std::vector<int64_t>> mkn = {{2, 3, 4}, {1, 5, 1}, {3, 1, 2}};
  uint64_t seed = 20;
  for (const auto& d : mkn) {
    const int64_t m = d[0], k = d[1], n = d[2];
    const Tensor a = naive::values({m, k}, -1, 1, seed++);
    const Tensor b = naive::values({k, n}, -1, 1, seed++);
    std::vector<double> ref(m * n, 0.0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p) ref[i * n + j] += double(a[i * k + p]) * b[p * n + j];
    const Variable y = ag::matmul(Variable(a), Variable(b));
    EXPECT_EQ(y.shape(), (Shape{m, n}));
    naive::expect_near(y.value(), ref);
    naive::expect_gradcheck([](const std::vector<Variable>& v) { return ag::matmul(v[0], v[1]); }, {a, b});
  }
}

TEST(Matmul, InnerDimensionMismatchThrowsValueError) {
  EXPECT_THROW(ag::matmul(Variable(Tensor::ones({2, 3})), Variable(Tensor::ones({2, 3}))), ValueError);
}

namespace {

struct ReduceCase {
  Shape shape;
  std::vector<int> axes;
  bool keepdims;
};

const std::vector<ReduceCase> kReduceCases = {
    {{2, 3}, {}, false}, {{2, 3}, {0}, false}, {{2, 3}, {1}, true},   {{2, 3, 4}, {-1}, false},
    {{2, 3, 4}, {0, 2}, true}, {{4}, {0}, false}, {{2, 3, 4}, {}, true},
};

}  // namespace

namespace {

// op(x, case) against the naive sum over the case's axes (divided by the number
// of elements summed, for `mean`), and its gradcheck, on every case.
template <class Op>
void check_reduction(Op op, bool mean, uint64_t seed) {
  for (const auto& c : kReduceCases) {
    SCOPED_TRACE(shape_str(c.shape));
    const Tensor x = naive::values(c.shape, -1, 1, seed++);
    Shape expected_shape;
    auto ref = naive::reduce_sum(x, c.axes, c.keepdims, &expected_shape);
    if (mean) {
      const double n = double(x.numel()) / double(ref.size());
      for (double& r : ref) r /= n;
    }
    const Variable y = op(Variable(x), c);
    EXPECT_EQ(y.shape(), expected_shape);
    naive::expect_near(y.value(), ref);
    naive::expect_gradcheck([c, op](const std::vector<Variable>& v) { return op(v[0], c); }, {x});
  }
}

}  // namespace

TEST(Sum, MatchesNaiveAndGradchecksOverAxes) {
  check_reduction([](const Variable& x, const ReduceCase& c) { return ag::sum(x, c.axes, c.keepdims); }, false, 30);
}

TEST(Mean, MatchesNaiveAndGradchecksOverAxes) {
  check_reduction([](const Variable& x, const ReduceCase& c) { return ag::mean(x, c.axes, c.keepdims); }, true, 40);
}

TEST(Reshape, KeepsOrderAndGradchecks) {
  const Tensor x = naive::values({2, 3, 2}, -1, 1, 50);
  const Variable y = ag::reshape(Variable(x), {3, -1});
  EXPECT_EQ(y.shape(), (Shape{3, 4}));
  naive::expect_near(y.value(), naive::unary(x, [](double v) { return v; }));
  naive::expect_gradcheck([](const std::vector<Variable>& v) { return ag::square(ag::reshape(v[0], {6, 2})); }, {x});
}

TEST(Permute, MatchesNaiveAndGradchecks) {
  const std::vector<std::vector<int>> perms = {{1, 0, 2}, {2, 0, 1}, {0, 2, 1}};
  const Shape s = {2, 3, 4};
  for (const auto& perm : perms) {
    const Tensor x = naive::values(s, -1, 1, 60);
    const Shape out_shape = {s[perm[0]], s[perm[1]], s[perm[2]]};
    std::vector<double> ref(x.numel());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const auto idx = unravel(i, s);
      ref[ravel({idx[perm[0]], idx[perm[1]], idx[perm[2]]}, out_shape)] = x[i];
    }
    const Variable y = ag::permute(Variable(x), perm);
    EXPECT_EQ(y.shape(), out_shape);
    naive::expect_near(y.value(), ref);
    // Multiplying by a fixed ramp makes the gradient depend on where each element lands.
    const Variable ramp(Tensor::arange(out_shape));
    naive::expect_gradcheck([perm, ramp](const std::vector<Variable>& v) { return ag::permute(v[0], perm) * ramp; },
                            {x});
  }
}

TEST(Transpose, SwapsTheLastTwoAxesAndGradchecks) {
  const Tensor x = naive::values({2, 3, 4}, -1, 1, 70);
  const Variable y = ag::transpose(Variable(x));
  EXPECT_EQ(y.shape(), (Shape{2, 4, 3}));
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(y.value().at({b, j, i}), x.at({b, i, j}));
  const Variable ramp(Tensor::arange({2, 4, 3}));
  naive::expect_gradcheck([ramp](const std::vector<Variable>& v) { return ag::transpose(v[0]) * ramp; }, {x});
}

TEST(Concat, MatchesNaiveOnEveryAxisAndGradchecks) {
  for (int axis : {0, 1, 2, -1}) {
    SCOPED_TRACE(axis);
    const int ax = axis < 0 ? axis + 3 : axis;
    Shape sa = {2, 3, 2}, sb = {2, 3, 2};
    sb[ax] = 1;
    const Tensor a = naive::values(sa, -1, 1, 80);
    const Tensor b = naive::values(sb, -1, 1, 81);
    Shape out_shape = sa;
    out_shape[ax] += sb[ax];
    std::vector<double> ref(numel(out_shape));
    for (int64_t i = 0; i < static_cast<int64_t>(ref.size()); ++i) {
      auto idx = unravel(i, out_shape);
      if (idx[ax] < sa[ax]) {
        ref[i] = a[ravel(idx, sa)];
      } else {
        idx[ax] -= sa[ax];
        ref[i] = b[ravel(idx, sb)];
      }
    }
    const Variable y = ag::concat({Variable(a), Variable(b)}, axis);
    EXPECT_EQ(y.shape(), out_shape);
    naive::expect_near(y.value(), ref);
    const Variable ramp(Tensor::arange(out_shape));
    naive::expect_gradcheck(
        [axis, ramp](const std::vector<Variable>& v) { return ag::concat({v[0], v[1]}, axis) * ramp; }, {a, b});
  }
}

TEST(Concat, ThreeInputsAndAConstantOneRouteGradientsToTheRightInputs) {
  Variable a(Tensor::ones({1, 2}), true), c(Tensor::ones({1, 1})), b(Tensor::ones({1, 3}), true);
  const Variable y = ag::concat({a, c, b}, 1);  // (1, 6)
  ag::sum(y * Variable(Tensor::arange({1, 6}))).backward();
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{0, 1}));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{3, 4, 5}));
  EXPECT_FALSE(c.grad().defined());
}

TEST(Concat, MismatchedShapesOrEmptyListThrowValueError) {
  EXPECT_THROW(ag::concat({Variable(Tensor::ones({2, 3})), Variable(Tensor::ones({3, 3}))}, 1), ValueError);
  EXPECT_THROW(ag::concat({Variable(Tensor::ones({2, 3})), Variable(Tensor::ones({2}))}, 0), ValueError);
  EXPECT_THROW(ag::concat({}, 0), ValueError);
  EXPECT_THROW(ag::concat({Variable(Tensor::ones({2}))}, 1), ValueError);
}
