// tests/layers/conv_family_reference.h — direct double-precision references for
// the DepthwiseConv2D, SeparableConv2D and Conv2DTranspose tests, written from
// the Keras/TensorFlow formulas (independent of ops/im2col and ops/conv2d), and
// small helpers those tests share.
#pragma once

// Keras-style designated initializers leave members out (GCC bug 96868 warns).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "layers/base/registry.h"

namespace minidl::conv_family {

// Geometry of one case. C input channels, DM depth multiplier, F filters.
struct Case {
  int64_t N = 1, H = 1, W = 1, C = 1, DM = 1, F = 1;
  int64_t KH = 1, KW = 1, SH = 1, SW = 1, DH = 1, DW = 1;
  bool same = false, channels_first = false;
  int64_t OPH = -1, OPW = -1;  // Conv2DTranspose output_padding; -1 = None
};

inline Tensor random_tensor(const Shape& shape, std::mt19937_64& rng, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> u(lo, hi);
  Tensor t(shape);
  for (float& v : t.span()) v = u(rng);
  return t;
}

// Forward conv output length and TensorFlow's leading pad ("same": the smaller half first).
inline int64_t conv_len(int64_t in, int64_t k, int64_t s, int64_t d, bool same) {
  if (same) return (in + s - 1) / s;
  const int64_t span = in - (k - 1) * d;
  return span <= 0 ? 0 : (span + s - 1) / s;
}
inline int64_t conv_pad_before(int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, bool same) {
  return same ? std::max<int64_t>((out - 1) * s + (k - 1) * d + 1 - in, 0) / 2 : 0;
}

inline Shape layout(bool cf, int64_t n, int64_t h, int64_t w, int64_t c) {
  return cf ? Shape{n, c, h, w} : Shape{n, h, w, c};
}
inline int64_t index(bool cf, const Shape& s, int64_t n, int64_t h, int64_t w, int64_t c) {
  return cf ? ((n * s[1] + c) * s[2] + h) * s[3] + w : ((n * s[1] + h) * s[2] + w) * s[3] + c;
}

// Depthwise step: out[n, oh, ow, c*DM + m] = sum x[n, h, w, c] * dk[kh, kw, c, m] (+ bias).
inline std::vector<double> depthwise(const Tensor& x, const Tensor& dk, const Tensor* bias, const Case& c) {
  const int64_t OH = conv_len(c.H, c.KH, c.SH, c.DH, c.same), OW = conv_len(c.W, c.KW, c.SW, c.DW, c.same);
  const int64_t pt = conv_pad_before(c.H, OH, c.KH, c.SH, c.DH, c.same);
  const int64_t pl = conv_pad_before(c.W, OW, c.KW, c.SW, c.DW, c.same);
  const Shape ys = layout(c.channels_first, c.N, OH, OW, c.C * c.DM);
  std::vector<double> y(static_cast<size_t>(numel(ys)));
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t ch = 0; ch < c.C; ++ch)
          for (int64_t m = 0; m < c.DM; ++m) {
            double acc = bias ? (*bias)[ch * c.DM + m] : 0.0;
            for (int64_t kh = 0; kh < c.KH; ++kh)
              for (int64_t kw = 0; kw < c.KW; ++kw) {
                const int64_t h = oh * c.SH - pt + kh * c.DH, w = ow * c.SW - pl + kw * c.DW;
                if (h < 0 || h >= c.H || w < 0 || w >= c.W) continue;
                acc += double(x[index(c.channels_first, x.shape(), n, h, w, ch)]) *
                       dk[((kh * c.KW + kw) * c.C + ch) * c.DM + m];
              }
            y[static_cast<size_t>(index(c.channels_first, ys, n, oh, ow, ch * c.DM + m))] = acc;
          }
  return y;
}

