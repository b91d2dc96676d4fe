// applications/imagenet_utils.h — what the keras.applications architectures share
// (Keras's keras/src/applications/imagenet_utils.py): input preprocessing, the input
// shape rules, the padding before a strided convolution, and the argument checks.
//
//   Tensor x = applications::imagenet_utils::preprocess_input(images, "", "caffe");
//   Shape s = applications::imagenet_utils::obtain_input_shape(std::nullopt, 224, 32, true);  // (224, 224, 3)
//
// The architectures are built channels_last only (the layout minidl computes in);
// check_arguments raises a ValueError when keras.json asks for channels_first.
#pragma once

#include <optional>
#include <string>

#include "applications/application_options.h"
#include "core/shape.h"
#include "core/tensor.h"
#include "layers/base/keras_tensor.h"
#include "layers/reshaping/spatial_utils.h"

namespace minidl::applications::imagenet_utils {

// Keras's preprocess_input(x, data_format=None, mode="caffe") on a batch of images
// (rank 3 or 4, 3 colour channels, values in [0, 255]); returns a new tensor:
//   "caffe": RGB -> BGR, then each channel minus the ImageNet mean (103.939, 116.779, 123.68);
//   "tf":    x / 127.5 - 1 (every value in [-1, 1]);
//   "torch": x / 255, then each channel minus (0.485, 0.456, 0.406) and divided by (0.229, 0.224, 0.225).
// data_format "" is image_data_format(). ValueError with Keras's messages for an unknown mode
// or data_format, and for an input of another rank or without 3 channels where a channel
// operation needs them.
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "", const std::string& mode = "caffe");

// Keras's obtain_input_shape for weights=None and channels_last: the input shape without the
// batch axis. Unset input_shape gives (default_size, default_size, 3) when require_flatten
// (include_top), else (None, None, 3). ValueError with Keras's messages for a shape of another
// rank ("`input_shape` must be a tuple of three integers."), rows or cols below min_size
// ("Input size must be at least 32x32; Received: input_shape=(16, 16, 3)"), and a
// require_flatten shape with an unknown dimension.
Shape obtain_input_shape(const std::optional<Shape>& input_shape, int64_t default_size, int64_t min_size,
                         bool require_flatten);

// Keras's correct_pad(inputs, kernel_size): the ((top, bottom), (left, right)) zero padding
// that makes a stride-2 "valid" convolution of x (channels_last) line up as TensorFlow's
// "same" would; an unknown size pads as an even one would not ((1, 1) adjustment).
Padding2D correct_pad(const KerasTensor& x, int64_t kernel_size);

// The checks every architecture makes first: weights must be "" (Keras's None; minidl
// downloads nothing, so "imagenet" and file paths are refused: load a file with
// model->load_weights instead) and the image data format channels_last. ValueError naming
// the architecture and what was received.
void check_arguments(const ApplicationOptions& options, const std::string& architecture);

// The model's image input, named as Keras 3 names an Input(): "input_layer", "input_layer_1", ...
KerasTensor image_input(const Shape& shape);

// The top of a model built without include_top: GlobalAveragePooling2D for pooling "avg",
// GlobalMaxPooling2D for "max" (named avg_name / max_name, "" for Keras's default names),
// x unchanged for anything else (Keras ignores other values).
KerasTensor pool_features(const KerasTensor& x, const std::string& pooling, const std::string& avg_name = "",
                          const std::string& max_name = "");

// A shape written as Python writes the tuple: (None, None, 3), (10,).
std::string python_tuple(const Shape& shape);

}  // namespace minidl::applications::imagenet_utils
