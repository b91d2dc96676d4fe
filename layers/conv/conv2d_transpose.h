// layers/conv/conv2d_transpose.h — Keras's Conv2DTranspose (a.k.a. deconvolution):
// the adjoint of a Conv2D, which upsamples by its strides.
//
//   auto up = Conv2DTranspose(16, 3, {.strides = 2, .padding = "same"});
//   KerasTensor y = up(Input({8, 8, 32}));                  // (None, 16, 16, 16)
//   Conv2DTranspose(8, 3, {.strides = 2, .output_padding = IntPair{1, 0}});
//
// Arguments follow tf.keras 2.4 Conv2DTranspose: filters, kernel_size,
// strides, padding ("valid" | "same", any case), output_padding (unset =
// Keras's None; each value < the stride on its axis), data_format ("" =
// image_data_format()), dilation_rate, activation, use_bias, kernel/bias
// initializers, regularizers and constraints, then the common layer options.
//
// Shapes. channels_last (batch, rows, cols, C) -> (batch, new_rows, new_cols,
// filters), channels first likewise with channels on axis 1, where per axis
// (Keras's deconv_output_length, k' = (k - 1) * dilation + 1)
//   output_padding unset: valid  in*s + max(k' - s, 0)     same  in*s
//   output_padding p:     (in - 1)*s + k' - 2*pad + p,  pad = k'/2 (same), 0 (valid)
// None stays None. Weights, as Keras stores them whatever the data_format:
//   "kernel" (kh, kw, filters, C) — note filters BEFORE the input channels —
//   "bias" (filters,).
// The values are those of tf.nn.conv2d_transpose: the input-gradient of a
// Conv2D with the same strides, dilation and padding whose input has the output's
// size (see layers/conv/conv2d_transpose_function.h); relu is fused, other
// activations follow as autograd functions, softmax over the last axis.
//
// Errors are ValueError "Conv2DTranspose '<name>': ...": at construction for
// non-positive filters / kernel_size / strides / dilation_rate, strides > 1
// together with dilation_rate > 1, negative output_padding or output_padding
// >= strides ("Stride (2, 2) must be greater than output padding (2, 2)"),
// unknown padding, data_format or part names; for an input that is not rank 4,
// has an undefined channel axis, channels differing from the built kernel's,
// zero spatial dims, or ("same" with output_padding and an even dilated kernel)
// an output size whose "same" convolution does not give back the input size.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "layers/parts/activations.h"
#include "layers/conv/conv2d_function.h"
#include "layers/conv/conv2d_transpose_function.h"
#include "layers/conv/conv_utils.h"
#include "layers/base/layer.h"

namespace minidl {

// Keras's Conv2DTranspose arguments after filters and kernel_size, in Keras's order and defaults.
struct Conv2DTransposeOptions {
  IntPair strides = 1;
  std::string padding = "valid";
  std::optional<IntPair> output_padding{};  // Keras's None; write IntPair{1, 0} for a pair
  std::string data_format{};                // "" = image_data_format()
  IntPair dilation_rate = 1;
  ActivationArg activation{};  // unset = linear
  bool use_bias = true;
  InitializerArg kernel_initializer = "glorot_uniform";
  InitializerArg bias_initializer = "zeros";
  RegularizerArg kernel_regularizer{};
  RegularizerArg bias_regularizer{};
  RegularizerArg activity_regularizer{};
  ConstraintArg kernel_constraint{};
  ConstraintArg bias_constraint{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

class Conv2DTransposeImpl : public Layer {
 public:
  // Throws the construction-time ValueErrors listed above.
  Conv2DTransposeImpl(int64_t filters, IntPair kernel_size, Conv2DTransposeOptions options = {});

  std::string class_name() const override { return "Conv2DTranspose"; }

  // Validates the input shape and returns the output shape (formulas above).
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

  // tf.keras 2.4 keys: Conv2D's (groups always 1) plus output_padding (null or [a, b]).
  json get_config() const override;
  // Reads Keras 1 (after the io loader's key renaming), 2 and 3 configs; missing
  // keys take Keras defaults; a Keras 1 Deconvolution2D "output_shape" is ignored,
  // as Keras 2 ignores it. ValueError for wrong types, unknown keys, groups
  // other than 1, or values the constructor rejects.
  static std::shared_ptr<Conv2DTransposeImpl> from_config(const json& config);

  // --- arguments, as normalised ---------------------------------------------
  int64_t filters() const { return filters_; }
  const IntPair& kernel_size() const { return kernel_size_; }
  const IntPair& strides() const { return strides_; }
  const std::string& padding() const { return padding_; }
  const std::optional<IntPair>& output_padding() const { return output_padding_; }
  const std::string& data_format() const { return data_format_; }
  const IntPair& dilation_rate() const { return dilation_rate_; }
  const std::shared_ptr<Activation>& activation() const { return activation_; }  // never null
  bool use_bias() const { return use_bias_; }

  // The shape checks of call() on a real input shape (see Conv2D's holder).
  void check_input_shape(const Shape& shape) const { output_shape_for(shape); }

  // The weights. RuntimeError before build; bias() also when use_bias is false.
  const Variable& kernel() const;
  const Variable& bias() const;

 protected:
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  bool channels_first() const { return data_format_ == "channels_first"; }
  std::string owner() const;
  int64_t checked_channels(const Shape& s) const;
  Shape output_shape_for(const Shape& s) const;

  int64_t filters_;
  IntPair kernel_size_, strides_;
  std::string padding_;
  std::optional<IntPair> output_padding_;
  std::string data_format_;
  IntPair dilation_rate_;
  std::shared_ptr<Activation> activation_;
  bool fuse_relu_ = false;
  bool use_bias_;
  std::shared_ptr<Initializer> kernel_initializer_, bias_initializer_;
  std::shared_ptr<Regularizer> kernel_regularizer_, bias_regularizer_;
  std::shared_ptr<Constraint> kernel_constraint_, bias_constraint_;

  Variable kernel_, bias_;
  std::shared_ptr<ConvScratch> scratch_ = std::make_shared<ConvScratch>();  // scratch only, no per-call state
};

// The Keras-named handle: Conv2DTranspose(16, 3, {.strides = 2, .padding = "same"}).
class Conv2DTranspose : public LayerHolder<Conv2DTransposeImpl> {
 public:
  Conv2DTranspose(int64_t filters, IntPair kernel_size, Conv2DTransposeOptions options = {})
      : LayerHolder(std::make_shared<Conv2DTransposeImpl>(filters, kernel_size, std::move(options))) {}
  explicit Conv2DTranspose(std::shared_ptr<Conv2DTransposeImpl> impl) : LayerHolder(std::move(impl)) {}

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
