// layers/reshaping/spatial_kernels.h — internal to layers/: the NHWC kernels behind
// ZeroPadding2D, Cropping2D and UpSampling2D (ops/ has none of these).
//
// Every function takes and returns a 4-D tensor read as [B, H, W, C] (see
// layers/reshaping/spatial_utils.h ImageBlock: a channels_first tensor is passed as its
// [N*C, H, W, 1] view) and allocates its result. Zero padding and cropping
// are each other's adjoint, so each serves as the other's backward.
// Arguments are assumed valid (the layers check them and raise first).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl::detail {

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

}  // namespace minidl::detail
