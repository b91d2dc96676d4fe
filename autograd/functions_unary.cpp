// autograd/functions_unary.cpp — element-wise math functions and the softmax family. Where the derivative is
// cheapest from the output (exp, sigmoid, tanh, softmax) the closure keeps the
// output, otherwise the input.
#include <cmath>

#include "autograd/function_utils.h"
#include "autograd/functions.h"
#include "core/errors.h"
#include "ops/elementwise.h"
#include "ops/map.h"
#include "ops/reduce.h"
#include "ops/softmax.h"

namespace minidl::autograd {

using detail::unary_from_input;
using detail::unary_from_output;
using ops::Cost;
using ops::map_elements;

Variable exp(const Variable& x) {
  return unary_from_output(x, ops::exp(x.value()), "exp", [](float y) { return y; });
}

Variable log(const Variable& x) {
  return unary_from_input(x, ops::log(x.value()), "log", [](float xi) { return 1.f / xi; });
}

Variable sqrt(const Variable& x) {
  return unary_from_output(x, ops::sqrt(x.value()), "sqrt", [](float y) { return 0.5f / y; });
}

Variable square(const Variable& x) {
  return unary_from_input(x, ops::square(x.value()), "square", [](float xi) { return 2.f * xi; });
}

Variable abs(const Variable& x) {
  return unary_from_input(x, ops::abs(x.value()), "abs",
                          [](float xi) { return xi > 0.f ? 1.f : (xi < 0.f ? -1.f : 0.f); });
}

Variable clip(const Variable& x, float lo, float hi) {
  MINIDL_CHECK(lo <= hi, ValueError, "clip: lower bound {} is greater than upper bound {}", lo, hi);
  return unary_from_input(x, ops::clip(x.value(), lo, hi), "clip",
                          [lo, hi](float xi) { return lo <= xi && xi <= hi ? 1.f : 0.f; });
}

Variable relu(const Variable& x) {
  return unary_from_input(x, map_elements(x.value(), [](float xi) { return xi > 0.f ? xi : 0.f; }), "relu",
                          [](float xi) { return xi > 0.f ? 1.f : 0.f; });
}

Variable sigmoid(const Variable& x) {
  // Two branches so exp never overflows: for x < 0 use e^x / (1 + e^x).
  Tensor y = map_elements(
      x.value(),
      [](float xi) {
        if (xi >= 0.f) return 1.f / (1.f + std::exp(-xi));
        const float e = std::exp(xi);
        return e / (1.f + e);
      },
      Cost::kCompute);
  return unary_from_output(x, std::move(y), "sigmoid", [](float y) { return y * (1.f - y); });
}

Variable tanh(const Variable& x) {
  return unary_from_output(x, map_elements(x.value(), [](float xi) { return std::tanh(xi); }, Cost::kCompute), "tanh",
                           [](float y) { return 1.f - y * y; });
}

Variable softmax(const Variable& x, int axis) {
  Tensor y = ops::softmax(x.value(), axis);
  // dx = y * (g - sum(g * y, axis))
  return make_result(y, {x}, "softmax", [y, axis](const Tensor& g, const std::vector<bool>&) {
    const Tensor gy = ops::mul(g, y);
    const Tensor s = ops::sum(gy, {axis}, /*keepdims=*/true);  // axis kept as 1
    return Grads{ops::mul(y, ops::sub(g, s))};
  });
}

Variable log_softmax(const Variable& x, int axis) {
  Tensor y = ops::log_softmax(x.value(), axis);
  // dx = g - softmax(x) * sum(g, axis), with softmax = exp(y).
  return make_result(y, {x}, "log_softmax", [y, axis](const Tensor& g, const std::vector<bool>&) {
    const Tensor s = ops::sum(g, {axis}, /*keepdims=*/true);  // axis kept as 1
    return Grads{ops::sub(g, ops::mul(ops::exp(y), s))};
  });
}

}  // namespace minidl::autograd