// Pointwise step on a depthwise result mid (layout of c, C*DM channels): pk [1, 1, C*DM, F].
inline std::vector<double> pointwise(const std::vector<double>& mid, const Shape& mid_shape, const Tensor& pk,
                                     const Tensor* bias, const Case& c) {
  const bool cf = c.channels_first;
  const int64_t OH = mid_shape[cf ? 2 : 1], OW = mid_shape[cf ? 3 : 2], CM = c.C * c.DM;
  const Shape ys = layout(cf, c.N, OH, OW, c.F);
  std::vector<double> y(static_cast<size_t>(numel(ys)));
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t f = 0; f < c.F; ++f) {
          double acc = bias ? (*bias)[f] : 0.0;
          for (int64_t j = 0; j < CM; ++j)
            acc += mid[static_cast<size_t>(index(cf, mid_shape, n, oh, ow, j))] * double(pk[j * c.F + f]);
          y[static_cast<size_t>(index(cf, ys, n, oh, ow, f))] = acc;
        }
  return y;
}

// Keras deconv_output_length.
inline int64_t deconv_len(int64_t in, int64_t k, int64_t s, int64_t d, bool same, int64_t op) {
  const int64_t kd = (k - 1) * d + 1;
  if (op < 0) return same ? in * s : in * s + std::max<int64_t>(kd - s, 0);
  return (in - 1) * s + kd - 2 * (same ? kd / 2 : 0) + op;
}

// Transposed conv by scattering every input pixel through the kernel [KH, KW, F, C]:
// input pixel (h, w) lands at output row h*s - pad + kh*d, where pad is the leading
// pad of the forward conv from the output size back to the input size.
inline std::vector<double> conv_transpose(const Tensor& x, const Tensor& k, const Tensor* bias, const Case& c) {
  const int64_t OH = deconv_len(c.H, c.KH, c.SH, c.DH, c.same, c.OPH);
  const int64_t OW = deconv_len(c.W, c.KW, c.SW, c.DW, c.same, c.OPW);
  const int64_t pt = conv_pad_before(OH, c.H, c.KH, c.SH, c.DH, c.same);
  const int64_t pl = conv_pad_before(OW, c.W, c.KW, c.SW, c.DW, c.same);
  const Shape ys = layout(c.channels_first, c.N, OH, OW, c.F);
  std::vector<double> y(static_cast<size_t>(numel(ys)), 0.0);
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t w = 0; w < c.W; ++w)
        for (int64_t ch = 0; ch < c.C; ++ch) {
          const double v = x[index(c.channels_first, x.shape(), n, h, w, ch)];
          for (int64_t kh = 0; kh < c.KH; ++kh)
            for (int64_t kw = 0; kw < c.KW; ++kw) {
              const int64_t oh = h * c.SH - pt + kh * c.DH, ow = w * c.SW - pl + kw * c.DW;
              if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
              for (int64_t f = 0; f < c.F; ++f)
                y[static_cast<size_t>(index(c.channels_first, ys, n, oh, ow, f))] +=
                    v * k[((kh * c.KW + kw) * c.F + f) * c.C + ch];
            }
        }
  if (bias)
    for (int64_t n = 0; n < c.N; ++n)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow)
          for (int64_t f = 0; f < c.F; ++f)
            y[static_cast<size_t>(index(c.channels_first, ys, n, oh, ow, f))] += (*bias)[f];
  return y;
}

inline Tensor to_tensor(const Shape& shape, const std::vector<double>& v) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(v[static_cast<size_t>(i)]);
  return t;
}

// from_config(get_config()) through the registry gives an identical config.
inline ::testing::AssertionResult RoundTrips(const Layer& layer) {
  const json a = serialize_layer(layer);
  const LayerPtr b = layer_from_config(a);
  const json c = serialize_layer(*b);
  if (a != c) return ::testing::AssertionFailure() << "\n  before: " << a.dump() << "\n  after:  " << c.dump();
  return ::testing::AssertionSuccess();
}

// Runs f, expecting a ValueError whose message contains every one of `parts`.
template <class F>
::testing::AssertionResult ValueErrorWith(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    for (const auto& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << p << "\"";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace minidl::conv_family
