// layers/conv/separable_conv2d.h — Keras's SeparableConv2D: a depthwise convolution
// (one filter bank per input channel) followed by a pointwise 1x1 convolution
// that mixes the channels.
//
//   auto sep = SeparableConv2D(64, 3, {.padding = "same", .activation = "relu"});
//   KerasTensor y = sep(Input({32, 32, 16}));         // (None, 32, 32, 64)
//
// Arguments follow tf.keras 2.4 SeparableConv2D: filters, kernel_size, strides,
// padding, data_format ("" = image_data_format()), dilation_rate,
// depth_multiplier, activation, use_bias, depthwise/pointwise/bias initializers,
// regularizers and constraints, then the common layer options.
//
// Shapes: (batch, rows, cols, C) -> (batch, new_rows, new_cols, filters) for
// channels_last (channels on axis 1 for channels_first); the spatial lengths
// are the depthwise step's, computed as Conv2D's. Weights, as Keras stores them:
//   "depthwise_kernel" (kh, kw, C, depth_multiplier)
//   "pointwise_kernel" (1, 1, C*depth_multiplier, filters)
//   "bias" (filters,)
// y = act(pointwise(depthwise(x)) + bias), where the depthwise step has strides,
// dilation and padding and the pointwise step is a plain 1x1 convolution.
//
// Computation: two tape entries of layers/conv/conv2d_function.h in NHWC (a
// channels_first input is transposed once on the way in and once on the way
// out): a grouped conv with groups = C on a reshaped view of the depthwise
// kernel, then the 1x1 conv (no im2col) with the bias and a fused relu.
//
// Errors are ValueError "SeparableConv2D '<name>': ...": at construction for
// non-positive filters / kernel_size / strides / dilation_rate /
// depth_multiplier, strides > 1 together with dilation_rate > 1, unknown
// padding, data_format or part names; for inputs as DepthwiseConv2D's.
#pragma once

#include <memory>
#include <string>

#include "layers/parts/activations.h"
#include "layers/conv/conv2d_function.h"
#include "layers/conv/conv_utils.h"
#include "layers/base/layer.h"

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

class SeparableConv2DImpl : public Layer {
 public:
  // Throws the construction-time ValueErrors listed above.
  SeparableConv2DImpl(int64_t filters, IntPair kernel_size, SeparableConv2DOptions options = {});

  std::string class_name() const override { return "SeparableConv2D"; }

  // Validates the input shape and returns the output shape; None spatial dims stay None.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

  // tf.keras 2.4 keys: the common ones, filters, kernel_size, strides, padding,
  // data_format, depth_multiplier, dilation_rate, activation, use_bias, the
  // depthwise/pointwise/bias initializers, regularizers and constraints,
  // activity_regularizer — and the keys tf.keras 2.4 inherits from its Conv
  // base without using them: groups (1), kernel_initializer, kernel_regularizer,
  // kernel_constraint (written back as read; GlorotUniform/null/null by default).
  json get_config() const override;
  // Reads Keras 1 (after the io loader's key renaming), 2 and 3 configs; missing
  // keys take Keras defaults. ValueError for wrong types, unknown keys, groups
  // other than 1, or values the constructor rejects.
  static std::shared_ptr<SeparableConv2DImpl> from_config(const json& config);

  // --- arguments, as normalised ---------------------------------------------
  int64_t filters() const { return filters_; }
  const IntPair& kernel_size() const { return kernel_size_; }
  const IntPair& strides() const { return strides_; }
  const std::string& padding() const { return padding_; }
  const std::string& data_format() const { return data_format_; }
  const IntPair& dilation_rate() const { return dilation_rate_; }
  int64_t depth_multiplier() const { return depth_multiplier_; }
  const std::shared_ptr<Activation>& activation() const { return activation_; }  // never null
  bool use_bias() const { return use_bias_; }

  // The shape checks of call() on a real input shape (see Conv2D's holder).
  void check_input_shape(const Shape& shape) const { output_shape_for(shape); }

  // The weights. RuntimeError before build; bias() also when use_bias is false.
  const Variable& depthwise_kernel() const;
  const Variable& pointwise_kernel() const;
  const Variable& bias() const;

 protected:
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  bool channels_first() const { return data_format_ == "channels_first"; }
  std::string owner() const;
  Shape output_shape_for(const Shape& s) const;

  int64_t filters_;
  IntPair kernel_size_, strides_;
  std::string padding_, data_format_;
  IntPair dilation_rate_;
  int64_t depth_multiplier_;
  std::shared_ptr<Activation> activation_;
  bool fuse_relu_ = false;
  bool use_bias_;
  std::shared_ptr<Initializer> depthwise_initializer_, pointwise_initializer_, bias_initializer_;
  std::shared_ptr<Regularizer> depthwise_regularizer_, pointwise_regularizer_, bias_regularizer_;
  std::shared_ptr<Constraint> depthwise_constraint_, pointwise_constraint_, bias_constraint_;
  // The unused Conv-base keys of a tf.keras 2.4 config, echoed back by get_config.
  json legacy_kernel_initializer_, legacy_kernel_regularizer_, legacy_kernel_constraint_;

  Variable depthwise_kernel_, pointwise_kernel_, bias_;
  std::shared_ptr<ConvScratch> scratch_ = std::make_shared<ConvScratch>();  // scratch only, no per-call state
};

// The Keras-named handle: SeparableConv2D(64, 3, {.padding = "same"}).
class SeparableConv2D : public LayerHolder<SeparableConv2DImpl> {
 public:
  SeparableConv2D(int64_t filters, IntPair kernel_size, SeparableConv2DOptions options = {})
      : LayerHolder(std::make_shared<SeparableConv2DImpl>(filters, kernel_size, std::move(options))) {}
  explicit SeparableConv2D(std::shared_ptr<SeparableConv2DImpl> impl) : LayerHolder(std::move(impl)) {}

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
