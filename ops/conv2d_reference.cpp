// ops/conv2d_reference.cpp — the naive double-precision convolution loops
// (the definitions are in the header).
#include "ops/conv2d_reference.h"

#include <algorithm>

#include "core/errors.h"

namespace minidl::ops {
namespace {

// Padding before the first position of an axis for a forward convolution from
// length `in` to length `out`: the smaller half of the total "same" padding.
int64_t pad_before(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t dilation, bool same) {
  if (!same) return 0;
  return std::max<int64_t>((out - 1) * stride + (k - 1) * dilation + 1 - in, 0) / 2;
}

void check_size(const char* what, std::span<const float> v, int64_t expected) {
  MINIDL_CHECK(static_cast<int64_t>(v.size()) == expected, ValueError,
               "conv2d reference: {} has {} values, expected {}", what, v.size(), expected);
}

void check_bias(std::span<const float> bias, int64_t filters) {
  if (!bias.empty()) check_size("bias", bias, filters);
}

void check_shape(const ConvReferenceShape& s) {
  MINIDL_CHECK(s.N >= 0 && s.H > 0 && s.W > 0 && s.C > 0 && s.KH > 0 && s.KW > 0 && s.SH > 0 && s.SW > 0 &&
                   s.DH > 0 && s.DW > 0,
               ValueError, "conv2d reference: sizes must be positive (batch non-negative)");
}

// The sizes of a ConvReferenceShape with its output size and padding by the
// rule in the header (pad_bottom, pad_right are whatever remains).
Conv2DGeometry geometry_of(const ConvReferenceShape& s) {
  Conv2DGeometry g;
  g.N = s.N, g.H = s.H, g.W = s.W, g.C = s.C;
  g.KH = s.KH, g.KW = s.KW, g.SH = s.SH, g.SW = s.SW, g.DH = s.DH, g.DW = s.DW;
  g.OH = conv_reference_length(s.H, s.KH, s.SH, s.DH, s.same);
  g.OW = conv_reference_length(s.W, s.KW, s.SW, s.DW, s.same);
  g.pad_top = pad_before(s.H, g.OH, s.KH, s.SH, s.DH, s.same);
  g.pad_left = pad_before(s.W, g.OW, s.KW, s.SW, s.DW, s.same);
  return g;
}

// The index of every (input, kernel, output) triple the Conv2D formula
// multiplies: f(x_index, kernel_index, y_index) for every in-image tap.
template <class F>
void for_each_tap(const Conv2DGeometry& s, int64_t filters, int64_t groups, F f) {
  const int64_t CG = s.C / groups, FG = filters / groups;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t o = 0; o < filters; ++o) {
          const int64_t g = o / FG;
          for (int64_t kh = 0; kh < s.KH; ++kh)
            for (int64_t kw = 0; kw < s.KW; ++kw) {
              const int64_t h = oh * s.SH - s.pad_top + kh * s.DH, w = ow * s.SW - s.pad_left + kw * s.DW;
              if (h < 0 || h >= s.H || w < 0 || w >= s.W) continue;  // zero padding
              for (int64_t c = 0; c < CG; ++c)
                f(((n * s.H + h) * s.W + w) * s.C + g * CG + c, ((kh * s.KW + kw) * CG + c) * filters + o,
                  ((n * s.OH + oh) * s.OW + ow) * filters + o);
            }
        }
}

void check_groups(const ConvReferenceShape& s, int64_t filters, int64_t groups) {
  check_shape(s);
  MINIDL_CHECK(groups > 0 && filters > 0 && s.C % groups == 0 && filters % groups == 0, ValueError,
               "conv2d reference: groups={} must divide the {} input channels and the {} filters", groups, s.C,
               filters);
}

int64_t output_size(const Conv2DGeometry& g, int64_t channels) { return g.N * g.OH * g.OW * channels; }

// Conv2D on an input of any element type (float, or double for the middle of
// SeparableConv2D) into y [N, OH, OW, filters]; the sizes are checked by the callers.
template <class T>
void conv2d_loops(const Conv2DGeometry& g, const T* x, const float* kernel, const float* bias, int64_t filters,
                  int64_t groups, double* y) {
  const int64_t count = output_size(g, filters);
  for (int64_t i = 0; i < count; ++i) y[i] = bias ? double(bias[i % filters]) : 0.0;
  for_each_tap(g, filters, groups,
               [&](int64_t xi, int64_t ki, int64_t yi) { y[yi] += double(x[xi]) * double(kernel[ki]); });
}

template <class T>
std::vector<double> conv2d_vector(const ConvReferenceShape& s, std::span<const T> x, std::span<const float> kernel,
                                  std::span<const float> bias, int64_t filters, int64_t groups) {
  const Conv2DGeometry g = geometry_of(s);
  std::vector<double> y(static_cast<size_t>(output_size(g, filters)));
  conv2d_loops(g, x.data(), kernel.data(), bias.empty() ? nullptr : bias.data(), filters, groups, y.data());
  return y;
}

// The gradients of L = sum(y * dy), each the sum of the products the forward
// formula pairs up; a null output is not computed.
void conv2d_gradient_loops(const Conv2DGeometry& g, const float* x, const float* kernel, const float* dy,
                           int64_t filters, int64_t groups, double* dx, double* dkernel, double* dbias) {
  if (dx) std::fill_n(dx, g.N * g.H * g.W * g.C, 0.0);
  if (dkernel) std::fill_n(dkernel, g.KH * g.KW * (g.C / groups) * filters, 0.0);
  if (dx || dkernel)
    for_each_tap(g, filters, groups, [&](int64_t xi, int64_t ki, int64_t yi) {
      if (dx) dx[xi] += double(dy[yi]) * double(kernel[ki]);
      if (dkernel) dkernel[ki] += double(dy[yi]) * double(x[xi]);
    });
  if (dbias) {
    std::fill_n(dbias, filters, 0.0);
    const int64_t count = output_size(g, filters);
    for (int64_t i = 0; i < count; ++i) dbias[i % filters] += dy[i];
  }
}

}  // namespace

