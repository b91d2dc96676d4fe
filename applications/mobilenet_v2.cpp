// applications/mobilenet_v2.cpp — MobileNetV2, layer by layer as keras/src/applications/mobilenet_v2.py.
#include "applications/mobilenet_v2.h"

#include <fmt/format.h>

#include <algorithm>

#include "applications/imagenet_utils.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/reshaping/zero_padding2d.h"

namespace minidl::applications {
namespace {

// Keras's _make_divisible(v, divisor): v rounded to the nearest multiple of divisor, at least
// divisor, and not more than 10% below v.
int64_t make_divisible(double v, int64_t divisor) {
  int64_t new_v = std::max<int64_t>(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (static_cast<double>(new_v) < 0.9 * v) new_v += divisor;
  return new_v;
}

BatchNormalizationOptions bn(const std::string& name) {
  return {.axis = -1, .momentum = 0.999, .epsilon = 1e-3, .name = name};
}

KerasTensor inverted_res_block(const KerasTensor& inputs, int64_t expansion, int64_t stride, double alpha,
                               int64_t filters, int block_id) {
  const int64_t in_channels = inputs.shape().back();
  const int64_t pointwise_filters = make_divisible(static_cast<double>(static_cast<int64_t>(filters * alpha)), 8);
  KerasTensor x = inputs;
  std::string prefix = "block_" + std::to_string(block_id) + "_";
  if (block_id != 0) {
    x = Conv2D(expansion * in_channels, 1, {.padding = "same", .use_bias = false, .name = prefix + "expand"})(x);
    x = BatchNormalization(bn(prefix + "expand_BN"))(x);
    x = ReLU({.max_value = 6.0, .name = prefix + "expand_relu"})(x);
  } else {
    prefix = "expanded_conv_";
  }
  if (stride == 2) x = ZeroPadding2D(imagenet_utils::correct_pad(x, 3), {.name = prefix + "pad"})(x);
  x = DepthwiseConv2D(3, {.strides = stride,
                          .padding = stride == 1 ? "same" : "valid",
                          .use_bias = false,
                          .name = prefix + "depthwise"})(x);
  x = BatchNormalization(bn(prefix + "depthwise_BN"))(x);
  x = ReLU({.max_value = 6.0, .name = prefix + "depthwise_relu"})(x);
  x = Conv2D(pointwise_filters, 1, {.padding = "same", .use_bias = false, .name = prefix + "project"})(x);
  x = BatchNormalization(bn(prefix + "project_BN"))(x);
  if (in_channels == pointwise_filters && stride == 1) return Add({.name = prefix + "add"})({inputs, x});
  return x;
}

const ApplicationRegistrar kMobilenetV2Registrar("MobileNetV2",
                                                 [](const ApplicationOptions& o) { return MobileNetV2(o); });

}  // namespace

Model MobileNetV2(const ApplicationOptions& options, const MobileNetV2Options& mobilenet_v2) {
  imagenet_utils::check_arguments(options, "MobileNetV2");
  const double alpha = mobilenet_v2.alpha;
  int64_t default_size = 224;
  if (options.input_shape && options.input_shape->size() == 3) {
    const int64_t r = (*options.input_shape)[0], c = (*options.input_shape)[1];
    if (r == c && (r == 96 || r == 128 || r == 160 || r == 192 || r == 224)) default_size = r;
  }
  const Shape input_shape =
      imagenet_utils::obtain_input_shape(options.input_shape, default_size, 32, options.include_top);
  const int64_t rows = input_shape[0];

  KerasTensor img_input = imagenet_utils::image_input(input_shape);
  KerasTensor x = Conv2D(make_divisible(32 * alpha, 8), 3,
                         {.strides = 2, .padding = "same", .use_bias = false, .name = "Conv1"})(img_input);
  x = BatchNormalization(bn("bn_Conv1"))(x);
  x = ReLU({.max_value = 6.0, .name = "Conv1_relu"})(x);

  // (filters, stride, expansion) of blocks 0..16.
  struct Block {
    int64_t filters, stride, expansion;
  };
  static const Block kBlocks[] = {{16, 1, 1},  {24, 2, 6},  {24, 1, 6},  {32, 2, 6},  {32, 1, 6},  {32, 1, 6},
                                  {64, 2, 6},  {64, 1, 6},  {64, 1, 6},  {64, 1, 6},  {96, 1, 6},  {96, 1, 6},
                                  {96, 1, 6},  {160, 2, 6}, {160, 1, 6}, {160, 1, 6}, {320, 1, 6}};
  for (int id = 0; id < 17; ++id)
    x = inverted_res_block(x, kBlocks[id].expansion, kBlocks[id].stride, alpha, kBlocks[id].filters, id);

  const int64_t last_block_filters = alpha > 1.0 ? make_divisible(1280 * alpha, 8) : 1280;
  x = Conv2D(last_block_filters, 1, {.use_bias = false, .name = "Conv_1"})(x);
  x = BatchNormalization(bn("Conv_1_bn"))(x);
  x = ReLU({.max_value = 6.0, .name = "out_relu"})(x);

  if (options.include_top) {
    x = GlobalAveragePooling2D()(x);
    x = Dense(options.classes, {.activation = options.classifier_activation, .name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling);
  }
  const std::string name =
      options.name.empty()
          ? fmt::format("mobilenetv2_{:.2f}_{}", alpha, rows == kNone ? "None" : std::to_string(rows))
          : options.name;
  return Model(img_input, x, name);
}

namespace mobilenet_v2 {
Tensor preprocess_input(const Tensor& x, const std::string& data_format) {
  return imagenet_utils::preprocess_input(x, data_format, "tf");
}
}  // namespace mobilenet_v2

}  // namespace minidl::applications
