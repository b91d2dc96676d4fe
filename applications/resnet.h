// applications/resnet.h — ResNet50, ResNet101, ResNet152 (keras.applications.resnet), built as
// Keras 3 builds them, and the module's building blocks, which ResNetV2 (resnet_v2.h) shares.
//
//   Model m = applications::ResNet50({.input_shape = Shape{64, 64, 3}, .classes = 10});
//   Tensor x = applications::resnet::preprocess_input(images);   // caffe: BGR, minus the ImageNet mean
//
// conv1_pad -> conv1_conv (7x7/2) -> [conv1_bn -> conv1_relu] -> pool1_pad -> pool1_pool, the
// stacks conv2..conv5 of bottleneck blocks (conv{S}_block{B}_{0..3}_conv/_bn, _add, _out), then
// with include_top GlobalAveragePooling2D "avg_pool" -> Dense "predictions". Default input
// 224x224x3, at least 32x32; model names "resnet50", "resnet101", "resnet152".
#pragma once

#include <functional>
#include <string>

#include "applications/application_options.h"
#include "core/tensor.h"
#include "layers/base/keras_tensor.h"

namespace minidl::applications {

Model ResNet50(const ApplicationOptions& options = {});
Model ResNet101(const ApplicationOptions& options = {});
Model ResNet152(const ApplicationOptions& options = {});

namespace resnet {

// keras.applications.resnet.preprocess_input: mode "caffe".
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");

// Keras's resnet.ResNet(stack_fn, preact, use_bias, ...): the stem, stack_fn's blocks, the
// post-activation (preact) and the top. default_name names the model when options.name is "";
// architecture names the caller in argument errors.
Model ResNet(const std::function<KerasTensor(const KerasTensor&)>& stack_fn, bool preact, bool use_bias,
             const ApplicationOptions& options, const std::string& default_name, const std::string& architecture);

// Keras's stack_residual_blocks_v1 (ResNet): `blocks` bottleneck blocks named
// {name}_block1..., the first with a projection shortcut and stride stride1.
KerasTensor stack_residual_blocks_v1(const KerasTensor& x, int64_t filters, int blocks, int64_t stride1,
                                     const std::string& name);
// Keras's stack_residual_blocks_v2 (ResNetV2, pre-activation): the first block projects,
// the last has stride stride1.
KerasTensor stack_residual_blocks_v2(const KerasTensor& x, int64_t filters, int blocks, int64_t stride1,
                                     const std::string& name);

}  // namespace resnet
}  // namespace minidl::applications