int64_t conv_reference_length(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same) {
  if (same) return (in + stride - 1) / stride;
  const int64_t span = in - (k - 1) * dilation;
  return span <= 0 ? 0 : (span + stride - 1) / stride;
}

int64_t conv_reference_pad_before(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same) {
  return pad_before(in, conv_reference_length(in, k, stride, dilation, same), k, stride, dilation, same);
}

int64_t conv_transpose_reference_length(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same,
                                        int64_t output_padding) {
  const int64_t kd = (k - 1) * dilation + 1;
  if (output_padding < 0) return same ? in * stride : in * stride + std::max<int64_t>(kd - stride, 0);
  return (in - 1) * stride + kd - 2 * (same ? kd / 2 : 0) + output_padding;
}

std::vector<double> conv2d_reference(const ConvReferenceShape& s, std::span<const float> x,
                                     std::span<const float> kernel, std::span<const float> bias, int64_t filters,
                                     int64_t groups) {
  check_groups(s, filters, groups);
  check_size("x", x, s.N * s.H * s.W * s.C);
  check_size("kernel", kernel, s.KH * s.KW * (s.C / groups) * filters);
  check_bias(bias, filters);
  return conv2d_vector(s, x, kernel, bias, filters, groups);
}

Conv2DReferenceGradients conv2d_reference_backward(const ConvReferenceShape& s, std::span<const float> x,
                                                   std::span<const float> kernel, std::span<const float> dy,
                                                   int64_t filters, int64_t groups) {
  check_groups(s, filters, groups);
  check_size("x", x, s.N * s.H * s.W * s.C);
  check_size("kernel", kernel, s.KH * s.KW * (s.C / groups) * filters);
  const Conv2DGeometry g = geometry_of(s);
  check_size("dy", dy, output_size(g, filters));
  Conv2DReferenceGradients grads{std::vector<double>(x.size()), std::vector<double>(kernel.size()),
                                 std::vector<double>(static_cast<size_t>(filters))};
  conv2d_gradient_loops(g, x.data(), kernel.data(), dy.data(), filters, groups, grads.dx.data(), grads.dkernel.data(),
                        grads.dbias.data());
  return grads;
}

