// layers/conv/conv_base.h — ConvBase, what the 2-D convolution layers share
// (Keras's BaseConv, Caffe's BaseConvolutionLayer). Conv2D, DepthwiseConv2D,
// SeparableConv2D and Conv2DTranspose derive from it and keep only their
// kernels, their computation and their own arguments.
//
// Arguments (tf.keras 2.4, R's layer_conv_2d): kernel_size, strides, padding
// ("valid" | "same", any case), data_format ("channels_last" | "channels_first",
// "" = image_data_format(), see layers/reshaping/spatial_utils.h),
// dilation_rate, activation, use_bias, the bias parts, activity_regularizer;
// filters, groups and depth_multiplier where the layer has them.
//
// Shapes: (batch, rows, cols, channels) -> (batch, new_rows, new_cols,
// out_channels), channels on axis 1 for channels_first. Per spatial axis a
// forward convolution gives  valid: ceil((in - (k-1)*d) / s)   same: ceil(in / s)
// with TensorFlow's "same" split (the odd padding pixel at the bottom/right);
// None stays None. out_channels is filters, or channels * depth_multiplier.
// Weights are stored as Keras stores them, whatever the data_format; the bias
// is (out_channels,).
//
// Activation: relu is fused into the convolution's output pass; others follow
// as autograd functions, softmax over the LAST axis (as Keras applies it even to
// channels_first outputs). An Activation named "relu" or "linear" is taken to be that function.
//
// Errors are ValueError "<Class> '<name>': ...", echoing what was received: at
// construction for non-positive filters / kernel_size / strides / dilation_rate
// / groups / depth_multiplier, strides > 1 with dilation_rate > 1, filters not
// divisible by groups, unknown padding, data_format or part names; on every
// call (symbolic, or concrete before and after build) for an input that is not
// rank 4, has a None or empty channel axis, channels not divisible by groups or
// not those of the built kernel, zero spatial dims, or (padding "valid")
// spatial dims smaller than the dilated kernel.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "layers/base/layer.h"
#include "layers/base/layer_options_internal.h"
#include "layers/base/registry.h"
#include "layers/conv/conv2d_function.h"
#include "layers/conv/conv_layer_internal.h"
#include "layers/conv/conv_utils.h"
#include "layers/parts/activations.h"

namespace minidl {

// The arguments of Keras's Conv base, as a layer hands them to ConvBase.
struct ConvArgs {
  std::optional<int64_t> filters{};  // none for DepthwiseConv2D: out_channels = channels * depth_multiplier
  IntPair kernel_size = 1;
  IntPair strides = 1;
  std::string padding = "valid";
  std::string data_format{};
  IntPair dilation_rate = 1;
  int64_t groups = 1;
  std::optional<int64_t> depth_multiplier{};  // DepthwiseConv2D's and SeparableConv2D's
  ActivationArg activation{};
  bool use_bias = true;
  InitializerArg bias_initializer = "zeros";
  RegularizerArg bias_regularizer{};
  ConstraintArg bias_constraint{};
  RegularizerArg activity_regularizer{};
};

class ConvBase : public Layer {
 public:
  std::string class_name() const override { return class_name_; }

  // Checks the input shape (the errors above) and returns the output shape.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

  // Keras keys: the common ones, filters and depth_multiplier (when the layer
  // has them), kernel_size, strides, padding, data_format, dilation_rate,
  // groups (only for a layer without a depth_multiplier: Keras 3's
  // DepthwiseConv2D and SeparableConv2D reject it), activation, use_bias,
  // activity_regularizer, and the initializer, regularizer and constraint of
  // every weight resolved by resolve_parts ("bias_initializer", ...).
  json get_config() const override;

  // --- arguments, as normalised ---------------------------------------------
  const IntPair& kernel_size() const { return args_.kernel_size; }
  const IntPair& strides() const { return args_.strides; }
  const std::string& padding() const { return args_.padding; }
  const std::string& data_format() const { return args_.data_format; }
  const IntPair& dilation_rate() const { return args_.dilation_rate; }
  const std::shared_ptr<Activation>& activation() const { return activation_; }  // never null
  bool use_bias() const { return args_.use_bias; }

  // Keras's layer.bias. RuntimeError before build, or when use_bias is false.
  const Variable& bias() const;

 protected:
  // Checks the arguments (the construction errors above) and resolves the
  // activation and the bias and activity parts. `class_name` is Keras's
  // ("Conv2D"); default layer names are its snake case ("conv2d", "conv2d_1", ...).
  ConvBase(std::string class_name, LayerOptions options, ConvArgs args);

  // The fields every conv options struct names alike, plus the layer's own arguments.
  template <class O>
  static ConvArgs conv_args(const O& o, std::optional<int64_t> filters, IntPair kernel_size, int64_t groups = 1,
                            std::optional<int64_t> depth_multiplier = std::nullopt) {
    return {.filters = filters, .kernel_size = kernel_size, .strides = o.strides, .padding = o.padding,
            .data_format = o.data_format, .dilation_rate = o.dilation_rate, .groups = groups,
            .depth_multiplier = depth_multiplier, .activation = o.activation, .use_bias = o.use_bias,
            .bias_initializer = o.bias_initializer, .bias_regularizer = o.bias_regularizer,
            .bias_constraint = o.bias_constraint, .activity_regularizer = o.activity_regularizer};
  }

