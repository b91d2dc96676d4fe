// applications/inception_v3.cpp — InceptionV3, layer by layer as keras/src/applications/inception_v3.py.
#include "applications/inception_v3.h"

#include <vector>

#include "applications/imagenet_utils.h"
#include "layers/activations/activation_layers.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/pooling/pooling2d.h"

namespace minidl::applications {
namespace {

// Keras's conv2d_bn(x, filters, num_row, num_col, padding, strides) with name=None.
KerasTensor conv2d_bn(const KerasTensor& in, int64_t filters, int64_t rows, int64_t cols,
                      const std::string& padding = "same", int64_t strides = 1) {
  KerasTensor x = Conv2D(filters, {rows, cols}, {.strides = strides, .padding = padding, .use_bias = false})(in);
  x = BatchNormalization({.axis = 3, .scale = false})(x);
  return ActivationLayer("relu")(x);
}

KerasTensor concat(const std::vector<KerasTensor>& parts, const std::string& name = "") {
  return Concatenate({.axis = 3, .name = name})(parts).at(0);
}

KerasTensor avg_pool_same(const KerasTensor& x) { return AveragePooling2D(3, {.strides = 1, .padding = "same"})(x); }

KerasTensor max_pool_valid(const KerasTensor& x) { return MaxPooling2D(3, {.strides = 2})(x); }

// mixed0..mixed2: 1x1, 5x5, double 3x3 and pooled branches.
KerasTensor module_a(const KerasTensor& x, int64_t pool_filters, const std::string& name) {
  KerasTensor branch1x1 = conv2d_bn(x, 64, 1, 1);
  KerasTensor branch5x5 = conv2d_bn(x, 48, 1, 1);
  branch5x5 = conv2d_bn(branch5x5, 64, 5, 5);
  KerasTensor branch3x3dbl = conv2d_bn(x, 64, 1, 1);
  branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3);
  branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3);
  KerasTensor branch_pool = conv2d_bn(avg_pool_same(x), pool_filters, 1, 1);
  return concat({branch1x1, branch5x5, branch3x3dbl, branch_pool}, name);
}

// mixed4..mixed7: factorized 7x7 branches with `inner` filters inside.
KerasTensor module_c(const KerasTensor& x, int64_t inner, const std::string& name) {
  KerasTensor branch1x1 = conv2d_bn(x, 192, 1, 1);
  KerasTensor branch7x7 = conv2d_bn(x, inner, 1, 1);
  branch7x7 = conv2d_bn(branch7x7, inner, 1, 7);
  branch7x7 = conv2d_bn(branch7x7, 192, 7, 1);
  KerasTensor branch7x7dbl = conv2d_bn(x, inner, 1, 1);
  branch7x7dbl = conv2d_bn(branch7x7dbl, inner, 7, 1);
  branch7x7dbl = conv2d_bn(branch7x7dbl, inner, 1, 7);
  branch7x7dbl = conv2d_bn(branch7x7dbl, inner, 7, 1);
  branch7x7dbl = conv2d_bn(branch7x7dbl, 192, 1, 7);
  KerasTensor branch_pool = conv2d_bn(avg_pool_same(x), 192, 1, 1);
  return concat({branch1x1, branch7x7, branch7x7dbl, branch_pool}, name);
}

// mixed9, mixed10: expanded filter banks.
KerasTensor module_e(const KerasTensor& x, int i) {
  KerasTensor branch1x1 = conv2d_bn(x, 320, 1, 1);
  KerasTensor branch3x3 = conv2d_bn(x, 384, 1, 1);
  KerasTensor branch3x3_1 = conv2d_bn(branch3x3, 384, 1, 3);
  KerasTensor branch3x3_2 = conv2d_bn(branch3x3, 384, 3, 1);
  branch3x3 = concat({branch3x3_1, branch3x3_2}, "mixed9_" + std::to_string(i));
  KerasTensor branch3x3dbl = conv2d_bn(x, 448, 1, 1);
  branch3x3dbl = conv2d_bn(branch3x3dbl, 384, 3, 3);
  KerasTensor branch3x3dbl_1 = conv2d_bn(branch3x3dbl, 384, 1, 3);
  KerasTensor branch3x3dbl_2 = conv2d_bn(branch3x3dbl, 384, 3, 1);
  branch3x3dbl = concat({branch3x3dbl_1, branch3x3dbl_2});
  KerasTensor branch_pool = conv2d_bn(avg_pool_same(x), 192, 1, 1);
  return concat({branch1x1, branch3x3, branch3x3dbl, branch_pool}, "mixed" + std::to_string(9 + i));
}

const ApplicationRegistrar kInceptionV3Registrar("InceptionV3",
                                                 [](const ApplicationOptions& o) { return InceptionV3(o); });

}  // namespace

Model InceptionV3(const ApplicationOptions& options) {
  imagenet_utils::check_arguments(options, "InceptionV3");
  const Shape input_shape = imagenet_utils::obtain_input_shape(options.input_shape, 299, 75, options.include_top);
  KerasTensor img_input = imagenet_utils::image_input(input_shape);

  KerasTensor x = conv2d_bn(img_input, 32, 3, 3, "valid", 2);
  x = conv2d_bn(x, 32, 3, 3, "valid");
  x = conv2d_bn(x, 64, 3, 3);
  x = max_pool_valid(x);
  x = conv2d_bn(x, 80, 1, 1, "valid");
  x = conv2d_bn(x, 192, 3, 3, "valid");
  x = max_pool_valid(x);

  x = module_a(x, 32, "mixed0");
  x = module_a(x, 64, "mixed1");
  x = module_a(x, 64, "mixed2");

  {  // mixed3: grid reduction
    KerasTensor branch3x3 = conv2d_bn(x, 384, 3, 3, "valid", 2);
    KerasTensor branch3x3dbl = conv2d_bn(x, 64, 1, 1);
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3);
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, "valid", 2);
    KerasTensor branch_pool = max_pool_valid(x);
    x = concat({branch3x3, branch3x3dbl, branch_pool}, "mixed3");
  }

  x = module_c(x, 128, "mixed4");
  x = module_c(x, 160, "mixed5");
  x = module_c(x, 160, "mixed6");
  x = module_c(x, 192, "mixed7");

  {  // mixed8: grid reduction
    KerasTensor branch3x3 = conv2d_bn(x, 192, 1, 1);
    branch3x3 = conv2d_bn(branch3x3, 320, 3, 3, "valid", 2);
    KerasTensor branch7x7x3 = conv2d_bn(x, 192, 1, 1);
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7);
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1);
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, "valid", 2);
    KerasTensor branch_pool = max_pool_valid(x);
    x = concat({branch3x3, branch7x7x3, branch_pool}, "mixed8");
  }

  x = module_e(x, 0);
  x = module_e(x, 1);

  if (options.include_top) {
    x = GlobalAveragePooling2D({.name = "avg_pool"})(x);
    x = Dense(options.classes, {.activation = options.classifier_activation, .name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling);
  }
  return Model(img_input, x, options.name.empty() ? "inception_v3" : options.name);
}

namespace inception_v3 {
Tensor preprocess_input(const Tensor& x, const std::string& data_format) {
  return imagenet_utils::preprocess_input(x, data_format, "tf");
}
}  // namespace inception_v3

}  // namespace minidl::applications
