// layers/conv/depthwise_conv2d.h — Keras's DepthwiseConv2D: one spatial filter bank
// per input channel, no mixing across channels.
//
//   auto dw = DepthwiseConv2D(3, {.padding = "same", .depth_multiplier = 2});
//   KerasTensor y = dw(Input({32, 32, 16}));          // (None, 32, 32, 32)
//
// Arguments follow tf.keras 2.4 DepthwiseConv2D: kernel_size, strides,
// padding ("valid" | "same", any case), depth_multiplier, data_format (""
// = image_data_format(), see layers/reshaping/spatial_utils.h), dilation_rate,
// activation, use_bias, depthwise/bias initializers, regularizers and
// constraints, then the common layer options (activity_regularizer included).
//
// Shapes. channels_last (batch, rows, cols, C) -> (batch, new_rows, new_cols,
// C*depth_multiplier); channels_first likewise with channels on axis 1. Output
// lengths and the "same" split are Conv2D's (layers/conv/conv2d.h). Output channel
// c*depth_multiplier + m is input channel c convolved with depthwise_kernel[..., c, m].
// Weights, as Keras stores them whatever the data_format:
//   "depthwise_kernel" (kh, kw, C, depth_multiplier)   "bias" (C*depth_multiplier,)
//
// Computation: a grouped convolution with groups = C through
// layers/conv/conv2d_function.h. Its kernel (kh, kw, 1, C*dm) with output channel
// c*dm + m is the depthwise kernel's own memory, so the kernel is passed as a
// reshaped view (no copy, gradients flow back through the view). relu is fused;
// other activations follow as autograd functions, softmax over the last axis.
//
// Errors are ValueError "DepthwiseConv2D '<name>': ...": at construction for
// non-positive kernel_size / strides / dilation_rate / depth_multiplier,
// strides > 1 together with dilation_rate > 1, unknown padding, data_format or
// part names; for an input that is not rank 4, has an undefined (None) channel
// axis, channels differing from the built kernel's, zero spatial dims, or
// (padding "valid") spatial dims smaller than the dilated kernel.
#pragma once

#include <memory>
#include <string>

#include "layers/parts/activations.h"
#include "layers/conv/conv2d_function.h"
#include "layers/conv/conv_utils.h"
#include "layers/base/layer.h"

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

class DepthwiseConv2DImpl : public Layer {
 public:
  // Throws the construction-time ValueErrors listed above.
  explicit DepthwiseConv2DImpl(IntPair kernel_size, DepthwiseConv2DOptions options = {});

  std::string class_name() const override { return "DepthwiseConv2D"; }

  // Validates the input shape and returns the output shape; None spatial dims stay None.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

  // tf.keras 2.4 keys: name, trainable, [batch_input_shape], dtype, kernel_size,
  // strides, padding, data_format, dilation_rate, groups (always 1, as Keras
  // writes it), activation, use_bias, bias_initializer, bias_regularizer,
  // activity_regularizer, bias_constraint, depth_multiplier,
  // depthwise_initializer, depthwise_regularizer, depthwise_constraint.
  json get_config() const override;
  // Reads Keras 2/3 configs; missing keys take Keras defaults, "groups" is
  // accepted and ignored (Keras's Conv base writes it; it means nothing here).
  // ValueError for wrong types, unknown keys or values the constructor rejects.
  static std::shared_ptr<DepthwiseConv2DImpl> from_config(const json& config);

  // --- arguments, as normalised ---------------------------------------------
  const IntPair& kernel_size() const { return kernel_size_; }
  const IntPair& strides() const { return strides_; }
  const std::string& padding() const { return padding_; }
  int64_t depth_multiplier() const { return depth_multiplier_; }
  const std::string& data_format() const { return data_format_; }
  const IntPair& dilation_rate() const { return dilation_rate_; }
  const std::shared_ptr<Activation>& activation() const { return activation_; }  // never null
  bool use_bias() const { return use_bias_; }

  // The shape checks of call() on a real input shape (see Conv2D's holder).
  void check_input_shape(const Shape& shape) const { output_shape_for(shape); }

  // The weights. RuntimeError before build; bias() also when use_bias is false.
  const Variable& depthwise_kernel() const;
  const Variable& bias() const;

 protected:
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  bool channels_first() const { return data_format_ == "channels_first"; }
  std::string owner() const;
  Shape output_shape_for(const Shape& s) const;

  IntPair kernel_size_, strides_;
  std::string padding_;
  int64_t depth_multiplier_;
  std::string data_format_;
  IntPair dilation_rate_;
  std::shared_ptr<Activation> activation_;
  bool fuse_relu_ = false;
  bool use_bias_;
  std::shared_ptr<Initializer> depthwise_initializer_, bias_initializer_;
  std::shared_ptr<Regularizer> depthwise_regularizer_, bias_regularizer_;
  std::shared_ptr<Constraint> depthwise_constraint_, bias_constraint_;

  Variable depthwise_kernel_, bias_;
  std::shared_ptr<ConvScratch> scratch_ = std::make_shared<ConvScratch>();  // scratch only, no per-call state
};

// The Keras-named handle: DepthwiseConv2D(3, {.depth_multiplier = 2}).
class DepthwiseConv2D : public LayerHolder<DepthwiseConv2DImpl> {
 public:
  explicit DepthwiseConv2D(IntPair kernel_size, DepthwiseConv2DOptions options = {})
      : LayerHolder(std::make_shared<DepthwiseConv2DImpl>(kernel_size, std::move(options))) {}
  explicit DepthwiseConv2D(std::shared_ptr<DepthwiseConv2DImpl> impl) : LayerHolder(std::move(impl)) {}

  // Concrete calls check the real input shape first, so errors echo it.
  using LayerHolder::operator();
  Variable operator()(const Variable& x, const CallArgs& args = {}) const {
    impl_->check_input_shape(x.shape());
    return (*impl_)(x, args);
  }
  Tensor operator()(const Tensor& x) const {
    impl_->check_input_shape(x.shape());
    return (*impl_)(x);
  }
};

}  // namespace minidl