  // Reads the config keys every conv layer shares into the options struct o
  // (missing keys keep Keras's defaults). ValueError naming r.owner().
  template <class O>
  static void read_shared_options(const ConfigReader& r, const json& config, O& o) {
    const LayerOptions common = detail::naming_owner(r.owner(), [&] { return common_options_from_config(r); });
    detail::set_common_options(o, common);
    o.activity_regularizer = common.activity_regularizer;
    o.strides = r.int_pair("strides", std::pair<int64_t, int64_t>{1, 1});
    o.padding = r.str("padding", "valid");
    o.data_format = r.str("data_format", "");
    o.dilation_rate = r.int_pair("dilation_rate", std::pair<int64_t, int64_t>{1, 1});
    o.use_bias = r.boolean("use_bias", true);
    detail::read_activation(r, "activation", o.activation);
    detail::read_parts(r, config, "bias", o.bias_initializer, o.bias_regularizer, o.bias_constraint);
  }
  // The keys read_shared_options reads (and "groups"), then `own`: what check_keys allows.
  static std::vector<std::string> config_keys(std::initializer_list<std::string> own);

  std::optional<int64_t> filters_or_none() const { return args_.filters; }
  int64_t groups() const { return args_.groups; }
  int64_t depth_multiplier() const { return args_.depth_multiplier.value_or(1); }
  bool channels_first() const { return args_.data_format == "channels_first"; }
  bool same_padding() const { return args_.padding == "same"; }
  bool fuse_relu() const { return fuse_relu_; }
  const Variable* bias_or_null() const { return args_.use_bias ? &bias_ : nullptr; }
  // Scratch only (the im2col buffer), shared with pending backward closures; no per-call state.
  const std::shared_ptr<ConvScratch>& scratch() const { return scratch_; }

  // "<Class> '<name>'", the prefix of this layer's messages.
  std::string owner() const;
  // A weight's parts, resolved with errors that name this layer; get_config
  // writes them as "<weight>_initializer", ....
  detail::WeightParts resolve_parts(const std::string& weight, const InitializerArg& initializer,
                                    const RegularizerArg& regularizer, const ConstraintArg& constraint);
  void set_config_parts(const std::string& weight, const detail::WeightParts& parts) { config_parts_[weight] = parts; }
  // Layer::add_weight with a weight's parts.
  Variable add_weight_with(const std::string& name, const Shape& shape, const detail::WeightParts& parts);
  // w, or RuntimeError "<Class> '<name>' has no <what> yet: it is built on its first call".
  const Variable& built_weight(const Variable& w, const char* what) const;
  // A depthwise kernel [KH, KW, C, DM] as the grouped kernel [KH, KW, 1, C*DM]
  // of a convolution with groups = C: a view, so gradients flow back to it.
  static Variable depthwise_as_grouped(const Variable& depthwise_kernel);

  // --- what each layer supplies -----------------------------------------------
  // Creates the kernel weights for `channels` input channels (ConvBase adds the bias after them).
  virtual void build_kernels(int64_t channels) = 0;
  // [relu](conv(x) + bias) for an input whose shape is checked; `output_shape` is its output shape.
  virtual Variable convolve(const Variable& x, const Shape& output_shape) = 0;
  // (new_rows, new_cols) for an input s with (rows, cols) positive or None.
  // Default: a forward convolution's (above), ValueError when a "valid" input
  // is smaller than the dilated kernel.
  virtual std::pair<int64_t, int64_t> output_rows_cols(const Shape& s, int64_t rows, int64_t cols) const;

  // Layer's hooks, written once for the family: check_input (every input check, on the
  // real shapes), build (the kernels, then the bias), call (checks, convolve, activation).
  void check_input(const std::vector<Shape>& input_shapes) const final;
  void build(const std::vector<Shape>& input_shapes) final;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) final;

 private:
  // Rank and channel checks; the channel count.
  int64_t input_channels(const Shape& s) const;
  // filters, or input_channels * depth_multiplier.
  int64_t output_channels(int64_t input_channels) const;
  // Every input check; the output shape.
  Shape output_shape_for(const Shape& s) const;

  std::string class_name_;
  ConvArgs args_;  // padding and data_format normalised; the parts are resolved into the members below
  std::shared_ptr<Activation> activation_;
  bool fuse_relu_ = false;
  detail::WeightParts bias_parts_;
  std::map<std::string, detail::WeightParts> config_parts_;  // by weight name: "bias", "kernel", ...

  int64_t built_channels_ = kNone;  // the input channels the kernels were built for
  Variable bias_;
  std::shared_ptr<ConvScratch> scratch_ = std::make_shared<ConvScratch>();
};

}  // namespace minidl
