// tests/support/conv_layer_cases.h — cases for the conv layer tests (Conv2D,
// DepthwiseConv2D, SeparableConv2D, Conv2DTranspose), the built Conv2D layer of
// a case, and their expected values from ops/conv2d_reference.h, in either data format.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/conv/conv2d.h"
#include "ops/conv2d_reference.h"
#include "support/indices.h"
#include "support/tensors.h"

namespace minidl::testing {

// One layer case: input (N, H, W, C) in the given data format, depth multiplier
// DM, F filters, kernel KH x KW, strides, dilation, groups, padding.
struct ConvLayerCase {
  int64_t N = 1, H = 1, W = 1, C = 1, DM = 1, F = 1;
  int64_t KH = 1, KW = 1, SH = 1, SW = 1, DH = 1, DW = 1, G = 1;
  bool same = false, channels_first = false;
  int64_t OPH = -1, OPW = -1;  // Conv2DTranspose output_padding; -1 = None
  bool use_bias = true;
  std::string activation = "linear";

  ops::ConvReferenceShape reference_shape() const { return {N, H, W, C, KH, KW, SH, SW, DH, DW, same}; }
  Shape input_shape() const { return layout_shape(channels_first, N, H, W, C); }
  // The input shape with an unknown batch, for building a layer.
  Shape build_shape() const { return layout_shape(channels_first, kNone, H, W, C); }
  // Output shape of the forward convolutions with `channels` output channels.
  Shape conv_output_shape(int64_t channels) const {
    return layout_shape(channels_first, N, ops::conv_reference_length(H, KH, SH, DH, same),
                        ops::conv_reference_length(W, KW, SW, DW, same), channels);
  }
  Shape transpose_output_shape() const {
    return layout_shape(channels_first, N, ops::conv_transpose_reference_length(H, KH, SH, DH, same, OPH),
                        ops::conv_transpose_reference_length(W, KW, SW, DW, same, OPW), F);
  }
};

// The Conv2D layer of case c (filters F, its kernel, strides, dilation, groups,
// padding, data format, activation and bias), built for c's input; weights as
// the initializers drew them.
inline std::shared_ptr<Conv2DImpl> make_conv2d_layer(const ConvLayerCase& c) {
  auto layer = std::make_shared<Conv2DImpl>(
      c.F, IntPair{c.KH, c.KW},
      Conv2DOptions{.strides = IntPair{c.SH, c.SW},
                    .padding = c.same ? "same" : "valid",
                    .data_format = c.channels_first ? "channels_first" : "channels_last",
                    .dilation_rate = IntPair{c.DH, c.DW},
                    .groups = c.G,
                    .activation = c.activation,
                    .use_bias = c.use_bias});
  layer->maybe_build({c.build_shape()});
  return layer;
}

// x's values in channels_last order (x is in the case's data format).
inline std::vector<float> channels_last_values(const ConvLayerCase& c, const Tensor& x) {
  const Shape& s = x.shape();
  const int64_t h = c.channels_first ? s[2] : s[1], w = c.channels_first ? s[3] : s[2],
                ch = c.channels_first ? s[1] : s[3];
  std::vector<float> out(static_cast<size_t>(x.numel()));
  size_t at = 0;
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j)
        for (int64_t k = 0; k < ch; ++k) out[at++] = x[index4(s, c.channels_first, n, i, j, k)];
  return out;
}

// A channels_last result of `shape` (in the case's data format) reordered into that format.
inline std::vector<double> in_case_layout(const ConvLayerCase& c, const Shape& shape, const std::vector<double>& y) {
  if (!c.channels_first) return y;
  std::vector<double> out(y.size());
  size_t at = 0;
  for (int64_t n = 0; n < shape[0]; ++n)
    for (int64_t i = 0; i < shape[2]; ++i)
      for (int64_t j = 0; j < shape[3]; ++j)
        for (int64_t k = 0; k < shape[1]; ++k) out[static_cast<size_t>(index4(shape, true, n, i, j, k))] = y[at++];
  return out;
}

inline std::span<const float> bias_values(const Tensor& bias) {
  return bias.defined() ? bias.span() : std::span<const float>();
}

// Conv2D's output (before its activation) in the case's layout, as doubles;
// kernel [KH, KW, C/G, F], bias [F] or undefined.
inline std::vector<double> conv2d_expected(const ConvLayerCase& c, const Tensor& x, const Tensor& kernel,
                                           const Tensor& bias) {
  return in_case_layout(c, c.conv_output_shape(c.F),
                        ops::conv2d_reference(c.reference_shape(), channels_last_values(c, x), kernel.span(),
                                              bias_values(bias), c.F, c.G));
}

// DepthwiseConv2D's output (linear): depthwise kernel [KH, KW, C, DM], bias [C*DM] or undefined.
inline Tensor depthwise_conv2d_expected(const ConvLayerCase& c, const Tensor& x, const Tensor& kernel,
                                        const Tensor& bias) {
  const Shape ys = c.conv_output_shape(c.C * c.DM);
  return to_tensor(ys, in_case_layout(c, ys,
                                      ops::depthwise_conv2d_reference(c.reference_shape(), channels_last_values(c, x),
                                                                      kernel.span(), bias_values(bias), c.DM)));
}

// SeparableConv2D's output (linear): depthwise kernel [KH, KW, C, DM],
// pointwise kernel [1, 1, C*DM, F], bias [F] or undefined.
inline Tensor separable_conv2d_expected(const ConvLayerCase& c, const Tensor& x, const Tensor& depthwise_kernel,
                                        const Tensor& pointwise_kernel, const Tensor& bias) {
  const Shape ys = c.conv_output_shape(c.F);
  return to_tensor(ys, in_case_layout(c, ys,
                                      ops::separable_conv2d_reference(
                                          c.reference_shape(), channels_last_values(c, x), depthwise_kernel.span(),
                                          pointwise_kernel.span(), bias_values(bias), c.DM, c.F)));
}

// Conv2DTranspose's output (linear): kernel [KH, KW, F, C], bias [F] or undefined.
inline Tensor conv2d_transpose_expected(const ConvLayerCase& c, const Tensor& x, const Tensor& kernel,
                                        const Tensor& bias) {
  const Shape ys = c.transpose_output_shape();
  return to_tensor(ys, in_case_layout(c, ys,
                                      ops::conv2d_transpose_reference(c.reference_shape(), channels_last_values(c, x),
                                                                      kernel.span(), bias_values(bias), c.F, c.OPH,
                                                                      c.OPW)));
}

}  // namespace minidl::testing
