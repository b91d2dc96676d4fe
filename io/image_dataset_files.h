// io/image_dataset_files.h — writing image files: how a program (or a test) makes its own image folder.
//
// image_dataset_from_directory reads folders of PNG, JPEG, BMP and GIF files;
// save_image writes one, the format chosen by the file's suffix:
//
//   save_image("shapes/circle/0001.png", pixels, 28, 28, 1);   // H x W x C floats in [0, 255]
//
// Values are clipped to [0, 255] and rounded. PNG and BMP keep them exactly;
// JPEG is lossy (quality 95 by default); GIF stores at most 256 colours: an
// image with more is quantized by giflib (gray images always fit). GIF and
// JPEG have no alpha channel: a 4-channel image loses it there.
// The write is atomic (a temporary beside the target, then a rename); an
// unwritable path or an unknown suffix raises IOError / ValueError naming it.
#pragma once

#include <cstdint>
#include <string>

namespace minidl {

struct SaveImageOptions {
  int jpeg_quality = 95;  // 1..100
};

// pixels: height x width x channels (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA), row-major.
void save_image(const std::string& path, const float* pixels, int64_t height, int64_t width, int64_t channels,
                const SaveImageOptions& options = {});

}  // namespace minidl
