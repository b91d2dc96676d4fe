// applications/nasnet.cpp — NASNet-A (Mobile and Large), layer by layer as keras/src/applications/nasnet.py.
#include "applications/nasnet.h"

#include "applications/imagenet_utils.h"
#include "core/errors.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/separable_conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/pooling/pooling2d.h"
#include "layers/reshaping/cropping2d.h"
#include "layers/reshaping/zero_padding2d.h"

namespace minidl::applications {
namespace {

struct Variant {
  int64_t penultimate_filters;
  int num_blocks;
  int64_t stem_block_filters;
  bool skip_reduction;
  int64_t filter_multiplier;
  int64_t default_size;
  const char* architecture;
  const char* name;
};

const Variant kMobile{1056, 4, 32, false, 2, 224, "NASNetMobile", "nasnet_mobile"};
const Variant kLarge{4032, 6, 96, true, 2, 331, "NASNetLarge", "nasnet_large"};

KerasTensor relu(const KerasTensor& x, const std::string& name = "") {
  return ActivationLayer("relu", {.name = name})(x);
}

KerasTensor batch_norm(const KerasTensor& x, const std::string& name) {
  return BatchNormalization({.axis = -1, .momentum = 0.9997, .epsilon = 1e-3, .name = name})(x);
}

KerasTensor conv1x1(const KerasTensor& x, int64_t filters, const std::string& name) {
  return Conv2D(
      filters, 1,
      {.strides = 1, .padding = "same", .use_bias = false, .kernel_initializer = "he_normal", .name = name})(x);
}

KerasTensor add(const KerasTensor& a, const KerasTensor& b, const std::string& name = "") {
  return Add({.name = name})({a, b});
}

KerasTensor separable_conv_block(const KerasTensor& ip, int64_t filters, int64_t kernel_size, int64_t strides,
                                 const std::string& block_id) {
  KerasTensor x = relu(ip);
  std::string conv_pad = "same";
  if (strides == 2) {
    x = ZeroPadding2D(imagenet_utils::correct_pad(x, kernel_size), {.name = "separable_conv_1_pad_" + block_id})(x);
    conv_pad = "valid";
  }
  x = SeparableConv2D(
      filters, kernel_size,
      {.strides = strides, .padding = conv_pad, .use_bias = false, .name = "separable_conv_1_" + block_id})(x);
  x = batch_norm(x, "separable_conv_1_bn_" + block_id);
  x = relu(x);
  x = SeparableConv2D(filters, kernel_size,
                      {.padding = "same", .use_bias = false, .name = "separable_conv_2_" + block_id})(x);
  return batch_norm(x, "separable_conv_2_bn_" + block_id);
}

// Brings the previous cell's output p to ip's spatial size and `filters` channels.
KerasTensor adjust_block(const std::optional<KerasTensor>& previous, const KerasTensor& ip, int64_t filters,
                         const std::string& block_id) {
  if (!previous) return ip;
  KerasTensor p = *previous;
  const Shape& ps = p.shape();
  const Shape& is = ip.shape();
  if (ps[ps.size() - 2] != is[is.size() - 2]) {
    p = relu(p, "adjust_relu_1_" + block_id);
    KerasTensor p1 =
        AveragePooling2D(1, {.strides = 2, .padding = "valid", .name = "adjust_avg_pool_1_" + block_id})(p);
    p1 = conv1x1(p1, filters / 2, "adjust_conv_1_" + block_id);
    KerasTensor p2 = ZeroPadding2D(Padding2D({0, 1}, {0, 1}))(p);
    p2 = Cropping2D(Padding2D({1, 0}, {1, 0}))(p2);
    p2 = AveragePooling2D(1, {.strides = 2, .padding = "valid", .name = "adjust_avg_pool_2_" + block_id})(p2);
    p2 = conv1x1(p2, filters / 2, "adjust_conv_2_" + block_id);
    p = Concatenate({.axis = -1})({p1, p2});
    p = batch_norm(p, "adjust_bn_" + block_id);
  } else if (ps.back() != filters) {
    p = relu(p);
    p = conv1x1(p, filters, "adjust_conv_projection_" + block_id);
    p = batch_norm(p, "adjust_bn_" + block_id);
  }
  return p;
}

KerasTensor avg_pool3(const KerasTensor& x, int64_t strides, const std::string& padding, const std::string& name) {
  return AveragePooling2D(3, {.strides = strides, .padding = padding, .name = name})(x);
}

// Returns (x, ip): the cell's output and its input, the next cell's previous output.
std::pair<KerasTensor, KerasTensor> normal_a_cell(const KerasTensor& ip, const std::optional<KerasTensor>& previous,
                                                  int64_t filters, const std::string& block_id) {
  const KerasTensor p = adjust_block(previous, ip, filters, block_id);
  KerasTensor h = relu(ip);
  h = Conv2D(filters, 1,
             {.strides = 1,
              .padding = "same",
              .use_bias = false,
              .kernel_initializer = "he_normal",
              .name = "normal_conv_1_" + block_id})(h);
  h = batch_norm(h, "normal_bn_1_" + block_id);

  const KerasTensor x1_1 = separable_conv_block(h, filters, 5, 1, "normal_left1_" + block_id);
  const KerasTensor x1_2 = separable_conv_block(p, filters, 3, 1, "normal_right1_" + block_id);
  const KerasTensor x1 = add(x1_1, x1_2, "normal_add_1_" + block_id);

  const KerasTensor x2_1 = separable_conv_block(p, filters, 5, 1, "normal_left2_" + block_id);
  const KerasTensor x2_2 = separable_conv_block(p, filters, 3, 1, "normal_right2_" + block_id);
  const KerasTensor x2 = add(x2_1, x2_2, "normal_add_2_" + block_id);

  KerasTensor x3 = avg_pool3(h, 1, "same", "normal_left3_" + block_id);
  x3 = add(x3, p, "normal_add_3_" + block_id);

  const KerasTensor x4_1 = avg_pool3(p, 1, "same", "normal_left4_" + block_id);
  const KerasTensor x4_2 = avg_pool3(p, 1, "same", "normal_right4_" + block_id);
  const KerasTensor x4 = add(x4_1, x4_2, "normal_add_4_" + block_id);

  KerasTensor x5 = separable_conv_block(h, filters, 3, 1, "normal_left5_" + block_id);
  x5 = add(x5, h, "normal_add_5_" + block_id);

  const KerasTensor x = Concatenate({.axis = -1, .name = "normal_concat_" + block_id})({p, x1, x2, x3, x4, x5});
  return {x, ip};
}

std::pair<KerasTensor, KerasTensor> reduction_a_cell(const KerasTensor& ip, const std::optional<KerasTensor>& previous,
                                                     int64_t filters, const std::string& block_id) {
  const KerasTensor p = adjust_block(previous, ip, filters, block_id);
  KerasTensor h = relu(ip);
  h = Conv2D(filters, 1,
             {.strides = 1,
              .padding = "same",
              .use_bias = false,
              .kernel_initializer = "he_normal",
              .name = "reduction_conv_1_" + block_id})(h);
  h = batch_norm(h, "reduction_bn_1_" + block_id);
  const KerasTensor h3 = ZeroPadding2D(imagenet_utils::correct_pad(h, 3), {.name = "reduction_pad_1_" + block_id})(h);

  const KerasTensor x1_1 = separable_conv_block(h, filters, 5, 2, "reduction_left1_" + block_id);
  const KerasTensor x1_2 = separable_conv_block(p, filters, 7, 2, "reduction_right1_" + block_id);
  const KerasTensor x1 = add(x1_1, x1_2, "reduction_add_1_" + block_id);

  const KerasTensor x2_1 =
      MaxPooling2D(3, {.strides = 2, .padding = "valid", .name = "reduction_left2_" + block_id})(h3);
  const KerasTensor x2_2 = separable_conv_block(p, filters, 7, 2, "reduction_right2_" + block_id);
  const KerasTensor x2 = add(x2_1, x2_2, "reduction_add_2_" + block_id);

  const KerasTensor x3_1 = avg_pool3(h3, 2, "valid", "reduction_left3_" + block_id);
  const KerasTensor x3_2 = separable_conv_block(p, filters, 5, 2, "reduction_right3_" + block_id);
  const KerasTensor x3 = add(x3_1, x3_2, "reduction_add3_" + block_id);

  KerasTensor x4 = avg_pool3(x1, 1, "same", "reduction_left4_" + block_id);
  x4 = add(x2, x4);

  const KerasTensor x5_1 = separable_conv_block(x1, filters, 3, 1, "reduction_left4_" + block_id);
  const KerasTensor x5_2 =
      MaxPooling2D(3, {.strides = 2, .padding = "valid", .name = "reduction_right5_" + block_id})(h3);
  const KerasTensor x5 = add(x5_1, x5_2, "reduction_add4_" + block_id);

  const KerasTensor x = Concatenate({.axis = -1, .name = "reduction_concat_" + block_id})({x2, x3, x4, x5});
  return {x, ip};
}

Model build_nasnet(const Variant& v, const ApplicationOptions& options) {
  imagenet_utils::check_arguments(options, v.architecture);
  std::optional<Shape> requested = options.input_shape;
  // NASNetMobile without the top and without an input shape takes its 224x224 default anyway.
  if (v.default_size == 224 && !options.include_top && !requested) requested = Shape{224, 224, 3};
  const Shape input_shape = imagenet_utils::obtain_input_shape(requested, v.default_size, 32, options.include_top);
  const int64_t fm = v.filter_multiplier;
  if (v.penultimate_filters % (24 * fm * fm) != 0)
    raise<ValueError>(
        "For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * (`filter_multiplier` ** 2). "
        "Current value: {}",
        v.penultimate_filters);
  const int64_t filters = v.penultimate_filters / 24;

  KerasTensor img_input = imagenet_utils::image_input(input_shape);
  KerasTensor x = Conv2D(
      v.stem_block_filters, 3,
      {.strides = 2, .padding = "valid", .use_bias = false, .kernel_initializer = "he_normal", .name = "stem_conv1"})(
      img_input);
  x = batch_norm(x, "stem_bn1");

  std::optional<KerasTensor> p;
  auto step = [&](std::pair<KerasTensor, KerasTensor> out) {
    x = out.first;
    p = out.second;
  };
  step(reduction_a_cell(x, p, filters / (fm * fm), "stem_1"));
  step(reduction_a_cell(x, p, filters / fm, "stem_2"));
  for (int i = 0; i < v.num_blocks; ++i) step(normal_a_cell(x, p, filters, std::to_string(i)));

  auto reduce = [&](int64_t cell_filters, const std::string& block_id) {
    const std::optional<KerasTensor> before = p;
    auto [out, p0] = reduction_a_cell(x, p, cell_filters, block_id);
    x = out;
    p = v.skip_reduction ? before : std::optional<KerasTensor>(p0);
  };
  reduce(filters * fm, "reduce_" + std::to_string(v.num_blocks));
  for (int i = 0; i < v.num_blocks; ++i) step(normal_a_cell(x, p, filters * fm, std::to_string(v.num_blocks + i + 1)));
  reduce(filters * fm * fm, "reduce_" + std::to_string(2 * v.num_blocks));
  for (int i = 0; i < v.num_blocks; ++i)
    step(normal_a_cell(x, p, filters * fm * fm, std::to_string(2 * v.num_blocks + i + 1)));

  x = relu(x);
  if (options.include_top) {
    x = GlobalAveragePooling2D()(x);
    x = Dense(options.classes, {.activation = options.classifier_activation, .name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling);
  }
  return Model(img_input, x, options.name.empty() ? std::string(v.name) : options.name);
}

const ApplicationRegistrar kRegisterMobile(kMobile.architecture,
                                           [](const ApplicationOptions& o) { return NASNetMobile(o); });
const ApplicationRegistrar kRegisterLarge(kLarge.architecture,
                                          [](const ApplicationOptions& o) { return NASNetLarge(o); });

}  // namespace

Model NASNetMobile(const ApplicationOptions& options) { return build_nasnet(kMobile, options); }
Model NASNetLarge(const ApplicationOptions& options) { return build_nasnet(kLarge, options); }

namespace nasnet {
Tensor preprocess_input(const Tensor& x, const std::string& data_format) {
  return imagenet_utils::preprocess_input(x, data_format, "tf");
}
}  // namespace nasnet

}  // namespace minidl::applications
