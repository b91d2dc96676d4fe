// applications/efficientnet_v2.cpp — the EfficientNetV2 family, layer by layer as
// keras/src/applications/efficientnet_v2.py.
#include "applications/efficientnet_v2.h"

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

namespace minidl::applications {
namespace {

// One stage of DEFAULT_BLOCKS_ARGS; conv_type 1 is FusedMBConv, 0 MBConv.
struct BlockArgs {
  int64_t kernel_size;
  int64_t num_repeat;
  int64_t input_filters;
  int64_t output_filters;
  int64_t expand_ratio;
  double se_ratio;
  int64_t strides;
  int conv_type;
};

const std::vector<BlockArgs> kBlocksB = {
    {3, 1, 32, 16, 1, 0, 1, 1},    {3, 2, 16, 32, 4, 0, 2, 1},     {3, 2, 32, 48, 4, 0, 2, 1},
    {3, 3, 48, 96, 4, 0.25, 2, 0}, {3, 5, 96, 112, 6, 0.25, 1, 0}, {3, 8, 112, 192, 6, 0.25, 2, 0},
};
const std::vector<BlockArgs> kBlocksS = {
    {3, 2, 24, 24, 1, 0, 1, 1},     {3, 4, 24, 48, 4, 0, 2, 1},      {3, 4, 48, 64, 4, 0, 2, 1},
    {3, 6, 64, 128, 4, 0.25, 2, 0}, {3, 9, 128, 160, 6, 0.25, 1, 0}, {3, 15, 160, 256, 6, 0.25, 2, 0},
};
const std::vector<BlockArgs> kBlocksM = {
    {3, 3, 24, 24, 1, 0, 1, 1},      {3, 5, 24, 48, 4, 0, 2, 1},       {3, 5, 48, 80, 4, 0, 2, 1},
    {3, 7, 80, 160, 4, 0.25, 2, 0},  {3, 14, 160, 176, 6, 0.25, 1, 0}, {3, 18, 176, 304, 6, 0.25, 2, 0},
    {3, 5, 304, 512, 6, 0.25, 1, 0},
};
const std::vector<BlockArgs> kBlocksL = {
    {3, 4, 32, 32, 1, 0, 1, 1},      {3, 7, 32, 64, 4, 0, 2, 1},       {3, 7, 64, 96, 4, 0, 2, 1},
    {3, 10, 96, 192, 4, 0.25, 2, 0}, {3, 19, 192, 224, 6, 0.25, 1, 0}, {3, 25, 224, 384, 6, 0.25, 2, 0},
    {3, 7, 384, 640, 6, 0.25, 1, 0},
};

struct Variant {
  double width_coefficient;
  double depth_coefficient;
  int64_t default_size;
  const std::vector<BlockArgs>* blocks;
  const char* architecture;  // Keras's exported name
  const char* name;          // the default model name, which picks blocks and preprocessing in Keras
};

constexpr double kDropoutRate = 0.2;
constexpr double kDropConnectRate = 0.2;
constexpr int64_t kDepthDivisor = 8;
constexpr int64_t kMinDepth = 8;
constexpr double kBnMomentum = 0.9;
// Keras passes "swish", which Keras 3 resolves to silu and saves as "silu".
const char* const kActivation = "silu";

using efficientnet_blocks::conv_kernel_initializer;
using efficientnet_blocks::dense_kernel_initializer;

int64_t round_filters(double filters, double width_coefficient) {
  filters *= width_coefficient;
  return std::max<int64_t>(kMinDepth,
                           static_cast<int64_t>(filters + kDepthDivisor / 2.0) / kDepthDivisor * kDepthDivisor);
}

int64_t round_repeats(int64_t repeats, double depth_coefficient) {
  return static_cast<int64_t>(std::ceil(depth_coefficient * static_cast<double>(repeats)));
}

KerasTensor batch_norm(const KerasTensor& x, const std::string& name) {
  return BatchNormalization({.axis = 3, .momentum = kBnMomentum, .name = name})(x);
}

KerasTensor conv(const KerasTensor& x, int64_t filters, int64_t kernel_size, int64_t strides, const std::string& name) {
  return Conv2D(filters, kernel_size,
                {.strides = strides,
                 .padding = "same",
                 .use_bias = false,
                 .kernel_initializer = conv_kernel_initializer(),
                 .name = name})(x);
}

KerasTensor residual(KerasTensor x, const KerasTensor& inputs, const BlockArgs& a, double survival_probability,
                     const std::string& name) {
  if (a.strides == 1 && a.input_filters == a.output_filters) {
    if (survival_probability != 0)
      x = Dropout(survival_probability, {.noise_shape = Shape{kNone, 1, 1, 1}, .name = name + "drop"})(x);
    x = Add({.name = name + "add"})({x, inputs});
  }
  return x;
}

KerasTensor mb_conv_block(const KerasTensor& inputs, const BlockArgs& a, double survival_probability,
                          const std::string& name) {
  const int64_t filters = a.input_filters * a.expand_ratio;
  KerasTensor x = inputs;
  if (a.expand_ratio != 1) {
    x = conv(inputs, filters, 1, 1, name + "expand_conv");
    x = batch_norm(x, name + "expand_bn");
    x = ActivationLayer(kActivation, {.name = name + "expand_activation"})(x);
  }
  x = DepthwiseConv2D(a.kernel_size, {.strides = a.strides,
                                      .padding = "same",
                                      .use_bias = false,
                                      .depthwise_initializer = conv_kernel_initializer(),
                                      .name = name + "dwconv2"})(x);
  x = batch_norm(x, name + "bn");
  x = ActivationLayer(kActivation, {.name = name + "activation"})(x);
  if (a.se_ratio > 0 && a.se_ratio <= 1) x = efficientnet_blocks::squeeze_excite(x, a.input_filters, filters, a.se_ratio, kActivation, name);
  x = conv(x, a.output_filters, 1, 1, name + "project_conv");
  x = batch_norm(x, name + "project_bn");
  return residual(x, inputs, a, survival_probability, name);
}

KerasTensor fused_mb_conv_block(const KerasTensor& inputs, const BlockArgs& a, double survival_probability,
                                const std::string& name) {
  const int64_t filters = a.input_filters * a.expand_ratio;
  const bool expands = a.expand_ratio != 1;
  KerasTensor x = inputs;
  if (expands) {
    x = conv(inputs, filters, a.kernel_size, a.strides, name + "expand_conv");
    x = batch_norm(x, name + "expand_bn");
    x = ActivationLayer(kActivation, {.name = name + "expand_activation"})(x);
  }
  if (a.se_ratio > 0 && a.se_ratio <= 1) x = efficientnet_blocks::squeeze_excite(x, a.input_filters, filters, a.se_ratio, kActivation, name);
  x = conv(x, a.output_filters, expands ? 1 : a.kernel_size, expands ? 1 : a.strides, name + "project_conv");
  x = batch_norm(x, name + "project_bn");
  if (!expands) x = ActivationLayer(kActivation, {.name = name + "project_activation"})(x);
  return residual(x, inputs, a, survival_probability, name);
}

Model build_efficientnet_v2(const Variant& v, const ApplicationOptions& options, const EfficientNetV2Options& v2) {
  imagenet_utils::check_arguments(options, v.architecture);
  const Shape input_shape =
      imagenet_utils::obtain_input_shape(options.input_shape, v.default_size, 32, options.include_top);
  const std::vector<BlockArgs>& blocks_args = *v.blocks;
  KerasTensor img_input = imagenet_utils::image_input(input_shape);
  KerasTensor x = img_input;
  if (v2.include_preprocessing) {
    const std::string name = v.name;
    const bool b_variant = name.substr(name.rfind('-') + 1).starts_with("b");
    if (b_variant && input_shape[2] == 3) {
      x = Rescaling(1.0 / 255)(x);
      x = Normalization({.axis = 3,
                         .mean = std::vector<double>{0.485, 0.456, 0.406},
                         .variance = std::vector<double>{0.229 * 0.229, 0.224 * 0.224, 0.225 * 0.225}})(x);
    } else {
      x = Rescaling(1.0 / 128.0, {.offset = -1})(x);
    }
  }
  x = conv(x, round_filters(static_cast<double>(blocks_args[0].input_filters), v.width_coefficient), 3, 2, "stem_conv");
  x = batch_norm(x, "stem_bn");
  x = ActivationLayer(kActivation, {.name = "stem_activation"})(x);

  double blocks = 0;
  for (const BlockArgs& a : blocks_args) blocks += static_cast<double>(a.num_repeat);
  int64_t b = 0;
  for (size_t i = 0; i < blocks_args.size(); ++i) {
    BlockArgs a = blocks_args[i];
    a.input_filters = round_filters(static_cast<double>(a.input_filters), v.width_coefficient);
    a.output_filters = round_filters(static_cast<double>(a.output_filters), v.width_coefficient);
    const int64_t repeats = round_repeats(a.num_repeat, v.depth_coefficient);
    for (int64_t j = 0; j < repeats; ++j) {
      if (j > 0) {
        a.strides = 1;
        a.input_filters = a.output_filters;
      }
      const std::string name = "block" + std::to_string(i + 1) + static_cast<char>('a' + j) + "_";
      const double survival_probability = kDropConnectRate * static_cast<double>(b) / blocks;
      x = a.conv_type == 1 ? fused_mb_conv_block(x, a, survival_probability, name)
                           : mb_conv_block(x, a, survival_probability, name);
      ++b;
    }
  }

  x = conv(x, round_filters(1280, v.width_coefficient), 1, 1, "top_conv");
  x = batch_norm(x, "top_bn");
  x = ActivationLayer(kActivation, {.name = "top_activation"})(x);
  if (options.include_top) {
    x = GlobalAveragePooling2D({.name = "avg_pool"})(x);
    x = Dropout(kDropoutRate, {.name = "top_dropout"})(x);
    x = Dense(options.classes, {.activation = options.classifier_activation,
                                .kernel_initializer = dense_kernel_initializer(),
                                .bias_initializer = Constant(0.0),
                                .name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling, "avg_pool", "max_pool");
  }
  return Model(img_input, x, options.name.empty() ? std::string(v.name) : options.name);
}

const Variant kB0{1.0, 1.0, 224, &kBlocksB, "EfficientNetV2B0", "efficientnetv2-b0"};
const Variant kB1{1.0, 1.1, 240, &kBlocksB, "EfficientNetV2B1", "efficientnetv2-b1"};
const Variant kB2{1.1, 1.2, 260, &kBlocksB, "EfficientNetV2B2", "efficientnetv2-b2"};
const Variant kB3{1.2, 1.4, 300, &kBlocksB, "EfficientNetV2B3", "efficientnetv2-b3"};
const Variant kS{1.0, 1.0, 384, &kBlocksS, "EfficientNetV2S", "efficientnetv2-s"};
const Variant kM{1.0, 1.0, 480, &kBlocksM, "EfficientNetV2M", "efficientnetv2-m"};
const Variant kL{1.0, 1.0, 480, &kBlocksL, "EfficientNetV2L", "efficientnetv2-l"};

const ApplicationRegistrar kRegisterB0(kB0.architecture,
                                       [](const ApplicationOptions& o) { return EfficientNetV2B0(o); });
const ApplicationRegistrar kRegisterB1(kB1.architecture,
                                       [](const ApplicationOptions& o) { return EfficientNetV2B1(o); });
const ApplicationRegistrar kRegisterB2(kB2.architecture,
                                       [](const ApplicationOptions& o) { return EfficientNetV2B2(o); });
const ApplicationRegistrar kRegisterB3(kB3.architecture,
                                       [](const ApplicationOptions& o) { return EfficientNetV2B3(o); });
const ApplicationRegistrar kRegisterS(kS.architecture, [](const ApplicationOptions& o) { return EfficientNetV2S(o); });
const ApplicationRegistrar kRegisterM(kM.architecture, [](const ApplicationOptions& o) { return EfficientNetV2M(o); });
const ApplicationRegistrar kRegisterL(kL.architecture, [](const ApplicationOptions& o) { return EfficientNetV2L(o); });

}  // namespace

Model EfficientNetV2B0(const ApplicationOptions& o, const EfficientNetV2Options& v2) {
  return build_efficientnet_v2(kB0, o, v2);
}
Model EfficientNetV2B1(const ApplicationOptions& o, const EfficientNetV2Options& v2) {
  return build_efficientnet_v2(kB1, o, v2);
}
Model EfficientNetV2B2(const ApplicationOptions& o, const EfficientNetV2Options& v2) {
  return build_efficientnet_v2(kB2, o, v2);
}
Model EfficientNetV2B3(const ApplicationOptions& o, const EfficientNetV2Options& v2) {
  return build_efficientnet_v2(kB3, o, v2);
}
Model EfficientNetV2S(const ApplicationOptions& o, const EfficientNetV2Options& v2) {
  return build_efficientnet_v2(kS, o, v2);
}
Model EfficientNetV2M(const ApplicationOptions& o, const EfficientNetV2Options& v2) {
  return build_efficientnet_v2(kM, o, v2);
}
Model EfficientNetV2L(const ApplicationOptions& o, const EfficientNetV2Options& v2) {
  return build_efficientnet_v2(kL, o, v2);
}

namespace efficientnet_v2 {
Tensor preprocess_input(const Tensor& x, const std::string& /*data_format*/) { return x; }
}  // namespace efficientnet_v2

}  // namespace minidl::applications