void conv2d_reference_forward(const Conv2DGeometry& g, int64_t groups, int64_t OC, const float* x,
                              const float* kernel, const float* bias, double* y) {
  conv2d_loops(g, x, kernel, bias, OC, groups, y);
}

void conv2d_reference_backward(const Conv2DGeometry& g, int64_t groups, int64_t OC, const float* x,
                               const float* kernel, const float* dy, double* dx, double* dkernel, double* dbias) {
  conv2d_gradient_loops(g, x, kernel, dy, OC, groups, dx, dkernel, dbias);
}

std::vector<double> depthwise_conv2d_reference(const ConvReferenceShape& s, std::span<const float> x,
                                               std::span<const float> depthwise_kernel, std::span<const float> bias,
                                               int64_t depth_multiplier) {
  MINIDL_CHECK(depth_multiplier > 0, ValueError, "conv2d reference: depth_multiplier={} must be positive",
               depth_multiplier);
  // [KH, KW, C, DM] is [KH, KW, 1, C*DM]: channel c's filters are output channels c*DM .. c*DM + DM-1.
  return conv2d_reference(s, x, depthwise_kernel, bias, s.C * depth_multiplier, s.C);
}

std::vector<double> separable_conv2d_reference(const ConvReferenceShape& s, std::span<const float> x,
                                               std::span<const float> depthwise_kernel,
                                               std::span<const float> pointwise_kernel, std::span<const float> bias,
                                               int64_t depth_multiplier, int64_t filters) {
  const std::vector<double> mid = depthwise_conv2d_reference(s, x, depthwise_kernel, {}, depth_multiplier);
  ConvReferenceShape pointwise;  // 1x1, stride 1, no padding, over the depthwise result
  pointwise.N = s.N;
  pointwise.H = conv_reference_length(s.H, s.KH, s.SH, s.DH, s.same);
  pointwise.W = conv_reference_length(s.W, s.KW, s.SW, s.DW, s.same);
  pointwise.C = s.C * depth_multiplier;
  check_groups(pointwise, filters, 1);
  check_size("pointwise_kernel", pointwise_kernel, pointwise.C * filters);
  check_bias(bias, filters);
  return conv2d_vector<double>(pointwise, mid, pointwise_kernel, bias, filters, 1);
}

std::vector<double> conv2d_transpose_reference(const ConvReferenceShape& s, std::span<const float> x,
                                               std::span<const float> kernel, std::span<const float> bias,
                                               int64_t filters, int64_t output_padding_h, int64_t output_padding_w) {
  check_groups(s, filters, 1);
  check_size("x", x, s.N * s.H * s.W * s.C);
  check_size("kernel", kernel, s.KH * s.KW * filters * s.C);
  check_bias(bias, filters);
  const int64_t OH = conv_transpose_reference_length(s.H, s.KH, s.SH, s.DH, s.same, output_padding_h);
  const int64_t OW = conv_transpose_reference_length(s.W, s.KW, s.SW, s.DW, s.same, output_padding_w);
  // The forward conv this one is the adjoint of maps OH x OW back to H x W.
  const int64_t pad_top = pad_before(OH, s.H, s.KH, s.SH, s.DH, s.same);
  const int64_t pad_left = pad_before(OW, s.W, s.KW, s.SW, s.DW, s.same);
  std::vector<double> y(static_cast<size_t>(s.N * OH * OW * filters), 0.0);
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t w = 0; w < s.W; ++w)
        for (int64_t c = 0; c < s.C; ++c) {
          const double v = x[((n * s.H + h) * s.W + w) * s.C + c];
          for (int64_t kh = 0; kh < s.KH; ++kh)
            for (int64_t kw = 0; kw < s.KW; ++kw) {
              const int64_t oh = h * s.SH - pad_top + kh * s.DH, ow = w * s.SW - pad_left + kw * s.DW;
              if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;  // lands in the cropped padding
              for (int64_t f = 0; f < filters; ++f)
                y[((n * OH + oh) * OW + ow) * filters + f] += v * kernel[((kh * s.KW + kw) * filters + f) * s.C + c];
            }
        }
  if (!bias.empty())
    for (size_t i = 0; i < y.size(); ++i) y[i] += bias[i % filters];
  return y;
}

}  // namespace minidl::ops
