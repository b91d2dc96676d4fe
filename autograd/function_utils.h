// autograd/function_utils.h — helpers shared by the functions_*.cpp files (internal).
//
// Elementwise loops used by backward closures and by forward activations that
// ops/ has no kernel for. They are templates so the lambda inlines and the loop
// vectorizes; large tensors are split across core/threads.h's pool.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/variable.h"
#include "core/errors.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "ops/elementwise.h"

namespace minidl::autograd::detail {

inline constexpr int64_t kParallelChunk = 1 << 15;

// out[i] = f(x[i]).
template <class F>
Tensor map1(const Tensor& x, F f) {
  Tensor out(x.shape());
  const float* px = x.data();
  float* po = out.data();
  parallel_for(
      x.numel(),
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) po[i] = f(px[i]);
      },
      kParallelChunk);
  return out;
}

// out[i] = f(a[i], b[i]) for tensors of equal numel; the result takes a's shape.
template <class F>
Tensor map2(const Tensor& a, const Tensor& b, F f) {
  MINIDL_CHECK(a.numel() == b.numel(), ValueError, "map2: shapes {} and {} differ", shape_str(a.shape()),
               shape_str(b.shape()));
  Tensor out(a.shape());
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  parallel_for(
      a.numel(),
      [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i]);
      },
      kParallelChunk);
  return out;
}

// out[i] = f(a[i], b[i], c[i]) for tensors of equal numel.
template <class F>
Tensor map3(const Tensor& a, const Tensor& b, const Tensor& c, F f) {
  MINIDL_CHECK(a.numel() == b.numel() && a.numel() == c.numel(), ValueError, "map3: shapes {}, {} and {} differ",
               shape_str(a.shape()), shape_str(b.shape()), shape_str(c.shape()));
  Tensor out(a.shape());
  const float* pa = a.data();
  const float* pb = b.data();
  const float* pc = c.data();
  float* po = out.data();
  parallel_for(
      a.numel(),
      [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i], pc[i]);
      },
      kParallelChunk);
  return out;
}

// The list {axis} for ops' reductions without allocating one per call (a
// backward closure runs every step): a per-thread list rewritten by each call,
// valid until the next call on the same thread.
inline const std::vector<int>& one_axis(int axis) {
  thread_local std::vector<int> list(1);
  list[0] = axis;
  return list;
}

// t materialised at a broadcast shape (t itself when already that shape).
inline Tensor broadcast_to(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  return ops::add(t, Tensor::zeros(shape));
}

// Sums a broadcast gradient back to an input's shape (g itself when equal).
inline Tensor unbroadcast(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  return ops::reduce_to_shape(g, shape);
}

// Records a one-input elementwise function y = f(x) whose derivative is
// computed from x alone: backward is g * dydx(x).
template <class D>
Variable unary_from_input(const Variable& x, Tensor y, const char* name, D dydx) {
  return make_result(std::move(y), {x}, name,
                     [xv = x.value(), dydx](const Tensor& g, const std::vector<bool>&) -> Grads {
                       return {map2(g, xv, [&](float gi, float xi) { return gi * dydx(xi); })};
                     });
}

// The same, for functions whose derivative is cheapest from the output y
// (exp, sigmoid, tanh): backward is g * dydx(y).
template <class D>
Variable unary_from_output(const Variable& x, Tensor y, const char* name, D dydx) {
  Tensor yv = y;
  return make_result(std::move(y), {x}, name,
                     [yv, dydx](const Tensor& g, const std::vector<bool>&) -> Grads {
                       return {map2(g, yv, [&](float gi, float yi) { return gi * dydx(yi); })};
                     });
}

}  // namespace minidl::autograd::detail
