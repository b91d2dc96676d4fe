// applications/xception.h — Xception (keras.applications.xception), built as Keras 3 builds it.
//
//   Model m = applications::Xception({.input_shape = Shape{71, 71, 3}, .classes = 10});
//   Tensor x = applications::xception::preprocess_input(images);   // [0, 255] -> [-1, 1]
//
// Entry flow (block1..block4), middle flow (block5..block12, three SeparableConv2D each with an
// identity shortcut), exit flow (block13, block14); strided shortcuts are unnamed 1x1 Conv2D +
// BatchNormalization and the merges unnamed Add layers, as in Keras. With include_top
// GlobalAveragePooling2D "avg_pool" -> Dense "predictions". Default input 299x299x3, at least
// 71x71; model name "xception".
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

Model Xception(const ApplicationOptions& options = {});

namespace xception {
// keras.applications.xception.preprocess_input: mode "tf".
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace xception

}  // namespace minidl::applications
