// layers/conv/conv_base.cpp — the argument checks, input checks, output-shape
// rule, bias, call and config of the conv layers.
#include "layers/conv/conv_base.h"

#include <nlohmann/json.hpp>

#include <utility>

#include "autograd/functions.h"
#include "ops/im2col.h"

namespace minidl {

ConvBase::ConvBase(std::string class_name, LayerOptions options, ConvArgs args)
    // The activity regularizer is resolved below, where a bad name can be reported with the layer's name.
    : Layer(std::move(options), to_snake_case(class_name)), class_name_(std::move(class_name)), args_(std::move(args)) {
  const auto positive = [&](int64_t v, const char* arg) {
    if (v < 1) fail("`{}` must be a positive integer, received {}={}", arg, arg, v);
  };
  const auto positive_pair = [&](const IntPair& p, const char* arg) {
    if (p.first < 1 || p.second < 1) fail("`{}` must be positive integers, received {}={}", arg, arg, pair_str(p));
  };
  if (args_.filters) positive(*args_.filters, "filters");
  positive_pair(args_.kernel_size, "kernel_size");
  positive_pair(args_.strides, "strides");
  positive_pair(args_.dilation_rate, "dilation_rate");
  positive(args_.groups, "groups");
  if (args_.depth_multiplier) positive(*args_.depth_multiplier, "depth_multiplier");
  if (args_.filters && *args_.filters % args_.groups != 0)
    fail("the number of filters must be evenly divisible by the number of groups. Received: groups={}, filters={}",
         args_.groups, *args_.filters);
  if (!args_.strides.both(1) && !args_.dilation_rate.both(1))
    fail("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides={} and "
         "dilation_rate={}",
         pair_str(args_.strides), pair_str(args_.dilation_rate));
  const std::string who = owner();
  args_.padding = normalize_padding(args_.padding, who);
  args_.data_format = normalize_data_format(args_.data_format, who);
  activation_ = detail::resolve_activation(args_.activation, who);
  fuse_relu_ = activation_->name() == "relu";
  bias_parts_ = resolve_parts("bias", args_.bias_initializer, args_.bias_regularizer, args_.bias_constraint);
  set_activity_regularizer(detail::resolve_regularizer(args_.activity_regularizer, who));
}

std::string ConvBase::owner() const { return fmt::format("{} '{}'", class_name_, name()); }

detail::WeightParts ConvBase::resolve_parts(const std::string& weight, const InitializerArg& initializer,
                                            const RegularizerArg& regularizer, const ConstraintArg& constraint) {
  const detail::WeightParts parts = detail::resolve_parts(initializer, regularizer, constraint, owner());
  set_config_parts(weight, parts);
  return parts;
}

Variable ConvBase::add_weight_with(const std::string& name, const Shape& shape, const detail::WeightParts& parts) {
  return add_weight(name, shape, parts.initializer, parts.regularizer, /*trainable=*/true, parts.constraint);
}

const Variable& ConvBase::built_weight(const Variable& w, const char* what) const {
  MINIDL_CHECK(w.defined(), RuntimeError, "{} has no {} yet: it is built on its first call", owner(), what);
  return w;
}

const Variable& ConvBase::bias() const {
  MINIDL_CHECK(args_.use_bias, RuntimeError, "{} has no bias (use_bias=false)", owner());
  return built_weight(bias_, "bias");
}

int64_t ConvBase::input_channels(const Shape& s) const {
  if (s.size() != 4)
    fail("expected input of rank 4 {}, received shape {}",
         channels_first() ? "(batch, channels, rows, cols)" : "(batch, rows, cols, channels)", shape_str(s));
  const int64_t c = s[channels_first() ? 1 : 3];
  if (c == kNone)
    fail("the channel dimension of the inputs should be defined, found None (input shape {})", shape_str(s));
  if (c < 1) fail("expected at least one input channel, received input shape {}", shape_str(s));
  if (c % args_.groups != 0)
    fail("the number of input channels must be evenly divisible by the number of groups. Received groups={}, but "
         "the input has {} channels (full input shape is {})",
         args_.groups, c, shape_str(s));
  return c;
}

int64_t ConvBase::output_channels(int64_t input_channels) const {
  return args_.filters ? *args_.filters : input_channels * depth_multiplier();
}

Shape ConvBase::output_shape_for(const Shape& s) const {
  const int64_t c = input_channels(s);
  if (built_channels_ != kNone && c != built_channels_)
    fail("expected axis {} of input shape to have value {}, received input with shape {}", channels_first() ? 1 : -1,
         built_channels_, shape_str(s));
  const int64_t rows = s[channels_first() ? 2 : 1], cols = s[channels_first() ? 3 : 2];
  if (rows == 0 || cols == 0 || rows < kNone || cols < kNone)
    fail("spatial dimensions must be positive, received input shape {}", shape_str(s));
  const auto [oh, ow] = output_rows_cols(s, rows, cols);
  if (channels_first()) return {s[0], output_channels(c), oh, ow};
  return {s[0], oh, ow, output_channels(c)};
}

std::pair<int64_t, int64_t> ConvBase::output_rows_cols(const Shape& s, int64_t rows, int64_t cols) const {
  const IntPair& k = args_.kernel_size;
  const IntPair& d = args_.dilation_rate;
  const int64_t dkh = (k.first - 1) * d.first + 1, dkw = (k.second - 1) * d.second + 1;
  if (!same_padding() && ((rows != kNone && rows < dkh) || (cols != kNone && cols < dkw))) {
    const auto dim = [](int64_t n) { return n == kNone ? std::string("None") : std::to_string(n); };
    fail("with padding \"valid\" the input ({} x {}) must be at least as large as the dilated kernel ({} x {}: "
         "kernel_size={}, dilation_rate={}); received input shape {}",
         dim(rows), dim(cols), dkh, dkw, pair_str(k), pair_str(d), shape_str(s));
  }
  return {ops::conv_output_length(rows, k.first, same_padding(), args_.strides.first, d.first),
          ops::conv_output_length(cols, k.second, same_padding(), args_.strides.second, d.second)};
}

void ConvBase::check_input(const std::vector<Shape>& input_shapes) const {
  output_shape_for(single_shape(input_shapes));
}

std::vector<Shape> ConvBase::compute_output_shape(const std::vector<Shape>& input_shapes) {
  return {output_shape_for(single_shape(input_shapes))};
}

void ConvBase::build(const std::vector<Shape>& input_shapes) {
  const int64_t c = input_channels(single_shape(input_shapes));
  build_kernels(c);
  if (args_.use_bias) bias_ = add_weight_with("bias", {output_channels(c)}, bias_parts_);
  built_channels_ = c;
}

VariableList ConvBase::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  // Every shape error, with this layer's name, before ops sees the data.
  Variable y = convolve(x, output_shape_for(x.shape()));
  if (!fuse_relu_ && activation_->name() != "linear") y = (*activation_)(y);
  return {y};
}

