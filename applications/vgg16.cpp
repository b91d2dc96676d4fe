// applications/vgg16.cpp — VGG16, layer by layer as keras/src/applications/vgg16.py.
#include "applications/vgg16.h"

#include "applications/imagenet_utils.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/pooling/pooling2d.h"
#include "layers/reshaping/reshaping.h"

namespace minidl::applications {
namespace {
const ApplicationRegistrar kVgg16Registrar("VGG16", [](const ApplicationOptions& o) { return VGG16(o); });
}  // namespace

Model VGG16(const ApplicationOptions& options) {
  imagenet_utils::check_arguments(options, "VGG16");
  const Shape input_shape = imagenet_utils::obtain_input_shape(options.input_shape, 224, 32, options.include_top);
  KerasTensor img_input = imagenet_utils::image_input(input_shape);
  KerasTensor x = img_input;
  // (filters, convolutions) of blocks 1..5.
  const int64_t kFilters[] = {64, 128, 256, 512, 512};
  const int kConvs[] = {2, 2, 3, 3, 3};
  for (int b = 0; b < 5; ++b) {
    const std::string block = "block" + std::to_string(b + 1);
    for (int c = 1; c <= kConvs[b]; ++c)
      x = Conv2D(kFilters[b], 3,
                 {.padding = "same", .activation = "relu", .name = block + "_conv" + std::to_string(c)})(x);
    x = MaxPooling2D(2, {.strides = 2, .name = block + "_pool"})(x);
  }
  if (options.include_top) {
    x = Flatten({.name = "flatten"})(x);
    x = Dense(4096, {.activation = "relu", .name = "fc1"})(x);
    x = Dense(4096, {.activation = "relu", .name = "fc2"})(x);
    x = Dense(options.classes, {.activation = options.classifier_activation, .name = "predictions"})(x);
  } else {
    x = imagenet_utils::pool_features(x, options.pooling);
  }
  return Model(img_input, x, options.name.empty() ? "vgg16" : options.name);
}

namespace vgg16 {
Tensor preprocess_input(const Tensor& x, const std::string& data_format) {
  return imagenet_utils::preprocess_input(x, data_format, "caffe");
}
}  // namespace vgg16

}  // namespace minidl::applications
