// applications/resnet.cpp — ResNet and its residual blocks, layer by layer as
// keras/src/applications/resnet.py.
#include "applications/resnet.h"

#include "applications/imagenet_utils.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/pooling/pooling2d.h"
#include "layers/reshaping/zero_padding2d.h"

namespace minidl::applications {
namespace {

// BatchNormalization as every ResNet block makes it (axis 3, epsilon 1.001e-5).
KerasTensor bn(const KerasTensor& x, const std::string& name) {
  return BatchNormalization({.axis = 3, .epsilon = 1.001e-5, .name = name})(x);
}

KerasTensor relu(const KerasTensor& x, const std::string& name) { return ActivationLayer("relu", {.name = name})(x); }

KerasTensor residual_block_v1(const KerasTensor& in, int64_t filters, int64_t stride, bool conv_shortcut,
                              const std::string& name) {
  KerasTensor shortcut = in;
  if (conv_shortcut) {
    shortcut = Conv2D(4 * filters, 1, {.strides = stride, .name = name + "_0_conv"})(in);
    shortcut = bn(shortcut, name + "_0_bn");
  }
  KerasTensor x = Conv2D(filters, 1, {.strides = stride, .name = name + "_1_conv"})(in);
  x = relu(bn(x, name + "_1_bn"), name + "_1_relu");
  x = Conv2D(filters, 3, {.padding = "same", .name = name + "_2_conv"})(x);
  x = relu(bn(x, name + "_2_bn"), name + "_2_relu");
  x = Conv2D(4 * filters, 1, {.name = name + "_3_conv"})(x);
  x = bn(x, name + "_3_bn");
  x = Add({.name = name + "_add"})({shortcut, x});
  return relu(x, name + "_out");
}

KerasTensor residual_block_v2(const KerasTensor& in, int64_t filters, int64_t stride, bool conv_shortcut,
                              const std::string& name) {
  KerasTensor preact = relu(bn(in, name + "_preact_bn"), name + "_preact_relu");
  KerasTensor shortcut = in;
  if (conv_shortcut)
    shortcut = Conv2D(4 * filters, 1, {.strides = stride, .name = name + "_0_conv"})(preact);
  else if (stride > 1)
    shortcut = MaxPooling2D(1, {.strides = stride})(in);
  KerasTensor x = Conv2D(filters, 1, {.strides = 1, .use_bias = false, .name = name + "_1_conv"})(preact);
  x = relu(bn(x, name + "_1_bn"), name + "_1_relu");
  x = ZeroPadding2D(Padding2D({1, 1}, {1, 1}), {.name = name + "_2_pad"})(x);
  x = Conv2D(filters, 3, {.strides = stride, .use_bias = false, .name = name + "_2_conv"})(x);
  x = relu(bn(x, name + "_2_bn"), name + "_2_relu");
  x = Conv2D(4 * filters, 1, {.name = name + "_3_conv"})(x);
  return Add({.name = name + "_out"})({shortcut, x});
}

// Blocks per stack conv2..conv5.
KerasTensor resnet_v1_stacks(const KerasTensor& in, int conv3, int conv4) {
  KerasTensor x = resnet::stack_residual_blocks_v1(in, 64, 3, 1, "conv2");
  x = resnet::stack_residual_blocks_v1(x, 128, conv3, 2, "conv3");
  x = resnet::stack_residual_blocks_v1(x, 256, conv4, 2, "conv4");
  return resnet::stack_residual_blocks_v1(x, 512, 3, 2, "conv5");
}

const ApplicationRegistrar kResNet50("ResNet50", [](const ApplicationOptions& o) { return ResNet50(o); });
const ApplicationRegistrar kResNet101("ResNet101", [](const ApplicationOptions& o) { return ResNet101(o); });
const ApplicationRegistrar kResNet152("ResNet152", [](const ApplicationOptions& o) { return ResNet152(o); });

}  // namespace

namespace resnet {

Tensor preprocess_input(const Tensor& x, const std::string& data_format) {
  return imagenet_utils::preprocess_input(x, data_format, "caffe");
}

Model ResNet(const std::function<KerasTensor(const KerasTensor&)>& stack_fn, bool preact, bool use_bias,
             const ApplicationOptions& options, const std::string& default_name, const std::string& architecture) {
  imagenet_utils::check_arguments(options, architecture);
  const Shape input_shape = imagenet_utils::obtain_input_shape(options.input_shape, 224, 32, options.include_top);
  KerasTensor img_input = imagenet_utils::image_input(input_shape);
  KerasTensor x = ZeroPadding2D(Padding2D({3, 3}, {3, 3}), {.name = "conv1_pad"})(img_input);
  x = Conv2D(64, 7, {.strides = 2, .use_bias = use_bias, .name = "conv1_conv"})(x);
  if (!preact) x = relu(bn(x, "conv1_bn"), "conv1_relu");
  x = ZeroPadding2D(Padding2D({1, 1}, {1, 1}), {.name = "pool1_pad"})(x);
  x = MaxPooling2D(3, {.strides = 2, .name = "pool1_pool"})(x);
  x = stack_fn(x);
  if (preact) x = relu(bn(x, "post_bn"), "post_relu");
  if (options.include_top) {
    x = GlobalAveragePooling2D({.name = "avg_pool"})(x);
    x = Dense(options.classes, {.activation = options.classifier_activation, .name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling, "avg_pool", "max_pool");
  }
  return Model(img_input, x, options.name.empty() ? default_name : options.name);
}

KerasTensor stack_residual_blocks_v1(const KerasTensor& in, int64_t filters, int blocks, int64_t stride1,
                                     const std::string& name) {
  KerasTensor x = residual_block_v1(in, filters, stride1, true, name + "_block1");
  for (int i = 2; i <= blocks; ++i) x = residual_block_v1(x, filters, 1, false, name + "_block" + std::to_string(i));
  return x;
}

KerasTensor stack_residual_blocks_v2(const KerasTensor& in, int64_t filters, int blocks, int64_t stride1,
                                     const std::string& name) {
  KerasTensor x = residual_block_v2(in, filters, 1, true, name + "_block1");
  for (int i = 2; i < blocks; ++i) x = residual_block_v2(x, filters, 1, false, name + "_block" + std::to_string(i));
  return residual_block_v2(x, filters, stride1, false, name + "_block" + std::to_string(blocks));
}

}  // namespace resnet

Model ResNet50(const ApplicationOptions& options) {
  return resnet::ResNet([](const KerasTensor& x) { return resnet_v1_stacks(x, 4, 6); }, false, true, options,
                        "resnet50", "ResNet50");
}

Model ResNet101(const ApplicationOptions& options) {
  return resnet::ResNet([](const KerasTensor& x) { return resnet_v1_stacks(x, 4, 23); }, false, true, options,
                        "resnet101", "ResNet101");
}

Model ResNet152(const ApplicationOptions& options) {
  return resnet::ResNet([](const KerasTensor& x) { return resnet_v1_stacks(x, 8, 36); }, false, true, options,
                        "resnet152", "ResNet152");
}

}  // namespace minidl::applications