json ConvBase::get_config() const {
  json c = base_config();
  if (args_.filters) c["filters"] = *args_.filters;
  c["kernel_size"] = pair_to_json(args_.kernel_size.as_pair());
  c["strides"] = pair_to_json(args_.strides.as_pair());
  c["padding"] = args_.padding;
  c["data_format"] = args_.data_format;
  c["dilation_rate"] = pair_to_json(args_.dilation_rate.as_pair());
  // groups is Conv2D's argument; Keras 3's DepthwiseConv2D and SeparableConv2D (the
  // layers with a depth_multiplier) reject it, and tf.keras 2.x defaults it to 1.
  if (!args_.depth_multiplier) c["groups"] = args_.groups;
  c["activation"] = serialize_activation(activation_);
  c["use_bias"] = args_.use_bias;
  if (args_.depth_multiplier) c["depth_multiplier"] = *args_.depth_multiplier;
  for (const auto& [weight, parts] : config_parts_) detail::write_parts(c, weight, parts);
  c["activity_regularizer"] = serialize_regularizer(activity_regularizer());
  return c;
}

Variable ConvBase::depthwise_as_grouped(const Variable& depthwise_kernel) {
  const Shape& ks = depthwise_kernel.shape();  // [KH, KW, C, DM]
  // A grouped kernel [KH, KW, 1, C*DM] orders its columns c*DM + m, exactly the
  // depthwise kernel's memory order, so a view is the whole conversion.
  return autograd::reshape(depthwise_kernel, {ks[0], ks[1], 1, ks[2] * ks[3]});
}

std::vector<std::string> ConvBase::config_keys(std::initializer_list<std::string> own) {
  std::vector<std::string> keys = {"kernel_size", "strides",  "padding",          "data_format",      "dilation_rate",
                                   "groups",      "use_bias", "bias_initializer", "bias_regularizer", "bias_constraint",
                                   "activation"};
  keys.insert(keys.end(), own);
  return keys;
}

}  // namespace minidl
