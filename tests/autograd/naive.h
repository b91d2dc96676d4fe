// tests/autograd/naive.h — double-precision reference loops for the autograd tests.
//
// Written independently of ops/: broadcasting, reductions and index maps are
// done one element at a time with explicit multi-indices.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/variable.h"
#include "core/tensor.h"

namespace minidl::naive {

inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

inline int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
  return flat;
}

inline int64_t count(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// The broadcast shape, aligned from the right; the shapes must be compatible.
inline Shape broadcast(const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    out[i] = std::max(da, db);
  }
  return out;
}

// The flat index into `s` read by output multi-index `idx` under broadcasting.
inline int64_t source_index(const std::vector<int64_t>& idx, const Shape& s) {
  const size_t off = idx.size() - s.size();
  int64_t flat = 0;
  for (size_t d = 0; d < s.size(); ++d) flat = flat * s[d] + (s[d] == 1 ? 0 : idx[d + off]);
  return flat;
}

// out = f(a, b) with broadcasting, as doubles.
inline std::vector<double> binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f,
                                  Shape* out_shape = nullptr) {
  const Shape s = broadcast(a.shape(), b.shape());
  if (out_shape) *out_shape = s;
  std::vector<double> out(count(s));
  for (int64_t i = 0; i < count(s); ++i) {
    const auto idx = unravel(i, s);
    out[i] = f(a[source_index(idx, a.shape())], b[source_index(idx, b.shape())]);
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
  std::vector<double> acc(count(keep), 0.0);
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

}  // namespace minidl::naive
