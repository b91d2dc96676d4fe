// autograd/functions_activation.cpp — Keras activations that are not plain math functions. Formulas follow
// keras.activations (Keras 2 for hard_sigmoid); derivatives are closed forms
// evaluated from the input.
#include <cmath>
#include <numbers>
#include <utility>

#include "autograd/function_utils.h"
#include "autograd/functions.h"
#include "ops/map.h"

namespace minidl::autograd {

using detail::unary_from_input;
using ops::Cost;
using ops::map_elements;

namespace {

inline float stable_sigmoid(float x) {
  if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.f + e);
}

// Keras's SELU constants (Klambauer et al. 2017).
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;

}  // namespace

Variable elu(const Variable& x, float alpha) {
  Tensor y = map_elements(x.value(), [alpha](float v) { return v > 0.f ? v : alpha * std::expm1(v); }, Cost::kCompute);
  return unary_from_input(
      x, std::move(y), "elu", [alpha](float v) { return v > 0.f ? 1.f : alpha * std::exp(v); }, Cost::kCompute);
}

Variable selu(const Variable& x) {
  Tensor y = map_elements(
      x.value(), [](float v) { return kSeluScale * (v > 0.f ? v : kSeluAlpha * std::expm1(v)); }, Cost::kCompute);
  return unary_from_input(
      x, std::move(y), "selu", [](float v) { return v > 0.f ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(v); },
      Cost::kCompute);
}

Variable softplus(const Variable& x) {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
  Tensor y = map_elements(
      x.value(), [](float v) { return std::fmax(v, 0.f) + std::log1p(std::exp(-std::fabs(v))); }, Cost::kCompute);
  return unary_from_input(x, std::move(y), "softplus", [](float v) { return stable_sigmoid(v); }, Cost::kCompute);
}

Variable softsign(const Variable& x) {
  return unary_from_input(x, map_elements(x.value(), [](float v) { return v / (1.f + std::fabs(v)); }), "softsign",
                          [](float v) {
                            const float d = 1.f + std::fabs(v);
                            return 1.f / (d * d);
                          });
}

Variable hard_sigmoid(const Variable& x) {
  // Passes the gradient on the closed interval [-2.5, 2.5], as clip does; the
  // test is on x because 0.2f * x + 0.5f (possibly fused) misses the ends.
  Tensor y = map_elements(x.value(), [](float v) { return std::fmin(std::fmax(0.2f * v + 0.5f, 0.f), 1.f); });
  return unary_from_input(x, std::move(y), "hard_sigmoid",
                          [](float v) { return v >= -2.5f && v <= 2.5f ? 0.2f : 0.f; });
}

Variable swish(const Variable& x) {
  Tensor y = map_elements(x.value(), [](float v) { return v * stable_sigmoid(v); }, Cost::kCompute);
  return unary_from_input(
      x, std::move(y), "swish",
      [](float v) {
        const float s = stable_sigmoid(v);
        return s * (1.f + v * (1.f - s));
      },
      Cost::kCompute);
}

Variable gelu(const Variable& x, bool approximate) {
  constexpr float kInvSqrt2 = static_cast<float>(1.0 / std::numbers::sqrt2);
  constexpr float kInvSqrt2Pi = static_cast<float>(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
  constexpr float kSqrt2OverPi = 2.f * kInvSqrt2Pi;
  constexpr float kCubic = 0.044715f;
  if (approximate) {
    Tensor y = map_elements(
        x.value(), [](float v) { return 0.5f * v * (1.f + std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v))); },
        Cost::kCompute);
    return unary_from_input(
        x, std::move(y), "gelu",
        [](float v) {
          const float t = std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v));
          return 0.5f * (1.f + t) + 0.5f * v * (1.f - t * t) * kSqrt2OverPi * (1.f + 3.f * kCubic * v * v);
        },
        Cost::kCompute);
  }
  Tensor y =
      map_elements(x.value(), [](float v) { return 0.5f * v * (1.f + std::erf(v * kInvSqrt2)); }, Cost::kCompute);
  return unary_from_input(
      x, std::move(y), "gelu",
      [](float v) { return 0.5f * (1.f + std::erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * std::exp(-0.5f * v * v); },
      Cost::kCompute);
}

Variable leaky_relu(const Variable& x, float alpha) {
  return unary_from_input(x, map_elements(x.value(), [alpha](float v) { return v > 0.f ? v : alpha * v; }),
                          "leaky_relu", [alpha](float v) { return v > 0.f ? 1.f : alpha; });
}

}  // namespace minidl::autograd
