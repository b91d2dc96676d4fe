// applications/nasnet.h — NASNetMobile and NASNetLarge (keras.applications.nasnet), built as Keras 3
// builds them.
//
//   Model m = applications::NASNetMobile({.input_shape = Shape{32, 32, 3}, .classes = 10});
//   Tensor x = applications::nasnet::preprocess_input(images);   // [0, 255] -> [-1, 1]
//
// Keras's layers, names and arguments: "stem_conv1" (3x3 stride 2, valid) and "stem_bn1", two
// reduction cells "stem_1", "stem_2", then normal cells "0" ... and reduction cells "reduce_N"
// (NASNet-A: separable convolution branches "separable_conv_{1,2}_{left,right}...", average and max
// pooling branches, "adjust_*" layers that bring the previous cell's output to this cell's shape,
// each cell ending in a Concatenate "normal_concat_N" / "reduction_concat_N"); a last ReLU and with
// include_top GlobalAveragePooling2D -> Dense "predictions". Mobile: 1056 penultimate filters, 4
// blocks per stage, 32 stem filters, default input 224x224x3 (also without the top), model name
// "nasnet_mobile". Large: 4032, 6, 96, 331x331x3, "nasnet_large". ValueError for bad arguments
// (imagenet_utils.h).
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

Model NASNetMobile(const ApplicationOptions& options = {});
Model NASNetLarge(const ApplicationOptions& options = {});

namespace nasnet {
// keras.applications.nasnet.preprocess_input: mode "tf", pixels in [0, 255] to [-1, 1].
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace nasnet

}  // namespace minidl::applications
