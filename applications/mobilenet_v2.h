// applications/mobilenet_v2.h — MobileNetV2 (keras.applications.mobilenet_v2), built as Keras 3 builds it.
//
//   Model m = applications::MobileNetV2({.input_shape = Shape{96, 96, 3}, .classes = 10}, {.alpha = 0.35});
//   Tensor x = applications::mobilenet_v2::preprocess_input(images);   // [0, 255] -> [-1, 1]
//
// Keras's layers, names and arguments: Conv1 + 17 inverted residual blocks (expanded_conv_*,
// block_N_expand / _depthwise / _project with BatchNormalization(momentum 0.999) and ReLU(6), an
// Add "block_N_add" where shapes allow), Conv_1 with 1280 filters (more for alpha > 1), out_relu;
// with include_top GlobalAveragePooling2D -> Dense "predictions". Default input 224x224x3, at
// least 32x32; model name "mobilenetv2_{alpha:.2f}_{rows}".
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

// MobileNetV2's own argument, Keras's name and default.
struct MobileNetV2Options {
  double alpha = 1.0;  // width multiplier
};

Model MobileNetV2(const ApplicationOptions& options = {}, const MobileNetV2Options& mobilenet_v2 = {});

namespace mobilenet_v2 {
// keras.applications.mobilenet_v2.preprocess_input: mode "tf", pixels in [0, 255] to [-1, 1].
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace mobilenet_v2

}  // namespace minidl::applications
