// train/image_set.h — a small labelled image set made in code, for fitting image models without downloads.
//
// Transfer learning needs pictures of a few classes that a convolutional base
// can tell apart. make_image_set draws them: each image is a two-colour
// pattern of one of four kinds (horizontal stripes, vertical stripes, a disc,
// a checkerboard) with random colours, period, phase, position and pixel
// noise. The set is the same for the same options on every machine: it uses
// its own generator (SplitMix64), not the global seed of core/random.h.
//
//   ImageSet train = make_image_set({.samples = 256, .height = 96, .width = 64, .seed = 1});
//   model->fit(train.x, train.y, {.epochs = 2});   // y: sparse class ids
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace minidl {

// The classes, in label order.
inline constexpr std::array<const char*, 4> kImageSetClasses = {"horizontal_stripes", "vertical_stripes", "disc",
                                                                "checkerboard"};

struct ImageSetOptions {
  int64_t samples = 256;
  int64_t height = 32;
  int64_t width = 32;
  uint64_t seed = 0;
};

struct ImageSet {
  Tensor x;  // [samples, height, width, 3], channels last, values in [0, 1]
  Tensor y;  // [samples], class ids 0..3 as floats; sample i has class i % 4
};

// Draws the set. Every class has the same number of samples (up to one) and
// the classes take turns, so any leading part of the set is balanced too.
// ValueError when samples is negative or height or width is below 4.
ImageSet make_image_set(const ImageSetOptions& options = {});

}  // namespace minidl
