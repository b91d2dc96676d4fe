// tests/support/naive_math.h — double-precision reference loops for the
// autograd tests, written independently of ops/: broadcasting and reductions
// are done one element at a time with explicit multi-indices.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/variable.h"
#include "core/tensor.h"
#include "support/indices.h"

namespace minidl::testing::naive {

// out = f(a, b) with broadcasting, as doubles.
inline std::vector<double> binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f,
                                  Shape* out_shape = nullptr) {
  const Shape s = broadcast_shape(a.shape(), b.shape());
  if (out_shape) *out_shape = s;
  std::vector<double> out(static_cast<size_t>(numel(s)));
  for (int64_t i = 0; i < numel(s); ++i) {
    const auto idx = unravel(i, s);
    out[i] = f(a[broadcast_source(idx, a.shape())], b[broadcast_source(idx, b.shape())]);
  }
  return out;
}

inline std::vector<double> unary(const Tensor& x, const std::function<double(double)>& f) {
  std::vector<double> out(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = f(x[i]);
  return out;
}

// Sum over `axes` (all when empty, negatives from the end); keepdims as NumPy.
inline std::vector<double> reduce_sum(const Tensor& x, std::vector<int> axes, bool keepdims, Shape* out_shape) {
  const int r = x.rank();
  std::vector<bool> reduced(r, axes.empty());
  for (int a : axes) reduced[a < 0 ? a + r : a] = true;
  Shape keep = x.shape();
  Shape out;
  for (int d = 0; d < r; ++d) {
    if (reduced[d]) keep[d] = 1;
    if (!reduced[d] || keepdims) out.push_back(keep[d]);
  }
  if (out_shape) *out_shape = out;
  std::vector<double> acc(static_cast<size_t>(numel(keep)), 0.0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto idx = unravel(i, x.shape());
    for (int d = 0; d < r; ++d)
      if (reduced[d]) idx[d] = 0;
    acc[ravel(idx, keep)] += x[i];
  }
  return acc;
}

// Expects every element of t within tol (absolute, plus relative to |ref|) of ref.
inline void expect_near(const Tensor& t, const std::vector<double>& ref, double tol = 1e-5) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(ref.size()));
  for (size_t i = 0; i < ref.size(); ++i)
    EXPECT_NEAR(t[static_cast<int64_t>(i)], ref[i], tol * (1 + std::fabs(ref[i]))) << "at flat index " << i;
}

// Deterministic values in [lo, hi), kept at least `gap` away from each kink in
// `kinks`, so finite differences never straddle a kink.
inline Tensor values(const Shape& s, float lo, float hi, uint64_t seed, std::vector<float> kinks = {},
                     float gap = 0.05f) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v;
    bool near;
    do {
      v = d(gen);
      near = false;
      for (float k : kinks) near = near || std::fabs(v - k) < gap;
    } while (near);
    t[i] = v;
  }
  return t;
}

using Fn = std::function<Variable(const std::vector<Variable>&)>;

// gradcheck with every input requiring a gradient, asserting success.
inline void expect_gradcheck(const Fn& f, std::vector<Tensor> xs, autograd::GradcheckOptions opts = {}) {
  std::vector<Variable> vs;
  for (auto& x : xs) vs.emplace_back(x, true);
  const auto r = autograd::gradcheck(f, vs, opts);
  EXPECT_TRUE(r.ok) << r.message;
}

}  // namespace minidl::testing::naive
