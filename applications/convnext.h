// applications/convnext.h — ConvNeXtTiny, Small, Base, Large and XLarge (keras.applications.convnext),
// built as Keras 3 builds them.
//
//   Model m = applications::ConvNeXtTiny({.input_shape = Shape{32, 32, 3}, .classes = 10});
//
// Keras's layers, names and arguments, every name prefixed by the model name ("convnext_tiny", ...):
// with include_preprocessing (and 3 channels) a Normalization "_prestem_normalization" with ImageNet's
// mean and variance in [0, 255] units; the stem and three downsampling blocks as nested Sequential
// models ("_stem": Conv2D 4x4 stride 4 + LayerNormalization; "_downsampling_block_{i}":
// LayerNormalization + Conv2D 2x2 stride 2); ConvNeXt blocks "_stage_{i}_block_{j}" (7x7 Conv2D with
// groups = channels, LayerNormalization, Dense 4x, gelu, Dense, LayerScale(1e-6), Activation("linear")
// "_identity", and the residual `inputs + x`, which Keras 3 records as a keras.src.ops.numpy.Add
// layer); with include_top GlobalAveragePooling2D "_head_gap" -> LayerNormalization "_head_layernorm"
// -> Dense "_head_dense"; without it the pooling (if any) and an unnamed LayerNormalization. Default
// input 224x224x3, at least 32x32. ValueError for bad arguments (imagenet_utils.h).
#pragma once

#include "applications/application_options.h"
#include "core/tensor.h"

namespace minidl::applications {

// The argument every ConvNeXt variant adds, Keras's name and default.
struct ConvNeXtOptions {
  bool include_preprocessing = true;  // the Normalization layer first (inputs in [0, 255])
};
using ConvNeXtTinyOptions = ConvNeXtOptions;

Model ConvNeXtTiny(const ApplicationOptions& options = {}, const ConvNeXtOptions& convnext = {});
Model ConvNeXtSmall(const ApplicationOptions& options = {}, const ConvNeXtOptions& convnext = {});
Model ConvNeXtBase(const ApplicationOptions& options = {}, const ConvNeXtOptions& convnext = {});
Model ConvNeXtLarge(const ApplicationOptions& options = {}, const ConvNeXtOptions& convnext = {});
Model ConvNeXtXLarge(const ApplicationOptions& options = {}, const ConvNeXtOptions& convnext = {});

namespace convnext {
// keras.applications.convnext.preprocess_input: the identity (the models normalize inside).
Tensor preprocess_input(const Tensor& x, const std::string& data_format = "");
}  // namespace convnext

}  // namespace minidl::applications
