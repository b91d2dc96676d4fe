#include "layers/conv/depthwise_conv2d.h"

#include <utility>

#include "autograd/functions.h"
#include "layers/base/config_utils.h"
#include "layers/conv/conv_layer_internal.h"
#include "layers/base/registry.h"

namespace minidl {

DepthwiseConv2DImpl::DepthwiseConv2DImpl(IntPair kernel_size, DepthwiseConv2DOptions o)
    // The activity regularizer is resolved below, where a bad name can be reported with the layer's name.
    : Layer(common_options(o), "depthwise_conv2d"),
      kernel_size_(kernel_size),
      strides_(o.strides),
      depth_multiplier_(o.depth_multiplier),
      dilation_rate_(o.dilation_rate),
      use_bias_(o.use_bias) {
  const std::string who = owner();
  detail::check_conv_arguments(who, kernel_size_, strides_, dilation_rate_);
  if (depth_multiplier_ < 1)
    fail("`depth_multiplier` must be a positive integer, received depth_multiplier={}", depth_multiplier_);
  padding_ = normalize_padding(o.padding, who);
  data_format_ = normalize_data_format(o.data_format, who);
  activation_ = detail::resolve_activation(o.activation, who);
  fuse_relu_ = activation_->name() == "relu";
  depthwise_initializer_ = detail::resolve_initializer(o.depthwise_initializer, who);
  bias_initializer_ = detail::resolve_initializer(o.bias_initializer, who);
  depthwise_regularizer_ = detail::resolve_regularizer(o.depthwise_regularizer, who);
  bias_regularizer_ = detail::resolve_regularizer(o.bias_regularizer, who);
  set_activity_regularizer(detail::resolve_regularizer(o.activity_regularizer, who));
  depthwise_constraint_ = detail::resolve_constraint(o.depthwise_constraint, who);
  bias_constraint_ = detail::resolve_constraint(o.bias_constraint, who);
}

std::string DepthwiseConv2DImpl::owner() const { return fmt::format("{} '{}'", class_name(), name()); }

const Variable& DepthwiseConv2DImpl::depthwise_kernel() const {
  MINIDL_CHECK(depthwise_kernel_.defined(), RuntimeError,
               "DepthwiseConv2D '{}' has no depthwise_kernel yet: it is built on its first call", name());
  return depthwise_kernel_;
}

const Variable& DepthwiseConv2DImpl::bias() const {
  MINIDL_CHECK(use_bias_, RuntimeError, "DepthwiseConv2D '{}' has no bias (use_bias=false)", name());
  MINIDL_CHECK(bias_.defined(), RuntimeError, "DepthwiseConv2D '{}' has no bias yet: it is built on its first call",
               name());
  return bias_;
}

Shape DepthwiseConv2DImpl::output_shape_for(const Shape& s) const {
  const std::string who = owner();
  const int64_t c = detail::conv_input_channels(who, s, channels_first());
  if (depthwise_kernel_.defined() && c != depthwise_kernel_.shape()[2])
    fail("expected axis {} of input shape to have value {}, received input with shape {}", channels_first() ? 1 : -1,
         depthwise_kernel_.shape()[2], shape_str(s));
  const auto [oh, ow] = detail::conv_output_rows_cols(who, s, channels_first(), kernel_size_, strides_,
                                                      dilation_rate_, padding_ == "same");
  const int64_t oc = c * depth_multiplier_;
  if (channels_first()) return {s[0], oc, oh, ow};
  return {s[0], oh, ow, oc};
}

void DepthwiseConv2DImpl::build(const std::vector<Shape>& input_shapes) {
  const int64_t c = detail::conv_input_channels(owner(), single_shape(input_shapes), channels_first());
  depthwise_kernel_ = add_weight("depthwise_kernel", {kernel_size_.first, kernel_size_.second, c, depth_multiplier_},
                                 depthwise_initializer_, depthwise_regularizer_, /*trainable=*/true,
                                 depthwise_constraint_);
  if (use_bias_)
    bias_ = add_weight("bias", {c * depth_multiplier_}, bias_initializer_, bias_regularizer_, /*trainable=*/true,
                       bias_constraint_);
}

std::vector<Shape> DepthwiseConv2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  return {output_shape_for(single_shape(input_shapes))};
}

