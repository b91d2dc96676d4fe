// ops/spatial.h — kernels that move image data without arithmetic on it beyond
// interpolation: zero padding, cropping, nearest and bilinear upsampling, and
// concatenation along an axis (with its adjoint, the slice along an axis).
//
// The 2-D kernels take and return a 4-D tensor read as [B, H, W, C] (NHWC).
// A channels_first tensor [N, C, H, W] is passed as its [N*C, H, W, 1] view
// (each channel plane is an image of one channel), so one kernel serves both
// layouts without a transpose. Zero padding and cropping are each other's
// adjoint, so each serves as the other's backward. Every function allocates
// its result; the 2-D kernels assume valid arguments (layers check them and
// raise first), concat and slice_axis check theirs.
//
//   Tensor y = ops::zero_pad2d(x, 1, 1, 2, 2);   // [B, H+2, W+4, C]
//   Tensor z = ops::concat({{a, b}}, -1);        // [..., Ca + Cb]
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace minidl::ops {

// [B, H, W, C] -> [B, top + H + bottom, left + W + right, C], zeros around.
Tensor zero_pad2d(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right);

// [B, H, W, C] -> [B, H - top - bottom, W - left - right, C], the inner block.
Tensor crop2d(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right);

// Nearest-neighbour upsampling by integer factors: y[b, i, j, c] = x[b, i / SH, j / SW, c].
Tensor upsample_nearest2d(const Tensor& x, int64_t SH, int64_t SW);
// dx[b, h, w, c] = sum of dy over the SH x SW block that copies x[b, h, w, c].
Tensor upsample_nearest2d_backward(const Tensor& dy, int64_t SH, int64_t SW);

// Bilinear resize to [B, OH, OW, C] with TensorFlow's resize v2 rule
// (half-pixel centres, no antialiasing, as tf.image.resize(method="bilinear")):
// source coordinate (o + 0.5) * (in / out) - 0.5, neighbours clamped to the image.
Tensor resize_bilinear2d(const Tensor& x, int64_t OH, int64_t OW);
// The adjoint: spreads dy[B, OH, OW, C] back onto [B, H, W, C] with the same weights.
Tensor resize_bilinear2d_backward(const Tensor& dy, int64_t H, int64_t W);

// The tensors xs joined along `axis` (negative counts from the end): every
// input has the rank and, except on axis, the shape of xs[0]; the result's
// axis is the sum of theirs. ValueError for no input, a rank-0 input, an axis
// out of range, or a shape that does not match xs[0] off the axis.
Tensor concat(std::span<const Tensor> xs, int axis);

// x[..., begin : begin + length, ...] along `axis` (negative counts from the
// end): the part of a concatenation that one input contributed, so the
// adjoint of concat. ValueError unless 0 <= begin <= begin + length <= the axis' size.
Tensor slice_axis(const Tensor& x, int axis, int64_t begin, int64_t length);

}  // namespace minidl::ops
