// applications/mobilenet.cpp — MobileNet, layer by layer as keras/src/applications/mobilenet.py.
#include "applications/mobilenet.h"

#include <fmt/format.h>

#include "applications/imagenet_utils.h"
#include "core/errors.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/regularization/dropout.h"
#include "layers/reshaping/reshaping.h"
#include "layers/reshaping/zero_padding2d.h"

namespace minidl::applications {
namespace {

KerasTensor conv_block(const KerasTensor& in, int64_t filters, double alpha, int64_t strides) {
  filters = static_cast<int64_t>(filters * alpha);
  KerasTensor x =
      Conv2D(filters, 3, {.strides = strides, .padding = "same", .use_bias = false, .name = "conv1"})(in);
  x = BatchNormalization({.axis = -1, .name = "conv1_bn"})(x);
  return ReLU({.max_value = 6.0, .name = "conv1_relu"})(x);
}

KerasTensor depthwise_conv_block(const KerasTensor& in, int64_t pointwise_filters, double alpha,
                                 int64_t depth_multiplier, int64_t strides, int block_id) {
  pointwise_filters = static_cast<int64_t>(pointwise_filters * alpha);
  const std::string id = std::to_string(block_id);
  KerasTensor x = in;
  if (strides != 1) x = ZeroPadding2D(Padding2D({0, 1}, {0, 1}), {.name = "conv_pad_" + id})(in);
  x = DepthwiseConv2D(3, {.strides = strides,
                          .padding = strides == 1 ? "same" : "valid",
                          .depth_multiplier = depth_multiplier,
                          .use_bias = false,
                          .name = "conv_dw_" + id})(x);
  x = BatchNormalization({.axis = -1, .name = "conv_dw_" + id + "_bn"})(x);
  x = ReLU({.max_value = 6.0, .name = "conv_dw_" + id + "_relu"})(x);
  x = Conv2D(pointwise_filters, 1, {.strides = 1, .padding = "same", .use_bias = false, .name = "conv_pw_" + id})(x);
  x = BatchNormalization({.axis = -1, .name = "conv_pw_" + id + "_bn"})(x);
  return ReLU({.max_value = 6.0, .name = "conv_pw_" + id + "_relu"})(x);
}

const ApplicationRegistrar kMobilenetRegistrar("MobileNet", [](const ApplicationOptions& o) { return MobileNet(o); });

}  // namespace

Model MobileNet(const ApplicationOptions& options, const MobileNetOptions& mobilenet) {
  imagenet_utils::check_arguments(options, "MobileNet");
  const double alpha = mobilenet.alpha;
  const int64_t dm = mobilenet.depth_multiplier;
  int64_t default_size = 224;
  if (options.input_shape && options.input_shape->size() == 3) {
    const int64_t r = (*options.input_shape)[0], c = (*options.input_shape)[1];
    if (r == c && (r == 128 || r == 160 || r == 192 || r == 224)) default_size = r;
  }
  const Shape input_shape =
      imagenet_utils::obtain_input_shape(options.input_shape, default_size, 32, options.include_top);
  const int64_t rows = input_shape[0];

  KerasTensor img_input = imagenet_utils::image_input(input_shape);
  KerasTensor x = conv_block(img_input, 32, alpha, 2);
  x = depthwise_conv_block(x, 64, alpha, dm, 1, 1);
  x = depthwise_conv_block(x, 128, alpha, dm, 2, 2);
  x = depthwise_conv_block(x, 128, alpha, dm, 1, 3);
  x = depthwise_conv_block(x, 256, alpha, dm, 2, 4);
  x = depthwise_conv_block(x, 256, alpha, dm, 1, 5);
  x = depthwise_conv_block(x, 512, alpha, dm, 2, 6);
  for (int block = 7; block <= 11; ++block) x = depthwise_conv_block(x, 512, alpha, dm, 1, block);
  x = depthwise_conv_block(x, 1024, alpha, dm, 2, 12);
  x = depthwise_conv_block(x, 1024, alpha, dm, 1, 13);

  if (options.include_top) {
    x = GlobalAveragePooling2D({.keepdims = true})(x);
    x = Dropout(mobilenet.dropout, {.name = "dropout"})(x);
    x = Conv2D(options.classes, 1, {.padding = "same", .name = "conv_preds"})(x);
    x = Reshape(Shape{options.classes}, {.name = "reshape_2"})(x);
    x = ActivationLayer(options.classifier_activation, {.name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling);
  }
  const std::string name = options.name.empty()
                               ? fmt::format("mobilenet_{:.2f}_{}", alpha, rows == kNone ? "None" : std::to_string(rows))
                               : options.name;
  return Model(img_input, x, name);
}

namespace mobilenet {
Tensor preprocess_input(const Tensor& x, const std::string& data_format) {
  return imagenet_utils::preprocess_input(x, data_format, "tf");
}
}  // namespace mobilenet

}  // namespace minidl::applications
