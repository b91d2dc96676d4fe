// layers/conv/depthwise_conv2d.h — Keras's DepthwiseConv2D: one spatial filter bank
// per input channel, no mixing across channels.
//
//   auto dw = DepthwiseConv2D(3, {.padding = "same", .depth_multiplier = 2});
//   KerasTensor y = dw(Input({32, 32, 16}));          // (None, 32, 32, 32)
//
// Arguments, shapes and errors: the Conv base's (layers/conv/conv_base.h), with
// depth_multiplier and the depthwise parts, and no filters: output channel
// c*depth_multiplier + m is input channel c convolved with depthwise_kernel[..., c, m].
// Weights: "depthwise_kernel" (kh, kw, C, depth_multiplier), "bias" (C*depth_multiplier,).
// Computation: a grouped convolution with groups = C (layers/conv/conv2d_function.h)
// on a view of the depthwise kernel (ConvBase::depthwise_as_grouped).
#pragma once

#include <memory>
#include <string>

#include "layers/conv/conv_base.h"

namespace minidl {

// Keras's DepthwiseConv2D arguments after kernel_size, in Keras's order and defaults.
struct DepthwiseConv2DOptions {
  IntPair strides = 1;
  std::string padding = "valid";
  int64_t depth_multiplier = 1;
  std::string data_format{};  // "" = image_data_format()
  IntPair dilation_rate = 1;
  ActivationArg activation{};  // unset = linear
  bool use_bias = true;
  InitializerArg depthwise_initializer = "glorot_uniform";
  InitializerArg bias_initializer = "zeros";
  RegularizerArg depthwise_regularizer{};
  RegularizerArg bias_regularizer{};
  RegularizerArg activity_regularizer{};
  ConstraintArg depthwise_constraint{};
  ConstraintArg bias_constraint{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

class DepthwiseConv2DImpl : public ConvBase {
 public:
  // Throws the construction-time ValueErrors of the Conv base.
  explicit DepthwiseConv2DImpl(IntPair kernel_size, DepthwiseConv2DOptions options = {});

  // Config keys (written): Keras 3's DepthwiseConv2D arguments, the Conv base's
  // without groups (Keras 3 rejects it; tf.keras 2.x defaults it to 1), with
  // depthwise_* parts. Reads Keras 2/3 configs; missing keys take Keras
  // defaults; the "groups" tf.keras 2.x writes is accepted and ignored (it
  // means nothing here).
  // ValueError for wrong types, unknown keys or values the constructor rejects.
  static std::shared_ptr<DepthwiseConv2DImpl> from_config(const json& config);

  using ConvBase::depth_multiplier;

  // The weight (Keras's layer.depthwise_kernel). RuntimeError before build.
  const Variable& depthwise_kernel() const { return built_weight(depthwise_kernel_, "depthwise_kernel"); }

 protected:
  void build_kernels(int64_t channels) override;
  Variable convolve(const Variable& x, const Shape& output_shape) override;

 private:
  detail::WeightParts depthwise_parts_;
  Variable depthwise_kernel_;
};

// The Keras-named handle: DepthwiseConv2D(3, {.depth_multiplier = 2}).
class DepthwiseConv2D : public LayerHolder<DepthwiseConv2DImpl> {
 public:
  explicit DepthwiseConv2D(IntPair kernel_size, DepthwiseConv2DOptions options = {})
      : LayerHolder(std::make_shared<DepthwiseConv2DImpl>(kernel_size, std::move(options))) {}
  explicit DepthwiseConv2D(std::shared_ptr<DepthwiseConv2DImpl> impl) : LayerHolder(std::move(impl)) {}
};

}  // namespace minidl
