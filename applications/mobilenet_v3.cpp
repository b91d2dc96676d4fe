// applications/mobilenet_v3.cpp — MobileNetV3Small and MobileNetV3Large, layer by layer as
// keras/src/applications/mobilenet_v3.py.
#include "applications/mobilenet_v3.h"

#include <algorithm>
#include <vector>

#include "applications/imagenet_utils.h"
#include "core/errors.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/merge/merge.h"
#include "layers/merge/operation_layers.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/preprocessing/rescaling.h"
#include "layers/regularization/dropout.h"
#include "layers/reshaping/reshaping.h"
#include "layers/reshaping/zero_padding2d.h"

namespace minidl::applications {
namespace {

// The model's activation (hard_swish, or ReLU when minimalistic) or a plain ReLU, per block.
enum class BlockActivation { kRelu, kModel };

struct BlockSpec {
  double expansion;
  int64_t filters;
  int64_t kernel_size;  // 0: the model's kernel (5, or 3 when minimalistic)
  int64_t stride;
  bool squeeze_excite;  // with the model's se_ratio (none when minimalistic)
  BlockActivation activation;
};

constexpr auto kRelu = BlockActivation::kRelu;
constexpr auto kModel = BlockActivation::kModel;

const std::vector<BlockSpec> kSmallBlocks = {
    {1, 16, 3, 2, true, kRelu},  {72.0 / 16, 24, 3, 2, false, kRelu}, {88.0 / 24, 24, 3, 1, false, kRelu},
    {4, 40, 0, 2, true, kModel}, {6, 40, 0, 1, true, kModel},         {6, 40, 0, 1, true, kModel},
    {3, 48, 0, 1, true, kModel}, {3, 48, 0, 1, true, kModel},         {6, 96, 0, 2, true, kModel},
    {6, 96, 0, 1, true, kModel}, {6, 96, 0, 1, true, kModel},
};

const std::vector<BlockSpec> kLargeBlocks = {
    {1, 16, 3, 1, false, kRelu},    {4, 24, 3, 2, false, kRelu},    {3, 24, 3, 1, false, kRelu},
    {3, 40, 0, 2, true, kRelu},     {3, 40, 0, 1, true, kRelu},     {3, 40, 0, 1, true, kRelu},
    {6, 80, 3, 2, false, kModel},   {2.5, 80, 3, 1, false, kModel}, {2.3, 80, 3, 1, false, kModel},
    {2.3, 80, 3, 1, false, kModel}, {6, 112, 3, 1, true, kModel},   {6, 112, 3, 1, true, kModel},
    {6, 160, 0, 2, true, kModel},   {6, 160, 0, 1, true, kModel},   {6, 160, 0, 1, true, kModel},
};

// Keras's _depth: v rounded to the nearest multiple of 8 (at least 8), never more than 10% below v.
int64_t depth(double v) {
  constexpr int64_t divisor = 8;
  int64_t new_v = std::max<int64_t>(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (static_cast<double>(new_v) < 0.9 * v) new_v += divisor;
  return new_v;
}

KerasTensor relu(const KerasTensor& x) { return ReLU()(x); }

// relu6(x + 3) / 6, as Keras writes it: an operation, a ReLU(6), an operation.
KerasTensor hard_sigmoid(const KerasTensor& x) {
  return keras_ops::multiply(ReLU({.max_value = 6.0})(keras_ops::add(x, 3.0)), 1.0 / 6.0);
}

// Keras calls Activation("hard_swish"); hard_swish is Keras 3's hard_silu, the name its config holds.
KerasTensor hard_swish(const KerasTensor& x) { return ActivationLayer("hard_silu")(x); }

KerasTensor batch_norm(const KerasTensor& x, const std::string& name) {
  return BatchNormalization({.axis = -1, .momentum = 0.999, .epsilon = 1e-3, .name = name})(x);
}

KerasTensor se_block(const KerasTensor& inputs, int64_t filters, double se_ratio, const std::string& prefix) {
  KerasTensor x = GlobalAveragePooling2D({.keepdims = true, .name = prefix + "squeeze_excite_avg_pool"})(inputs);
  x = Conv2D(depth(filters * se_ratio), 1, {.padding = "same", .name = prefix + "squeeze_excite_conv"})(x);
  x = ReLU({.name = prefix + "squeeze_excite_relu"})(x);
  x = Conv2D(filters, 1, {.padding = "same", .name = prefix + "squeeze_excite_conv_1"})(x);
  x = hard_sigmoid(x);
  return Multiply({.name = prefix + "squeeze_excite_mul"})({inputs, x});
}

struct Architecture {
  int64_t kernel_size;
  double se_ratio;  // 0: no squeeze-excite
  KerasTensor (*activation)(const KerasTensor&);
};

KerasTensor inverted_res_block(const KerasTensor& in, const BlockSpec& spec, int64_t filters, const Architecture& arch,
                               int block_id) {
  const int64_t infilters = in.shape().back();
  const int64_t kernel_size = spec.kernel_size == 0 ? arch.kernel_size : spec.kernel_size;
  const double se_ratio = spec.squeeze_excite ? arch.se_ratio : 0.0;
  auto activation = spec.activation == kRelu ? relu : arch.activation;
  std::string prefix = "expanded_conv_";
  KerasTensor x = in;
  if (block_id != 0) {
    prefix = "expanded_conv_" + std::to_string(block_id) + "_";
    x = Conv2D(depth(infilters * spec.expansion), 1,
               {.padding = "same", .use_bias = false, .name = prefix + "expand"})(x);
    x = batch_norm(x, prefix + "expand_bn");
    x = activation(x);
  }
  if (spec.stride == 2)
    x = ZeroPadding2D(imagenet_utils::correct_pad(x, kernel_size), {.name = prefix + "depthwise_pad"})(x);
  x = DepthwiseConv2D(kernel_size, {.strides = spec.stride,
                                    .padding = spec.stride == 1 ? "same" : "valid",
                                    .use_bias = false,
                                    .name = prefix + "depthwise"})(x);
  x = batch_norm(x, prefix + "depthwise_bn");
  x = activation(x);
  if (se_ratio > 0) x = se_block(x, depth(infilters * spec.expansion), se_ratio, prefix);
  x = Conv2D(filters, 1, {.padding = "same", .use_bias = false, .name = prefix + "project"})(x);
  x = batch_norm(x, prefix + "project_bn");
  if (spec.stride == 1 && infilters == filters) x = Add({.name = prefix + "add"})({in, x});
  return x;
}

Model mobilenet_v3(const std::vector<BlockSpec>& blocks, int64_t last_point_ch, const std::string& architecture,
                   const ApplicationOptions& options, const MobileNetV3Options& v3) {
  imagenet_utils::check_arguments(options, architecture);
  Shape input_shape = options.input_shape.value_or(Shape{kNone, kNone, 3});
  if (input_shape.size() != 3) raise<ValueError>("`input_shape` must be a tuple of three integers.");
  const int64_t rows = input_shape[0], cols = input_shape[1];
  if (rows > 0 && cols > 0 && (rows < 32 || cols < 32))
    raise<ValueError>("Input size must be at least 32x32; Received `input_shape={}`",
                      imagenet_utils::python_tuple(input_shape));

  const Architecture arch = v3.minimalistic ? Architecture{3, 0.0, relu} : Architecture{5, 0.25, hard_swish};
  KerasTensor img_input = imagenet_utils::image_input(input_shape);
  KerasTensor x = img_input;
  if (v3.include_preprocessing) x = Rescaling(1.0 / 127.5, {.offset = -1.0})(x);
  x = Conv2D(16, 3, {.strides = 2, .padding = "same", .use_bias = false, .name = "conv"})(x);
  x = batch_norm(x, "conv_bn");
  x = arch.activation(x);
  for (size_t i = 0; i < blocks.size(); ++i)
    x = inverted_res_block(x, blocks[i], depth(blocks[i].filters * v3.alpha), arch, static_cast<int>(i));

  const int64_t last_conv_ch = depth(static_cast<double>(x.shape().back() * 6));
  if (v3.alpha > 1.0) last_point_ch = depth(last_point_ch * v3.alpha);
  x = Conv2D(last_conv_ch, 1, {.padding = "same", .use_bias = false, .name = "conv_1"})(x);
  x = batch_norm(x, "conv_1_bn");
  x = arch.activation(x);
  if (options.include_top) {
    x = GlobalAveragePooling2D({.keepdims = true})(x);
    x = Conv2D(last_point_ch, 1, {.padding = "same", .use_bias = true, .name = "conv_2"})(x);
    x = arch.activation(x);
    if (v3.dropout_rate > 0) x = Dropout(v3.dropout_rate)(x);
    x = Conv2D(options.classes, 1, {.padding = "same", .name = "logits"})(x);
    x = Flatten()(x);
    x = ActivationLayer(options.classifier_activation, {.name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling, "avg_pool", "max_pool");
  }
  return Model(img_input, x, options.name.empty() ? architecture : options.name);
}

const ApplicationRegistrar kMobilenetV3SmallRegistrar("MobileNetV3Small",
                                                      [](const ApplicationOptions& o) { return MobileNetV3Small(o); });
const ApplicationRegistrar kMobilenetV3LargeRegistrar("MobileNetV3Large",
                                                      [](const ApplicationOptions& o) { return MobileNetV3Large(o); });

}  // namespace

Model MobileNetV3Small(const ApplicationOptions& options, const MobileNetV3SmallOptions& v3) {
  return mobilenet_v3(kSmallBlocks, 1024, "MobileNetV3Small", options, v3);
}

Model MobileNetV3Large(const ApplicationOptions& options, const MobileNetV3LargeOptions& v3) {
  return mobilenet_v3(kLargeBlocks, 1280, "MobileNetV3Large", options, v3);
}

}  // namespace minidl::applications
