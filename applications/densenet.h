// applications/densenet.h — DenseNet121, DenseNet169, DenseNet201 (keras.applications.densenet),
// built as Keras 3 builds them.
//
//   Model m = applications::DenseNet121({.input_shape = Shape{32, 32, 3}, .classes = 10});
//   Tensor x = applications::densenet::preprocess_input(images);   // torch: [0, 1], ImageNet mean and std
//
// Stem (unnamed ZeroPadding2D -> conv1_conv 7x7/2 -> conv1_bn -> conv1_relu -> unnamed
// ZeroPadding2D -> pool1), dense blocks conv2..conv5 of conv blocks (conv{S}_block{B}_0_bn ...
// _2_conv, _concat) with transition blocks pool2..pool4 between them, then bn -> relu; with
// include_top GlobalAveragePooling2D "avg_pool" -> Dense "predictions". Default input
// 224x224x3, at least 32x32; model names "densenet121", "densenet169", "densenet201".
#pragma once

#include <array>

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

Model DenseNet121(const ApplicationOptions& options = {});
Model DenseNet169(const ApplicationOptions& options = {});
Model DenseNet201(const ApplicationOptions& options = {});

namespace densenet {

// keras.applications.densenet.preprocess_input: mode "torch".
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");

// Keras's densenet.DenseNet(blocks, ...): conv blocks per dense block; default_name names the
// model when options.name is "".
Model DenseNet(const std::array<int, 4>& blocks, const ApplicationOptions& options, const std::string& default_name,
               const std::string& architecture);

}  // namespace densenet
}  // namespace minidl::applications
