// applications/mobilenet.h — MobileNet (keras.applications.mobilenet), built as Keras 3 builds it.
//
//   Model m = applications::MobileNet({.input_shape = Shape{128, 128, 3}, .classes = 10}, {.alpha = 0.5});
//   Tensor x = applications::mobilenet::preprocess_input(images);   // [0, 255] -> [-1, 1]
//
// Keras's layers, names and arguments: conv1 (stride 2) + 13 depthwise-separable blocks
// (conv_dw_N, conv_pw_N, each with BatchNormalization and ReLU(6)); with include_top,
// GlobalAveragePooling2D(keepdims) -> Dropout -> 1x1 Conv2D "conv_preds" -> Reshape "reshape_2"
// -> Activation "predictions". Default input 224x224x3, at least 32x32; model name
// "mobilenet_{alpha:.2f}_{rows}". ValueError for bad arguments (imagenet_utils.h).
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

// MobileNet's own arguments, Keras's names and defaults.
struct MobileNetOptions {
  double alpha = 1.0;            // width multiplier: filters of every layer times alpha
  int64_t depth_multiplier = 1;  // of each DepthwiseConv2D
  double dropout = 1e-3;         // rate of the Dropout before the classifier
};

Model MobileNet(const ApplicationOptions& options = {}, const MobileNetOptions& mobilenet = {});

namespace mobilenet {
// keras.applications.mobilenet.preprocess_input: mode "tf", pixels in [0, 255] to [-1, 1].
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace mobilenet

}  // namespace minidl::applications
