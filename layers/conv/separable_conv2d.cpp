#include "layers/conv/separable_conv2d.h"

#include <utility>

#include "autograd/functions.h"
#include "layers/base/config_utils.h"
#include "layers/conv/conv_layer_internal.h"
#include "layers/base/registry.h"

namespace minidl {

SeparableConv2DImpl::SeparableConv2DImpl(int64_t filters, IntPair kernel_size, SeparableConv2DOptions o)
    : Layer(common_options(o), "separable_conv2d"),
      filters_(filters),
      kernel_size_(kernel_size),
      strides_(o.strides),
      dilation_rate_(o.dilation_rate),
      depth_multiplier_(o.depth_multiplier),
      use_bias_(o.use_bias),
      legacy_kernel_initializer_(serialize_initializer(get_initializer("glorot_uniform"))),
      legacy_kernel_regularizer_(nullptr),
      legacy_kernel_constraint_(nullptr) {
  const std::string who = owner();
  if (filters_ < 1) fail("`filters` must be a positive integer, received filters={}", filters_);
  detail::check_conv_arguments(who, kernel_size_, strides_, dilation_rate_);
  if (depth_multiplier_ < 1)
    fail("`depth_multiplier` must be a positive integer, received depth_multiplier={}", depth_multiplier_);
  padding_ = normalize_padding(o.padding, who);
  data_format_ = normalize_data_format(o.data_format, who);
  activation_ = detail::resolve_activation(o.activation, who);
  fuse_relu_ = activation_->name() == "relu";
  depthwise_initializer_ = detail::resolve_initializer(o.depthwise_initializer, who);
  pointwise_initializer_ = detail::resolve_initializer(o.pointwise_initializer, who);
  bias_initializer_ = detail::resolve_initializer(o.bias_initializer, who);
  depthwise_regularizer_ = detail::resolve_regularizer(o.depthwise_regularizer, who);
  pointwise_regularizer_ = detail::resolve_regularizer(o.pointwise_regularizer, who);
  bias_regularizer_ = detail::resolve_regularizer(o.bias_regularizer, who);
  set_activity_regularizer(detail::resolve_regularizer(o.activity_regularizer, who));
  depthwise_constraint_ = detail::resolve_constraint(o.depthwise_constraint, who);
  pointwise_constraint_ = detail::resolve_constraint(o.pointwise_constraint, who);
  bias_constraint_ = detail::resolve_constraint(o.bias_constraint, who);
}

std::string SeparableConv2DImpl::owner() const { return fmt::format("{} '{}'", class_name(), name()); }

const Variable& SeparableConv2DImpl::depthwise_kernel() const {
  MINIDL_CHECK(depthwise_kernel_.defined(), RuntimeError,
               "SeparableConv2D '{}' has no depthwise_kernel yet: it is built on its first call", name());
  return depthwise_kernel_;
}

const Variable& SeparableConv2DImpl::pointwise_kernel() const {
  MINIDL_CHECK(pointwise_kernel_.defined(), RuntimeError,
               "SeparableConv2D '{}' has no pointwise_kernel yet: it is built on its first call", name());
  return pointwise_kernel_;
}

const Variable& SeparableConv2DImpl::bias() const {
  MINIDL_CHECK(use_bias_, RuntimeError, "SeparableConv2D '{}' has no bias (use_bias=false)", name());
  MINIDL_CHECK(bias_.defined(), RuntimeError, "SeparableConv2D '{}' has no bias yet: it is built on its first call",
               name());
  return bias_;
}

Shape SeparableConv2DImpl::output_shape_for(const Shape& s) const {
  const std::string who = owner();
  const int64_t c = detail::conv_input_channels(who, s, channels_first());
  if (depthwise_kernel_.defined() && c != depthwise_kernel_.shape()[2])
    fail("expected axis {} of input shape to have value {}, received input with shape {}", channels_first() ? 1 : -1,
         depthwise_kernel_.shape()[2], shape_str(s));
  const auto [oh, ow] = detail::conv_output_rows_cols(who, s, channels_first(), kernel_size_, strides_,
                                                      dilation_rate_, padding_ == "same");
  if (channels_first()) return {s[0], filters_, oh, ow};
  return {s[0], oh, ow, filters_};
}

void SeparableConv2DImpl::build(const std::vector<Shape>& input_shapes) {
  const int64_t c = detail::conv_input_channels(owner(), single_shape(input_shapes), channels_first());
  depthwise_kernel_ = add_weight("depthwise_kernel", {kernel_size_.first, kernel_size_.second, c, depth_multiplier_},
                                 depthwise_initializer_, depthwise_regularizer_, /*trainable=*/true,
                                 depthwise_constraint_);
  pointwise_kernel_ = add_weight("pointwise_kernel", {1, 1, c * depth_multiplier_, filters_}, pointwise_initializer_,
                                 pointwise_regularizer_, /*trainable=*/true, pointwise_constraint_);
  if (use_bias_)
    bias_ = add_weight("bias", {filters_}, bias_initializer_, bias_regularizer_, /*trainable=*/true, bias_constraint_);
}

std::vector<Shape> SeparableConv2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  return {output_shape_for(single_shape(input_shapes))};
}

