// applications/vgg16.h — VGG16 (keras.applications.vgg16), built as Keras 3 builds it.
//
//   Model m = applications::VGG16({.include_top = false, .input_shape = Shape{64, 64, 3}, .pooling = "avg"});
//   Tensor x = applications::vgg16::preprocess_input(images);   // caffe: BGR, minus the ImageNet mean
//
// Five blocks of 3x3 Conv2D (relu, same padding; block1_conv1 ... block5_conv3), each ending in
// MaxPooling2D block{N}_pool; with include_top Flatten -> Dense fc1, fc2 (4096, relu) -> Dense
// "predictions". Default input 224x224x3, at least 32x32; model name "vgg16".
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

Model VGG16(const ApplicationOptions& options = {});

namespace vgg16 {
// keras.applications.vgg16.preprocess_input: mode "caffe".
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace vgg16

}  // namespace minidl::applications
