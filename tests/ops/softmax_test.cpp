#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "ops/softmax.h"
#include "support/assertions.h"
#include "support/indices.h"
#include "support/tensors.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

enum class Mode { kSoftmax, kLogSoftmax, kLogSumExp };

// Straight from the definitions in double (the max shift only keeps exp in range).
Tensor naive(Mode mode, const Tensor& x, int axis, bool keepdims) {
  const Shape& s = x.shape();
  Shape red = s;
  red[axis] = 1;
  std::vector<double> m(numel(red), -INFINITY), z(numel(red), 0.0);
  auto red_index = [&](int64_t i) {
    auto idx = unravel(i, s);
    idx[axis] = 0;
    return ravel(idx, red);
  };
  for (int64_t i = 0; i < x.numel(); ++i) m[red_index(i)] = std::max<double>(m[red_index(i)], x[i]);
  for (int64_t i = 0; i < x.numel(); ++i) z[red_index(i)] += std::exp(double(x[i]) - m[red_index(i)]);
  if (mode == Mode::kLogSumExp) {
    std::vector<double> v(numel(red));
    for (size_t k = 0; k < v.size(); ++k) v[k] = m[k] + std::log(z[k]);
    Shape out = red;
    if (!keepdims) out.erase(out.begin() + axis);
    return to_tensor(out, v);
  }
  std::vector<double> v(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t r = red_index(i);
    v[i] = mode == Mode::kSoftmax ? std::exp(double(x[i]) - m[r]) / z[r] : double(x[i]) - m[r] - std::log(z[r]);
  }
  return to_tensor(s, v);
}

}  // namespace

TEST(Softmax, FamilyMatchesNaiveOnEveryAxis) {
  for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4}, Shape{2, 1, 3, 4}}) {
    const Tensor x = Tensor::uniform(shape, -5, 5);
    const int r = static_cast<int>(shape.size());
    for (int axis = -r; axis < r; ++axis) {
      const int ax = axis < 0 ? axis + r : axis;
      EXPECT_TRUE(AllClose(ops::softmax(x, axis), naive(Mode::kSoftmax, x, ax, false))) << shape_str(shape) << axis;
      EXPECT_TRUE(AllClose(ops::log_softmax(x, axis), naive(Mode::kLogSoftmax, x, ax, false)))
          << shape_str(shape) << axis;
      EXPECT_TRUE(AllClose(ops::logsumexp(x, axis, false), naive(Mode::kLogSumExp, x, ax, false)))
          << shape_str(shape) << axis;
      EXPECT_TRUE(AllClose(ops::logsumexp(x, axis, true), naive(Mode::kLogSumExp, x, ax, true)))
          << shape_str(shape) << axis;
    }
  }
}

TEST(Softmax, RowsSumToOne) {
  const Tensor y = ops::softmax(Tensor::uniform({4, 6, 3}, -3, 3), 1);
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t c = 0; c < 3; ++c) {
      double s = 0;
      for (int64_t k = 0; k < 6; ++k) s += y.at({n, k, c});
      EXPECT_NEAR(s, 1.0, 1e-6);
    }
}

TEST(Softmax, HugeLogitsStayFinite) {
  const Tensor x = Tensor::from_data({2, 3}, {1e4f, -1e4f, 1e4f - 1.f, -1e4f, -1e4f + 2.f, -1e4f});
  for (int axis : {0, 1}) {
    const Tensor s = ops::softmax(x, axis), ls = ops::log_softmax(x, axis), lse = ops::logsumexp(x, axis);
    for (const Tensor* t : {&s, &ls, &lse})
      for (int64_t i = 0; i < t->numel(); ++i) EXPECT_TRUE(std::isfinite((*t)[i])) << "axis " << axis << " at " << i;
  }
  const Tensor s = ops::softmax(x, 1);
  EXPECT_NEAR(s[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(ops::logsumexp(x, 1)[0], 1e4 + std::log1p(std::exp(-1.0)), 1e-2);
}

TEST(Softmax, AllNegativeInfinityRowGivesNegativeInfinityLogSumExp) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = Tensor::from_data({2, 2}, {-inf, -inf, 0.f, -inf});
  const Tensor lse = ops::logsumexp(x, 1);
  EXPECT_EQ(lse[0], -inf);
  EXPECT_EQ(lse[1], 0.f);
  const Tensor s = ops::softmax(x, 1);
  EXPECT_EQ(s[2], 1.f);
  EXPECT_EQ(s[3], 0.f);
}

TEST(Softmax, RejectsBadAxis) {
  const Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(ops::softmax(x, 2), ValueError);
  EXPECT_THROW(ops::log_softmax(x, -3), ValueError);
  EXPECT_THROW(ops::logsumexp(x, 5), ValueError);
  EXPECT_THROW(ops::softmax(Tensor::scalar(1.f)), ValueError);
}
