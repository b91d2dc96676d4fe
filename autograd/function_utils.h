// autograd/function_utils.h — helpers shared by the functions_*.cpp files (internal).
//
// Broadcast helpers for backward closures, and the recording of one-input
// element-wise functions. Element-wise loops are ops/map.h's map_elements.
#pragma once

#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "core/tensor.h"
#include "ops/elementwise.h"
#include "ops/map.h"

namespace minidl::autograd::detail {

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

// Records a one-input element-wise function y = f(x) whose derivative is
// computed from x alone: backward is g * dydx(x). `cost` is dydx's cost class
// (ops/parallel_grain.h): Cost::kCompute when it calls exp, tanh or erf.
template <class D>
Variable unary_from_input(const Variable& x, Tensor y, const char* name, D dydx,
                          ops::Cost cost = ops::Cost::kMemory) {
  return make_result(std::move(y), {x}, name,
                     [xv = x.value(), dydx, cost](const Tensor& g, const std::vector<bool>&) -> Grads {
                       return {ops::map_elements(g, xv, [&](float gi, float xi) { return gi * dydx(xi); }, cost)};
                     });
}

// The same, for functions whose derivative is cheapest from the output y
// (exp, sigmoid, tanh): backward is g * dydx(y).
template <class D>
Variable unary_from_output(const Variable& x, Tensor y, const char* name, D dydx,
                           ops::Cost cost = ops::Cost::kMemory) {
  Tensor yv = y;
  return make_result(std::move(y), {x}, name,
                     [yv, dydx, cost](const Tensor& g, const std::vector<bool>&) -> Grads {
                       return {ops::map_elements(g, yv, [&](float gi, float yi) { return gi * dydx(yi); }, cost)};
                     });
}

}  // namespace minidl::autograd::detail
