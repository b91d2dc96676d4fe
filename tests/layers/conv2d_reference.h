// tests/layers/conv2d_reference.h — a direct (seven-loop) Keras convolution in
// double precision and the Keras activations in double, for the Conv2D tests.
// Written from the Keras formulas, independently of ops/im2col and ops/conv2d.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace minidl::conv_reference {

struct ConvCase {
  int64_t N = 1, H = 1, W = 1, C = 1, F = 1;  // batch, rows, cols, channels, filters
  int64_t KH = 1, KW = 1, SH = 1, SW = 1, DH = 1, DW = 1, G = 1;
  bool same = false, channels_first = false, use_bias = true;
  std::string activation = "linear";
};

// Keras output length of one axis.
inline int64_t out_len(int64_t in, int64_t k, int64_t s, int64_t d, bool same) {
  if (same) return (in + s - 1) / s;
  const int64_t span = in - (k - 1) * d;
  return span <= 0 ? 0 : (span + s - 1) / s;
}

// Padding before the first row/col: TensorFlow puts the smaller half first.
inline int64_t pad_before(int64_t in, int64_t k, int64_t s, int64_t d, bool same) {
  if (!same) return 0;
  const int64_t out = out_len(in, k, s, d, true);
  return std::max<int64_t>((out - 1) * s + (k - 1) * d + 1 - in, 0) / 2;
}

inline Shape input_shape(const ConvCase& c) {
  return c.channels_first ? Shape{c.N, c.C, c.H, c.W} : Shape{c.N, c.H, c.W, c.C};
}

inline Shape output_shape(const ConvCase& c) {
  const int64_t oh = out_len(c.H, c.KH, c.SH, c.DH, c.same), ow = out_len(c.W, c.KW, c.SW, c.DW, c.same);
  return c.channels_first ? Shape{c.N, c.F, oh, ow} : Shape{c.N, oh, ow, c.F};
}

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
  throw std::invalid_argument("conv_reference: no reference for activation " + name);
}

// The activation applied to y (any layout): softmax and log_softmax over the last axis.
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

// act(conv(x, k) + b) with x and the result in the case's layout, k [KH, KW, C/G, F].
inline std::vector<double> conv2d(const Tensor& x, const Tensor& k, const Tensor* b, const ConvCase& c) {
  const Shape ys = output_shape(c);
  const int64_t OH = c.channels_first ? ys[2] : ys[1], OW = c.channels_first ? ys[3] : ys[2];
  const int64_t pt = pad_before(c.H, c.KH, c.SH, c.DH, c.same), pl = pad_before(c.W, c.KW, c.SW, c.DW, c.same);
  const int64_t CG = c.C / c.G, FG = c.F / c.G;
  auto xat = [&](int64_t n, int64_t h, int64_t w, int64_t ch) -> double {
    return c.channels_first ? x[((n * c.C + ch) * c.H + h) * c.W + w] : x[((n * c.H + h) * c.W + w) * c.C + ch];
  };
  std::vector<double> y(static_cast<size_t>(numel(ys)));
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t f = 0; f < c.F; ++f) {
          const int64_t g = f / FG;
          double acc = b ? (*b)[f] : 0.0;
          for (int64_t kh = 0; kh < c.KH; ++kh)
            for (int64_t kw = 0; kw < c.KW; ++kw) {
              const int64_t h = oh * c.SH - pt + kh * c.DH, w = ow * c.SW - pl + kw * c.DW;
              if (h < 0 || h >= c.H || w < 0 || w >= c.W) continue;  // zero padding
              for (int64_t cg = 0; cg < CG; ++cg)
                acc += xat(n, h, w, g * CG + cg) * double(k[((kh * c.KW + kw) * CG + cg) * c.F + f]);
            }
          const int64_t at = c.channels_first ? ((n * c.F + f) * OH + oh) * OW + ow : ((n * OH + oh) * OW + ow) * c.F + f;
          y[static_cast<size_t>(at)] = acc;
        }
  apply_activation(c.activation, ys, y);
  return y;
}

inline Tensor to_tensor(const Shape& shape, const std::vector<double>& v) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(v[static_cast<size_t>(i)]);
  return t;
}

}  // namespace minidl::conv_reference
