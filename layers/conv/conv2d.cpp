#include "layers/conv/conv2d.h"

#include <utility>

#include "layers/base/config_utils.h"
#include "layers/base/registry.h"
#include "ops/im2col.h"

namespace minidl {

namespace {

// Runs f, prefixing the message of a ValueError it throws with `owner`: the
// part headers (get_activation, get_initializer, ...) do not know which layer asked.
template <class F>
auto with_owner(const std::string& owner, F&& f) {
  try {
    return f();
  } catch (const ValueError& e) {
    throw ValueError(owner + ": " + e.what());
  }
}

}  // namespace

Conv2DImpl::Conv2DImpl(int64_t filters, IntPair kernel_size, Conv2DOptions o)
    // The activity regularizer is resolved below, where a bad name can be reported with the layer's name.
    : Layer(common_options(o), "conv2d"),
      filters_(filters),
      kernel_size_(kernel_size),
      strides_(o.strides),
      dilation_rate_(o.dilation_rate),
      groups_(o.groups),
      use_bias_(o.use_bias) {
  const std::string owner = fmt::format("{} '{}'", class_name(), name());
  if (filters_ < 1) fail("`filters` must be a positive integer, received filters={}", filters_);
  if (kernel_size_.first < 1 || kernel_size_.second < 1)
    fail("`kernel_size` must be positive integers, received kernel_size={}", pair_str(kernel_size_));
  if (strides_.first < 1 || strides_.second < 1)
    fail("`strides` must be positive integers, received strides={}", pair_str(strides_));
  if (dilation_rate_.first < 1 || dilation_rate_.second < 1)
    fail("`dilation_rate` must be positive integers, received dilation_rate={}", pair_str(dilation_rate_));
  if (groups_ < 1) fail("`groups` must be a positive integer, received groups={}", groups_);
  if (filters_ % groups_ != 0)
    fail("the number of filters must be evenly divisible by the number of groups. Received: groups={}, filters={}",
         groups_, filters_);
  if (!strides_.both(1) && !dilation_rate_.both(1))
    fail("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides={} and "
         "dilation_rate={}",
         pair_str(strides_), pair_str(dilation_rate_));
  padding_ = normalize_padding(o.padding, owner);
  data_format_ = normalize_data_format(o.data_format, owner);

  activation_ = with_owner(owner, [&] { return o.activation.resolve(); });
  if (!activation_) activation_ = get_activation(nullptr);  // Keras's None: linear
  fuse_relu_ = activation_->name() == "relu";
  // Keras's add_weight falls back to glorot_uniform for an explicit None initializer.
  kernel_initializer_ = with_owner(owner, [&] { return o.kernel_initializer.resolve(); });
  if (!kernel_initializer_) kernel_initializer_ = get_initializer("glorot_uniform");
  bias_initializer_ = with_owner(owner, [&] { return o.bias_initializer.resolve(); });
  if (!bias_initializer_) bias_initializer_ = get_initializer("glorot_uniform");
  kernel_regularizer_ = with_owner(owner, [&] { return o.kernel_regularizer.resolve(); });
  bias_regularizer_ = with_owner(owner, [&] { return o.bias_regularizer.resolve(); });
  set_activity_regularizer(with_owner(owner, [&] { return o.activity_regularizer.resolve(); }));
  kernel_constraint_ = with_owner(owner, [&] { return o.kernel_constraint.resolve(); });
  bias_constraint_ = with_owner(owner, [&] { return o.bias_constraint.resolve(); });
}

const Variable& Conv2DImpl::kernel() const {
  MINIDL_CHECK(kernel_.defined(), RuntimeError, "Conv2D '{}' has no kernel yet: it is built on its first call",
               name());
  return kernel_;
}

const Variable& Conv2DImpl::bias() const {
  MINIDL_CHECK(use_bias_, RuntimeError, "Conv2D '{}' has no bias (use_bias=false)", name());
  MINIDL_CHECK(bias_.defined(), RuntimeError, "Conv2D '{}' has no bias yet: it is built on its first call", name());
  return bias_;
}

int64_t Conv2DImpl::checked_channels(const Shape& s) const {
  if (s.size() != 4)
    fail("expected input of rank 4 {}, received shape {}",
         channels_first() ? "(batch, channels, rows, cols)" : "(batch, rows, cols, channels)", shape_str(s));
  const int64_t c = s[channels_first() ? 1 : 3];
  if (c == kNone)
    fail("the channel dimension of the inputs should be defined, found None (input shape {})", shape_str(s));
  if (c % groups_ != 0)
    fail("the number of input channels must be evenly divisible by the number of groups. Received groups={}, but "
         "the input has {} channels (full input shape is {})",
         groups_, c, shape_str(s));
  return c;
}

Shape Conv2DImpl::output_shape_for(const Shape& s) const {
  const int64_t c = checked_channels(s);
  if (kernel_.defined() && c != kernel_.shape()[2] * groups_)
    fail("expected axis {} of input shape to have value {}, received input with shape {}", channels_first() ? 1 : -1,
         kernel_.shape()[2] * groups_, shape_str(s));
  const int64_t rows = s[channels_first() ? 2 : 1], cols = s[channels_first() ? 3 : 2];
  if (rows == 0 || cols == 0) fail("spatial dimensions must be positive, received input shape {}", shape_str(s));
  const bool same = padding_ == "same";
  const int64_t dkh = (kernel_size_.first - 1) * dilation_rate_.first + 1;
  const int64_t dkw = (kernel_size_.second - 1) * dilation_rate_.second + 1;
  if (!same && ((rows != kNone && rows < dkh) || (cols != kNone && cols < dkw)))
    fail("with padding \"valid\" the input ({} x {}) must be at least as large as the dilated kernel ({} x {}: "
         "kernel_size={}, dilation_rate={}); received input shape {}",
         rows == kNone ? "None" : std::to_string(rows), cols == kNone ? "None" : std::to_string(cols), dkh, dkw,
         pair_str(kernel_size_), pair_str(dilation_rate_), shape_str(s));
  const int64_t oh = ops::conv_output_length(rows, kernel_size_.first, same, strides_.first, dilation_rate_.first);
  const int64_t ow = ops::conv_output_length(cols, kernel_size_.second, same, strides_.second, dilation_rate_.second);
  if (channels_first()) return {s[0], filters_, oh, ow};
  return {s[0], oh, ow, filters_};
}

void Conv2DImpl::build(const std::vector<Shape>& input_shapes) {
  const int64_t c = checked_channels(single_shape(input_shapes));
  kernel_ = add_weight("kernel", {kernel_size_.first, kernel_size_.second, c / groups_, filters_}, kernel_initializer_,
                       kernel_regularizer_, /*trainable=*/true, kernel_constraint_);
  if (use_bias_)
    bias_ = add_weight("bias", {filters_}, bias_initializer_, bias_regularizer_, /*trainable=*/true, bias_constraint_);
}

std::vector<Shape> Conv2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  return {output_shape_for(single_shape(input_shapes))};
}

