// ops/image_resize.h — resizing one image (height x width x channels, row-major), as tf.image.resize does.
//
// The sampling follows TensorFlow's resize with antialias off, which is what
// Keras's Resizing layer and image_dataset_from_directory call:
//   - Bilinear: half-pixel centres. Output pixel (oy, ox) samples the input at
//     y = (oy + 0.5) * H / OH - 0.5 (likewise x), clamped to the image, and
//     blends the four neighbours.
//   - Nearest: half-pixel centres, index floor((oy + 0.5) * H / OH) clamped to H - 1.
// Other Keras interpolation names ("bicubic", "area", "lanczos3", "lanczos5",
// "gaussian", "mitchellcubic") are either implemented here or rejected with a
// ValueError naming the method by parse_interpolation.
#pragma once

#include <cstdint>
#include <string>

namespace minidl::ops {

enum class Interpolation { Nearest, Bilinear, Bicubic, Area };

// Keras's spelling -> enum; throws ValueError naming the argument and the accepted values.
Interpolation parse_interpolation(const std::string& name);
const char* interpolation_name(Interpolation interpolation);

// src: H x W x C floats; dst: OH x OW x C floats (must not alias src).
void resize_image(const float* src, int64_t H, int64_t W, int64_t C, float* dst, int64_t OH, int64_t OW,
                  Interpolation interpolation);

}  // namespace minidl::ops
