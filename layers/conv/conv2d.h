// layers/conv/conv2d.h — Keras's Conv2D: a 2-D convolution with bias and activation.
//
//   auto conv = Conv2D(32, 3, {.strides = 2, .padding = "same", .activation = "relu"});
//   KerasTensor y = conv(Input({28, 28, 1}));        // (None, 14, 14, 32)
//   Conv2D(16, {3, 5}, {.kernel_regularizer = L2(1e-4)});
//
// Arguments follow tf.keras 2.4 Conv2D (and R's layer_conv_2d): filters,
// kernel_size, strides, padding ("valid" | "same", any case), data_format
// ("channels_last" | "channels_first", default image_data_format(): keras.json,
// see layers/reshaping/spatial_utils.h), dilation_rate, groups, activation, use_bias, the
// kernel/bias initializers, regularizers and constraints, then the common
// layer options (activity_regularizer included).
//
// Shapes. channels_last: (batch, rows, cols, channels) -> (batch, new_rows,
// new_cols, filters); channels_first: (batch, channels, rows, cols) -> (batch,
// filters, new_rows, new_cols), with per spatial axis
//   valid: ceil((in - (k-1)*d) / s)      same: ceil(in / s)
// and TensorFlow's "same" split (the odd padding pixel at the bottom/right).
// Weights: "kernel" (kh, kw, channels/groups, filters) and "bias" (filters,),
// whatever the data_format, exactly as Keras stores them.
//
// Computation: one ops::conv2d_forward per call (im2col + GEMM, bias added in
// the GEMM) through layers/conv/conv2d_function.h, with relu fused into the output
// pass; other activations are applied afterwards as autograd functions — softmax
// over the LAST axis, as Keras applies it even to channels_first outputs.
// An Activation object named "relu" or "linear" is taken to be that function.
//
// Errors are ValueError "Conv2D '<name>': ...", echoing what was received:
// at construction for non-positive filters / kernel_size / strides /
// dilation_rate / groups, strides > 1 together with dilation_rate > 1, filters
// not divisible by groups, unknown padding, data_format, activation,
// initializer, regularizer or constraint names; at build, symbolic call or
// concrete call for an input that is not rank 4, has an undefined (None)
// channel axis, channels not divisible by groups or not equal to those of the
// built kernel, or (padding "valid") spatial dims smaller than the dilated kernel.
#pragma once

#include <memory>
#include <string>

#include "layers/parts/activations.h"
#include "layers/conv/conv2d_function.h"
#include "layers/conv/conv_utils.h"
#include "layers/base/layer.h"

namespace minidl {

// Keras's Conv2D arguments after filters and kernel_size, in Keras's order and defaults.
struct Conv2DOptions {
  IntPair strides = 1;
  std::string padding = "valid";
  std::string data_format{};  // "" = image_data_format()
  IntPair dilation_rate = 1;
  int64_t groups = 1;
  ActivationArg activation{};  // unset = linear (Keras's None)
  bool use_bias = true;
  InitializerArg kernel_initializer = "glorot_uniform";
  InitializerArg bias_initializer = "zeros";
  // Every field has a default member initializer ({}), so designated
  // initializers naming only some fields compile without -Wmissing-field-initializers.
  RegularizerArg kernel_regularizer{};
  RegularizerArg bias_regularizer{};
  RegularizerArg activity_regularizer{};
  ConstraintArg kernel_constraint{};
  ConstraintArg bias_constraint{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

class Conv2DImpl : public Layer {
 public:
  // Throws the construction-time ValueErrors listed above.
  Conv2DImpl(int64_t filters, IntPair kernel_size, Conv2DOptions options = {});

  std::string class_name() const override { return "Conv2D"; }

  // Validates the input shape (see the errors above) and returns the output shape;
  // unknown (None) spatial dims stay None.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

  // Keras 2.4 keys: name, trainable, [batch_input_shape], dtype, filters,
  // kernel_size, strides, padding, data_format, dilation_rate, groups,
  // activation, use_bias, kernel/bias_initializer, kernel/bias/activity_regularizer,
  // kernel/bias_constraint.
  json get_config() const override;
  // Reads Keras 2/3 configs (missing keys take Keras defaults; "groups" absent in
  // Keras < 2.3 files means 1). ValueError for wrong types, unknown keys or values
  // the constructor rejects.
  static std::shared_ptr<Conv2DImpl> from_config(const json& config);

  // --- arguments, as normalised ---------------------------------------------
  int64_t filters() const { return filters_; }
  const IntPair& kernel_size() const { return kernel_size_; }
  const IntPair& strides() const { return strides_; }
  const std::string& padding() const { return padding_; }
  const std::string& data_format() const { return data_format_; }
  const IntPair& dilation_rate() const { return dilation_rate_; }
  int64_t groups() const { return groups_; }
  const std::shared_ptr<Activation>& activation() const { return activation_; }  // never null
  bool use_bias() const { return use_bias_; }

  // Keras's input_spec check on a real (concrete or symbolic) input shape: the
  // ValueErrors listed above, before anything is built or computed. call() and
  // compute_output_shape() run it too; the Conv2D holder runs it before the
  // first build, which otherwise only sees the shape with its batch axis as None.
  void check_input_shape(const Shape& shape) const { output_shape_for(shape); }

  // The weights (Keras's layer.kernel / layer.bias). RuntimeError before build;
  // bias() also when use_bias is false.
  const Variable& kernel() const;
  const Variable& bias() const;

 protected:
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  bool channels_first() const { return data_format_ == "channels_first"; }
  // Checks rank and channel axis; returns the channel count.
  int64_t checked_channels(const Shape& s) const;
  // Full validation of an input shape (build state included); the output shape.
  Shape output_shape_for(const Shape& s) const;

  int64_t filters_;
  IntPair kernel_size_, strides_;
  std::string padding_, data_format_;
  IntPair dilation_rate_;
  int64_t groups_;
  std::shared_ptr<Activation> activation_;
  bool fuse_relu_ = false;
  bool use_bias_;
  std::shared_ptr<Initializer> kernel_initializer_, bias_initializer_;
  std::shared_ptr<Regularizer> kernel_regularizer_, bias_regularizer_;
  std::shared_ptr<Constraint> kernel_constraint_, bias_constraint_;

  Variable kernel_, bias_;
  // Scratch only (the im2col buffer), shared with pending backward closures.
  std::shared_ptr<ConvScratch> scratch_ = std::make_shared<ConvScratch>();
};

// The Keras-named handle: Conv2D(32, 3, {.padding = "same"}).
class Conv2D : public LayerHolder<Conv2DImpl> {
 public:
  Conv2D(int64_t filters, IntPair kernel_size, Conv2DOptions options = {})
      : LayerHolder(std::make_shared<Conv2DImpl>(filters, kernel_size, std::move(options))) {}
  explicit Conv2D(std::shared_ptr<Conv2DImpl> impl) : LayerHolder(std::move(impl)) {}

  // Concrete calls check the real input shape first, so errors echo it, e.g.
  // "received shape (28, 28)" rather than the build shape "(None, 28)".
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