VariableList DepthwiseConv2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  output_shape_for(x.shape());  // every shape error, with this layer's name, before ops sees the data
  const Shape& ks = depthwise_kernel_.shape();  // [KH, KW, C, DM]
  const int64_t c = ks[2];
  // A grouped kernel [KH, KW, 1, C*DM] orders its columns c*DM + m, exactly the
  // depthwise kernel's memory order, so a view is the whole conversion.
  const Variable kernel = autograd::reshape(depthwise_kernel_, {ks[0], ks[1], 1, c * ks[3]});
  const Conv2DCall conv{strides_, dilation_rate_, padding_ == "same", channels_first(), c, fuse_relu_};
  Variable y = conv2d_variable(x, kernel, use_bias_ ? &bias_ : nullptr, conv, scratch_);
  if (!fuse_relu_ && activation_->name() != "linear") y = (*activation_)(y);
  return {y};
}

json DepthwiseConv2DImpl::get_config() const {
  json c = base_config();
  c["kernel_size"] = pair_json(kernel_size_);
  c["strides"] = pair_json(strides_);
  c["padding"] = padding_;
  c["data_format"] = data_format_;
  c["dilation_rate"] = pair_json(dilation_rate_);
  c["groups"] = 1;  // inherited from Keras's Conv base; tf.keras 2.4 writes it
  c["activation"] = serialize_activation(activation_);
  c["use_bias"] = use_bias_;
  c["bias_initializer"] = serialize_initializer(bias_initializer_);
  c["bias_regularizer"] = serialize_regularizer(bias_regularizer_);
  c["activity_regularizer"] = serialize_regularizer(activity_regularizer());
  c["bias_constraint"] = serialize_constraint(bias_constraint_);
  c["depth_multiplier"] = depth_multiplier_;
  c["depthwise_initializer"] = serialize_initializer(depthwise_initializer_);
  c["depthwise_regularizer"] = serialize_regularizer(depthwise_regularizer_);
  c["depthwise_constraint"] = serialize_constraint(depthwise_constraint_);
  return c;
}

std::shared_ptr<DepthwiseConv2DImpl> DepthwiseConv2DImpl::from_config(const json& c) {
  const std::string who = detail::config_owner(c, "DepthwiseConv2D");
  ConfigReader r(c, who);
  r.check_keys({"kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate", "groups",
                "activation", "use_bias", "depthwise_initializer", "bias_initializer", "depthwise_regularizer",
                "bias_regularizer", "depthwise_constraint", "bias_constraint"});
  const LayerOptions common = detail::with_owner(who, [&] { return common_options_from_config(r); });
  DepthwiseConv2DOptions o;
  detail::copy_common_options(o, common);
  o.activity_regularizer = common.activity_regularizer;
  o.strides = r.int_pair("strides", std::pair<int64_t, int64_t>{1, 1});
  o.padding = r.str("padding", "valid");
  o.depth_multiplier = r.integer("depth_multiplier", 1);
  o.data_format = r.str("data_format", "");
  o.dilation_rate = r.int_pair("dilation_rate", std::pair<int64_t, int64_t>{1, 1});
  r.integer("groups", 1);  // type-checked, otherwise meaningless for a depthwise conv
  o.use_bias = r.boolean("use_bias", true);
  detail::read_activation(r, "activation", o.activation);
  detail::read_initializer(r, c, "depthwise_initializer", o.depthwise_initializer);
  detail::read_initializer(r, c, "bias_initializer", o.bias_initializer);
  detail::read_regularizer(r, "depthwise_regularizer", o.depthwise_regularizer);
  detail::read_regularizer(r, "bias_regularizer", o.bias_regularizer);
  detail::read_constraint(r, "depthwise_constraint", o.depthwise_constraint);
  detail::read_constraint(r, "bias_constraint", o.bias_constraint);
  return std::make_shared<DepthwiseConv2DImpl>(r.int_pair("kernel_size"), std::move(o));
}

MINIDL_REGISTER_LAYER("DepthwiseConv2D", [](const json& c) -> LayerPtr { return DepthwiseConv2DImpl::from_config(c); });

}  // namespace minidl
