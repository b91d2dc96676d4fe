#include "layers/conv/conv2d_transpose.h"

#include <utility>

#include "layers/base/config_utils.h"
#include "layers/conv/conv_layer_internal.h"
#include "layers/base/registry.h"
#include "ops/im2col.h"

namespace minidl {

Conv2DTransposeImpl::Conv2DTransposeImpl(int64_t filters, IntPair kernel_size, Conv2DTransposeOptions o)
    : Layer(common_options(o), "conv2d_transpose"),
      filters_(filters),
      kernel_size_(kernel_size),
      strides_(o.strides),
      output_padding_(o.output_padding),
      dilation_rate_(o.dilation_rate),
      use_bias_(o.use_bias) {
  const std::string who = owner();
  if (filters_ < 1) fail("`filters` must be a positive integer, received filters={}", filters_);
  detail::check_conv_arguments(who, kernel_size_, strides_, dilation_rate_);
  if (output_padding_) {
    if (output_padding_->first < 0 || output_padding_->second < 0)
      fail("`output_padding` must be non-negative integers, received output_padding={}", pair_str(*output_padding_));
    if (output_padding_->first >= strides_.first || output_padding_->second >= strides_.second)
      fail("Stride {} must be greater than output padding {}", pair_str(strides_), pair_str(*output_padding_));
  }
  padding_ = normalize_padding(o.padding, who);
  data_format_ = normalize_data_format(o.data_format, who);
  activation_ = detail::resolve_activation(o.activation, who);
  fuse_relu_ = activation_->name() == "relu";
  kernel_initializer_ = detail::resolve_initializer(o.kernel_initializer, who);
  bias_initializer_ = detail::resolve_initializer(o.bias_initializer, who);
  kernel_regularizer_ = detail::resolve_regularizer(o.kernel_regularizer, who);
  bias_regularizer_ = detail::resolve_regularizer(o.bias_regularizer, who);
  set_activity_regularizer(detail::resolve_regularizer(o.activity_regularizer, who));
  kernel_constraint_ = detail::resolve_constraint(o.kernel_constraint, who);
  bias_constraint_ = detail::resolve_constraint(o.bias_constraint, who);
}

std::string Conv2DTransposeImpl::owner() const { return fmt::format("{} '{}'", class_name(), name()); }

const Variable& Conv2DTransposeImpl::kernel() const {
  MINIDL_CHECK(kernel_.defined(), RuntimeError,
               "Conv2DTranspose '{}' has no kernel yet: it is built on its first call", name());
  return kernel_;
}

const Variable& Conv2DTransposeImpl::bias() const {
  MINIDL_CHECK(use_bias_, RuntimeError, "Conv2DTranspose '{}' has no bias (use_bias=false)", name());
  MINIDL_CHECK(bias_.defined(), RuntimeError, "Conv2DTranspose '{}' has no bias yet: it is built on its first call",
               name());
  return bias_;
}

int64_t Conv2DTransposeImpl::checked_channels(const Shape& s) const {
  return detail::conv_input_channels(owner(), s, channels_first());
}

Shape Conv2DTransposeImpl::output_shape_for(const Shape& s) const {
  const int64_t c = checked_channels(s);
  if (kernel_.defined() && c != kernel_.shape()[3])
    fail("expected axis {} of input shape to have value {}, received input with shape {}", channels_first() ? 1 : -1,
         kernel_.shape()[3], shape_str(s));
  const int64_t rows = s[channels_first() ? 2 : 1], cols = s[channels_first() ? 3 : 2];
  if (rows == 0 || cols == 0 || rows < kNone || cols < kNone)
    fail("spatial dimensions must be positive, received input shape {}", shape_str(s));
  const bool same = padding_ == "same";
  std::optional<int64_t> pad_rows, pad_cols;
  if (output_padding_) pad_rows = output_padding_->first, pad_cols = output_padding_->second;
  const int64_t oh =
      deconv_output_length(rows, kernel_size_.first, same, pad_rows, strides_.first, dilation_rate_.first);
  const int64_t ow =
      deconv_output_length(cols, kernel_size_.second, same, pad_cols, strides_.second, dilation_rate_.second);
  // Only "same" with an explicit output_padding and an even dilated kernel can
  // give an output whose forward convolution misses the input size.
  const auto back = [&](int64_t out, int64_t k, int64_t st, int64_t d) {
    return ops::conv_output_length(out, k, same, st, d);
  };
  if ((rows != kNone && back(oh, kernel_size_.first, strides_.first, dilation_rate_.first) != rows) ||
      (cols != kNone && back(ow, kernel_size_.second, strides_.second, dilation_rate_.second) != cols))
    fail("output_padding={} with padding \"same\", kernel_size={} and strides={} gives an output of {} x {}, whose "
         "\"same\" convolution is {} x {}, not the input's {} x {} (TensorFlow refuses this too); received input "
         "shape {}",
         pair_str(*output_padding_), pair_str(kernel_size_), pair_str(strides_), oh, ow,
         back(oh, kernel_size_.first, strides_.first, dilation_rate_.first),
         back(ow, kernel_size_.second, strides_.second, dilation_rate_.second), rows, cols, shape_str(s));
  if (channels_first()) return {s[0], filters_, oh, ow};
  return {s[0], oh, ow, filters_};
}

void Conv2DTransposeImpl::build(const std::vector<Shape>& input_shapes) {
  const int64_t c = checked_channels(single_shape(input_shapes));
  kernel_ = add_weight("kernel", {kernel_size_.first, kernel_size_.second, filters_, c}, kernel_initializer_,
                       kernel_regularizer_, /*trainable=*/true, kernel_constraint_);
  if (use_bias_)
    bias_ = add_weight("bias", {filters_}, bias_initializer_, bias_regularizer_, /*trainable=*/true, bias_constraint_);
}

std::vector<Shape> Conv2DTransposeImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  return {output_shape_for(single_shape(input_shapes))};
}

