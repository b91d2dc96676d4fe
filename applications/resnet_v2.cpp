// applications/resnet_v2.cpp — ResNetV2, as keras/src/applications/resnet_v2.py.
#include "applications/resnet_v2.h"

#include "applications/imagenet_utils.h"
#include "applications/resnet.h"

namespace minidl::applications {
namespace {

// Blocks per stack conv2..conv5; conv5 keeps stride 1, as in Keras.
KerasTensor resnet_v2_stacks(const KerasTensor& in, int conv3, int conv4) {
  KerasTensor x = resnet::stack_residual_blocks_v2(in, 64, 3, 2, "conv2");
  x = resnet::stack_residual_blocks_v2(x, 128, conv3, 2, "conv3");
  x = resnet::stack_residual_blocks_v2(x, 256, conv4, 2, "conv4");
  return resnet::stack_residual_blocks_v2(x, 512, 3, 1, "conv5");
}

const ApplicationRegistrar kResNet50V2("ResNet50V2", [](const ApplicationOptions& o) { return ResNet50V2(o); });
const ApplicationRegistrar kResNet101V2("ResNet101V2", [](const ApplicationOptions& o) { return ResNet101V2(o); });
const ApplicationRegistrar kResNet152V2("ResNet152V2", [](const ApplicationOptions& o) { return ResNet152V2(o); });

}  // namespace

Model ResNet50V2(const ApplicationOptions& options) {
  return resnet::ResNet([](const KerasTensor& x) { return resnet_v2_stacks(x, 4, 6); }, true, true, options,
                        "resnet50v2", "ResNet50V2");
}

Model ResNet101V2(const ApplicationOptions& options) {
  return resnet::ResNet([](const KerasTensor& x) { return resnet_v2_stacks(x, 4, 23); }, true, true, options,
                        "resnet101v2", "ResNet101V2");
}

Model ResNet152V2(const ApplicationOptions& options) {
  return resnet::ResNet([](const KerasTensor& x) { return resnet_v2_stacks(x, 8, 36); }, true, true, options,
                        "resnet152v2", "ResNet152V2");
}

namespace resnet_v2 {
Tensor preprocess_input(const Tensor& x, const std::string& data_format) {
  return imagenet_utils::preprocess_input(x, data_format, "tf");
}
}  // namespace resnet_v2

}  // namespace minidl::applications
