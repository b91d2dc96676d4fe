// applications/convnext.cpp — the ConvNeXt family, layer by layer as keras/src/applications/convnext.py.
#include "applications/convnext.h"

#include <array>

#include "applications/imagenet_utils.h"
#include "core/errors.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/operation_layers.h"
#include "layers/normalization/layer_normalization.h"
#include "layers/normalization/layer_scale.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/preprocessing/normalization.h"

namespace minidl::applications {
namespace {

// MODEL_CONFIGS: blocks per stage and channels per stage (the default size is 224 for all).
struct Variant {
  std::array<int64_t, 4> depths;
  std::array<int64_t, 4> projection_dims;
  const char* architecture;
  const char* name;
};

const Variant kTiny{{3, 3, 9, 3}, {96, 192, 384, 768}, "ConvNeXtTiny", "convnext_tiny"};
const Variant kSmall{{3, 3, 27, 3}, {96, 192, 384, 768}, "ConvNeXtSmall", "convnext_small"};
const Variant kBase{{3, 3, 27, 3}, {128, 256, 512, 1024}, "ConvNeXtBase", "convnext_base"};
const Variant kLarge{{3, 3, 27, 3}, {192, 384, 768, 1536}, "ConvNeXtLarge", "convnext_large"};
const Variant kXLarge{{3, 3, 27, 3}, {256, 512, 1024, 2048}, "ConvNeXtXLarge", "convnext_xlarge"};

constexpr int64_t kDefaultSize = 224;
constexpr double kLayerScaleInitValue = 1e-6;

LayerNormalization layer_norm(const std::string& name) { return LayerNormalization({.epsilon = 1e-6, .name = name}); }

// ConvNeXtBlock with drop_path_rate 0 (every variant's): the residual branch ends in a linear Activation.
KerasTensor convnext_block(const KerasTensor& inputs, int64_t projection_dim, const std::string& name) {
  KerasTensor x = Conv2D(projection_dim, 7,
                         {.padding = "same", .groups = projection_dim, .name = name + "_depthwise_conv"})(inputs);
  x = layer_norm(name + "_layernorm")(x);
  x = Dense(4 * projection_dim, {.name = name + "_pointwise_conv_1"})(x);
  x = ActivationLayer("gelu", {.name = name + "_gelu"})(x);
  x = Dense(projection_dim, {.name = name + "_pointwise_conv_2"})(x);
  x = LayerScale(kLayerScaleInitValue, projection_dim, {.name = name + "_layer_scale"})(x);
  x = ActivationLayer("linear", {.name = name + "_identity"})(x);
  return keras_ops::add(inputs, x);
}

Model build_convnext(const Variant& v, const ApplicationOptions& options, const ConvNeXtOptions& convnext) {
  imagenet_utils::check_arguments(options, v.architecture);
  const Shape input_shape =
      imagenet_utils::obtain_input_shape(options.input_shape, kDefaultSize, 32, options.include_top);
  const std::string name = options.name.empty() ? std::string(v.name) : options.name;
  KerasTensor inputs = imagenet_utils::image_input(input_shape);
  KerasTensor x = inputs;
  if (convnext.include_preprocessing && input_shape[2] == 3) {
    x = Normalization({.mean = std::vector<double>{0.485 * 255, 0.456 * 255, 0.406 * 255},
                       .variance = std::vector<double>{(0.229 * 255) * (0.229 * 255), (0.224 * 255) * (0.224 * 255),
                                                       (0.225 * 255) * (0.225 * 255)},
                       .name = name + "_prestem_normalization"})(x);
  }
  const auto& dims = v.projection_dims;
  std::vector<Sequential> downsample_layers;
  downsample_layers.push_back(Sequential(
      {Conv2D(dims[0], 4, {.strides = 4, .name = name + "_stem_conv"}), layer_norm(name + "_stem_layernorm")},
      name + "_stem"));
  for (int i = 0; i < 3; ++i) {
    const std::string id = std::to_string(i);
    downsample_layers.push_back(
        Sequential({layer_norm(name + "_downsampling_layernorm_" + id),
                    Conv2D(dims[i + 1], 2, {.strides = 2, .name = name + "_downsampling_conv_" + id})},
                   name + "_downsampling_block_" + id));
  }
  for (int i = 0; i < 4; ++i) {
    x = downsample_layers[i](x);
    for (int64_t j = 0; j < v.depths[i]; ++j)
      x = convnext_block(x, dims[i], name + "_stage_" + std::to_string(i) + "_block_" + std::to_string(j));
  }
  if (options.include_top) {
    x = GlobalAveragePooling2D({.name = name + "_head_gap"})(x);
    x = layer_norm(name + "_head_layernorm")(x);
    x = Dense(options.classes, {.activation = options.classifier_activation, .name = name + "_head_dense"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling);
    x = layer_norm("")(x);
  }
  return Model(inputs, x, name);
}

const ApplicationRegistrar kRegisterTiny(kTiny.architecture,
                                         [](const ApplicationOptions& o) { return ConvNeXtTiny(o); });
const ApplicationRegistrar kRegisterSmall(kSmall.architecture,
                                          [](const ApplicationOptions& o) { return ConvNeXtSmall(o); });
const ApplicationRegistrar kRegisterBase(kBase.architecture,
                                         [](const ApplicationOptions& o) { return ConvNeXtBase(o); });
const ApplicationRegistrar kRegisterLarge(kLarge.architecture,
                                          [](const ApplicationOptions& o) { return ConvNeXtLarge(o); });
const ApplicationRegistrar kRegisterXLarge(kXLarge.architecture,
                                           [](const ApplicationOptions& o) { return ConvNeXtXLarge(o); });

}  // namespace

Model ConvNeXtTiny(const ApplicationOptions& o, const ConvNeXtOptions& c) { return build_convnext(kTiny, o, c); }
Model ConvNeXtSmall(const ApplicationOptions& o, const ConvNeXtOptions& c) { return build_convnext(kSmall, o, c); }
Model ConvNeXtBase(const ApplicationOptions& o, const ConvNeXtOptions& c) { return build_convnext(kBase, o, c); }
Model ConvNeXtLarge(const ApplicationOptions& o, const ConvNeXtOptions& c) { return build_convnext(kLarge, o, c); }
Model ConvNeXtXLarge(const ApplicationOptions& o, const ConvNeXtOptions& c) { return build_convnext(kXLarge, o, c); }

namespace convnext {
Tensor preprocess_input(const Tensor& x, const std::string& /*data_format*/) { return x; }
}  // namespace convnext

}  // namespace minidl::applications
