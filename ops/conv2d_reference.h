// ops/conv2d_reference.h — the plain definition of the Keras 2-D convolutions,
// as naive loops in double precision: what ops/conv2d, ops/winograd and
// ops/conv2d_direct compute fast, and what the tests compare them with.
//
// Nothing here is tiled, unfolded, multiplied by BLAS or threaded; every sum is
// accumulated in double. Read it to learn what a convolution is; call it to
// check a fast kernel. It is far too slow for anything else.
//
// Layouts are Keras's (channels_last; a channels_first tensor is transposed
// before and after):
//   x       [N, H, W, C]             input
//   kernel  [KH, KW, C/G, F]         Conv2D kernel (HWIO); G = groups
//   bias    [F]                      an empty span means no bias
//   y, dy   [N, OH, OW, F]           output and its gradient
//
// Conv2D, with CG = C/G input and FG = F/G output channels per group and
// g = f / FG the group of filter f:
//   y[n, oh, ow, f] = bias[f] + sum over kh < KH, kw < KW, c < CG of
//       x[n, oh*SH - pad_top + kh*DH, ow*SW - pad_left + kw*DW, g*CG + c] * kernel[kh, kw, c, f]
// where a tap outside the image reads zero.
//
// Padding and output length of one axis (Keras conv_output_length, TensorFlow's
// padding rule), for input length in, kernel k, stride s, dilation d:
//   the dilated kernel spans kd = (k - 1)*d + 1 positions;
//   "valid": out = ceil((in - kd + 1) / s) (0 when the kernel does not fit), no padding;
//   "same":  out = ceil(in / s), total padding max((out - 1)*s + kd - in, 0),
//            of which the smaller half goes before (top, left), the rest after.
//
// The other convolutions are defined through the same loops:
//   DepthwiseConv2D  depthwise_kernel [KH, KW, C, DM]: each input channel c is
//                    convolved alone with its DM filters, giving output channels
//                    c*DM + m. This is Conv2D with G = C and F = C*DM: the
//                    depthwise kernel read as [KH, KW, 1, C*DM] is the same memory.
//   SeparableConv2D  the depthwise step (no bias) then a 1x1 Conv2D with
//                    pointwise_kernel [1, 1, C*DM, F] and the bias; the middle
//                    result stays in double.
//   Conv2DTranspose  kernel [KH, KW, F, C]: the adjoint of Conv2D. Each input
//                    pixel (h, w) scatters x[n, h, w, c] * kernel[kh, kw, f, c]
//                    onto output pixel (h*SH - pad_top + kh*DH, w*SW - pad_left + kw*DW),
//                    where the pads are those of the forward Conv2D that maps
//                    the output size back to the input size. Output length:
//                    Keras deconv_output_length (see conv_transpose_reference_length).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ops/im2col.h"

namespace minidl::ops {

// Sizes of one convolution: the input and the kernel window, with Keras's
// strides, dilation_rate and padding. Dilation and strides are both allowed
// here (Keras refuses both > 1 in one layer; the definition does not care).
struct ConvReferenceShape {
  int64_t N = 1, H = 1, W = 1, C = 1;  // input [N, H, W, C]
  int64_t KH = 1, KW = 1;              // kernel_size
  int64_t SH = 1, SW = 1;              // strides
  int64_t DH = 1, DW = 1;              // dilation_rate
  bool same = false;                   // padding: "same" (true) or "valid"
};

// Output length of one axis of a convolution (Keras conv_output_length).
int64_t conv_reference_length(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same);

// Padding before the first row or column of one axis: "same" puts the smaller
// half of the total padding there; "valid" pads nothing.
int64_t conv_reference_pad_before(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same);

// Output length of one axis of a transposed convolution (Keras
// deconv_output_length), kd = (k - 1)*d + 1:
//   no output_padding (-1):  "valid": in*s + max(kd - s, 0);  "same": in*s
//   output_padding p >= 0:   (in - 1)*s + kd - 2*pad + p, pad = kd/2 for "same", 0 for "valid"
int64_t conv_transpose_reference_length(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same,
                                        int64_t output_padding = -1);

// Conv2D: y [N, OH, OW, filters] from x [N, H, W, C], kernel [KH, KW, C/groups,
// filters] and bias [filters] (or empty). Throws ValueError when groups does
// not divide C and filters, or a span's size does not match.
std::vector<double> conv2d_reference(const ConvReferenceShape& s, std::span<const float> x,
                                     std::span<const float> kernel, std::span<const float> bias, int64_t filters,
                                     int64_t groups = 1);

// The gradients of L = sum(y * dy) for y = conv2d_reference(...), each the sum
// of the products the forward formula pairs up: dx [N, H, W, C], dkernel
// [KH, KW, C/groups, filters], dbias [filters] (the sum of dy per filter).
struct Conv2DReferenceGradients {
  std::vector<double> dx, dkernel, dbias;
};
Conv2DReferenceGradients conv2d_reference_backward(const ConvReferenceShape& s, std::span<const float> x,
                                                   std::span<const float> kernel, std::span<const float> dy,
                                                   int64_t filters, int64_t groups = 1);

// ConvAlgorithm::kReference, which ops/conv2d.cpp runs and rounds to float:
// the same Conv2D loops on a geometry of ops/im2col.h, whose output size and
// padding are taken as given (a transposed convolution's need not be "same" or
// "valid"). x [N, H, W, C], kernel [KH, KW, C/groups, OC], bias [OC] or null;
// y [N, OH, OW, OC]; dy, dx, dkernel, dbias as in conv2d_reference_backward.
// Every output is overwritten; a null one is not computed (x is read only for
// dkernel, kernel only for dx). Sizes are not checked: the caller validates g.
void conv2d_reference_forward(const Conv2DGeometry& g, int64_t groups, int64_t OC, const float* x,
                              const float* kernel, const float* bias, double* y);
void conv2d_reference_backward(const Conv2DGeometry& g, int64_t groups, int64_t OC, const float* x,
                               const float* kernel, const float* dy, double* dx, double* dkernel, double* dbias);

// DepthwiseConv2D: y [N, OH, OW, C*depth_multiplier] from depthwise_kernel
// [KH, KW, C, depth_multiplier] and bias [C*depth_multiplier] (or empty).
std::vector<double> depthwise_conv2d_reference(const ConvReferenceShape& s, std::span<const float> x,
                                               std::span<const float> depthwise_kernel, std::span<const float> bias,
                                               int64_t depth_multiplier);

// SeparableConv2D: the depthwise step, then pointwise_kernel [1, 1,
// C*depth_multiplier, filters] and bias [filters] (or empty); y [N, OH, OW, filters].
std::vector<double> separable_conv2d_reference(const ConvReferenceShape& s, std::span<const float> x,
                                               std::span<const float> depthwise_kernel,
                                               std::span<const float> pointwise_kernel, std::span<const float> bias,
                                               int64_t depth_multiplier, int64_t filters);

// Conv2DTranspose: y [N, OH, OW, filters] from kernel [KH, KW, filters, C] and
// bias [filters] (or empty), with OH, OW from conv_transpose_reference_length
// (output_padding -1 per axis: None).
std::vector<double> conv2d_transpose_reference(const ConvReferenceShape& s, std::span<const float> x,
                                               std::span<const float> kernel, std::span<const float> bias,
                                               int64_t filters, int64_t output_padding_h = -1,
                                               int64_t output_padding_w = -1);

}  // namespace minidl::ops
