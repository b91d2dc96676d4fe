// applications/densenet.cpp — DenseNet, layer by layer as keras/src/applications/densenet.py.
#include "applications/densenet.h"

#include <nlohmann/json.hpp>

#include "applications/imagenet_utils.h"
#include "core/errors.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/pooling/pooling2d.h"
#include "layers/reshaping/spatial_utils.h"
#include "layers/reshaping/zero_padding2d.h"

namespace minidl::applications {
namespace {

KerasTensor bn_relu(const KerasTensor& x, const std::string& bn_name, const std::string& relu_name) {
  KerasTensor y = BatchNormalization({.axis = 3, .epsilon = 1.001e-5, .name = bn_name})(x);
  return ActivationLayer("relu", {.name = relu_name})(y);
}

KerasTensor conv_block(const KerasTensor& x, int64_t growth_rate, const std::string& name) {
  KerasTensor x1 = bn_relu(x, name + "_0_bn", name + "_0_relu");
  x1 = Conv2D(4 * growth_rate, 1, {.use_bias = false, .name = name + "_1_conv"})(x1);
  x1 = bn_relu(x1, name + "_1_bn", name + "_1_relu");
  x1 = Conv2D(growth_rate, 3, {.padding = "same", .use_bias = false, .name = name + "_2_conv"})(x1);
  return Concatenate({.axis = 3, .name = name + "_concat"})({x, x1});
}

KerasTensor dense_block(KerasTensor x, int blocks, const std::string& name) {
  for (int i = 0; i < blocks; ++i) x = conv_block(x, 32, name + "_block" + std::to_string(i + 1));
  return x;
}

KerasTensor transition_block(const KerasTensor& in, double reduction, const std::string& name) {
  KerasTensor x = bn_relu(in, name + "_bn", name + "_relu");
  const auto filters = static_cast<int64_t>(static_cast<double>(x.shape()[3]) * reduction);
  x = Conv2D(filters, 1, {.use_bias = false, .name = name + "_conv"})(x);
  return AveragePooling2D(2, {.strides = 2, .name = name + "_pool"})(x);
}

const ApplicationRegistrar kDenseNet121("DenseNet121", [](const ApplicationOptions& o) { return DenseNet121(o); });
const ApplicationRegistrar kDenseNet169("DenseNet169", [](const ApplicationOptions& o) { return DenseNet169(o); });
const ApplicationRegistrar kDenseNet201("DenseNet201", [](const ApplicationOptions& o) { return DenseNet201(o); });

}  // namespace

namespace densenet {

Tensor preprocess_input(const Tensor& x, const std::string& data_format) {
  return imagenet_utils::preprocess_input(x, data_format, "torch");
}

Model DenseNet(const std::array<int, 4>& blocks, const ApplicationOptions& options, const std::string& default_name,
               const std::string& architecture) {
  if (image_data_format() == "channels_first")
    raise<ValueError>(
        "DenseNet does not support the `channels_first` image data format. Switch to `channels_last` by editing "
        "your local config file at ~/.keras/keras.json");
  imagenet_utils::check_arguments(options, architecture);
  const Shape input_shape = imagenet_utils::obtain_input_shape(options.input_shape, 224, 32, options.include_top);
  KerasTensor img_input = imagenet_utils::image_input(input_shape);

  KerasTensor x = ZeroPadding2D(Padding2D({3, 3}, {3, 3}))(img_input);
  x = Conv2D(64, 7, {.strides = 2, .use_bias = false, .name = "conv1_conv"})(x);
  x = bn_relu(x, "conv1_bn", "conv1_relu");
  x = ZeroPadding2D(Padding2D({1, 1}, {1, 1}))(x);
  x = MaxPooling2D(3, {.strides = 2, .name = "pool1"})(x);

  x = dense_block(x, blocks[0], "conv2");
  x = transition_block(x, 0.5, "pool2");
  x = dense_block(x, blocks[1], "conv3");
  x = transition_block(x, 0.5, "pool3");
  x = dense_block(x, blocks[2], "conv4");
  x = transition_block(x, 0.5, "pool4");
  x = dense_block(x, blocks[3], "conv5");
  x = bn_relu(x, "bn", "relu");

  if (options.include_top) {
    x = GlobalAveragePooling2D({.name = "avg_pool"})(x);
    x = Dense(options.classes, {.activation = options.classifier_activation, .name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling, "avg_pool", "max_pool");
  }
  return Model(img_input, x, options.name.empty() ? default_name : options.name);
}

}  // namespace densenet

Model DenseNet121(const ApplicationOptions& options) {
  return densenet::DenseNet({6, 12, 24, 16}, options, "densenet121", "DenseNet121");
}

Model DenseNet169(const ApplicationOptions& options) {
  return densenet::DenseNet({6, 12, 32, 32}, options, "densenet169", "DenseNet169");
}

Model DenseNet201(const ApplicationOptions& options) {
  return densenet::DenseNet({6, 12, 48, 32}, options, "densenet201", "DenseNet201");
}

}  // namespace minidl::applications
