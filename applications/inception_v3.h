// applications/inception_v3.h — InceptionV3 (keras.applications.inception_v3), built as Keras 3 builds it.
//
//   Model m = applications::InceptionV3({.input_shape = Shape{75, 75, 3}, .classes = 10});
//   Tensor x = applications::inception_v3::preprocess_input(images);   // [0, 255] -> [-1, 1]
//
// The stem of conv2d_bn units (Conv2D without bias -> BatchNormalization(axis 3, scale=False)
// -> relu, all with Keras's default names conv2d_N, batch_normalization_N, activation_N) and
// the Inception modules, joined by Concatenate mixed0 ... mixed10 (mixed9_0, mixed9_1 inside);
// with include_top GlobalAveragePooling2D "avg_pool" -> Dense "predictions". Default input
// 299x299x3, at least 75x75; model name "inception_v3".
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

Model InceptionV3(const ApplicationOptions& options = {});

namespace inception_v3 {
// keras.applications.inception_v3.preprocess_input: mode "tf".
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace inception_v3

}  // namespace minidl::applications
