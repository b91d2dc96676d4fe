// applications/efficientnet_blocks.h — what EfficientNet and EfficientNetV2 build alike (private to applications/).
//
// Keras's efficientnet.py and efficientnet_v2.py each define the same kernel
// initializers and the same squeeze-and-excitation block; here they are
// written once (applications/efficientnet.cpp) and used by both builders.
#pragma once

#include <cstdint>
#include <string>

#include "layers/base/keras_tensor.h"
#include "layers/parts/initializers.h"

namespace minidl::applications::efficientnet_blocks {

// CONV_KERNEL_INITIALIZER: VarianceScaling(2.0, "fan_out", "truncated_normal").
VarianceScaling conv_kernel_initializer();
// DENSE_KERNEL_INITIALIZER: VarianceScaling(1/3, "fan_out", "uniform").
VarianceScaling dense_kernel_initializer();

// name + "se_squeeze" (global average) -> "se_reshape" [1, 1, filters] -> "se_reduce" (1x1 conv to
// max(1, filters_in * se_ratio), `activation`) -> "se_expand" (1x1 conv to filters, sigmoid) ->
// "se_excite" (x times the gate).
KerasTensor squeeze_excite(const KerasTensor& x, int64_t filters_in, int64_t filters, double se_ratio,
                           const std::string& activation, const std::string& name);

}  // namespace minidl::applications::efficientnet_blocks
