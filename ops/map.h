// ops/map.h — the element-wise map: out[i] = f(a[i], b[i], ...), split over threads.
//
// Every element-wise kernel in the library that is not a broadcast (ops'
// unary maps, the activations and their derivatives in autograd and layers)
// is this one loop. It is a template so that f inlines and the loop
// vectorises. Large tensors are split over core/threads.h's pool by the grain
// rule of ops/parallel_grain.h; pass Cost::kCompute when f costs about as much
// as a transcendental (exp, tanh, erf, pow), so that the split starts earlier.
//
// f must be a pure function of its arguments: it runs on several threads at
// once and in no fixed order. Each output element depends on its own inputs
// only, so results do not depend on the thread count. (ops::map in
// ops/elementwise.h is the serial form for a user function that keeps state.)
#pragma once

#include <cstdint>

#include "core/errors.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "ops/parallel_grain.h"

namespace minidl::ops {

// out[i] = f(in[i]...) for i in [0, n). out may be one of the inputs (each
// element is read before it is written).
template <class F, class... In>
void map_into(int64_t n, Cost cost, F f, float* out, const In*... in) {
  parallel_for(
      n,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) out[i] = f(in[i]...);
      },
      grain(cost));
}

// out[i] = f(x[i]); the result has x's shape. ValueError for an undefined x.
template <class F>
Tensor map_elements(const Tensor& x, F f, Cost cost = Cost::kMemory) {
  MINIDL_CHECK(x.defined(), ValueError, "map_elements: received an undefined tensor");
  Tensor out(x.shape());
  map_into(x.numel(), cost, f, out.data(), x.data());
  return out;
}

// out[i] = f(a[i], b[i]) for tensors of equal numel; the result has a's shape.
// ValueError naming both shapes when the numels differ.
template <class F>
Tensor map_elements(const Tensor& a, const Tensor& b, F f, Cost cost = Cost::kMemory) {
  MINIDL_CHECK(a.defined() && b.defined() && a.numel() == b.numel(), ValueError,
               "map_elements: shapes {} and {} differ", a.defined() ? shape_str(a.shape()) : "undefined",
               b.defined() ? shape_str(b.shape()) : "undefined");
  Tensor out(a.shape());
  map_into(a.numel(), cost, f, out.data(), a.data(), b.data());
  return out;
}

// out[i] = f(a[i], b[i], c[i]) for tensors of equal numel; the result has a's shape.
template <class F>
Tensor map_elements(const Tensor& a, const Tensor& b, const Tensor& c, F f, Cost cost = Cost::kMemory) {
  MINIDL_CHECK(a.defined() && b.defined() && c.defined() && a.numel() == b.numel() && a.numel() == c.numel(),
               ValueError, "map_elements: shapes {}, {} and {} differ",
               a.defined() ? shape_str(a.shape()) : "undefined", b.defined() ? shape_str(b.shape()) : "undefined",
               c.defined() ? shape_str(c.shape()) : "undefined");
  Tensor out(a.shape());
  map_into(a.numel(), cost, f, out.data(), a.data(), b.data(), c.data());
  return out;
}

}  // namespace minidl::ops
