// applications/resnet_v2.h — ResNet50V2, ResNet101V2, ResNet152V2 (keras.applications.resnet_v2),
// built as Keras 3 builds them: pre-activation bottleneck blocks (resnet.h's
// stack_residual_blocks_v2), post_bn -> post_relu, then the top as in ResNet.
//
//   Model m = applications::ResNet50V2({.include_top = false, .pooling = "avg"});
//   Tensor x = applications::resnet_v2::preprocess_input(images);   // [0, 255] -> [-1, 1]
//
// Default input 224x224x3, at least 32x32; model names "resnet50v2", "resnet101v2", "resnet152v2".
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

Model ResNet50V2(const ApplicationOptions& options = {});
Model ResNet101V2(const ApplicationOptions& options = {});
Model ResNet152V2(const ApplicationOptions& options = {});

namespace resnet_v2 {
// keras.applications.resnet_v2.preprocess_input: mode "tf".
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace resnet_v2

}  // namespace minidl::applications
