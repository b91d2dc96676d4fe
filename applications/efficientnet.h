// applications/efficientnet.h — EfficientNetB0 ... EfficientNetB7 (keras.applications.efficientnet),
// built as Keras 3 builds them.
//
//   Model m = applications::EfficientNetB0({.include_top = false, .input_shape = Shape{64, 64, 3}, .pooling = "avg"});
//
// Keras's layers, names and arguments: Rescaling(1/255) and an (unadapted) Normalization(axis=3) first,
// the stem "stem_conv" (stride 2 after "stem_conv_pad"), MBConv blocks "block{stage}{a,b,...}_*"
// (expand_conv, dwconv, squeeze-excite se_squeeze / se_reshape / se_reduce / se_expand / se_excite,
// project_conv, a Dropout with noise_shape (None, 1, 1, 1) and an Add where shapes allow), "top_conv",
// and with include_top GlobalAveragePooling2D "avg_pool" -> Dropout "top_dropout" -> Dense
// "predictions". Convolutions start from VarianceScaling(2, fan_out, truncated_normal), the classifier
// from VarianceScaling(1/3, fan_out, uniform). The variants differ only in width and depth
// coefficients, default size (224, 240, 260, 300, 380, 456, 528, 600) and top dropout rate. Model
// names "efficientnetb0" ... "efficientnetb7". Inputs are pixels in [0, 255]: the model rescales
// inside. ValueError for bad arguments (imagenet_utils.h).
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

Model EfficientNetB0(const ApplicationOptions& options = {});
Model EfficientNetB1(const ApplicationOptions& options = {});
Model EfficientNetB2(const ApplicationOptions& options = {});
Model EfficientNetB3(const ApplicationOptions& options = {});
Model EfficientNetB4(const ApplicationOptions& options = {});
Model EfficientNetB5(const ApplicationOptions& options = {});
Model EfficientNetB6(const ApplicationOptions& options = {});
Model EfficientNetB7(const ApplicationOptions& options = {});

namespace efficientnet {
// keras.applications.efficientnet.preprocess_input: the identity (the models rescale inside).
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace efficientnet

}  // namespace minidl::applications
