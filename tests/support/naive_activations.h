// tests/support/naive_activations.h — the Keras activations in double
// precision, from their formulas, for checking layers that fuse them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/shape.h"

namespace minidl::testing {

// Elementwise Keras activations in double (softmax / log_softmax are handled by apply_activation).
inline double activate(const std::string& name, double x) {
  const double sig = 1.0 / (1.0 + std::exp(-x));
  const double softplus = x > 30 ? x : std::log1p(std::exp(x));
  if (name == "linear") return x;
  if (name == "relu") return std::max(x, 0.0);
  if (name == "sigmoid") return sig;
  if (name == "tanh") return std::tanh(x);
  if (name == "elu") return x > 0 ? x : std::expm1(x);
  if (name == "selu") return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * std::expm1(x));
  if (name == "softplus") return softplus;
  if (name == "softsign") return x / (1 + std::fabs(x));
  if (name == "exponential") return std::exp(x);
  if (name == "hard_sigmoid") return std::clamp(0.2 * x + 0.5, 0.0, 1.0);
  if (name == "swish" || name == "silu") return x * sig;
  if (name == "gelu") return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (name == "relu6") return std::clamp(x, 0.0, 6.0);
  if (name == "leaky_relu") return x > 0 ? x : 0.2 * x;
  if (name == "mish") return x * std::tanh(softplus);
  if (name == "hard_silu") return x * std::clamp(x / 6 + 0.5, 0.0, 1.0);
  throw std::invalid_argument("naive_activations: no reference for activation " + name);
}

// The activation applied to y (of `shape`, any layout): softmax and log_softmax over the last axis.
inline void apply_activation(const std::string& name, const Shape& shape, std::vector<double>& y) {
  if (name != "softmax" && name != "log_softmax") {
    for (double& v : y) v = activate(name, v);
    return;
  }
  const int64_t last = shape.back();
  for (size_t r = 0; r < y.size(); r += static_cast<size_t>(last)) {
    double mx = -1e300, sum = 0;
    for (int64_t i = 0; i < last; ++i) mx = std::max(mx, y[r + i]);
    for (int64_t i = 0; i < last; ++i) sum += std::exp(y[r + i] - mx);
    for (int64_t i = 0; i < last; ++i)
      y[r + i] = name == "softmax" ? std::exp(y[r + i] - mx) / sum : y[r + i] - mx - std::log(sum);
  }
}

}  // namespace minidl::testing
