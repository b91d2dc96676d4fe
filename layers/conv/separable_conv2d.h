// layers/conv/separable_conv2d.h — Keras's SeparableConv2D: a depthwise convolution
// (one filter bank per input channel) followed by a pointwise 1x1 convolution
// that mixes the channels: y = act(pointwise(depthwise(x)) + bias).
//
//   auto sep = SeparableConv2D(64, 3, {.padding = "same", .activation = "relu"});
//   KerasTensor y = sep(Input({32, 32, 16}));         // (None, 32, 32, 64)
//
// Arguments, shapes and errors: the Conv base's (layers/conv/conv_base.h), with
// filters, depth_multiplier and the depthwise and pointwise parts; strides,
// dilation and padding are the depthwise step's. Weights, as Keras stores them:
//   "depthwise_kernel" (kh, kw, C, depth_multiplier)
//   "pointwise_kernel" (1, 1, C*depth_multiplier, filters)    "bias" (filters,)
// Computation: two tape entries of layers/conv/conv2d_function.h in NHWC (a
// channels_first input is transposed once each way): a grouped conv on a view of
// the depthwise kernel, then the 1x1 conv (no im2col) with the bias and a fused relu.
#pragma once

#include <memory>
#include <string>

#include "layers/conv/conv_base.h"

namespace minidl {

// Keras's SeparableConv2D arguments after filters and kernel_size, in Keras's order and defaults.
struct SeparableConv2DOptions {
  IntPair strides = 1;
  std::string padding = "valid";
  std::string data_format{};  // "" = image_data_format()
  IntPair dilation_rate = 1;
  int64_t depth_multiplier = 1;
  ActivationArg activation{};  // unset = linear
  bool use_bias = true;
  InitializerArg depthwise_initializer = "glorot_uniform";
  InitializerArg pointwise_initializer = "glorot_uniform";
  InitializerArg bias_initializer = "zeros";
  RegularizerArg depthwise_regularizer{};
  RegularizerArg pointwise_regularizer{};
  RegularizerArg bias_regularizer{};
  RegularizerArg activity_regularizer{};
  ConstraintArg depthwise_constraint{};
  ConstraintArg pointwise_constraint{};
  ConstraintArg bias_constraint{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

class SeparableConv2DImpl : public ConvBase {
 public:
  // Throws the construction-time ValueErrors of the Conv base.
  SeparableConv2DImpl(int64_t filters, IntPair kernel_size, SeparableConv2DOptions options = {});

  // Config keys (written): Keras 3's SeparableConv2D arguments, the Conv base's
  // without groups, with depthwise_* and pointwise_* parts; tf.keras 2.x reads
  // them too. Reads Keras 1 (after the io loader's key renaming), 2 and 3
  // configs; missing keys take Keras defaults. The groups and kernel_* keys
  // tf.keras 2.x writes from its Conv base are checked and dropped (groups must
  // be 1). ValueError for wrong types, unknown keys, groups other than 1, or
  // values the constructor rejects.
  static std::shared_ptr<SeparableConv2DImpl> from_config(const json& config);

  int64_t filters() const { return *filters_or_none(); }
  using ConvBase::depth_multiplier;

  // The weights (Keras's layer.depthwise_kernel / pointwise_kernel). RuntimeError before build.
  const Variable& depthwise_kernel() const { return built_weight(depthwise_kernel_, "depthwise_kernel"); }
  const Variable& pointwise_kernel() const { return built_weight(pointwise_kernel_, "pointwise_kernel"); }

 protected:
  void build_kernels(int64_t channels) override;
  Variable convolve(const Variable& x, const Shape& output_shape) override;

 private:
  detail::WeightParts depthwise_parts_, pointwise_parts_;
  Variable depthwise_kernel_, pointwise_kernel_;
};

// The Keras-named handle: SeparableConv2D(64, 3, {.padding = "same"}).
class SeparableConv2D : public LayerHolder<SeparableConv2DImpl> {
 public:
  SeparableConv2D(int64_t filters, IntPair kernel_size, SeparableConv2DOptions options = {})
      : LayerHolder(std::make_shared<SeparableConv2DImpl>(filters, kernel_size, std::move(options))) {}
  explicit SeparableConv2D(std::shared_ptr<SeparableConv2DImpl> impl) : LayerHolder(std::move(impl)) {}
};

}  // namespace minidl
