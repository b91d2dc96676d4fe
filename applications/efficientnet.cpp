// applications/efficientnet.cpp — EfficientNetB0 ... B7, layer by layer as
// keras/src/applications/efficientnet.py.
#include "applications/efficientnet.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "applications/efficientnet_blocks.h"
#include "applications/imagenet_utils.h"
#include "core/errors.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/parts/initializers.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/preprocessing/normalization.h"
#include "layers/preprocessing/rescaling.h"
#include "layers/regularization/dropout.h"
#include "layers/reshaping/reshaping.h"
#include "layers/reshaping/zero_padding2d.h"

namespace minidl::applications {
namespace {

// One stage of DEFAULT_BLOCKS_ARGS.
struct BlockArgs {
  int64_t kernel_size;
  int64_t repeats;
  int64_t filters_in;
  int64_t filters_out;
  int64_t expand_ratio;
  bool id_skip;
  int64_t strides;
  double se_ratio;
};

const std::vector<BlockArgs> kDefaultBlocksArgs = {
    {3, 1, 32, 16, 1, true, 1, 0.25},   {3, 2, 16, 24, 6, true, 2, 0.25},  {5, 2, 24, 40, 6, true, 2, 0.25},
    {3, 3, 40, 80, 6, true, 2, 0.25},   {5, 3, 80, 112, 6, true, 1, 0.25}, {5, 4, 112, 192, 6, true, 2, 0.25},
    {3, 1, 192, 320, 6, true, 1, 0.25},
};

using efficientnet_blocks::conv_kernel_initializer;
using efficientnet_blocks::dense_kernel_initializer;

struct Variant {
  double width_coefficient;
  double depth_coefficient;
  int64_t default_size;
  double dropout_rate;
};

constexpr double kDropConnectRate = 0.2;
constexpr int64_t kDepthDivisor = 8;

int64_t round_filters(double filters, double width_coefficient) {
  filters *= width_coefficient;
  int64_t new_filters = std::max<int64_t>(
      kDepthDivisor, static_cast<int64_t>(filters + kDepthDivisor / 2.0) / kDepthDivisor * kDepthDivisor);
  if (static_cast<double>(new_filters) < 0.9 * filters) new_filters += kDepthDivisor;
  return new_filters;
}

int64_t round_repeats(int64_t repeats, double depth_coefficient) {
  return static_cast<int64_t>(std::ceil(depth_coefficient * static_cast<double>(repeats)));
}

KerasTensor batch_norm(const KerasTensor& x, const std::string& name) {
  return BatchNormalization({.axis = 3, .name = name})(x);
}

// An inverted residual block (Keras's block()); `args` holds this repeat's filters and strides.
KerasTensor block(const KerasTensor& inputs, double drop_rate, const std::string& name, const BlockArgs& args) {
  // Keras passes "swish", which Keras 3 resolves to silu and saves as "silu".
  const std::string activation = "silu";
  const int64_t filters = args.filters_in * args.expand_ratio;
  KerasTensor x = inputs;
  if (args.expand_ratio != 1) {
    x = Conv2D(filters, 1,
               {.padding = "same",
                .use_bias = false,
                .kernel_initializer = conv_kernel_initializer(),
                .name = name + "expand_conv"})(inputs);
    x = batch_norm(x, name + "expand_bn");
    x = ActivationLayer(activation, {.name = name + "expand_activation"})(x);
  }
  std::string conv_pad = "same";
  if (args.strides == 2) {
    x = ZeroPadding2D(imagenet_utils::correct_pad(x, args.kernel_size), {.name = name + "dwconv_pad"})(x);
    conv_pad = "valid";
  }
  x = DepthwiseConv2D(args.kernel_size, {.strides = args.strides,
                                         .padding = conv_pad,
                                         .use_bias = false,
                                         .depthwise_initializer = conv_kernel_initializer(),
                                         .name = name + "dwconv"})(x);
  x = batch_norm(x, name + "bn");
  x = ActivationLayer(activation, {.name = name + "activation"})(x);
  if (args.se_ratio > 0 && args.se_ratio <= 1) {
    x = efficientnet_blocks::squeeze_excite(x, args.filters_in, filters, args.se_ratio, activation, name);
  }
  x = Conv2D(args.filters_out, 1,
             {.padding = "same",
              .use_bias = false,
              .kernel_initializer = conv_kernel_initializer(),
              .name = name + "project_conv"})(x);
  x = batch_norm(x, name + "project_bn");
  if (args.id_skip && args.strides == 1 && args.filters_in == args.filters_out) {
    if (drop_rate > 0) x = Dropout(drop_rate, {.noise_shape = Shape{kNone, 1, 1, 1}, .name = name + "drop"})(x);
    x = Add({.name = name + "add"})({x, inputs});
  }
  return x;
}

Model build_efficientnet(const Variant& v, const std::string& architecture, const std::string& default_name,
                         const ApplicationOptions& options) {
  imagenet_utils::check_arguments(options, architecture);
  const Shape input_shape =
      imagenet_utils::obtain_input_shape(options.input_shape, v.default_size, 32, options.include_top);
  KerasTensor img_input = imagenet_utils::image_input(input_shape);
  KerasTensor x = Rescaling(1.0 / 255.0)(img_input);
  x = Normalization({.axis = 3})(x);
  x = ZeroPadding2D(imagenet_utils::correct_pad(x, 3), {.name = "stem_conv_pad"})(x);
  x = Conv2D(round_filters(32, v.width_coefficient), 3,
             {.strides = 2,
              .padding = "valid",
              .use_bias = false,
              .kernel_initializer = conv_kernel_initializer(),
              .name = "stem_conv"})(x);
  x = batch_norm(x, "stem_bn");
  x = ActivationLayer("silu", {.name = "stem_activation"})(x);

  int64_t total = 0;
  for (const BlockArgs& args : kDefaultBlocksArgs) total += round_repeats(args.repeats, v.depth_coefficient);
  const double blocks = static_cast<double>(total);
  int64_t b = 0;
  for (size_t i = 0; i < kDefaultBlocksArgs.size(); ++i) {
    BlockArgs args = kDefaultBlocksArgs[i];
    args.filters_in = round_filters(static_cast<double>(args.filters_in), v.width_coefficient);
    args.filters_out = round_filters(static_cast<double>(args.filters_out), v.width_coefficient);
    const int64_t repeats = round_repeats(args.repeats, v.depth_coefficient);
    for (int64_t j = 0; j < repeats; ++j) {
      if (j > 0) {
        args.strides = 1;
        args.filters_in = args.filters_out;
      }
      const std::string name = "block" + std::to_string(i + 1) + static_cast<char>('a' + j) + "_";
      x = block(x, kDropConnectRate * static_cast<double>(b) / blocks, name, args);
      ++b;
    }
  }

  x = Conv2D(
      round_filters(1280, v.width_coefficient), 1,
      {.padding = "same", .use_bias = false, .kernel_initializer = conv_kernel_initializer(), .name = "top_conv"})(x);
  x = batch_norm(x, "top_bn");
  x = ActivationLayer("silu", {.name = "top_activation"})(x);
  if (options.include_top) {
    x = GlobalAveragePooling2D({.name = "avg_pool"})(x);
    if (v.dropout_rate > 0) x = Dropout(v.dropout_rate, {.name = "top_dropout"})(x);
    x = Dense(options.classes, {.activation = options.classifier_activation,
                                .kernel_initializer = dense_kernel_initializer(),
                                .name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling, "avg_pool", "max_pool");
  }
  return Model(img_input, x, options.name.empty() ? default_name : options.name);
}

const ApplicationRegistrar kB0("EfficientNetB0", [](const ApplicationOptions& o) { return EfficientNetB0(o); });
const ApplicationRegistrar kB1("EfficientNetB1", [](const ApplicationOptions& o) { return EfficientNetB1(o); });
const ApplicationRegistrar kB2("EfficientNetB2", [](const ApplicationOptions& o) { return EfficientNetB2(o); });
const ApplicationRegistrar kB3("EfficientNetB3", [](const ApplicationOptions& o) { return EfficientNetB3(o); });
const ApplicationRegistrar kB4("EfficientNetB4", [](const ApplicationOptions& o) { return EfficientNetB4(o); });
const ApplicationRegistrar kB5("EfficientNetB5", [](const ApplicationOptions& o) { return EfficientNetB5(o); });
const ApplicationRegistrar kB6("EfficientNetB6", [](const ApplicationOptions& o) { return EfficientNetB6(o); });
const ApplicationRegistrar kB7("EfficientNetB7", [](const ApplicationOptions& o) { return EfficientNetB7(o); });

}  // namespace

Model EfficientNetB0(const ApplicationOptions& o) {
  return build_efficientnet({1.0, 1.0, 224, 0.2}, "EfficientNetB0", "efficientnetb0", o);
}
Model EfficientNetB1(const ApplicationOptions& o) {
  return build_efficientnet({1.0, 1.1, 240, 0.2}, "EfficientNetB1", "efficientnetb1", o);
}
Model EfficientNetB2(const ApplicationOptions& o) {
  return build_efficientnet({1.1, 1.2, 260, 0.3}, "EfficientNetB2", "efficientnetb2", o);
}
Model EfficientNetB3(const ApplicationOptions& o) {
  return build_efficientnet({1.2, 1.4, 300, 0.3}, "EfficientNetB3", "efficientnetb3", o);
}
Model EfficientNetB4(const ApplicationOptions& o) {
  return build_efficientnet({1.4, 1.8, 380, 0.4}, "EfficientNetB4", "efficientnetb4", o);
}
Model EfficientNetB5(const ApplicationOptions& o) {
  return build_efficientnet({1.6, 2.2, 456, 0.4}, "EfficientNetB5", "efficientnetb5", o);
}
Model EfficientNetB6(const ApplicationOptions& o) {
  return build_efficientnet({1.8, 2.6, 528, 0.5}, "EfficientNetB6", "efficientnetb6", o);
}
Model EfficientNetB7(const ApplicationOptions& o) {
  return build_efficientnet({2.0, 3.1, 600, 0.5}, "EfficientNetB7", "efficientnetb7", o);
}

namespace efficientnet {
Tensor preprocess_input(const Tensor& x, const std::string& /*data_format*/) { return x; }
}  // namespace efficientnet

namespace efficientnet_blocks {

VarianceScaling conv_kernel_initializer() { return VarianceScaling(2.0, "fan_out", "truncated_normal"); }
VarianceScaling dense_kernel_initializer() { return VarianceScaling(1.0 / 3.0, "fan_out", "uniform"); }

KerasTensor squeeze_excite(const KerasTensor& x, int64_t filters_in, int64_t filters, double se_ratio,
                           const std::string& activation, const std::string& name) {
  const int64_t filters_se = std::max<int64_t>(1, static_cast<int64_t>(filters_in * se_ratio));
  KerasTensor se = GlobalAveragePooling2D({.name = name + "se_squeeze"})(x);
  se = Reshape(Shape{1, 1, filters}, {.name = name + "se_reshape"})(se);
  se = Conv2D(filters_se, 1,
              {.padding = "same",
               .activation = activation,
               .kernel_initializer = conv_kernel_initializer(),
               .name = name + "se_reduce"})(se);
  se = Conv2D(filters, 1,
              {.padding = "same",
               .activation = "sigmoid",
               .kernel_initializer = conv_kernel_initializer(),
               .name = name + "se_expand"})(se);
  return Multiply({.name = name + "se_excite"})({x, se});
}

}  // namespace efficientnet_blocks

}  // namespace minidl::applications