VariableList Conv2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  output_shape_for(x.shape());  // every shape error, with this layer's name, before ops sees the data
  const Conv2DCall c{strides_, dilation_rate_, padding_ == "same", channels_first(), groups_, fuse_relu_};
  Variable y = conv2d_variable(x, kernel_, use_bias_ ? &bias_ : nullptr, c, scratch_);
  if (!fuse_relu_ && activation_->name() != "linear") y = (*activation_)(y);
  return {y};
}

json Conv2DImpl::get_config() const {
  json c = base_config();
  c["filters"] = filters_;
  c["kernel_size"] = pair_json(kernel_size_);
  c["strides"] = pair_json(strides_);
  c["padding"] = padding_;
  c["data_format"] = data_format_;
  c["dilation_rate"] = pair_json(dilation_rate_);
  c["groups"] = groups_;
  c["activation"] = serialize_activation(activation_);
  c["use_bias"] = use_bias_;
  c["kernel_initializer"] = serialize_initializer(kernel_initializer_);
  c["bias_initializer"] = serialize_initializer(bias_initializer_);
  c["kernel_regularizer"] = serialize_regularizer(kernel_regularizer_);
  c["bias_regularizer"] = serialize_regularizer(bias_regularizer_);
  c["activity_regularizer"] = serialize_regularizer(activity_regularizer());
  c["kernel_constraint"] = serialize_constraint(kernel_constraint_);
  c["bias_constraint"] = serialize_constraint(bias_constraint_);
  return c;
}

std::shared_ptr<Conv2DImpl> Conv2DImpl::from_config(const json& c) {
  std::string owner = "Conv2D";
  if (c.is_object() && c.contains("name") && c["name"].is_string())
    owner = fmt::format("Conv2D '{}'", c["name"].get<std::string>());
  ConfigReader r(c, owner);
  r.check_keys({"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation",
                "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                "kernel_constraint", "bias_constraint"});
  LayerOptions common = with_owner(owner, [&] { return common_options_from_config(r); });
  Conv2DOptions o;
  o.input_shape = common.input_shape;
  o.batch_input_shape = common.batch_input_shape;
  o.batch_size = common.batch_size;
  o.dtype = common.dtype;
  o.name = common.name;
  o.trainable = common.trainable;
  o.activity_regularizer = common.activity_regularizer;

  o.strides = r.int_pair("strides", std::pair<int64_t, int64_t>{1, 1});
  o.padding = r.str("padding", "valid");
  o.data_format = r.str("data_format", "");
  o.dilation_rate = r.int_pair("dilation_rate", std::pair<int64_t, int64_t>{1, 1});
  o.groups = r.integer("groups", 1);
  o.use_bias = r.boolean("use_bias", true);
  with_owner(owner, [&] {
    if (r.has("activation")) o.activation = get_activation(r.raw("activation"));
    // Present-but-null initializers mean Keras's None (glorot_uniform); absent ones the argument defaults.
    if (c.contains("kernel_initializer")) o.kernel_initializer = get_initializer(c["kernel_initializer"]);
    if (c.contains("bias_initializer")) o.bias_initializer = get_initializer(c["bias_initializer"]);
    if (r.has("kernel_regularizer")) o.kernel_regularizer = get_regularizer(r.raw("kernel_regularizer"));
    if (r.has("bias_regularizer")) o.bias_regularizer = get_regularizer(r.raw("bias_regularizer"));
    if (r.has("kernel_constraint")) o.kernel_constraint = get_constraint(r.raw("kernel_constraint"));
    if (r.has("bias_constraint")) o.bias_constraint = get_constraint(r.raw("bias_constraint"));
    return 0;
  });
  return std::make_shared<Conv2DImpl>(r.integer("filters"), r.int_pair("kernel_size"), std::move(o));
}

MINIDL_REGISTER_LAYER("Conv2D", [](const json& c) -> LayerPtr { return Conv2DImpl::from_config(c); },
                      {"Convolution2D"});

}  // namespace minidl
