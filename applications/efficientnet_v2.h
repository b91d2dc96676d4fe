// applications/efficientnet_v2.h — EfficientNetV2B0 ... B3, S, M and L (keras.applications.efficientnet_v2),
// built as Keras 3 builds them.
//
//   Model m = applications::EfficientNetV2B0({.input_shape = Shape{64, 64, 3}, .classes = 10});
//
// Keras's layers, names and arguments: with include_preprocessing, Rescaling(1/255) and a
// Normalization with ImageNet's mean and variance (B0-B3, 3 channels) or Rescaling(1/128, offset -1)
// (S, M, L, or other channel counts); the stem "stem_conv" (stride 2, same padding); FusedMBConv
// stages then MBConv stages "block{stage}{a,b,...}_*" (expand_conv, dwconv2, squeeze-excite,
// project_conv, a Dropout with noise_shape (None, 1, 1, 1) and an Add where shapes allow);
// "top_conv"; with include_top GlobalAveragePooling2D "avg_pool" -> Dropout "top_dropout" -> Dense
// "predictions" (bias Constant(0)). BatchNormalization momentum 0.9. Model names
// "efficientnetv2-b0", ..., "efficientnetv2-s", "-m", "-l"; Keras chooses the blocks and the
// preprocessing by that default name. ValueError for bad arguments (imagenet_utils.h).
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

// The argument every EfficientNetV2 variant adds, Keras's name and default.
struct EfficientNetV2Options {
  bool include_preprocessing = true;  // the Rescaling (and Normalization) layers first
};
using EfficientNetV2B0Options = EfficientNetV2Options;

Model EfficientNetV2B0(const ApplicationOptions& options = {}, const EfficientNetV2Options& v2 = {});
Model EfficientNetV2B1(const ApplicationOptions& options = {}, const EfficientNetV2Options& v2 = {});
Model EfficientNetV2B2(const ApplicationOptions& options = {}, const EfficientNetV2Options& v2 = {});
Model EfficientNetV2B3(const ApplicationOptions& options = {}, const EfficientNetV2Options& v2 = {});
Model EfficientNetV2S(const ApplicationOptions& options = {}, const EfficientNetV2Options& v2 = {});
Model EfficientNetV2M(const ApplicationOptions& options = {}, const EfficientNetV2Options& v2 = {});
Model EfficientNetV2L(const ApplicationOptions& options = {}, const EfficientNetV2Options& v2 = {});

namespace efficientnet_v2 {
// keras.applications.efficientnet_v2.preprocess_input: the identity (the models rescale inside).
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace efficientnet_v2

}  // namespace minidl::applications
