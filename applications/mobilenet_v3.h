// applications/mobilenet_v3.h — MobileNetV3Small and MobileNetV3Large (keras.applications.mobilenet_v3),
// built as Keras 3 builds them.
//
//   Model s = applications::MobileNetV3Small({.input_shape = Shape{96, 96, 3}, .classes = 10});
//   Model l = applications::MobileNetV3Large({}, {.alpha = 0.75, .minimalistic = true});
//
// Keras's layers, names and arguments: Rescaling (pixels in [0, 255] to [-1, 1], with
// include_preprocessing), the stem "conv" (stride 2), inverted residual blocks "expanded_conv_N_*"
// (expand, depthwise, squeeze-excite, project; an Add where shapes allow), "conv_1", and with
// include_top GlobalAveragePooling2D(keepdims) -> "conv_2" -> Dropout -> 1x1 Conv2D "logits" ->
// Flatten -> Activation "predictions". hard_swish is Activation("hard_silu") (Keras 3's name for it);
// hard_sigmoid is written with operations, ReLU(6)(x + 3) * (1 / 6), which Keras 3 records as
// keras.src.ops.numpy Add and Multiply layers (layers/merge/operation_layers.h).
// The default input is (None, None, 3): any size of at least 32x32. Model names "MobileNetV3Small"
// and "MobileNetV3Large". ValueError for bad arguments (imagenet_utils.h, and Keras's
// "Input size must be at least 32x32; Received `input_shape=(16, 16, 3)`").
#pragma once

#include "applications/application_options.h"

namespace minidl::applications {

// The arguments MobileNetV3Small and MobileNetV3Large add, Keras's names and defaults.
struct MobileNetV3Options {
  double alpha = 1.0;                 // width multiplier of the blocks' filters
  bool minimalistic = false;          // 3x3 kernels, ReLU, no squeeze-excite
  double dropout_rate = 0.2;          // of the Dropout before "logits"; 0 leaves it out
  bool include_preprocessing = true;  // the Rescaling layer first
};
using MobileNetV3SmallOptions = MobileNetV3Options;
using MobileNetV3LargeOptions = MobileNetV3Options;

Model MobileNetV3Small(const ApplicationOptions& options = {}, const MobileNetV3SmallOptions& v3 = {});
Model MobileNetV3Large(const ApplicationOptions& options = {}, const MobileNetV3LargeOptions& v3 = {});

}  // namespace minidl::applications
