// ops/image_transform.h — projective transform of one image (height x width x channels, row-major),
// as keras.ops.image.affine_transform computes it on the TensorFlow backend
// (tf.raw_ops.ImageProjectiveTransformV3, output size = input size).
//
// A transform is 8 numbers [a0, a1, a2, b0, b1, b2, c0, c1]. Output pixel
// (row y, column x) samples the input at
//     k   = c0 * x + c1 * y + 1
//     x'  = (a0 * x + a1 * y + a2) / k
//     y'  = (b0 * x + b1 * y + b2) / k
// (k == 0 gives fill_value). The identity is [1, 0, 0, 0, 1, 0, 0, 0]; a shift
// of the picture right by tx and down by ty is [1, 0, -tx, 0, 1, -ty, 0, 0].
//
// Each sample coordinate is first mapped into the image by the fill mode
// (n the axis length, applied to x' and y' separately):
//   Reflect   d c b a | a b c d | d c b a   (the edge pixel is repeated)
//   Wrap      a b c d | a b c d | a b c d   (the plain period; see image_transform.cpp)
//   Nearest   a a a a | a b c d | d d d d
//   Constant  k k k k | a b c d | k k k k   (k = fill_value)
// A mapped coordinate is clamped to [0, n - 1], as TensorFlow clamps it (with
// Wrap, a sample between the last pixel and the wrapped first one reads the
// last pixel). The coordinate is then read by the interpolation: Nearest
// rounds half away from zero; Bilinear blends the four neighbours floor and
// floor + 1 with weights (floor + 1 - v) and (v - floor). A neighbour outside
// the image reads fill_value (with the non-constant modes only a neighbour of
// weight 0 can be outside).
// Interpolation::Bicubic and Area are not accepted (Keras's affine_transform
// offers nearest and bilinear only): ValueError.
#pragma once

#include <array>
#include <cstdint>

#include "ops/image_resize.h"

namespace minidl::ops {

enum class FillMode { Reflect, Wrap, Constant, Nearest };

using ProjectiveTransform = std::array<float, 8>;

// The coordinate `v` mapped into [0, n - 1] by `mode` (Constant returns v unchanged).
float map_fill_coordinate(float v, int64_t n, FillMode mode);

// src: H x W x C floats; dst: H x W x C floats (must not alias src).
// ValueError for an interpolation other than Nearest and Bilinear.
void transform_image(const float* src, int64_t H, int64_t W, int64_t C, float* dst,
                     const ProjectiveTransform& transform, Interpolation interpolation, FillMode fill_mode,
                     float fill_value);

}  // namespace minidl::ops
