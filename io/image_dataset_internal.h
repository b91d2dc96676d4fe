// io/image_dataset_internal.h — what io/image_dataset.cpp (indexing, options) and
// io/image_dataset_stream.cpp (decoding, batching, threads) share; private to them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/image_dataset.h"
#include "io/image_decode.h"
#include "ops/image_resize.h"

namespace minidl {

// What every image of a dataset becomes, fixed when the dataset is made.
struct ImageDataset::Spec {
  int64_t height = 0, width = 0, channels = 0;
  ColorMode color = ColorMode::RGB;
  ops::Interpolation interpolation = ops::Interpolation::Bilinear;
  bool crop_to_aspect_ratio = false, pad_to_aspect_ratio = false;
  std::string label_mode;  // "int" | "categorical" | "binary" | ""
  int64_t num_classes = 0;
  int64_t batch_size = 32;
  int num_threads = 1, prefetch_batches = 2;
};

namespace image_dataset_detail {

// Per-thread buffers reused from image to image.
struct Scratch {
  DecodedImage image;
  std::vector<float> window;   // the cropped window (crop_to_aspect_ratio)
  std::vector<float> resized;  // the image before padding (pad_to_aspect_ratio)
};

// Decodes `path` and writes its H x W x C result (resized, cropped or padded
// as the spec says) to dst.
void load_image(const std::string& path, const ImageDataset::Spec& spec, Scratch& scratch, float* dst);

// x [n, H, W, C] and y (per the label mode; undefined without labels) for the
// files paths[order[first + i]], i < n.
void load_batch(const std::vector<std::string>& paths, const std::vector<int>& labels,
                const std::vector<int64_t>& order, int64_t first, int64_t n, const ImageDataset::Spec& spec,
                Scratch& scratch, Tensor& x, Tensor& y);

}  // namespace image_dataset_detail
}  // namespace minidl