VariableList Conv2DTransposeImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const Shape ys = output_shape_for(x.shape());  // every shape error, with this layer's name, first
  Conv2DTransposeCall c;
  c.strides = strides_;
  c.dilation_rate = dilation_rate_;
  c.same_padding = padding_ == "same";
  c.channels_first = channels_first();
  c.out_rows = ys[channels_first() ? 2 : 1];
  c.out_cols = ys[channels_first() ? 3 : 2];
  c.fuse_relu = fuse_relu_;
  Variable y = conv2d_transpose_variable(x, kernel_, use_bias_ ? &bias_ : nullptr, c, scratch_);
  if (!fuse_relu_ && activation_->name() != "linear") y = (*activation_)(y);
  return {y};
}

json Conv2DTransposeImpl::get_config() const {
  json c = base_config();
  c["filters"] = filters_;
  c["kernel_size"] = pair_json(kernel_size_);
  c["strides"] = pair_json(strides_);
  c["padding"] = padding_;
  c["data_format"] = data_format_;
  c["dilation_rate"] = pair_json(dilation_rate_);
  c["groups"] = 1;  // inherited from Keras's Conv base; tf.keras 2.4 writes it
  c["activation"] = serialize_activation(activation_);
  c["use_bias"] = use_bias_;
  c["kernel_initializer"] = serialize_initializer(kernel_initializer_);
  c["bias_initializer"] = serialize_initializer(bias_initializer_);
  c["kernel_regularizer"] = serialize_regularizer(kernel_regularizer_);
  c["bias_regularizer"] = serialize_regularizer(bias_regularizer_);
  c["activity_regularizer"] = serialize_regularizer(activity_regularizer());
  c["kernel_constraint"] = serialize_constraint(kernel_constraint_);
  c["bias_constraint"] = serialize_constraint(bias_constraint_);
  c["output_padding"] = output_padding_ ? pair_json(*output_padding_) : json(nullptr);
  return c;
}

std::shared_ptr<Conv2DTransposeImpl> Conv2DTransposeImpl::from_config(const json& c) {
  const std::string who = detail::config_owner(c, "Conv2DTranspose");
  ConfigReader r(c, who);
  r.check_keys({"filters", "kernel_size", "strides", "padding", "output_padding", "data_format", "dilation_rate",
                "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                "bias_regularizer", "kernel_constraint", "bias_constraint", "output_shape"});
  // Keras 1 Deconvolution2D required an "output_shape"; Keras 2 drops it when
  // converting such a layer (the size follows from the other arguments), and so do we.
  const LayerOptions common = detail::with_owner(who, [&] { return common_options_from_config(r); });
  Conv2DTransposeOptions o;
  detail::copy_common_options(o, common);
  o.activity_regularizer = common.activity_regularizer;
  o.strides = r.int_pair("strides", std::pair<int64_t, int64_t>{1, 1});
  o.padding = r.str("padding", "valid");
  if (r.has("output_padding")) o.output_padding = IntPair(r.int_pair("output_padding"));
  o.data_format = r.str("data_format", "");
  o.dilation_rate = r.int_pair("dilation_rate", std::pair<int64_t, int64_t>{1, 1});
  if (const int64_t groups = r.integer("groups", 1); groups != 1)
    raise<ValueError>("{}: Conv2DTranspose does not support groups; expected groups=1, received groups={}", who,
                      groups);
  o.use_bias = r.boolean("use_bias", true);
  detail::read_activation(r, "activation", o.activation);
  detail::read_initializer(r, c, "kernel_initializer", o.kernel_initializer);
  detail::read_initializer(r, c, "bias_initializer", o.bias_initializer);
  detail::read_regularizer(r, "kernel_regularizer", o.kernel_regularizer);
  detail::read_regularizer(r, "bias_regularizer", o.bias_regularizer);
  detail::read_constraint(r, "kernel_constraint", o.kernel_constraint);
  detail::read_constraint(r, "bias_constraint", o.bias_constraint);
  return std::make_shared<Conv2DTransposeImpl>(r.integer("filters"), r.int_pair("kernel_size"), std::move(o));
}

MINIDL_REGISTER_LAYER("Conv2DTranspose", [](const json& c) -> LayerPtr { return Conv2DTransposeImpl::from_config(c); },
                      {"Deconvolution2D"});

}  // namespace minidl
