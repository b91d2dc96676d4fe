// tools/image_folder_arg.h — `--x DIR`: a folder of images as the input of `minidl fit` and
// `minidl predict`, read with image_dataset_from_directory (io/image_dataset.h).
//
//   minidl fit model.h5 --x photos/ --loss sparse_categorical_crossentropy --optimizer adam --lr 1e-3 --save out.h5
//   minidl predict model.h5 --x photos/ --output pred.h5:y --files order.txt
//
// Unless given, the image size and colour mode come from the model's input
// shape (None, H, W, C): image_size (H, W), and C = 1, 3, 4 for grayscale, rgb,
// rgba. fit's label mode follows the loss: categorical for
// categorical_crossentropy, binary for binary_crossentropy, int otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "io/image_dataset.h"
#include "tools/commands.h"

namespace minidl::cli {

struct ImageFolderArgs {
  std::string image_size;  // "H,W"; empty: from the model
  std::string color_mode;  // empty: from the model
  std::string interpolation = "bilinear";
  bool crop_to_aspect_ratio = false, pad_to_aspect_ratio = false;
  std::optional<int64_t> seed;
  double validation_split = 0;  // fit only
  int threads = 1;
};

// The folder options shared by fit and predict (fit adds --validation-split itself).
void add_image_folder_options(CLI::App& sub, ImageFolderArgs& args);

// True when `x` names an existing directory.
bool is_image_folder(const std::string& x);

// image_dataset_from_directory's options for `model` from the arguments; a
// model input that is not (None, H, W, C) with C in {1, 3, 4} is a UsageError
// unless --image-size and --color-mode say what to read.
ImageDatasetOptions image_folder_options(const ImageFolderArgs& args, const ModelImpl& model, int64_t batch_size);

}  // namespace minidl::cli
