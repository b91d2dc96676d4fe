// applications/xception.cpp — Xception, layer by layer as keras/src/applications/xception.py.
#include "applications/xception.h"

#include "applications/imagenet_utils.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/separable_conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/pooling/pooling2d.h"

namespace minidl::applications {
namespace {

KerasTensor relu(const KerasTensor& x, const std::string& name) { return ActivationLayer("relu", {.name = name})(x); }

// SeparableConv2D (3x3, same, no bias) named `name`, then BatchNormalization "{name}_bn".
KerasTensor sepconv_bn(const KerasTensor& x, int64_t filters, const std::string& name) {
  KerasTensor y = SeparableConv2D(filters, 3, {.padding = "same", .use_bias = false, .name = name})(x);
  return BatchNormalization({.axis = -1, .name = name + "_bn"})(y);
}

// The unnamed strided 1x1 projection of the entry and exit flows.
KerasTensor residual_projection(const KerasTensor& x, int64_t filters) {
  KerasTensor r = Conv2D(filters, 1, {.strides = 2, .padding = "same", .use_bias = false})(x);
  return BatchNormalization({.axis = -1})(r);
}

KerasTensor block_pool(const KerasTensor& x, const std::string& name) {
  return MaxPooling2D(3, {.strides = 2, .padding = "same", .name = name})(x);
}

const ApplicationRegistrar kXceptionRegistrar("Xception", [](const ApplicationOptions& o) { return Xception(o); });

}  // namespace

Model Xception(const ApplicationOptions& options) {
  imagenet_utils::check_arguments(options, "Xception");
  const Shape input_shape = imagenet_utils::obtain_input_shape(options.input_shape, 299, 71, options.include_top);
  KerasTensor img_input = imagenet_utils::image_input(input_shape);

  KerasTensor x = Conv2D(32, 3, {.strides = 2, .use_bias = false, .name = "block1_conv1"})(img_input);
  x = BatchNormalization({.axis = -1, .name = "block1_conv1_bn"})(x);
  x = relu(x, "block1_conv1_act");
  x = Conv2D(64, 3, {.use_bias = false, .name = "block1_conv2"})(x);
  x = BatchNormalization({.axis = -1, .name = "block1_conv2_bn"})(x);
  x = relu(x, "block1_conv2_act");

  KerasTensor residual = residual_projection(x, 128);
  x = sepconv_bn(x, 128, "block2_sepconv1");
  x = relu(x, "block2_sepconv2_act");
  x = sepconv_bn(x, 128, "block2_sepconv2");
  x = block_pool(x, "block2_pool");
  x = Add()({x, residual});

  // block3 (256) and block4 (728): relu -> sepconv -> relu -> sepconv -> pool, plus the projection.
  const int64_t kEntryFilters[] = {256, 728};
  for (int i = 0; i < 2; ++i) {
    const std::string block = "block" + std::to_string(i + 3);
    residual = residual_projection(x, kEntryFilters[i]);
    x = relu(x, block + "_sepconv1_act");
    x = sepconv_bn(x, kEntryFilters[i], block + "_sepconv1");
    x = relu(x, block + "_sepconv2_act");
    x = sepconv_bn(x, kEntryFilters[i], block + "_sepconv2");
    x = block_pool(x, block + "_pool");
    x = Add()({x, residual});
  }

  for (int i = 0; i < 8; ++i) {
    residual = x;
    const std::string prefix = "block" + std::to_string(i + 5);
    for (int s = 1; s <= 3; ++s) {
      const std::string sep = prefix + "_sepconv" + std::to_string(s);
      x = relu(x, sep + "_act");
      x = sepconv_bn(x, 728, sep);
    }
    x = Add()({x, residual});
  }

  residual = residual_projection(x, 1024);
  x = relu(x, "block13_sepconv1_act");
  x = sepconv_bn(x, 728, "block13_sepconv1");
  x = relu(x, "block13_sepconv2_act");
  x = sepconv_bn(x, 1024, "block13_sepconv2");
  x = block_pool(x, "block13_pool");
  x = Add()({x, residual});

  x = sepconv_bn(x, 1536, "block14_sepconv1");
  x = relu(x, "block14_sepconv1_act");
  x = sepconv_bn(x, 2048, "block14_sepconv2");
  x = relu(x, "block14_sepconv2_act");

  if (options.include_top) {
    x = GlobalAveragePooling2D({.name = "avg_pool"})(x);
    x = Dense(options.classes, {.activation = options.classifier_activation, .name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling);
  }
  return Model(img_input, x, options.name.empty() ? "xception" : options.name);
}

namespace xception {
Tensor preprocess_input(const Tensor& x, const std::string& data_format) {
  return imagenet_utils::preprocess_input(x, data_format, "tf");
}
}  // namespace xception

}  // namespace minidl::applications