VariableList SeparableConv2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  output_shape_for(x.shape());  // every shape error, with this layer's name, before ops sees the data
  // Both steps run in NHWC: one transpose each way instead of one per step.
  const Variable xn = channels_first() ? autograd::permute(x, {0, 2, 3, 1}) : x;  // [N, H, W, C]
  const Shape& ks = depthwise_kernel_.shape();                                     // [KH, KW, C, DM]
  const int64_t c = ks[2];
  // The grouped kernel [KH, KW, 1, C*DM] is the depthwise kernel's memory (columns c*DM + m).
  const Variable dw = autograd::reshape(depthwise_kernel_, {ks[0], ks[1], 1, c * ks[3]});
  const Conv2DCall depthwise{strides_, dilation_rate_, padding_ == "same", false, c, false};
  const Variable mid = conv2d_variable(xn, dw, nullptr, depthwise, scratch_);  // [N, OH, OW, C*DM]
  const Conv2DCall pointwise{1, 1, false, false, 1, fuse_relu_};
  Variable y = conv2d_variable(mid, pointwise_kernel_, use_bias_ ? &bias_ : nullptr, pointwise, scratch_);
  if (channels_first()) y = autograd::permute(y, {0, 3, 1, 2});  // [N, F, OH, OW]
  if (!fuse_relu_ && activation_->name() != "linear") y = (*activation_)(y);
  return {y};
}

json SeparableConv2DImpl::get_config() const {
  json c = base_config();
  c["filters"] = filters_;
  c["kernel_size"] = pair_json(kernel_size_);
  c["strides"] = pair_json(strides_);
  c["padding"] = padding_;
  c["data_format"] = data_format_;
  c["depth_multiplier"] = depth_multiplier_;
  c["dilation_rate"] = pair_json(dilation_rate_);
  c["groups"] = 1;
  c["activation"] = serialize_activation(activation_);
  c["use_bias"] = use_bias_;
  c["kernel_initializer"] = legacy_kernel_initializer_;
  c["kernel_regularizer"] = legacy_kernel_regularizer_;
  c["kernel_constraint"] = legacy_kernel_constraint_;
  c["depthwise_initializer"] = serialize_initializer(depthwise_initializer_);
  c["pointwise_initializer"] = serialize_initializer(pointwise_initializer_);
  c["bias_initializer"] = serialize_initializer(bias_initializer_);
  c["depthwise_regularizer"] = serialize_regularizer(depthwise_regularizer_);
  c["pointwise_regularizer"] = serialize_regularizer(pointwise_regularizer_);
  c["bias_regularizer"] = serialize_regularizer(bias_regularizer_);
  c["activity_regularizer"] = serialize_regularizer(activity_regularizer());
  c["depthwise_constraint"] = serialize_constraint(depthwise_constraint_);
  c["pointwise_constraint"] = serialize_constraint(pointwise_constraint_);
  c["bias_constraint"] = serialize_constraint(bias_constraint_);
  return c;
}

std::shared_ptr<SeparableConv2DImpl> SeparableConv2DImpl::from_config(const json& c) {
  const std::string who = detail::config_owner(c, "SeparableConv2D");
  ConfigReader r(c, who);
  r.check_keys({"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "depth_multiplier",
                "groups", "activation", "use_bias", "kernel_initializer", "kernel_regularizer", "kernel_constraint",
                "depthwise_initializer", "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
                "pointwise_regularizer", "bias_regularizer", "depthwise_constraint", "pointwise_constraint",
                "bias_constraint"});
  const LayerOptions common = detail::with_owner(who, [&] { return common_options_from_config(r); });
  SeparableConv2DOptions o;
  detail::copy_common_options(o, common);
  o.activity_regularizer = common.activity_regularizer;
  o.strides = r.int_pair("strides", std::pair<int64_t, int64_t>{1, 1});
  o.padding = r.str("padding", "valid");
  o.data_format = r.str("data_format", "");
  o.dilation_rate = r.int_pair("dilation_rate", std::pair<int64_t, int64_t>{1, 1});
  o.depth_multiplier = r.integer("depth_multiplier", 1);
  if (const int64_t groups = r.integer("groups", 1); groups != 1)
    raise<ValueError>("{}: a separable convolution has no groups; expected groups=1, received groups={}", who, groups);
  o.use_bias = r.boolean("use_bias", true);
  detail::read_activation(r, "activation", o.activation);
  detail::read_initializer(r, c, "depthwise_initializer", o.depthwise_initializer);
  detail::read_initializer(r, c, "pointwise_initializer", o.pointwise_initializer);
  detail::read_initializer(r, c, "bias_initializer", o.bias_initializer);
  detail::read_regularizer(r, "depthwise_regularizer", o.depthwise_regularizer);
  detail::read_regularizer(r, "pointwise_regularizer", o.pointwise_regularizer);
  detail::read_regularizer(r, "bias_regularizer", o.bias_regularizer);
  detail::read_constraint(r, "depthwise_constraint", o.depthwise_constraint);
  detail::read_constraint(r, "pointwise_constraint", o.pointwise_constraint);
  detail::read_constraint(r, "bias_constraint", o.bias_constraint);
  auto layer = std::make_shared<SeparableConv2DImpl>(r.integer("filters"), r.int_pair("kernel_size"), std::move(o));
  // Keras's SeparableConv never uses these Conv-base keys; they are checked and
  // kept only so that a tf.keras config is written back unchanged.
  detail::with_owner(who, [&] {
    if (c.contains("kernel_initializer"))
      layer->legacy_kernel_initializer_ = serialize_initializer(get_initializer(c.at("kernel_initializer")));
    if (c.contains("kernel_regularizer"))
      layer->legacy_kernel_regularizer_ = serialize_regularizer(get_regularizer(c.at("kernel_regularizer")));
    if (c.contains("kernel_constraint"))
      layer->legacy_kernel_constraint_ = serialize_constraint(get_constraint(c.at("kernel_constraint")));
    return 0;
  });
  return layer;
}

MINIDL_REGISTER_LAYER("SeparableConv2D", [](const json& c) -> LayerPtr { return SeparableConv2DImpl::from_config(c); },
                      {"SeparableConvolution2D"});

}  // namespace minidl
